r"""Two GAN runs that differ only in their loss: the experiment behind "why minimax stalls".

Same data, seed, models and optimisers; only the loss changes. In the regime the lesson is about,
the discriminator wins early (a higher D learning rate and several D steps per G step): it
rejects the first fakes confidently, :math:`D(G(z)) \approx 0`. There the saturating minimax
loss gives G almost no gradient, because with :math:`D = \sigma(l)`

.. math::

    \frac{\partial}{\partial l}\log\big(1 - \sigma(l)\big) = -\sigma(l) \to 0,
    \qquad
    \frac{\partial}{\partial l}\big(-\log\sigma(l)\big) = -\big(1 - \sigma(l)\big) \to -1,

while the non-saturating loss keeps a full-size gradient at the same point. The stall measure is
the mean per-sample norm :math:`\|\nabla_x \mathcal{L}_G\|` at generated samples
(:func:`stylelab.gan.viz.generator_gradient_norm`), logged along each run, plus how far G's
samples travelled from where they started.

No UI code: the GAN Lab page calls :func:`compare_losses` with a progress callback.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from ..errors import ConfigError
from .train import GANConfig, GANTrainer
from .viz import generator_gradient_norm

#: The regime where the saturating loss visibly stalls: D learns 10x faster than G and takes
#: 5 steps per G step, so it rejects the early fakes confidently. Measured on the ring, seed 0
#: (tests/test_gan_compare.py): minimax's gradient at the fakes falls to ~1e-6 while the
#: non-saturating one stays ~1-20, and only the non-saturating G moves its samples.
STALL_SETTINGS = {"lr_g": 1e-4, "lr_d": 1e-2, "d_steps": 5}
DEFAULT_STEPS = 600


@dataclass
class ComparisonRun:
    """One arm of the comparison: its trainer and the stall measures logged along the way.

    ``grad_norms``: ``(step, mean ||grad_x L_G||)`` pairs; ``travel``: ``(step, mean distance of
    the fixed-noise samples from where they started)`` pairs.
    """

    name: str
    trainer: GANTrainer
    grad_norms: list[tuple[int, float]] = field(default_factory=list)
    travel: list[tuple[int, float]] = field(default_factory=list)

    @property
    def mean_grad_norm(self) -> float:
        """Mean of the logged gradient norms after the first measurement (step 0 is the same for all)."""
        values = [g for s, g in self.grad_norms if s > 0]
        return float(sum(values) / len(values)) if values else float("nan")

    @property
    def final_travel(self) -> float:
        return self.travel[-1][1] if self.travel else 0.0


def comparison_config(base: GANConfig, loss: str, lr_g: float | None = None, lr_d: float | None = None,
                      d_steps: int | None = None) -> GANConfig:
    """``base`` with another loss (and optionally other learning rates / D steps); live-only fields kept valid."""
    changes: dict = {"loss": loss}
    if lr_g is not None:
        changes["lr_g"] = lr_g
    if lr_d is not None:
        changes["lr_d"] = lr_d
    if d_steps is not None:
        changes["d_steps"] = int(d_steps)
    if loss in ("hinge", "wgan-gp"):
        changes["label_smoothing"] = 0.0  # smoothing is defined for minimax, ns and lsgan only
    return dataclasses.replace(base, **changes)  # validates


def _fixed_samples(trainer: GANTrainer, n: int, seed: int) -> torch.Tensor:
    with torch.no_grad():
        return trainer.sample(n, seed=seed).detach().float().flatten(1)  # (n, D)


def _measure(arm: ComparisonRun, start: torch.Tensor, probe: int, seed: int) -> None:
    """Log the gradient norm at the fixed-noise samples and how far they moved from ``start``."""
    t = arm.trainer
    arm.grad_norms.append((t.step_count, generator_gradient_norm(t, n=probe, seed=seed)))
    arm.travel.append((t.step_count, float((_fixed_samples(t, probe, seed) - start).norm(dim=1).mean())))


def compare_losses(
    base: GANConfig,
    losses: Sequence[str] = ("minimax", "ns"),
    steps: int = DEFAULT_STEPS,
    lr_g: float | None = STALL_SETTINGS["lr_g"],
    lr_d: float | None = STALL_SETTINGS["lr_d"],
    d_steps: int | None = STALL_SETTINGS["d_steps"],
    measures: int = 10,
    probe: int = 128,
    progress: Callable[[float, str], None] | None = None,
) -> dict[str, ComparisonRun]:
    """Train one run per loss from the same config and seed; log the stall measures ``measures`` times.

    Args:
        base: the set-up to share (data, models, seed...); its loss and, unless None, learning
            rates and D steps are replaced.
        losses: the losses to compare (a loss given twice gets ``" (A)"``/``" (B)"`` suffixes).
        steps: G steps per run.
        probe: samples at which the gradient norm and the travel are measured (fixed noise).
        progress: ``progress(fraction_done, text)`` after every chunk.

    Returns:
        ``{label: ComparisonRun}`` in the order of ``losses``.

    Raises:
        ConfigError: ``steps`` < 1 or a bad loss / setting (from :class:`GANConfig`).
    """
    if steps < 1:
        raise ConfigError(f"A comparison needs at least one step, got {steps}.")
    if not losses:
        raise ConfigError("Name at least one loss to compare.")
    out: dict[str, ComparisonRun] = {}
    chunk = max(1, math.ceil(steps / max(1, measures)))
    for i, name in enumerate(losses):
        label = name if list(losses).count(name) == 1 else f"{name} ({'ABCDEFGH'[i % 8]})"
        cfg = comparison_config(base, name, lr_g=lr_g, lr_d=lr_d, d_steps=d_steps)
        trainer = GANTrainer(cfg)
        arm = ComparisonRun(label, trainer)
        seed = cfg.seed + 9
        start = _fixed_samples(trainer, probe, seed)

        _measure(arm, start, probe, seed)
        while trainer.step_count < steps:
            trainer.train(min(chunk, steps - trainer.step_count))
            _measure(arm, start, probe, seed)
            if progress is not None:
                progress((i + trainer.step_count / steps) / len(losses), f"run {i + 1} ({name}): step {trainer.step_count}")
        out[label] = arm
    return out
