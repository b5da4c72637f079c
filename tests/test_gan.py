"""stylelab.gan: data, models, metrics, training, checkpoints, CLI (fast tests)."""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from stylelab.errors import CheckpointError, ConfigError, ShapeError
from stylelab.gan import data, metrics, models, viz
from stylelab.gan.train import GANConfig, GANTrainer, label_smoothing_term
from stylelab.losses.adversarial import ADVERSARIAL_LOSSES, discriminator_loss


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models: one thread is faster and keeps timings stable on a shared machine."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


# ----------------------------------------------------------------------------- data
@pytest.mark.parametrize("name", data.TOY_DATASETS)
def test_toy_distributions_are_seeded_and_bounded(name):
    a = data.sample_toy(name, 500, generator=torch.Generator().manual_seed(1))
    b = data.sample_toy(name, 500, generator=torch.Generator().manual_seed(1))
    assert a.shape == (500, 2) and torch.equal(a, b)
    assert a.abs().max() < 6


def test_ring_points_sit_on_the_ring():
    pts = data.sample_toy("ring", 2000, noise=0.0, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(pts.norm(dim=1), torch.full((2000,), data.RING_RADIUS), atol=1e-5)
    modes = data.toy_modes("ring")
    assert modes.shape == (8, 2) and data.toy_modes("grid").shape == (25, 2) and data.toy_modes("spiral") is None


def test_image_set_range_and_class_subset():
    d = data.load_image_set("digits8", classes=[3, 7])
    assert d.images.shape[1:] == (1, 8, 8) and d.images.min() >= -1 and d.images.max() <= 1
    assert set(d.labels.tolist()) == {0, 1} and d.class_names == ["3", "7"] and d.classes == [3, 7]


@pytest.mark.parametrize("call", [
    lambda: data.sample_toy("blob", 10),
    lambda: data.sample_toy("ring", 0),
    lambda: data.sample_toy("ring", 10, noise=-1),
    lambda: data.load_image_set("digits8", classes=[12]),
    lambda: data.load_image_set("cifar"),
])
def test_bad_data_requests_raise_config_error(call):
    with pytest.raises(ConfigError):
        call()


# ----------------------------------------------------------------------------- models
def test_model_shapes_and_conditioning():
    z = torch.randn(4, 16)
    y = torch.tensor([0, 1, 2, 1])
    for size in (8, 28):
        g = models.DCGenerator(16, size, 1, 8, num_classes=3)
        d = models.DCDiscriminator(size, 1, 8, num_classes=3)
        x = g(z, y)
        assert x.shape == (4, 1, size, size) and x.abs().max() <= 1
        assert d(x, y).shape == (4,)
        with pytest.raises(ShapeError):
            g(z)  # conditional G needs labels
    assert models.MLPDiscriminator()(models.MLPGenerator(2)(torch.randn(5, 2))).shape == (5,)
    with pytest.raises(ConfigError):
        models.DCGenerator(16, image_size=30)
    with pytest.raises(ShapeError):
        models.DCDiscriminator(28)(torch.zeros(2, 1, 8, 8))


# ----------------------------------------------------------------------------- metrics
def test_energy_distance_known_answer():
    x = torch.tensor([[0.0, 0.0]])
    y = torch.tensor([[3.0, 4.0]])
    # 2 * |x - y| - |x - x| - |y - y| = 2 * 5 = 10
    assert float(metrics.energy_distance(x, y)) == pytest.approx(10.0)
    pts = torch.randn(100, 2)
    assert float(metrics.energy_distance(pts, pts)) == pytest.approx(0.0, abs=1e-6)


def test_mmd_and_kid_separate_equal_from_shifted():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(300, 8, generator=g), torch.randn(300, 8, generator=g)
    same = float(metrics.mmd2_unbiased(a, b))
    shifted = float(metrics.mmd2_unbiased(a, b + 1.0))
    assert abs(same) < 0.01 < shifted
    assert float(metrics.kernel_distance(a, b, generator=g)) < 0.05 < float(metrics.kernel_distance(a, b + 1, generator=g))


def test_frechet_distance_matches_the_formula():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(2000, 3, generator=g, dtype=torch.float64)
    b = torch.randn(2000, 3, generator=g, dtype=torch.float64) * 2 + 1
    # By hand with scipy's matrix square root:
    from scipy import linalg

    mu1, mu2 = a.mean(0).numpy(), b.mean(0).numpy()
    s1, s2 = np.cov(a.numpy(), rowvar=False), np.cov(b.numpy(), rowvar=False)
    ref = ((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * linalg.sqrtm(s1 @ s2).real)
    assert float(metrics.frechet_distance(a, b)) == pytest.approx(ref, rel=1e-6)
    # Known answer for N(0, I) vs N(1, 4I) in 3-D: 3 * 1 + 3 * (1 + 4 - 2 * 2) = 6
    assert ref == pytest.approx(6.0, rel=0.1)


def test_mode_coverage_counts_modes():
    modes = data.toy_modes("ring")
    samples = modes[[0] * 50 + [1] * 50]  # every sample on two of the eight modes
    cov = metrics.mode_coverage(samples, modes, radius=0.15)
    assert cov.covered == 2 and cov.fraction == 0.25 and cov.high_quality == 1.0
    assert metrics.mode_collapse_warning([0.25, 1.0, 0.5]) is not None
    assert metrics.mode_collapse_warning([0.25, 0.5, 1.0]) is None
    hist = metrics.class_histogram(torch.tensor([0, 0, 1, 3]), 4)
    assert hist.tolist() == [0.5, 0.25, 0.0, 0.25] and metrics.class_coverage(hist) == 0.75


def test_metric_bad_inputs():
    with pytest.raises(ShapeError):
        metrics.energy_distance(torch.zeros(3, 2), torch.zeros(3, 3))
    with pytest.raises(ShapeError):
        metrics.frechet_distance(torch.zeros(1, 2), torch.zeros(5, 2))
    with pytest.raises(ConfigError):
        metrics.mmd2_unbiased(torch.zeros(3, 2), torch.zeros(3, 2), kernel="cosine")


# ----------------------------------------------------------------------------- the losses we train with
@pytest.mark.parametrize("kind", ["ns", "minimax", "lsgan"])
def test_label_smoothing_term_equals_soft_labels(kind):
    g = torch.Generator().manual_seed(0)
    r, f = torch.randn(64, generator=g) * 2, torch.randn(64, generator=g) * 2
    s = 0.2
    smoothed = discriminator_loss(r, f, kind) + label_smoothing_term(r, s, kind)
    if kind == "lsgan":  # (1 - s) * 1/2 (d - 1)^2 + s * 1/2 d^2 on real, 1/2 d^2 on fake
        ref = ((1 - s) * 0.5 * (r - 1) ** 2 + s * 0.5 * r**2).mean() + (0.5 * f**2).mean()
    else:  # binary cross-entropy with real target 1 - s
        ref = F.binary_cross_entropy_with_logits(r, torch.full_like(r, 1 - s)) + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f))
    assert torch.allclose(smoothed, ref, atol=1e-6)
    with pytest.raises(ConfigError):
        label_smoothing_term(r, s, "hinge")


def test_cli_flags_come_from_the_config_and_the_loss_table():
    import argparse

    from stylelab.gan import cli, objectives

    assert tuple(objectives.LOSSES) == ADVERSARIAL_LOSSES  # the GAN table lists every adversarial loss, in order
    assert objectives.PROBABILISTIC == ("minimax", "ns") and objectives.SMOOTHING_OK == ("minimax", "ns", "lsgan")
    p = argparse.ArgumentParser()
    cli.add_gan_arguments(p)
    flags = {a.dest: a for a in p._actions}
    assert tuple(flags["loss"].choices) == ADVERSARIAL_LOSSES and tuple(flags["data"].choices) == data.DATASETS
    assert flags["batch_size"].default == GANConfig().batch_size and flags["beta1"].default == GANConfig().beta1
    args = p.parse_args(["--data", "digits8", "--lr-g", "none", "--classes", "1,7", "--batch-size", "32"])
    args.steps = 20
    cfg = cli.config_from(args)
    assert cfg == GANConfig(data="digits8", classes=(1, 7), batch_size=32, steps=20, metrics_every=2)


# ----------------------------------------------------------------------------- training
def test_ring_gan_covers_most_modes_in_bounded_steps():
    trainer = GANTrainer(GANConfig(data="ring", loss="ns", seed=0, metrics_every=500))
    first = trainer.evaluate()
    trainer.train(2000)
    last = trainer.history[-1]
    assert last["coverage"] >= 0.75, last
    assert last["energy_distance"] < 0.25 * first["energy_distance"]
    assert trainer.collapse_warning() is None


def _tiny(**kw) -> GANConfig:
    base = dict(data="ring", loss="ns", seed=3, batch_size=16, hidden=16, metrics_every=0)
    return GANConfig(**{**base, **kw})


@pytest.mark.parametrize("cfg", [
    _tiny(loss="wgan-gp", d_steps=2, instance_noise=0.1, instance_noise_decay=10, label_smoothing=0.0),
    _tiny(loss="ns", label_smoothing=0.1, optimizer="rmsprop"),
    _tiny(data="digits8", loss="hinge", base_channels=8, conditional=True, classes=(1, 2, 3)),
    _tiny(data="digits8", loss="wgan-gp", base_channels=8),
], ids=["ring-wgangp", "ring-ns-smooth", "digits-hinge-cond", "digits-wgangp"])
def test_resume_equals_continuous_training(tmp_path, cfg):
    continuous = GANTrainer(cfg)
    continuous.train(8)
    first = GANTrainer(dataclasses.replace(cfg))
    first.train(4)
    path = first.save(tmp_path / "ckpt.pt")
    resumed = GANTrainer.load(path)
    resumed.train(4)
    for a, b in zip(continuous.G.state_dict().values(), resumed.G.state_dict().values()):
        assert torch.equal(a, b)
    for a, b in zip(continuous.D.state_dict().values(), resumed.D.state_dict().values()):
        assert torch.equal(a, b)
    assert [r["loss_g"] for r in continuous.history] == [r["loss_g"] for r in resumed.history]


def test_checkpoint_round_trip_and_bad_checkpoints(tmp_path):
    t = GANTrainer(_tiny())
    t.train(3)
    buf = io.BytesIO()
    torch.save(t.state_dict(), buf)
    back = GANTrainer.load(buf.getvalue())
    assert back.step_count == 3 and back.history == t.history
    assert torch.equal(back.sample(10), t.sample(10))
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError):
        GANTrainer.load(bad)
    with pytest.raises(CheckpointError):
        GANTrainer.load(b"")
    with pytest.raises(CheckpointError):
        GANTrainer.load(tmp_path / "missing.pt")
    torch.save({"state": [1, 2]}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError):
        GANTrainer.load(tmp_path / "other.pt")
    other = GANTrainer(_tiny(hidden=32))
    with pytest.raises(CheckpointError):
        other.load_state_dict(t.state_dict())


def test_live_updates_and_bad_configs():
    t = GANTrainer(_tiny())
    t.update(lr_g=5e-4, d_steps=2, loss="hinge")
    assert t.opt_g.param_groups[0]["lr"] == 5e-4 and t.config.d_steps == 2
    t.train(2)
    with pytest.raises(ConfigError):
        t.update(hidden=8)
    with pytest.raises(ConfigError):
        t.update(lr_g=-1)
    with pytest.raises(ConfigError):
        t.train(-1)
    for bad in (dict(loss="bce"), dict(data="cifar"), dict(batch_size=1), dict(label_smoothing=0.1, loss="hinge"),
                dict(conditional=True), dict(optimizer="lbfgs"), dict(beta1=1.5)):
        with pytest.raises(ConfigError):
            GANConfig(**bad)


def test_dcgan_loss_and_fid_move_the_right_way():
    cfg = GANConfig(data="digits8", loss="ns", seed=0, batch_size=64, metrics_every=0, eval_samples=500)
    t = GANTrainer(cfg)
    before = t.evaluate()
    t.train(250)
    after = t.evaluate()
    early = np.mean([r["d_real"] - r["d_fake"] for r in t.history[:50]])
    assert early > 0.1  # D learns to tell real from fake
    assert after["fid"] < 0.5 * before["fid"], (before["fid"], after["fid"])
    assert after["kid"] < before["kid"]
    assert after["confidence"] > before["confidence"]


def test_viz_surface_arrows_and_latent_paths():
    t = GANTrainer(_tiny())
    surf = viz.decision_surface(t, resolution=12)
    assert surf.values.shape == (12, 12) and surf.values.min() >= 0 and surf.values.max() <= 1
    pts, arrows = viz.generator_gradients(t, n=30)
    assert pts.shape == arrows.shape == (30, 2) and torch.isfinite(arrows).all()
    z0, z1 = torch.randn(64), torch.randn(64)
    lin = viz.interpolate(z0, z1, 5, "linear")
    sph = viz.interpolate(z0, z1, 5, "spherical")
    assert torch.allclose(lin[0], z0) and torch.allclose(sph[-1], z1, atol=1e-5)
    assert torch.allclose(lin[2], (z0 + z1) / 2)
    # slerp keeps the norm between the two end norms (lerp dips in the middle)
    assert sph[2].norm() > lin[2].norm()
    walk = viz.latent_walk(z0, 3, span=2.0, steps=5)
    assert walk[:, 3].tolist() == [-2.0, -1.0, 0.0, 1.0, 2.0] and torch.equal(walk[:, 0], z0[0].repeat(5))
    with pytest.raises(ConfigError):
        viz.interpolate(z0, z1, 5, "cubic")
    with pytest.raises(ShapeError):
        viz.latent_walk(z0, 99)


# ----------------------------------------------------------------------------- CLI
def test_cli_train_points(tmp_path):
    from stylelab.cli import main

    out = tmp_path / "ring"
    assert main(["gan", "train", "--data", "ring", "--loss", "hinge", "--steps", "40", "--out", str(out), "--seed", "2"]) == 0
    samples = np.load(out / "samples.npy")
    assert samples.shape == (1000, 2) and np.isfinite(samples).all()
    rows = json.loads((out / "metrics.json").read_text())
    assert rows[-1]["step"] == 40
    for row in rows:
        assert {"step", "loss_d", "loss_g", "d_real", "d_fake", "energy_distance"} <= set(row)
        assert math.isfinite(row["energy_distance"])
    assert (out / "samples.png").stat().st_size > 1000 and (out / "checkpoint.pt").is_file()
    # --resume continues the run to the new total
    assert main(["gan", "train", "--data", "ring", "--loss", "hinge", "--steps", "50", "--out", str(out), "--resume"]) == 0
    assert json.loads((out / "metrics.json").read_text())[-1]["step"] == 50


def test_cli_train_images_and_bad_inputs(tmp_path, capsys):
    from stylelab.cli import main

    out = tmp_path / "digits"
    assert main(["gan", "train", "--data", "digits8", "--steps", "5", "--out", str(out)]) == 0
    samples = np.load(out / "samples.npy")
    assert samples.shape == (1000, 8, 8) and samples.min() >= 0 and samples.max() <= 1
    row = json.loads((out / "metrics.json").read_text())[-1]
    assert {"fid", "kid", "loss_d", "loss_g", "d_real", "d_fake"} <= set(row)
    assert main(["gan", "train", "--data", "digits8", "--steps", "0", "--out", str(out)]) == 2
    assert main(["gan", "train", "--data", "digits8", "--classes", "1,x", "--steps", "2", "--out", str(out)]) == 2
    assert "error:" in capsys.readouterr().err


def test_experiment_record_round_trip_rebuilds_the_config():
    from stylelab.record import ExperimentRecord

    t = GANTrainer(_tiny(metrics_every=2))
    t.train(4)
    rec = ExperimentRecord.from_json(t.record().to_json(), lab="gan")
    assert rec.config["kind"] == "gan" and rec.seed == t.config.seed
    again = GANTrainer.from_record(rec)
    assert again.config == t.config and again.step_count == 0
    assert [r["step"] for r in rec.metrics] == [1, 2, 3, 4] and "energy_distance" in rec.metrics[1]
    assert rec.summary["steps"] == 4


def test_advance_respects_its_budget_and_play_until_stops_the_run():
    from stylelab.run import advance

    t = GANTrainer(_tiny())
    rows = advance(t, 0.05, max_steps=10_000)
    assert 1 <= len(rows) < 10_000 and t.total_steps is None and not t.done  # open-ended (steps=0)
    with pytest.raises(ConfigError):
        advance(t, -1.0)
    t.play_until(t.step_count + 3)  # the page's "Train N"
    assert len(advance(t, 60.0)) == 3 and t.done
    t.play_until(None)
    assert not t.done
    with pytest.raises(ConfigError):
        t.play_until(-2)
    short = GANTrainer(_tiny(steps=4))
    assert short.total_steps == 4 and len(short.train(10)) == 4 and short.done


def test_old_format_checkpoint_still_loads(tmp_path):
    """A checkpoint written before the Run contract (format stylelab.gan.checkpoint/1) resumes exactly."""
    from stylelab.gan.train import CHECKPOINT_FORMAT

    t = GANTrainer(_tiny())
    t.train(3)
    new = t.state_dict()
    old = {"format": CHECKPOINT_FORMAT, "config": {**dataclasses.asdict(t.config), "device": "cpu"}, "step": 3,
           "seconds": 0.5, "history": new["history"], **{k: v for k, v in new["state"].items()}}
    old["config"].pop("steps")  # older configs had no steps field
    torch.save(old, tmp_path / "old.pt")
    back = GANTrainer.load(tmp_path / "old.pt")
    assert back.step_count == 3 and back.history == t.history
    back.train(2)
    t.train(2)
    assert back.history == t.history


def test_no_global_rng_in_construction_or_training():
    state = torch.get_rng_state()
    for cfg in (_tiny(), _tiny(data="digits8", base_channels=8, conditional=True)):
        t = GANTrainer(cfg)
        t.train(2)
        t.preview()
    assert torch.equal(torch.get_rng_state(), state)
    a, b = GANTrainer(_tiny(seed=4)), GANTrainer(_tiny(seed=4))
    assert all(torch.equal(p, q) for p, q in zip(a.G.parameters(), b.G.parameters()))
    c = GANTrainer(_tiny(seed=5))
    assert not all(torch.equal(p, q) for p, q in zip(a.G.parameters(), c.G.parameters()))


def _step_both(pairs, x):
    """One update of each (net, update) pair on the same batch: L = mean(net(x)^2)."""
    for net, update in pairs:
        for p in net.parameters():
            p.grad = None
        net(x).pow(2).mean().backward()
        update()


@pytest.mark.parametrize("betas, lr", [((0.5, 0.999), 1e-3), ((0.0, 0.9), 2e-4)])
def test_lean_adam_equals_torch_fused_adam_bit_for_bit(betas, lr):
    from stylelab.gan.optim import LeanAdam

    torch.manual_seed(0)
    a, b = models.MLPDiscriminator(), models.MLPDiscriminator()
    b.load_state_dict(a.state_dict())
    start = [p.detach().clone() for p in a.parameters()]
    ref = torch.optim.Adam(a.parameters(), lr=lr, betas=betas, fused=True)
    lean = LeanAdam(b.parameters(), lr=lr, betas=betas)
    for i in range(30):
        _step_both(((a, ref.step), (b, lean.fast_step)), torch.randn(32, 2))
        if i == 10:  # a checkpoint of one loads into the other and training goes on identically
            lean.load_state_dict(copy.deepcopy(ref.state_dict()))  # as if saved and loaded
    assert all(not torch.equal(p, q) for p, q in zip(a.parameters(), start))  # it did train
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
    assert all(float(s["step"]) == 30 for s in lean.state.values())


def test_lean_adam_falls_back_to_torch_for_what_it_does_not_cover():
    from stylelab.gan.optim import LeanAdam

    torch.manual_seed(0)
    a, b = models.MLPGenerator(2), models.MLPGenerator(2)
    b.load_state_dict(a.state_dict())
    ref = torch.optim.Adam(a.parameters(), lr=1e-3, weight_decay=0.1, amsgrad=True, fused=True)
    lean = LeanAdam(b.parameters(), lr=1e-3, weight_decay=0.1, amsgrad=True)
    for _ in range(5):
        _step_both(((a, ref.step), (b, lean.fast_step)), torch.randn(16, 2))
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)


def test_cli_dry_run_writes_nothing_and_ddp_refuses_outside_torchrun(tmp_path, capsys, monkeypatch):
    from stylelab.cli import main
    from stylelab.gan import ddp

    out = tmp_path / "dry"
    assert main(["gan", "train", "--data", "digits8", "--steps", "500", "--base-channels", "8", "--out", str(out),
                 "--dry-run"]) == 0
    assert "dry run: 1 step" in capsys.readouterr().out and not out.exists()
    for var in ("RANK", "WORLD_SIZE"):
        monkeypatch.delenv(var, raising=False)
    assert ddp.main(["--out", str(out), "--steps", "3"]) == 2
    assert "torchrun" in capsys.readouterr().err and not out.exists()


def test_the_seed_lives_in_the_config():
    t = GANTrainer(_tiny(seed=3), seed=3)
    assert t.seed == 3 == t.config.seed and t.record().seed == 3
    with pytest.raises(ConfigError):
        GANTrainer(_tiny(seed=3), seed=4)
