"""Fast style network: training lowers the loss, checkpoints round-trip safely, 2-process torchrun."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from stylelab.errors import CheckpointError, ConfigError, ShapeError
from stylelab.style.train_fast import FastStyleConfig, FastStyleTrainer, load_fast_style, read_checkpoint
from stylelab.style.transformer_net import TransformerNet

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def style():
    from stylelab.assets import load_bundled

    return load_bundled("texture:brick", 64)


def test_transformer_net_shapes():
    net = TransformerNet(width=4, n_res=1).requires_grad_(False)
    for h, w in ((32, 32), (37, 50)):
        y = net(torch.rand(2, 3, h, w))
        assert y.shape == (2, 3, h, w) and 0 < float(y.min()) and float(y.max()) < 1
    with pytest.raises(ShapeError):
        net(torch.rand(3, 32, 32))
    with pytest.raises(ConfigError):
        TransformerNet(width=0)


def test_training_lowers_loss_and_checkpoint_round_trip(style, tmp_path):
    # seed 1: 12 steps of batch 2 is a noisy measure (seeds 0-3 gave after/before 0.83, 0.46, 0.69, 0.30)
    cfg = FastStyleConfig(size=32, batch_size=2, steps=12, width=8, n_res=1, lr=5e-3, seed=1)
    trainer = FastStyleTrainer(style, cfg)
    fixed = trainer.data.batch(4)  # (4, 3, 32, 32): a held-out batch, same before and after
    before = trainer.evaluate(fixed)["total"]
    trainer.train()
    after = trainer.evaluate(fixed)["total"]
    assert trainer.step_count == 12 and len(trainer.history) == 12
    assert after < 0.8 * before

    path = trainer.save(tmp_path / "net.pt")
    net, loaded_cfg = load_fast_style(path)
    assert loaded_cfg == cfg
    x = torch.rand(1, 3, 32, 32)
    assert torch.allclose(net(x), trainer.net.eval()(x))
    resumed = FastStyleTrainer(style, cfg)
    ckpt = read_checkpoint(path)
    assert ckpt["format"] == "stylelab.fast_style/2" and "kind" not in ckpt
    resumed.resume(ckpt)
    assert resumed.step_count == 12 and resumed.history == trainer.history
    assert all(torch.equal(a, b) for a, b in zip(resumed.net.state_dict().values(), trainer.net.state_dict().values()))


def test_resume_from_a_checkpoint_continues_bit_for_bit(style, tmp_path):
    cfg = FastStyleConfig(size=32, batch_size=1, steps=4, width=4, n_res=1, adv_weight=0.1, seed=3)
    whole = FastStyleTrainer(style, cfg)
    whole.train()
    half = FastStyleTrainer(style, cfg)
    half.train(2)
    path = half.save(tmp_path / "half.pt")
    again = FastStyleTrainer(style, cfg)
    again.resume(read_checkpoint(path))
    again.train()
    assert again.history == whole.history


def test_weights_come_from_the_run_seed_not_the_global_rng(style):
    state = torch.get_rng_state()
    a = FastStyleTrainer(style, FastStyleConfig(size=32, batch_size=1, steps=1, width=4, n_res=1, adv_weight=0.1, seed=1))
    b = FastStyleTrainer(style, FastStyleConfig(size=32, batch_size=1, steps=1, width=4, n_res=1, adv_weight=0.1, seed=1))
    c = FastStyleTrainer(style, FastStyleConfig(size=32, batch_size=1, steps=1, width=4, n_res=1, adv_weight=0.1, seed=2))
    assert torch.equal(torch.get_rng_state(), state)
    wa, wb, wc = (list(t.net.state_dict().values()) + list(t.disc.state_dict().values()) for t in (a, b, c))
    assert all(torch.equal(x, y) for x, y in zip(wa, wb))
    assert not all(torch.equal(x, y) for x, y in zip(wa, wc))


def test_old_checkpoints_with_the_kind_tag_still_load(tmp_path):
    net = TransformerNet(4, 1)
    old = {"kind": "stylelab.fast_style/1", "config": {"width": 4, "n_res": 1, "size": 32}, "step": 5,
           "net": net.state_dict()}
    torch.save(old, tmp_path / "old.pt")
    loaded, cfg = load_fast_style(tmp_path / "old.pt", device="cpu")
    assert cfg.width == 4 and read_checkpoint(tmp_path / "old.pt")["step"] == 5
    x = torch.rand(1, 3, 32, 32)
    assert torch.equal(loaded(x), net.eval()(x))


def test_adversarial_term_is_reported(style):
    trainer = FastStyleTrainer(style, FastStyleConfig(size=32, batch_size=1, steps=1, width=4, n_res=1, adv_weight=0.1))
    values = trainer.step()
    assert {"adversarial", "adversarial_raw", "discriminator"} <= set(values) and values["step"] == 1


def test_bad_checkpoints(tmp_path):
    with pytest.raises(CheckpointError):
        read_checkpoint(tmp_path / "missing.pt")
    (tmp_path / "text.pt").write_text("not a checkpoint")
    with pytest.raises(CheckpointError):
        read_checkpoint(tmp_path / "text.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="not a stylelab"):
        read_checkpoint(tmp_path / "foreign.pt")
    # a checkpoint whose weights do not fit the architecture its config describes
    ckpt = {"kind": "stylelab.fast_style/1", "config": {"width": 8, "n_res": 1}, "net": TransformerNet(4, 1).state_dict()}
    torch.save(ckpt, tmp_path / "mismatch.pt")
    with pytest.raises(CheckpointError, match="do not fit"):
        load_fast_style(tmp_path / "mismatch.pt")
    with pytest.raises(CheckpointError, match="not a stylelab"):  # another run's state is not a fast-style network
        torch.save({"format": "stylelab.run/1", "kind": "gatys", "config": {}, "state": {}}, tmp_path / "state.pt")
        read_checkpoint(tmp_path / "state.pt")


def test_the_apps_download_is_a_usable_network(style, tmp_path):
    trainer = FastStyleTrainer(style, FastStyleConfig(size=32, batch_size=1, steps=2, width=4, n_res=1))
    trainer.train()
    (tmp_path / "app.pt").write_bytes(trainer.to_bytes())  # the run state, as the page's download button
    net, cfg = load_fast_style(tmp_path / "app.pt", device="cpu")
    assert cfg == trainer.config and read_checkpoint(tmp_path / "app.pt")["step"] == 2
    x = torch.rand(1, 3, 32, 32)
    assert torch.equal(net(x), trainer.net.eval()(x))
    again = FastStyleTrainer(style, trainer.config)
    again.resume(read_checkpoint(tmp_path / "app.pt"))
    assert again.step_count == 2 and again.history == trainer.history


def test_style_image_is_checked_by_the_one_validator():
    from stylelab.errors import ImageError

    with pytest.raises(ShapeError):
        FastStyleTrainer(torch.rand(4, 32, 32), FastStyleConfig(size=32, steps=1, width=4, n_res=1))
    with pytest.raises(ImageError):
        FastStyleTrainer(torch.rand(3, 32, 32) * 255, FastStyleConfig(size=32, steps=1, width=4, n_res=1))


@pytest.mark.parametrize("kwargs", [{"size": 30}, {"batch_size": 0}, {"lr": -1.0}, {"adv_kind": "wgan"}, {"width": 0}])
def test_bad_config(kwargs):
    with pytest.raises(ConfigError):
        FastStyleConfig(**kwargs).validate()


@pytest.mark.slow
@pytest.mark.ddp
def test_torchrun_two_processes(tmp_path):
    out = tmp_path / "ddp.pt"
    env = {**os.environ, "STYLELAB_DEVICE": "cpu", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "stylelab.style.train_fast", "texture:brick", "--steps", "3", "--size", "32", "--batch-size", "1",
           "--width", "4", "--n-res", "1", "--quiet", "-o", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "on 2 process(es)" in proc.stdout
    ckpt = read_checkpoint(out)
    assert ckpt["step"] == 3
    net, cfg = load_fast_style(out)
    assert cfg.width == 4 and net(torch.rand(1, 3, 32, 32)).shape == (1, 3, 32, 32)
