"""stylelab.gan.compare: in the default regime (D wins early) the saturating minimax loss visibly stalls."""

from __future__ import annotations

import math

import pytest

from stylelab.errors import ConfigError
from stylelab.gan.compare import STALL_SETTINGS, compare_losses, comparison_config
from stylelab.gan.train import GANConfig


@pytest.fixture(scope="module")
def ring_comparison():
    # the page's defaults (ring, seed 0, STALL_SETTINGS), fewer steps: the stall sets in within ~100 steps
    return compare_losses(GANConfig(data="ring", seed=0, metrics_every=0), ("minimax", "ns"), steps=300, measures=3)


def test_minimax_gradient_vanishes_while_non_saturating_keeps_pushing(ring_comparison):
    mm, ns = ring_comparison["minimax"], ring_comparison["ns"]
    # same G and D at step 0, where D ~ 1/2: the two gradients differ only by the factor D / (1 - D) ~ 1
    assert mm.grad_norms[0][1] == pytest.approx(ns.grad_norms[0][1], rel=0.1)
    # after the first chunk D rejects the fakes; minimax's push at the samples is orders of magnitude weaker
    assert mm.mean_grad_norm * 1e3 < ns.mean_grad_norm, (mm.grad_norms, ns.grad_norms)
    assert mm.trainer.history[-1]["d_fake"] < 0.01  # D(G(z)) ~ 0: the saturated regime


def test_only_the_non_saturating_generator_moves(ring_comparison):
    mm, ns = ring_comparison["minimax"], ring_comparison["ns"]
    assert ns.final_travel > 1.0  # the ring has radius ~2: ns's samples travel out to it
    assert mm.final_travel < 0.2 * ns.final_travel
    assert ns.trainer.evaluate()["high_quality"] > mm.trainer.evaluate()["high_quality"]  # ns's samples sit on modes


def test_the_same_seed_gives_the_same_comparison(ring_comparison):
    again = compare_losses(GANConfig(data="ring", seed=0, metrics_every=0), ("minimax",), steps=100, measures=1)
    first = ring_comparison["minimax"].trainer.history[:100]
    assert [r["loss_g"] for r in again["minimax"].trainer.history] == [r["loss_g"] for r in first]


def test_config_and_bad_input():
    cfg = comparison_config(GANConfig(label_smoothing=0.1), "hinge", **STALL_SETTINGS)
    assert cfg.loss == "hinge" and cfg.label_smoothing == 0.0 and cfg.lr_d == STALL_SETTINGS["lr_d"] and cfg.d_steps == 5
    with pytest.raises(ConfigError):
        compare_losses(GANConfig(), steps=0)
    with pytest.raises(ConfigError):
        compare_losses(GANConfig(), ("nope",), steps=1)
    twice = compare_losses(GANConfig(metrics_every=0), ("ns", "ns"), steps=2, measures=1)
    assert list(twice) == ["ns (A)", "ns (B)"] and all(not math.isnan(a.mean_grad_norm) for a in twice.values())


def test_the_comparison_is_a_run_whose_rows_are_the_measures():
    from stylelab.gan.compare import CompareConfig, LossComparison
    from stylelab.run import run_to_end

    cfg = CompareConfig(base=GANConfig(data="ring", seed=0, metrics_every=0), steps=20, measures=4, probe=32)
    run = LossComparison(cfg)
    assert run.kind == "gan-compare" and run.total_steps == 4 and cfg.chunk == 5
    assert run_to_end(run) and run.done
    last = run.history[-1]
    assert last["minimax/step"] == last["ns/step"] == 20
    for label, arm in run.arms.items():
        assert [r[f"{label}/grad_norm"] for r in run.history] == [g for _, g in arm.grad_norms[1:]]
        assert [r[f"{label}/travel"] for r in run.history] == [d for _, d in arm.travel[1:]]
    # the one-call helper is the same run played to the end
    again = compare_losses(cfg.base, steps=20, measures=4, probe=32)
    assert [g for _, g in again["ns"].grad_norms] == [g for _, g in run.arms["ns"].grad_norms]
    pic = run.preview()
    assert pic.shape[0] == 3 and pic.shape[2] > pic.shape[1]  # the arms side by side
    with pytest.raises(ConfigError):
        CompareConfig(losses=())
    with pytest.raises(ConfigError):
        CompareConfig(probe=2)
