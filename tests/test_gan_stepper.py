"""GAN step mode: one sub-step per call, the parameters move only on "update", an iteration is D step + G step
and equals the 2-D run's own step bit for bit, each sub-step's quantity matches a formula written here by
hand, resume mid-step, and the GAN Lab page's step buttons (AppTest)."""

from __future__ import annotations

import dataclasses
import io
import math
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from stylelab import equations
from stylelab.errors import CheckpointError, ConfigError
from stylelab.gan.custom import SMILE, custom_run
from stylelab.gan.stepper import SUBSTEPS, GANStepper, StepConfig, copy_of, step_mode
from stylelab.gan.train import GANConfig, GANTrainer

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "pages" / "3_GAN_Lab.py")


def _cfg(**kw) -> GANConfig:
    base = dict(data="ring", n_points=256, hidden=16, batch_size=32, metrics_every=0, eval_samples=64, seed=3)
    return GANConfig(**{**base, **kw})


def _stepper(**kw) -> GANStepper:
    return GANStepper(StepConfig(gan=_cfg(**kw)))


def _weights(tr: GANTrainer) -> list[torch.Tensor]:
    return [t.detach().clone() for t in [*tr.G.state_dict().values(), *tr.D.state_dict().values()]]


def _opt_tensors(opt: torch.optim.Optimizer) -> list[torch.Tensor]:
    return [v.clone() for s in opt.state.values() for v in s.values() if torch.is_tensor(v)]


def _same_run(a: GANTrainer, b: GANTrainer) -> bool:
    return (all(torch.equal(x, y) for x, y in zip(_weights(a), _weights(b)))
            and all(torch.equal(x, y) for x, y in zip(_opt_tensors(a.opt_d), _opt_tensors(b.opt_d)))
            and all(torch.equal(x, y) for x, y in zip(_opt_tensors(a.opt_g), _opt_tensors(b.opt_g)))
            and torch.equal(a.gen.get_state(), b.gen.get_state()) and a.history == b.history
            and a.step_count == b.step_count)


# ----------------------------------------------------------------------------- one sub-step per call
def test_each_call_is_exactly_one_substep_and_only_update_moves_parameters():
    s = _stepper(d_steps=2)
    tr = s.trainer
    expected = [("D", 1, n) for n in SUBSTEPS] + [("D", 2, n) for n in SUBSTEPS] + [("G", 0, n) for n in SUBSTEPS]
    for i, (phase, k, name) in enumerate(expected * 2):
        g_before, d_before = ([p.detach().clone() for p in m.parameters()] for m in (tr.G, tr.D))
        row = s.step()
        assert s.step_count == i + 1 == row["step"] and len(s.history) == i + 1
        assert (row["phase"], row["k"], row["substep"]) == (phase, k, name) == (s.current.phase, s.current.k, s.current.name)
        g_moved = any(not torch.equal(p, q) for p, q in zip(tr.G.parameters(), g_before))
        d_moved = any(not torch.equal(p, q) for p, q in zip(tr.D.parameters(), d_before))
        assert g_moved == (name == "update" and phase == "G"), (phase, k, name)
        assert d_moved == (name == "update" and phase == "D"), (phase, k, name)
        assert tr.step_count == (i + 1) // 15  # the trainer counts whole iterations
    assert s.iterations_done == 2 and s.at_boundary


def test_buttons_follow_the_trainers_schedule():
    s = _stepper()
    with pytest.raises(ConfigError, match="after this iteration's D step"):
        s.g_step()  # G reuses the last D step's codes z
    assert s.step_count == 0
    assert len(s.d_step()) == 5 and s.next_phase == "G"
    with pytest.raises(ConfigError, match="G step comes next"):
        s.d_step()
    s.substep()  # into the G step: Iteration finishes it
    assert len(s.iteration()) == 4 and s.at_boundary and s.trainer.step_count == 1


@pytest.mark.parametrize("d_steps", [1, 3])
def test_an_iteration_is_d_steps_then_the_g_step(d_steps):
    a, b = _stepper(d_steps=d_steps), _stepper(d_steps=d_steps)
    for _ in range(2):
        rows = [r for _ in range(d_steps) for r in a.d_step()] + a.g_step()
        assert [r["substep"] for r in rows] == list(SUBSTEPS) * (d_steps + 1)
        b.iteration()
    assert _same_run(a.trainer, b.trainer) and a.history == b.history


@pytest.mark.parametrize("changes", [
    {}, {"loss": "minimax"}, {"loss": "lsgan", "label_smoothing": 0.1}, {"loss": "hinge"}, {"loss": "wgan-gp"},
    {"d_steps": 2, "instance_noise": 0.2, "instance_noise_decay": 10}, {"optimizer": "sgd"}, {"optimizer": "rmsprop"},
    {"metrics_every": 2, "latent_dim": 4, "depth": 3},
], ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "ns")
def test_an_iteration_equals_the_2d_runs_own_step_bit_for_bit(changes):
    own = GANTrainer(_cfg(**changes))
    s = _stepper(**changes)
    for _ in range(4):
        own.step()
        s.iteration()
        assert _same_run(own, s.trainer)
    if changes.get("metrics_every"):
        assert "energy_distance" in s.trainer.history[-1] and s.trainer.history[-1] == own.history[-1]


def test_step_mode_on_a_copy_leaves_the_original_run_alone():
    base = GANTrainer(_cfg())
    base.step()
    before = _weights(base)
    s = step_mode(copy_of(base))
    s.iteration()
    assert all(torch.equal(x, y) for x, y in zip(before, _weights(base))) and base.step_count == 1
    base.step()
    assert _same_run(base, s.trainer)  # the copy went on exactly as the original does


def test_step_mode_drives_the_run_it_is_given():
    run = GANTrainer(_cfg())
    s = step_mode(run)
    s.iteration()
    assert s.trainer is run and run.step_count == 1 and len(run.history) == 1
    with pytest.raises(ConfigError, match="another config"):
        GANStepper(StepConfig(gan=_cfg(hidden=32)), trainer=run)


# ----------------------------------------------------------------------------- the quantities, by hand
def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)


def test_d_step_quantities_match_formulas_written_by_hand():
    s = _stepper()
    tr = s.trainer
    d0 = GANTrainer(_cfg()).D  # D before its update (same seed: same initial weights)
    sub = {}
    for name in SUBSTEPS:
        if name == "update":
            grads = [p.grad.detach().clone() for p in tr.D.parameters()]
        s.step()
        sub[name] = dataclasses.replace(s.current)
    cur = sub["update"]
    with torch.no_grad():
        d_r = d0(cur.real).double().numpy()
        d_f = d0(cur.fake).double().numpy()
    np.testing.assert_allclose(cur.d_real.numpy(), _sigmoid(d_r), rtol=1e-5)  # ns: D(x) = sigmoid(d)
    np.testing.assert_allclose(cur.d_fake.numpy(), _sigmoid(d_f), rtol=1e-5)
    loss = _softplus(-d_r).mean() + _softplus(d_f).mean()  # -E log D(x) - E log(1 - D(G(z)))
    assert cur.loss == pytest.approx(loss, rel=1e-5)
    # pi_i = -B dL_D/dd_i: sigmoid(-d_r) on the real scores (raise them), -sigmoid(d_f) on the fakes
    np.testing.assert_allclose(cur.push.numpy(), np.concatenate([_sigmoid(-d_r), -_sigmoid(d_f)]), rtol=1e-4, atol=1e-6)
    assert cur.grad_norm == pytest.approx(math.sqrt(sum(float((g.double() ** 2).sum()) for g in grads)), rel=1e-9)
    # Adam's first step: m_hat = g, v_hat = g^2, so Delta theta = -lr g / (|g| + eps)
    lr, eps = tr.config.lr_d_value, 1e-8
    step = [lr * g.double() / (g.double().abs() + eps) for g in grads]
    assert cur.update_norm == pytest.approx(math.sqrt(sum(float((d ** 2).sum()) for d in step)), rel=1e-4)
    with torch.no_grad():
        after = torch.sigmoid(tr.D(torch.cat([cur.real, cur.fake]))).numpy()
    np.testing.assert_allclose(cur.d_after.numpy(), after, rtol=1e-5)
    assert cur.equations == ("gan.step_update_adam",) and sub["loss"].equations == ("loss.d_ns",)


def test_g_step_arrows_and_sgd_update_match_formulas_written_by_hand():
    s = _stepper(optimizer="sgd")
    tr = s.trainer
    s.d_step()
    for _ in SUBSTEPS[:-1]:
        s.step()
    cur = s.current
    fake = cur.fake.clone().requires_grad_(True)
    d = tr.D(fake)  # the updated D, as the G step uses it
    (grad_d,) = torch.autograd.grad(d.sum(), fake)  # grad_x d(x) at each fake
    d = d.detach().double().numpy()
    # ns: l_G(d) = softplus(-d), so a_i = -l_G'(d_i) grad_x d = sigmoid(-d_i) grad_x d(x_i)
    np.testing.assert_allclose(cur.arrows.numpy(), _sigmoid(-d)[:, None] * grad_d.double().numpy(), rtol=1e-4, atol=1e-7)
    assert cur.loss == pytest.approx(_softplus(-d).mean(), rel=1e-5)
    grads = [p.grad.detach().clone() for p in tr.G.parameters()]
    z = s._last_d["z"]  # the codes of the last D step
    s.step()  # update: SGD's first step with momentum is theta <- theta - lr g (its buffer starts at g)
    lr = tr.config.lr_g_value
    # (to float32 rounding of theta - lr g: each weight moves by ~1e-6 in steps of its own ulp)
    assert s.current.update_norm == pytest.approx(lr * math.sqrt(sum(float((g.double() ** 2).sum()) for g in grads)), rel=2e-3)
    with torch.no_grad():
        np.testing.assert_array_equal(s.current.moved.numpy(), tr.G(z).numpy())  # the same z through the new G
    assert s.current.equations == ("gan.step_update_sgd",) and s.at_boundary


def test_every_substep_names_equations_that_exist():
    for changes in ({}, {"loss": "wgan-gp", "instance_noise": 0.1}, {"label_smoothing": 0.1, "optimizer": "rmsprop"}):
        s = _stepper(**changes)
        seen = set()
        for _ in range(10):
            s.step()
            assert s.current.equations, s.current.label
            seen.update(s.current.equations)
        for name in seen:
            assert equations.get(name).latex
        assert "gan.step_sample" in seen and "gan.step_grad_g" in seen


# ----------------------------------------------------------------------------- resume, records, settings
@pytest.mark.parametrize("at", [1, 2, 3, 4, 5, 7, 9, 12])
def test_resume_mid_step_equals_continuous(at):
    changes = {"loss": "wgan-gp", "instance_noise": 0.1, "d_steps": 2}  # every random draw of a step
    a, b = _stepper(**changes), _stepper(**changes)
    for _ in range(at):
        a.step()
    buf = io.BytesIO()
    torch.save(a.state_dict(), buf)
    b.load_state_dict(torch.load(io.BytesIO(buf.getvalue()), weights_only=True))
    assert b.position() == a.position() and b.history == a.history
    for _ in range(31 - at):
        a.step()
        b.step()
    assert a.history == b.history and _same_run(a.trainer, b.trainer)


def test_a_state_of_other_settings_is_refused():
    a = _stepper()
    a.step()
    with pytest.raises(CheckpointError):
        _stepper(hidden=32).load_state_dict(a.state_dict())
    with pytest.raises(CheckpointError):
        GANStepper(StepConfig(gan=_cfg(), iterations=5)).load_state_dict(a.state_dict())


def test_live_settings_and_bad_configs():
    s = _stepper()
    s.update(pace_s=0.5, loss="hinge")
    assert s.config.pace_s == 0.5 and s.trainer.config.loss == "hinge" == s.config.gan.loss
    with pytest.raises(ConfigError):
        s.update(n_points=500)
    for bad in (dict(pace_s=-1.0), dict(pace_s=float("nan")), dict(pace_s=60.0), dict(iterations=-1)):
        with pytest.raises(ConfigError):
            StepConfig(gan=_cfg(), **bad)
    with pytest.raises(ConfigError, match="2-D"):
        StepConfig(gan=GANConfig(data="digits8"))


def test_slow_motion_waits_while_playing_not_for_the_buttons():
    s = GANStepper(StepConfig(gan=_cfg(), pace_s=0.25))
    t0 = time.perf_counter()
    s.iteration()  # a button: ten sub-steps at full speed
    assert time.perf_counter() - t0 < 10 * 0.25
    t0 = time.perf_counter()
    s.step()  # the live driver's step: one sub-step, then the pause
    assert time.perf_counter() - t0 >= 0.25
    assert s.trainer.seconds < s.seconds  # the GAN's own time leaves the pauses out


def test_play_until_a_number_of_iterations():
    s = _stepper()
    s.play_until(2)
    assert s.total_steps == 20
    while not s.done:
        s.step()
    assert s.iterations_done == 2 and s.step_count == 20
    s.substep()  # a button after a finished "train N" steps on
    assert s.step_count == 21


def test_step_mode_on_your_own_points():
    s = step_mode(custom_run(torch.tensor(SMILE), n_points=256, hidden=16, batch_size=32, metrics_every=0))
    s.iteration()
    assert s.trainer.kind == "gan-custom" and torch.equal(s.inputs()["points"], torch.tensor(SMILE, dtype=torch.float32))
    again = GANStepper.from_record(s.record(), **s.inputs())
    again.iteration()
    assert again.history == s.history and again.trainer.history == s.trainer.history


# ----------------------------------------------------------------------------- the page (AppTest)
@pytest.fixture()
def _live_inline(monkeypatch):
    monkeypatch.setenv("STYLELAB_LIVE", "inline")


def test_gan_page_step_buttons(_live_inline):
    pytest.importorskip("streamlit")
    from pagecheck import assert_clean
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert_clean(at)
    page_run = at.session_state["gan_run"]
    at.button(key="gan_steps_new").click().run()
    assert_clean(at)
    s = at.session_state["gan_steps_run"]
    assert s.trainer is not page_run and s.trainer.config == page_run.config
    assert at.button(key="gan_steps_g").disabled and not at.button(key="gan_steps_d").disabled
    at.button(key="gan_steps_sub").click().run()
    assert_clean(at)
    assert s.step_count == 1 and s.current.name == "sample"
    assert any(lx.value.strip("$\n") == equations.latex("gan.step_sample") for lx in at.latex)
    at.button(key="gan_steps_sub").click().run()
    assert s.current.name == "scores" and any(lx.value.strip("$\n") == equations.latex("gan.step_scores") for lx in at.latex)
    at.button(key="gan_steps_d").click().run()
    assert_clean(at)
    assert s.current.name == "update" and s.next_phase == "G" and at.button(key="gan_steps_d").disabled
    assert any(lx.value.strip("$\n") == equations.latex("gan.step_update_adam") for lx in at.latex)
    at.button(key="gan_steps_g").click().run()
    assert s.trainer.step_count == 1 and s.at_boundary
    at.button(key="gan_steps_it").click().run()
    assert_clean(at)
    assert s.trainer.step_count == 2 and s.step_count == 20
    assert page_run.step_count == 0  # the page's own run was copied, never stepped
    assert any("iteration 3" in c.value for c in at.caption)
    # slow motion through the live driver: one sub-step per script run
    at.button(key="gan_steps_play").click().run()
    assert at.session_state["gan_steps_running"] and s.config.pace_s == 0.6
    n = s.step_count
    at.run()
    assert s.step_count == n + 1
    at.button(key="gan_steps_stop").click().run()
    assert not at.session_state["gan_steps_running"]
    assert_clean(at)


def test_gan_page_step_mode_on_the_scheduler(monkeypatch):
    """The default path of the class server: a worker plays the stepper; the buttons step it between two of its steps."""
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    from stylelab.serve import Limits, Scheduler
    from stylelab.ui import live, session

    monkeypatch.setenv(live.MODE_ENV, "scheduler")
    sched = Scheduler(Limits(workers=1, max_sessions=4, max_heavy_runs=2, slice_s=0.05, quantum_s=0.05))
    monkeypatch.setattr(session, "scheduler", lambda: sched)
    try:
        at = AppTest.from_file(PAGE, default_timeout=180).run()
        at.button(key="gan_steps_new").click().run()
        assert not at.exception
        at.button(key="gan_steps_sub").click().run()
        at.button(key="gan_steps_it").click().run()
        h = sched.get_run(at.session_state[session._STATE], at.session_state["gan_steps_handle"])
        s = h.instance()
        assert s.step_count == 10 and s.trainer.step_count == 1 and s.current.name == "update"
        at.selectbox(key="gan_steps_n").set_value(50).run()
        at.button(key="gan_steps_train").click().run()
        assert live.wait_for("gan_steps", s.step_count + 500, timeout=120, state=at.session_state) >= 510
        deadline = time.time() + 60
        while s.iterations_done < 51 and time.time() < deadline:
            time.sleep(0.1)
        at.run()
        assert not at.exception and s.iterations_done == 51 and s.trainer.step_count == 51
        assert any("52 · D step 1 of 1" in c.value or "iteration 52" in c.value for c in at.caption)
    finally:
        sched.shutdown()
