"""StyleGAN-lite (stylelab.gan.stylegan): shapes, modulation, style mixing, truncation, noise, PPL, runs, checkpoints."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from stylelab.errors import CheckpointError, ConfigError, ShapeError
from stylelab.gan import stylegan as sg
from stylelab.gan.config import GANConfig
from stylelab.gan.models import build_seeded

SHIPPED = sg.SHIPPED


def small(size: int = 28, c: int = 8, z: int = 16, seed: int = 0) -> sg.StyleGenerator:
    return build_seeded(lambda: sg.StyleGenerator(z, size, 1, c), torch.Generator().manual_seed(seed))


def test_mapping_and_synthesis_shapes() -> None:
    g = small()
    z = torch.randn(5, 16, generator=torch.Generator().manual_seed(1))
    w = g.mapping(z)
    assert w.shape == (5, 16)
    assert g.num_layers == 6 and g.coarse_layers == 3
    assert [g.layer_size(i) for i in range(5)] == [7, 14, 14, 28, 28]
    with g.noise_from(torch.Generator().manual_seed(0)):
        x = g.synthesis(g.broadcast(w))
    assert x.shape == (5, 1, 28, 28) and x.abs().max() <= 1
    with pytest.raises(ShapeError):
        g.synthesis(w)
    with pytest.raises(ShapeError):
        g(torch.randn(2, 3))
    for size in (8, 16, 32):
        h = small(size)
        with h.noise_from(None, enabled=False):
            assert h.eval()(torch.zeros(2, 16)).shape == (2, 1, size, size)


def test_pixel_norm_and_mapping_by_hand() -> None:
    g = small()
    z = torch.randn(4, 16, generator=torch.Generator().manual_seed(2))
    h = z / torch.sqrt((z**2).mean(dim=1, keepdim=True) + 1e-8)
    for lin in g.mapping.layers:
        h = torch.where(lin(h) > 0, lin(h), 0.2 * lin(h)) * math.sqrt(2 / 1.04)
    torch.testing.assert_close(g.mapping(z), h)


def test_modulated_conv_matches_per_sample_weights() -> None:
    gen = torch.Generator().manual_seed(3)
    x, weight, style = torch.randn(3, 4, 6, 6, generator=gen), torch.randn(5, 4, 3, 3, generator=gen), torch.randn(3, 4, generator=gen)
    got = sg.modulated_conv2d(x, weight, style)
    for n in range(3):  # the written-out StyleGAN2 formula: w' = s w, w'' = w' / sqrt(sum w'^2 + eps), y = w'' * x
        w1 = weight * style[n][None, :, None, None]
        w2 = w1 / torch.sqrt((w1**2).sum(dim=(1, 2, 3), keepdim=True) + 1e-8)
        torch.testing.assert_close(got[n], F.conv2d(x[n : n + 1], w2, padding=1)[0], rtol=1e-4, atol=1e-5)
    plain = sg.modulated_conv2d(x, weight, style, demodulate=False)
    torch.testing.assert_close(plain[1], F.conv2d(x[1:2], weight * style[1][None, :, None, None], padding=1)[0],
                               rtol=1e-4, atol=1e-5)
    # demodulated output has unit variance for unit-variance i.i.d. inputs (in expectation)
    big = sg.modulated_conv2d(torch.randn(64, 4, 32, 32, generator=gen), weight, style[:1].expand(64, -1))
    assert abs(float(big[:, :, 1:-1, 1:-1].std()) - 1.0) < 0.05
    with pytest.raises(ShapeError):
        sg.modulated_conv2d(x, weight, style[:, :3])


def test_truncation() -> None:
    gen = torch.Generator().manual_seed(4)
    w, w_mean = torch.randn(6, 16, generator=gen), torch.randn(16, generator=gen)
    torch.testing.assert_close(sg.truncate(w, w_mean, 0.0), w_mean.expand(6, -1))
    torch.testing.assert_close(sg.truncate(w, w_mean, 1.0), w)
    torch.testing.assert_close(sg.truncate(w, w_mean, 0.3), w_mean + 0.3 * (w - w_mean))
    with pytest.raises(ConfigError):
        sg.truncate(w, w_mean, float("nan"))
    g = small()
    mean = sg.estimate_w_mean(g.mapping, 16, torch.Generator().manual_seed(0), n=3000)
    z = torch.randn(3000, 16, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(mean, g.mapping(z).mean(dim=0).detach())
    # psi = 0: every sample is the image of w_mean
    with g.noise_from(None, enabled=False):
        imgs = sg.truncated_samples(g, z[:4], mean, 0.0, noise=False)
        torch.testing.assert_close(imgs, g.synthesis(g.broadcast(mean[None].expand(4, -1))).detach())


def test_style_mix_changes_only_fine_layers() -> None:
    g = small().eval()
    gen = torch.Generator().manual_seed(5)
    w1, w2, w3 = (g.mapping(torch.randn(3, 16, generator=gen)) for _ in range(3))
    mixed = sg.style_mix(w1, w2, 2, g.num_layers)
    assert torch.equal(mixed[:, :2], w1[:, None].expand(-1, 2, -1)) and torch.equal(mixed[:, 2:], w2[:, None].expand(-1, 4, -1))
    outs: dict[int, torch.Tensor] = {}
    hooks = [layer.register_forward_hook(lambda m, i, o, k=k: outs.__setitem__(k, o)) for k, layer in enumerate(g.layers)]
    with g.noise_from(None, enabled=False):
        crossover = g.coarse_layers
        a = g.synthesis(sg.style_mix(w1, w2, crossover, g.num_layers))
        before = dict(outs)
        b = g.synthesis(sg.style_mix(w1, w3, crossover, g.num_layers))  # only the fine source changed
    for h in hooks:
        h.remove()
    for k in range(len(g.layers)):
        same = torch.equal(before[k], outs[k])
        assert same == (k < crossover), f"layer {k}"
    assert not torch.equal(a, b)
    with pytest.raises(ConfigError):
        sg.style_mix(w1, w2, 7, g.num_layers)


def test_mixing_grid_layout() -> None:
    g = small()
    gen = torch.Generator().manual_seed(6)
    rows, cols = torch.randn(2, 16, generator=gen), torch.randn(3, 16, generator=gen)
    grid = sg.mixing_grid(g, rows, cols)
    assert grid.shape == (3, 4, 1, 28, 28)
    with g.noise_from(None, enabled=False):
        g.eval()
        torch.testing.assert_close(grid[0, 1:], g.synthesis(g.broadcast(g.mapping(cols))))
        torch.testing.assert_close(grid[1:, 0], g.synthesis(g.broadcast(g.mapping(rows))))
        full = sg.mixing_grid(g, rows, cols, crossover=g.num_layers)  # every style from the row
        torch.testing.assert_close(full[1:, 1:], grid[1:, 0][:, None].expand(-1, 3, -1, -1, -1))


def test_noise_switch_and_generator() -> None:
    g = small()
    with torch.no_grad():
        for layer in g.layers:
            layer.noise_strength.fill_(0.5)
    z = torch.randn(2, 16, generator=torch.Generator().manual_seed(7))
    g.eval()
    with g.noise_from(torch.Generator().manual_seed(1), enabled=False):
        off1 = g(z)
    with g.noise_from(torch.Generator().manual_seed(2), enabled=False):
        off2 = g(z)
    assert torch.equal(off1, off2)  # noise off: deterministic
    with g.noise_from(torch.Generator().manual_seed(1)):
        on1 = g(z)
    with g.noise_from(torch.Generator().manual_seed(1)):
        on1b = g(z)
    with g.noise_from(torch.Generator().manual_seed(2)):
        on2 = g(z)
    assert torch.equal(on1, on1b) and not torch.equal(on1, on2)
    with pytest.raises(ConfigError, match="Generator"):
        g(z)  # random noise needs the caller's generator, never the global RNG
    eff = sg.noise_effect(g, z, draws=4)
    assert eff["on"].shape == (4, 2, 1, 28, 28) and eff["std"].shape == (2, 1, 28, 28) and float(eff["std"].max()) > 0
    torch.testing.assert_close(eff["off"], off1)
    assert eff["strength"].tolist() == [0.5] * 5


def test_ppl_estimator_by_hand() -> None:
    gen = torch.Generator().manual_seed(8)
    a_mat = torch.randn(10, 4, generator=gen, dtype=torch.float64)
    a, b = torch.randn(6, 4, generator=gen, dtype=torch.float64), torch.randn(6, 4, generator=gen, dtype=torch.float64)
    t = torch.rand(6, generator=gen, dtype=torch.float64) * 0.9

    def dist(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return (x - y).square().sum(dim=1)

    # a linear "generator" x = A p along a straight path: every term is ||A (b - a)||^2 exactly
    got = sg.perceptual_path_length(lambda p: p @ a_mat.T, dist, a, b, t, eps=1e-4, path="lerp")
    torch.testing.assert_close(got, ((b - a) @ a_mat.T).square().sum(dim=1))
    # slerp on the sphere moves at angular speed Omega: ||d slerp / dt||^2 = Omega^2
    got = sg.perceptual_path_length(lambda p: p, dist, a, b, t, eps=1e-6, path="slerp")
    an, bn = a / a.norm(dim=1, keepdim=True), b / b.norm(dim=1, keepdim=True)
    omega = torch.arccos((an * bn).sum(dim=1))
    torch.testing.assert_close(got, omega**2, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(sg.slerp(a, b, torch.zeros(6, dtype=torch.float64)), an)
    torch.testing.assert_close(sg.slerp(a, b, torch.ones(6, dtype=torch.float64)), bn)


def test_ppl_z_and_w_runs() -> None:
    g = small()
    res = sg.ppl_z_and_w(g, lambda x: x.flatten(1), n=8, batch=4)
    assert set(res) == {"ppl_z", "ppl_w", "ppl_z_sem", "ppl_w_sem"} and all(math.isfinite(v) and v >= 0 for v in res.values())
    assert res == sg.ppl_z_and_w(g, lambda x: x.flatten(1), n=8, batch=4)  # seeded


def test_trainer_builds_stylegan_and_refuses_bad_configs() -> None:
    from stylelab.gan.train import GANTrainer, small_run_stylegan

    run = small_run_stylegan(seed=0)
    assert run.is_style and run.G.noise_generator is run.gen
    run.train(3)
    state_before = run.gen.get_state()
    a, b = run.sample(4), run.sample(4)
    assert torch.equal(a, b) and torch.equal(state_before, run.gen.get_state())  # eval never draws from training
    assert torch.equal(run.generate(run.fixed_z[:4], noise=False), run.generate(run.fixed_z[:4], noise=False))
    with pytest.raises(ConfigError):
        GANConfig(data="ring", model="stylegan")
    with pytest.raises(ConfigError):
        GANConfig(data="digits8", model="stylegan", conditional=True)
    with pytest.raises(ConfigError):
        GANConfig(data="digits8", model="biggan")
    # train 2N == train N, save, load, train N
    one = small_run_stylegan(seed=1)
    one.train(4)
    two = small_run_stylegan(seed=1)
    two.train(2)
    three = GANTrainer.load(two.to_bytes())
    three.train(2)
    for p, q in zip(one.G.state_dict().values(), three.G.state_dict().values()):
        assert torch.equal(p, q)


def test_old_checkpoint_without_model_field_loads() -> None:
    from stylelab.gan.train import GANTrainer, small_run_image

    run = small_run_image(seed=0)
    run.train(1)
    state = run.state_dict()
    del state["config"]["model"]  # as written before StyleGAN-lite
    back = GANTrainer.load(__import__("stylelab.checkpoint", fromlist=["to_bytes"]).to_bytes(state))
    assert back.config.model == "dcgan" and back.step_count == 1


def test_snapshots_round_trip(tmp_path: Path) -> None:
    from stylelab.gan.train import small_run_stylegan

    run = small_run_stylegan()
    run.train(1)
    sg.add_snapshot(tmp_path / "s.pt", run)
    run.train(1)
    sg.add_snapshot(tmp_path / "s.pt", run)
    blob = sg.load_snapshots(tmp_path / "s.pt")
    assert [s["step"] for s in blob["snapshots"]] == [1, 2]
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError):
        sg.load_snapshots(tmp_path / "bad.pt")


@pytest.mark.skipif(not SHIPPED.is_file(), reason="the shipped StyleGAN-lite checkpoint is not built yet")
def test_shipped_checkpoint_loads_weights_only() -> None:
    from stylelab.gan.train import GANTrainer

    raw = torch.load(SHIPPED, map_location="cpu", weights_only=True)
    assert raw["kind"] == "gan" and raw["config"]["model"] == "stylegan"
    run = GANTrainer.load(SHIPPED, device="cpu")
    assert run.is_style and run.sample(4).shape == (4, 1, 28, 28)
    assert SHIPPED.stat().st_size < 3.5e6


def test_race_gives_each_run_the_same_training_time_and_snapshots() -> None:
    from stylelab.gan.train import small_run_image, small_run_stylegan

    runs = {"style": small_run_stylegan(seed=0), "dc": small_run_image(seed=0)}
    for r in runs.values():
        r.config.steps = 0  # open-ended: the clock decides
    snaps = sg.race(runs, 0.6, chunk=0.2, snapshot_every=0.3)
    for name, run in runs.items():
        assert 0.6 <= run.seconds < 0.6 + 0.5, name  # stops at the first step past the mark
        times = [s["seconds"] for s in snaps[name]]
        assert times == sorted(times) and times[-1] == run.seconds and snaps[name][-1]["step"] == run.step_count
    done = small_run_stylegan(seed=1)
    done.config.steps = 3
    assert [s["step"] for s in sg.race({"short": done}, 60.0, chunk=1.0, snapshot_every=30.0)["short"]] == [3]
    rows = sg.quality_over_time(runs["style"], snaps["style"][-1:], n=64)
    assert rows[0]["step"] == runs["style"].step_count and {"fid", "kid", "confidence", "coverage"} <= set(rows[0])


def test_cli_model_stylegan_snapshots_checkpoints_and_time_limit(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from stylelab.cli import main
    from stylelab.gan.train import GANTrainer

    base = ["gan", "train", "--data", "digits8", "--model", "stylegan", "--base-channels", "8", "--latent-dim", "16",
            "--metrics-every", "0"]
    # a short run's dry run evaluates (metrics every step) and prints only the numbers
    assert main([*base[:-2], "--steps", "5", "--out", str(tmp_path / "dry"), "--dry-run"]) == 0
    assert "fid=" in capsys.readouterr().out and not (tmp_path / "dry").exists()
    out = tmp_path / "run"
    assert main([*base, "--steps", "3", "--out", str(out), "--snapshot-every", "1e-9", "--save-every", "1e-9"]) == 0
    assert [s["step"] for s in sg.load_snapshots(out / "snapshots.pt")["snapshots"]] == [1, 2, 3]
    run = GANTrainer.load(out / "checkpoint.pt")
    assert run.is_style and run.step_count == 3
    # --max-minutes already reached: nothing more is trained on resume
    assert main([*base, "--steps", "10", "--out", str(out), "--resume", "--max-minutes", "1e-9"]) == 0
    assert "already trained" in capsys.readouterr().out and GANTrainer.load(out / "checkpoint.pt").step_count == 3
    assert main([*base, "--steps", "3", "--out", str(out), "--max-minutes", "-1"]) == 2


def test_r1_penalty_by_hand_and_in_training() -> None:
    from stylelab.gan.train import GANTrainer, r1_penalty, small_run_stylegan

    gen = torch.Generator().manual_seed(9)
    a = torch.randn(1, 2, 3, 3, generator=gen)
    x = torch.randn(5, 1, 2, 3, 3, generator=gen)[:, 0]

    def linear(v: torch.Tensor) -> torch.Tensor:  # D(x) = <a, x>: its gradient is a everywhere
        return (v * a).flatten(1).sum(dim=1)

    torch.testing.assert_close(r1_penalty(linear, x, 10.0), 0.5 * 10.0 * a.square().sum())

    def quad(v: torch.Tensor) -> torch.Tensor:  # D(x) = ||x||^2 / 2: gradient x, penalty gamma/2 E||x||^2
        return 0.5 * v.square().flatten(1).sum(dim=1)

    torch.testing.assert_close(r1_penalty(quad, x, 4.0), 2.0 * x.square().flatten(1).sum(dim=1).mean())
    with pytest.raises(ConfigError, match="R1"):
        GANConfig(data="digits8", loss="wgan-gp", r1_weight=1.0)
    plain, with_r1 = small_run_stylegan(seed=2), small_run_stylegan(seed=2)
    with_r1.update(r1_weight=5.0)  # a live setting
    plain.train(2)
    with_r1.train(2)
    assert with_r1.history[0]["loss_d"] > plain.history[0]["loss_d"]  # the same first batch, plus the penalty
    back = GANTrainer.load(with_r1.to_bytes())
    assert back.config.r1_weight == 5.0
