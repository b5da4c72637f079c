"""Training the U-Net inpainter: data, steps, resume, the loss study, the CLI, and DDP under torchrun."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from stylelab.errors import CheckpointError, ConfigError
from stylelab.inpaint import LOSS_CHOICES, load_inpainter
from stylelab.inpaint.data import HELD_OUT, InpaintData, training_image_names
from stylelab.inpaint.train import TrainConfig, Trainer, parameter_checksum

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(size=32, batch=2, base=4, depth=3, steps=2)


def test_training_data_holds_out_the_benchmark_images():
    names = training_image_names()
    assert names and not set(names) & set(HELD_OUT)
    data = InpaintData("photos", 32, seed=0)
    x, m = data.batch(3)
    assert x.shape == (3, 3, 32, 32) and m.shape == (3, 1, 32, 32)
    assert 0 <= x.min() and x.max() <= 1
    assert ((m > 0).flatten(1).any(1)).all() and not ((m > 0).flatten(1).all(1)).any()
    twin_a, twin_b = data.fork(5), data.fork(5)
    assert torch.equal(twin_a.batch(2)[1], twin_b.batch(2)[1])  # forks with one seed draw the same masks


@pytest.mark.parametrize("source", ["faces", "fashion"])
def test_other_training_sources(source):
    x, m = InpaintData(source, 32, seed=0).batch(2)
    assert x.shape == (2, 3, 32, 32) and m.shape == (2, 1, 32, 32)


def test_bad_training_configs():
    with pytest.raises(ConfigError, match="Unknown inpainting loss"):
        Trainer(TrainConfig(loss="l7", **TINY))
    with pytest.raises(ConfigError, match="multiple of"):
        Trainer(TrainConfig(size=30, base=4, depth=3))
    with pytest.raises(ConfigError):
        InpaintData("imagenet")


def test_mse_training_lowers_the_loss_and_resumes(tmp_path, monkeypatch):
    cfg = TrainConfig(loss="mse", size=32, batch=8, base=8, depth=3, steps=25, lr=3e-3, data="faces")
    tr = Trainer(cfg)
    rows = tr.run()
    first = sum(r["mse"] for r in rows[:5]) / 5
    last = sum(r["mse"] for r in rows[-5:]) / 5
    assert last < first
    assert all("seconds" not in r for r in rows)  # rows are reproducible: no wall times
    writes = []
    real_save = torch.save
    monkeypatch.setattr(torch, "save", lambda obj, f, *a, **k: (writes.append(f), real_save(obj, f, *a, **k))[1])
    path = tr.save(tmp_path / "run.pt")
    monkeypatch.undo()
    assert len(writes) == 1 and not list(tmp_path.glob(".run.pt.*"))  # written once (atomically: no temp file left)
    again = Trainer(cfg, init=path)
    assert again.step_count == 25 and parameter_checksum(again.net) == pytest.approx(parameter_checksum(tr.net))
    assert again.opt.state_dict()["state"]  # Adam moments restored
    assert again.total_steps == 50 and not again.done  # an init run makes config.steps more steps
    model = load_inpainter(path)
    assert model.meta["steps"] == 25
    with pytest.raises(CheckpointError, match="holds a U-Net"):
        Trainer(TrainConfig(loss="mse", size=32, batch=2, base=4, depth=3), init=path)


@pytest.mark.parametrize("loss", list(LOSS_CHOICES))
def test_every_loss_choice_takes_a_step(loss):
    tr = Trainer(TrainConfig(loss=loss, **TINY))
    row = tr.step()
    for term in LOSS_CHOICES[loss].weights:
        assert f"{term}_raw" in row and row[f"{term}_raw"] == row[f"{term}_raw"]  # present and finite
    assert ("d_loss" in row) == LOSS_CHOICES[loss].adversarial


def test_trainer_is_a_run_with_its_own_randomness():
    from stylelab.inpaint import InpaintTrainConfig, InpaintTrainer

    assert Trainer is InpaintTrainer and TrainConfig is InpaintTrainConfig
    cfg = TrainConfig(data="faces", **TINY)
    before = torch.get_rng_state()
    a = InpaintTrainer(cfg)
    rows = [a.step() for _ in range(2)]
    assert torch.equal(torch.get_rng_state(), before) and a.done
    assert [r["step"] for r in rows] == [1, 2] and rows == InpaintTrainer(cfg).run()
    other = InpaintTrainer(cfg, seed=1)
    assert other.config.seed == 1 and other.run() != rows
    rec = a.record()
    assert rec.lab == "inpaint" and rec.config["kind"] == "inpaint-train" and rec.metrics == rows
    with pytest.raises(ConfigError):
        TrainConfig(seed=-1).validate()


def test_loss_study_uses_the_same_data_and_start():
    from stylelab.inpaint.study import LossStudy, LossStudyConfig
    from stylelab.run import advance

    study = LossStudy(LossStudyConfig(losses=("mse", "mse+ssim"), data="faces", size=32, batch=2, base=4, depth=3,
                                      steps=2))
    a, b = study.trainers.values()
    assert parameter_checksum(a.net) == parameter_checksum(b.net)  # same initial weights
    assert torch.equal(a.data.fork(9).batch(2)[1], b.data.fork(9).batch(2)[1])  # same pictures
    assert a.data.get_state() == b.data.get_state()  # same stream: the same masks come next
    row = study.step()  # one round: one step of every model
    assert row["step"] == 1 and {"mse/mse_raw", "mse+ssim/mse_raw", "mse+ssim/ssim_raw"} <= set(row)
    assert study.steps_done == 1 and set(study.curves()) == {"mse", "mse+ssim"}
    assert a.data.get_state() == b.data.get_state()
    advance(study, 10.0)
    assert study.done
    outs = study.inpaint(torch.rand(3, 32, 32), torch.zeros(1, 32, 32).index_fill_(1, torch.arange(8, 16), 1.0))
    assert set(outs) == {"mse", "mse+ssim"}
    with pytest.raises(ConfigError):
        LossStudy([])
    with pytest.raises(ConfigError):
        LossStudy(["mse", "mse"])
    assert LossStudy(["mse"]).config.losses == ("mse",)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_cli_inpaint_rect_and_bad_inputs(tmp_path):
    from stylelab.assets import load_bundled
    from stylelab.imageio import load_image, to_pil

    src = tmp_path / "in.png"
    to_pil(load_bundled("photo:coffee", size=64)).save(src)
    out = tmp_path / "out.png"
    cmd = [sys.executable, "-m", "stylelab", "inpaint", str(src), "-o", str(out)]
    done = subprocess.run(cmd + ["--rect", "10,10,20,12", "--method", "telea", "--save-mask", str(tmp_path / "m.png")],
                          capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    result, original = load_image(out), load_image(src)
    assert result.shape == original.shape
    assert torch.equal(result[:, :5, :5], original[:, :5, :5]) and not torch.equal(result, original)
    done = subprocess.run(cmd + ["--mask", str(tmp_path / "m.png"), "--method", "ns"],
                          capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    bad = subprocess.run(cmd + ["--rect", "500,500,5,5"], capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=120)
    assert bad.returncode == 2 and "outside" in bad.stderr
    bad = subprocess.run(cmd + ["--rect", "1,2,3"], capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=120)
    assert bad.returncode == 2 and "X,Y,W,H" in bad.stderr


def test_inpaint_train_is_a_stylelab_command(tmp_path):
    cmd = [sys.executable, "-m", "stylelab", "inpaint-train", "--data", "faces", "--size", "32", "--batch", "2",
           "--base", "4", "--depth", "3"]
    done = subprocess.run(cmd + ["--dry-run", "--out", str(tmp_path / "x.pt")], capture_output=True, text=True,
                          env=_env(), cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "dry run" in done.stdout and not (tmp_path / "x.pt").exists()  # one step, nothing written
    done = subprocess.run(cmd + ["--steps", "2", "--out", str(tmp_path / "y.pt"), "--log-every", "1"],
                          capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert load_inpainter(tmp_path / "y.pt").meta["steps"] == 2
    assert [json.loads(line)["step"] for line in done.stdout.splitlines() if line.startswith("{")] == [1, 2]
    bad = subprocess.run(cmd + ["--size", "30"], capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=120)
    assert bad.returncode == 2 and "multiple of" in bad.stderr
    helped = subprocess.run(cmd[:4] + ["--help"], capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=120)
    assert "--dry-run" in helped.stdout and "(default: 300)" in helped.stdout  # defaults from the dataclass


@pytest.mark.slow
@pytest.mark.ddp
def test_torchrun_ddp_ranks_agree(tmp_path):
    torchrun = Path(sys.executable).with_name("torchrun")
    launcher = [str(torchrun)] if torchrun.exists() else [sys.executable, "-m", "torch.distributed.run"]
    cmd = launcher + ["--standalone", "--nproc_per_node", "2", "-m", "stylelab.inpaint.train",
                      "--loss", "mse", "--data", "faces", "--size", "32", "--batch", "2", "--base", "4", "--depth", "3",
                      "--steps", "3", "--threads", "1", "--out", str(tmp_path / "ddp.pt"), "--checksum-dir", str(tmp_path)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["world"] for r in ranks] == [2, 2] and [r["steps"] for r in ranks] == [3, 3]
    assert ranks[0]["checksum"] == pytest.approx(ranks[1]["checksum"], rel=1e-6)  # gradients were averaged
    model = load_inpainter(tmp_path / "ddp.pt")
    assert model.meta["world_size"] == 2
    assert parameter_checksum(model.net) == pytest.approx(ranks[0]["checksum"], rel=1e-6)


def test_boundary_mse_known_answer():
    from stylelab.inpaint.losses import boundary_mse

    x = torch.zeros(1, 1, 5, 5)
    m = torch.zeros(1, 1, 5, 5)
    m[..., 2, 2] = 1  # one hole pixel in the centre
    pred = torch.full((1, 1, 5, 5), 3.0)  # far pixels: ignored
    pred[..., 1:4, 1:4] = 0.5  # the 8 known neighbours (the 1-px ring): error 0.5 each
    pred[..., 2, 2] = 9.0  # the hole itself: ignored
    assert boundary_mse(pred, x, m, width=1).item() == pytest.approx(0.25)
    # width 2: the ring is all 24 known pixels, 8 at error 0.5 and 16 at error 3
    assert boundary_mse(pred, x, m, width=2).item() == pytest.approx((8 * 0.25 + 16 * 9.0) / 24)
    assert boundary_mse(pred, x, torch.zeros_like(m)).item() == 0  # no hole, no ring
    assert boundary_mse(x, x, m).item() == 0
    with pytest.raises(ConfigError):
        boundary_mse(pred, x, m, width=0)


def test_boundary_mse_gradcheck():
    from stylelab.inpaint.losses import boundary_mse

    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 6, 6, generator=g, dtype=torch.float64).requires_grad_()
    y = torch.rand(2, 3, 6, 6, generator=g, dtype=torch.float64)
    m = (torch.rand(2, 1, 6, 6, generator=g, dtype=torch.float64) > 0.7).double()
    assert torch.autograd.gradcheck(lambda a: boundary_mse(a, y, m, width=1), (x,))


def test_boundary_term_is_trained_when_weighted():
    tr = Trainer(TrainConfig(loss="mse", boundary=1.0, **TINY))
    row = tr.step()
    assert row["boundary_raw"] >= 0 and row["total"] == pytest.approx(row["mse"] + row["boundary"])
    with pytest.raises(ConfigError):
        Trainer(TrainConfig(loss="mse", boundary=-1.0, **TINY))


def test_adversarial_kind_is_validated_and_wgan_gp_needs_its_penalty(capsys):
    with pytest.raises(ConfigError, match="Unknown adversarial loss"):
        Trainer(TrainConfig(loss="mse+ssim+perceptual+adv", adv_kind="wasserstein", **TINY))
    with pytest.raises(ConfigError, match="gradient penalty"):
        Trainer(TrainConfig(loss="mse+ssim+perceptual+adv", adv_kind="wgan-gp", gp_weight=0.0, **TINY))
    from stylelab.inpaint.train import main

    assert main(["--loss", "mse+ssim+perceptual+adv", "--adv-kind", "wgan-gp", "--gp-weight", "0", "--steps", "0"]) == 2
    assert "gradient penalty" in capsys.readouterr().err


def test_wgan_gp_step_adds_the_gradient_penalty_of_the_patch_critic(monkeypatch):
    import stylelab.losses as losses

    calls, real_gp, real_d = [], losses.gradient_penalty, losses.discriminator_loss

    def spy_gp(critic, real, fake, weight, generator):
        gp = real_gp(critic, real, fake, weight=weight, generator=generator)
        calls.append({"critic": critic, "real": real, "fake": fake, "weight": weight, "gp": float(gp.detach())})
        return gp

    d_values = []

    def spy_d(real_logits, fake_logits, kind):
        loss = real_d(real_logits, fake_logits, kind)
        d_values.append((kind, real_logits.shape, float(loss.detach())))
        return loss

    monkeypatch.setattr(losses, "gradient_penalty", spy_gp)
    monkeypatch.setattr(losses, "discriminator_loss", spy_d)
    tr = Trainer(TrainConfig(loss="mse+ssim+perceptual+adv", adv_kind="wgan-gp", gp_weight=7.0, bf16=False, **TINY))
    before = [p.detach().clone() for p in tr.disc.parameters()]
    row = tr.step()
    assert len(calls) == 1 and calls[0]["critic"] is tr.disc and calls[0]["weight"] == 7.0
    assert calls[0]["real"].shape == calls[0]["fake"].shape == (TINY["batch"], 3, TINY["size"], TINY["size"])
    (kind, logit_shape, d_wgan), = d_values
    assert kind == "wgan-gp" and logit_shape[0] == TINY["batch"] and logit_shape[-1] > 1  # a grid of patch scores
    assert row["gp"] == pytest.approx(calls[0]["gp"]) and row["gp"] > 0
    assert row["d_loss"] == pytest.approx(d_wgan + row["gp"], rel=1e-5)  # the penalty is part of D's loss
    assert any(not torch.equal(a, b.detach()) for a, b in zip(before, tr.disc.parameters()))
    hinge = Trainer(TrainConfig(loss="mse+ssim+perceptual+adv", **TINY)).step()
    assert "gp" not in hinge and "d_loss" in hinge  # hinge (the default) has no penalty
