"""stylelab.gan: the 2-process torchrun test and a longer MNIST-5k run (slow)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.ddp
@pytest.mark.parametrize("data,loss", [("ring", "wgan-gp"), ("digits8", "ns")])
def test_torchrun_two_processes_end_with_identical_weights(tmp_path, data, loss):
    out = tmp_path / "ddp"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--standalone",
           "-m", "stylelab.gan.ddp", "--data", data, "--loss", loss, "--steps", "12", "--batch-size", "32",
           "--out", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert ranks[0]["world_size"] == 2 and ranks[0]["backend"] == "gloo"
    assert ranks[0]["steps"] == ranks[1]["steps"] == 12
    # DDP averaged the gradients: both ranks hold bit-identical G (and D) weights...
    assert ranks[0]["g_params_checksum"] == ranks[1]["g_params_checksum"]
    assert ranks[0]["g_checksum"] == ranks[1]["g_checksum"] and ranks[0]["d_checksum"] == ranks[1]["d_checksum"]
    # ...although each rank saw its own shard of data and noise (different local losses).
    assert ranks[0]["last"]["loss_d"] != ranks[1]["last"]["loss_d"]
    rows = json.loads((out / "metrics.json").read_text())
    assert len(rows) == 12 and ("energy_distance" in rows[-1] or "fid" in rows[-1])
    from stylelab.gan.train import GANTrainer

    assert GANTrainer.load(out / "checkpoint.pt").step_count == 12


@pytest.mark.slow
def test_mnist5k_dcgan_improves_fast():
    from stylelab.gan.train import GANConfig, GANTrainer

    t = GANTrainer(GANConfig(data="mnist5k", loss="ns", seed=0, metrics_every=0, eval_samples=500))
    before = t.evaluate()
    t.train(400)
    after = t.evaluate()
    assert after["fid"] < 0.5 * before["fid"] and after["confidence"] > before["confidence"]
    assert after["coverage"] >= 0.7  # most digits appear
