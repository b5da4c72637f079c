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
    cfg = FastStyleConfig(size=32, batch_size=2, steps=12, width=8, n_res=1, lr=5e-3, seed=0)
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
    resumed.load_state(read_checkpoint(path))
    assert resumed.step_count == 12
    assert all(torch.equal(a, b) for a, b in zip(resumed.net.state_dict().values(), trainer.net.state_dict().values()))


def test_adversarial_term_is_reported(style):
    trainer = FastStyleTrainer(style, FastStyleConfig(size=32, batch_size=1, steps=1, width=4, n_res=1, adv_weight=0.1))
    values = trainer.step()
    assert {"adversarial", "adversarial_raw", "discriminator"} <= set(values)


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
