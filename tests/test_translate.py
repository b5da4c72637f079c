"""Unpaired translation (stylelab.translate): the cycle and identity losses against hand-written formulas,
gradchecks, the objective's weights, a 2-D run with and without the cycle term, the CLI, and the shipped
translators (weights_only, they translate a digit)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from stylelab import equations
from stylelab.errors import CheckpointError, ConfigError, NonFiniteError, ShapeError
from stylelab.translate.losses import cycle_generator_objective, cycle_loss, identity_loss

ROOT = Path(__file__).resolve().parents[1]


def _rand(*shape: int, seed: int = 0, dtype=torch.float32) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype) * 2 - 1


def _l1_by_hand(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(1/D) sum |a_n - b_n| for each sample n, written out with NumPy."""
    n = a.shape[0]
    return np.abs(a.reshape(n, -1).astype(np.float64) - b.reshape(n, -1)).sum(1) / a[0].size


# ----------------------------------------------------------------------------- the losses
def test_cycle_loss_known_answer_and_reductions():
    x = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    back = x + torch.tensor([[0.5, -0.5], [0.0, 1.0]])
    # sample 1: (0.5 + 0.5) / 2 = 0.5; sample 2: (0 + 1) / 2 = 0.5
    assert cycle_loss(x, back).item() == pytest.approx(0.5)
    assert cycle_loss(x, back, "none").tolist() == [0.5, 0.5]
    assert cycle_loss(x, back, "sum").item() == pytest.approx(1.0)
    assert cycle_loss(x, x).item() == 0.0  # a perfect round trip costs nothing


def test_cycle_and_identity_losses_match_the_hand_written_formula_on_images():
    x, back = _rand(4, 1, 28, 28, seed=1), _rand(4, 1, 28, 28, seed=2)
    want = _l1_by_hand(x.numpy(), back.numpy())
    assert np.allclose(cycle_loss(x, back, "none").numpy(), want, rtol=1e-5)
    assert cycle_loss(x, back).item() == pytest.approx(want.mean(), rel=1e-5)
    assert identity_loss(x, back).item() == pytest.approx(want.mean(), rel=1e-5)
    # images in [-1, 1]: at most 2 per value (white <-> black everywhere)
    assert cycle_loss(torch.ones(2, 1, 4, 4), -torch.ones(2, 1, 4, 4)).item() == pytest.approx(2.0)


def test_losses_gradcheck_in_float64():
    x = _rand(3, 2, 4, 4, seed=3, dtype=torch.float64)
    y = (_rand(3, 2, 4, 4, seed=4, dtype=torch.float64)).requires_grad_(True)  # no ties at |a - b| = 0
    assert torch.autograd.gradcheck(lambda t: cycle_loss(x, t), (y,))
    assert torch.autograd.gradcheck(lambda t: identity_loss(x, t, "sum"), (y,))
    d = _rand(3, seed=5, dtype=torch.float64).requires_grad_(True)

    def total(d_logits, back):
        return cycle_generator_objective(d_logits, d_logits * 0.5, x, back, x, back * 0.9, lambda_cyc=3.0,
                                         lambda_id=0.5, g_of_y=back, f_of_x=back).total

    assert torch.autograd.gradcheck(total, (d, y))


def test_objective_is_the_weighted_sum_written_by_hand():
    x, y = _rand(5, 2, seed=6), _rand(5, 2, seed=7)
    fgx, gfy, gy, fx = (_rand(5, 2, seed=s) for s in (8, 9, 10, 11))
    dg, df = _rand(5, seed=12), _rand(5, seed=13)
    lam_c, lam_i = 7.0, 0.5
    t = cycle_generator_objective(dg, df, x, fgx, y, gfy, lambda_cyc=lam_c, lambda_id=lam_i, g_of_y=gy, f_of_x=fx)
    lsgan = lambda d: 0.5 * ((d.numpy().astype(np.float64) - 1) ** 2).mean()  # noqa: E731 - 1/2 E[(d - 1)^2]
    l1 = lambda a, b: _l1_by_hand(a.numpy(), b.numpy()).mean()  # noqa: E731
    want = lsgan(dg) + lsgan(df) + lam_c * (l1(x, fgx) + l1(y, gfy)) + lam_i * (l1(y, gy) + l1(x, fx))
    assert t.total.item() == pytest.approx(want, rel=1e-5)
    assert t.cycle_x.item() == pytest.approx(l1(x, fgx), rel=1e-5)
    # lambda_cyc = 0: the round trips no longer count at all
    t0 = cycle_generator_objective(dg, df, x, fgx, y, gfy, lambda_cyc=0.0)
    assert t0.total.item() == pytest.approx(lsgan(dg) + lsgan(df), rel=1e-5)
    assert t0.cycle_x.item() > 0  # ... but are still measured for the curves


def test_bad_inputs_are_typed_errors():
    x = torch.zeros(2, 2)
    with pytest.raises(ShapeError):
        cycle_loss(x, torch.zeros(3, 2))
    with pytest.raises(ShapeError):
        cycle_loss([[0.0]], x)
    with pytest.raises(ShapeError):
        cycle_loss(torch.zeros(2), torch.zeros(2))  # one value per sample: no batch axis
    with pytest.raises(NonFiniteError):
        identity_loss(x, torch.full((2, 2), float("nan")))
    with pytest.raises(ConfigError):
        cycle_loss(x, x, reduction="average")
    with pytest.raises(ConfigError):
        cycle_generator_objective(torch.zeros(2), torch.zeros(2), x, x, x, x, lambda_cyc=-1.0)
    with pytest.raises(ConfigError, match="identity"):
        cycle_generator_objective(torch.zeros(2), torch.zeros(2), x, x, x, x, lambda_id=1.0)


def test_the_equations_are_registered_with_their_functions():
    assert equations.get("translate.cycle").fn is cycle_loss
    assert equations.get("translate.identity").fn is identity_loss
    assert equations.get("translate.objective").fn is cycle_generator_objective
    assert r"\lambda_{cyc}" in equations.latex("translate.objective")


# ----------------------------------------------------------------------------- the run
def test_2d_run_with_the_cycle_term_brings_points_home_and_without_it_does_not():
    from stylelab.translate.metrics import start_distance
    from stylelab.translate.run import CycleConfig, CycleRun

    def trained(lam: float) -> CycleRun:
        cfg = CycleConfig(pair="ring2grid", steps=400, lambda_cyc=lam, lambda_id=0.0, hidden=32, n_points=1000,
                          eval_samples=300, metrics_every=400)
        run = CycleRun(cfg, seed=0, device="cpu")
        while not run.done:
            run.step()
        return run

    a, b = trained(10.0), trained(0.0)
    with_cycle, without = a.history[-1], b.history[-1]
    assert with_cycle["cycle_error"] < 0.5 * without["cycle_error"]
    assert with_cycle["mode_kept"] > without["mode_kept"]
    assert with_cycle["target_distance"] < start_distance(a)  # G moved the ring towards the grid


def test_live_weights_change_and_set_up_does_not():
    from stylelab.translate.run import small_run_2d

    run = small_run_2d()
    run.update(lambda_cyc=0.0, lambda_id=2.0)
    assert (run.config.lambda_cyc, run.config.lambda_id) == (0.0, 2.0)
    run.step()
    with pytest.raises(ConfigError):
        run.update(hidden=8)
    with pytest.raises(ConfigError):
        run.update(lambda_cyc=-1.0)


def test_export_and_load_a_translator_gives_the_same_translations(tmp_path):
    from stylelab.translate.run import small_run_image
    from stylelab.translate.translator import export_translator, load_translator

    run = small_run_image()
    run.step()
    path = export_translator(run, tmp_path / "t.pt")
    torch.load(path, weights_only=True)  # plain tensors and values only
    model = load_translator(path)
    x = run.x_test[:3]
    assert torch.equal(model.translate(x), run.translate(x))
    gx, back = model.round_trip(x)
    assert torch.equal(back, run.translate(gx, "F"))
    with pytest.raises(CheckpointError):
        load_translator(run.to_bytes())  # a run state is not a translator file
    with pytest.raises(ConfigError):
        load_translator("no-such-model")


# ----------------------------------------------------------------------------- CLI
def _cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stylelab", *args], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT, env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})


def test_cli_train_dry_run_then_train_and_resume(tmp_path):
    out = tmp_path / "ring"
    dry = _cli("translate-train", "--pair", "ring2grid", "--steps", "20", "--out", str(out), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "dry run" in dry.stdout and not out.exists()
    first = _cli("translate-train", "--pair", "ring2grid", "--steps", "20", "--metrics-every", "10", "--hidden", "16",
                 "--out", str(out))
    assert first.returncode == 0, first.stderr
    assert (out / "checkpoint.pt").is_file() and (out / "record.json").is_file()
    more = _cli("translate-train", "--pair", "ring2grid", "--steps", "30", "--metrics-every", "10", "--hidden", "16",
                "--out", str(out), "--resume")
    assert more.returncode == 0, more.stderr
    assert "resumed at step 20" in more.stdout and "trained 30 steps" in more.stdout
    bad = _cli("translate-train", "--pair", "ring2grid", "--steps", "20", "--lambda-cyc", "-3", "--out", str(out))
    assert bad.returncode == 2 and bad.stderr.startswith("error:") and "lambda_cyc" in bad.stderr


def test_cli_translate_a_held_out_digit_and_a_picture_file(tmp_path):
    from PIL import Image

    out = tmp_path / "trip.png"
    done = _cli("translate", "mnist:3", "--model", "mnist2fashion", "-o", str(out), "--strip")
    assert done.returncode == 0, done.stderr
    im = Image.open(out)
    assert im.size == (3 * 28 * 4, 28 * 4)  # x | G(x) | F(G(x)), 4x
    src = tmp_path / "digit.png"
    Image.fromarray(np.full((40, 40), 255, dtype=np.uint8)).save(src)
    done = _cli("translate", str(src), "--invert", "--scale", "1", "-o", str(tmp_path / "g.png"))
    assert done.returncode == 0, done.stderr
    assert Image.open(tmp_path / "g.png").size == (28, 28)
    bad = _cli("translate", "mnist:3", "--model", "nope", "-o", str(out))
    assert bad.returncode == 2 and "mnist2fashion" in bad.stderr


# ----------------------------------------------------------------------------- the shipped translators
@pytest.mark.parametrize("name", ["mnist2fashion", "mnist2fashion-nocycle"])
def test_shipped_translator_loads_weights_only_and_translates_a_digit(name):
    from stylelab.translate.metrics import held_out
    from stylelab.translate.translator import load_translator, shipped_path

    path = shipped_path(name)
    assert path.stat().st_size <= 3.2e6
    blob = torch.load(path, weights_only=True)
    assert blob["format"] == "stylelab.translate.translator/1"
    card = path.with_suffix(".md")
    assert card.is_file() and "held-out" in card.read_text() and str(blob["steps"]) in card.read_text()
    model = load_translator(name)
    digit = held_out()[0][-1:]  # a held-out nine (classes interleaved: 0, 1, ..., 9, 0, ...)
    gx, back = model.round_trip(digit)
    assert gx.shape == back.shape == (1, 1, 28, 28)
    assert float(gx.min()) >= -1 and float(gx.max()) <= 1 and not torch.equal(gx, digit)


def test_the_cycle_term_is_what_keeps_the_digit():
    from stylelab.translate.translator import load_translator

    with_cycle, without = load_translator("mnist2fashion"), load_translator("mnist2fashion-nocycle")
    assert with_cycle.config["lambda_cyc"] > 0 and without.config["lambda_cyc"] == 0
    # both make clothes; only the cycle-trained pair brings the digit back (held-out measures in the file)
    assert with_cycle.measures["clothing_rate"] > 0.5 and without.measures["clothing_rate"] > 0.5
    assert with_cycle.measures["digit_kept"] > without.measures["digit_kept"] + 0.2


def test_held_out_split_is_balanced_interleaved_and_never_trained_on():
    from stylelab.translate.metrics import held_out_index, held_out_mask
    from stylelab.translate.run import small_run_image

    labels = torch.tensor([0] * 7 + [1] * 5 + [2] * 6 + [3] * 5 + [4] * 5 + [5] * 5 + [6] * 5 + [7] * 5 + [8] * 5 + [9] * 9)
    idx = held_out_index(labels, 20)
    assert labels[idx].tolist() == list(range(10)) * 2  # one of each class, then the next of each
    assert idx[:10].tolist()[0] == 5 and idx[10:].tolist()[0] == 6  # the LAST two zeros (5, 6)
    assert int(held_out_mask(labels, 20).sum()) == 20
    with pytest.raises(ConfigError):
        held_out_index(labels, 25)  # not a multiple of 10
    with pytest.raises(ConfigError):
        held_out_index(labels, 70)  # class 1 has only 5
    run = small_run_image()
    assert torch.bincount(run.x_test_labels).tolist() == [5] * 10
    assert run.x_train.shape[0] + run.x_test.shape[0] == 5000
    flat = run.x_train.flatten(1)
    for img in run.x_test[:5]:  # held-out digits are not among the training ones
        assert not (flat == img.flatten()).all(1).any()
