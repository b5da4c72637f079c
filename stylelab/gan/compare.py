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

No UI code: the comparison is a :class:`stylelab.run.Run` (kind ``"gan-compare"``,
:class:`LossComparison`); each step advances every arm one chunk and logs the stall measures, so
the GAN Lab page plays it with :func:`stylelab.ui.live.live_run`; :func:`compare_losses` runs it
to the end in one call.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from ..errors import ConfigError, RecordError
from ..run import Run, as_record, config_from_record, run_to_end
from .objectives import SMOOTHING_OK, loss_spec
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
    if loss not in SMOOTHING_OK:
        changes["label_smoothing"] = 0.0  # smoothing is defined for minimax, ns and lsgan only
    changes["steps"] = 0  # the comparison says how long each arm runs
    return dataclasses.replace(base, **changes)  # validates


def _fixed_samples(trainer: GANTrainer, n: int, seed: int) -> torch.Tensor:
    with torch.no_grad():
        return trainer.sample(n, seed=seed).detach().float().flatten(1)  # (n, D)


def _measure(arm: ComparisonRun, start: torch.Tensor, probe: int, seed: int) -> None:
    """Log the gradient norm at the fixed-noise samples and how far they moved from ``start``."""
    t = arm.trainer
    arm.grad_norms.append((t.step_count, generator_gradient_norm(t, n=probe, seed=seed)))
    arm.travel.append((t.step_count, float((_fixed_samples(t, probe, seed) - start).norm(dim=1).mean())))


@dataclass
class CompareConfig:
    """A loss comparison: the shared set-up ``base`` and what differs.

    Attributes:
        base: the GAN set-up every arm shares (data, models, seed...); its loss and, unless None,
            learning rates and D steps are replaced per arm (:func:`comparison_config`).
        losses: the losses to compare, one arm each (a loss given twice gets ``" (A)"``/``" (B)"``).
        steps: G steps per arm.
        lr_g, lr_d, d_steps: the regime (default :data:`STALL_SETTINGS`: D wins early).
        measures: how many times the stall measures are logged (one run step per measure).
        probe: fixed-noise samples at which the gradient norm and the travel are measured.
    """

    base: GANConfig = field(default_factory=GANConfig)
    losses: tuple[str, ...] = ("minimax", "ns")
    steps: int = DEFAULT_STEPS
    lr_g: float | None = STALL_SETTINGS["lr_g"]
    lr_d: float | None = STALL_SETTINGS["lr_d"]
    d_steps: int | None = STALL_SETTINGS["d_steps"]
    measures: int = 10
    probe: int = 128

    def __post_init__(self) -> None:
        if isinstance(self.base, Mapping):  # from a record or a state: the nested set-up as a dict
            names = {f.name for f in dataclasses.fields(GANConfig)}
            unknown = sorted(set(self.base) - names - {"kind"})
            if unknown:
                raise ConfigError(f"The comparison's set-up has fields {unknown} that GANConfig does not know.")
            self.base = GANConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in self.base.items() if k != "kind"})
        if isinstance(self.losses, str):
            self.losses = (self.losses,)
        self.losses = tuple(self.losses)
        self.validate()

    def validate(self) -> None:
        """Raise :class:`ConfigError` for a value out of range (never clamped)."""
        if not isinstance(self.base, GANConfig):
            raise ConfigError("A loss comparison needs a GANConfig as its set-up.")
        self.base.validate()
        if not self.losses:
            raise ConfigError("Name at least one loss to compare.")
        if len(self.losses) > 8:
            raise ConfigError(f"Compare at most 8 losses at once, got {len(self.losses)}.")
        for name in self.losses:
            if not isinstance(name, str):
                raise ConfigError(f"A loss is named by a string, got {name!r}.")
            loss_spec(name)
        for name, lo, hi, optional in (("steps", 1, 1_000_000, False), ("measures", 1, 1000, False),
                                       ("probe", 8, 10_000, False), ("d_steps", 1, 20, True)):
            v = getattr(self, name)
            if v is None and optional:
                continue
            if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
                if name == "steps" and isinstance(v, int) and not isinstance(v, bool) and v < 1:
                    raise ConfigError(f"A comparison needs at least one step, got {v}.")
                raise ConfigError(f"{name} must be an integer in [{lo}, {hi}], got {v!r}.")
        for name in ("lr_g", "lr_d"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 < v <= 1):
                raise ConfigError(f"{name} must be in (0, 1], got {v!r}.")

    @property
    def chunk(self) -> int:
        """G steps per arm between two measures: ``ceil(steps / measures)``."""
        return max(1, math.ceil(self.steps / self.measures))

    def labels(self) -> list[str]:
        """One label per arm: the loss, with ``" (A)"``, ``" (B)"``... when a loss is given twice."""
        names = list(self.losses)
        return [n if names.count(n) == 1 else f"{n} ({'ABCDEFGH'[i % 8]})" for i, n in enumerate(names)]


class LossComparison(Run):
    r"""Train one GAN per loss from the same set-up and seed, a chunk of each per step (kind ``"gan-compare"``).

    Each step trains every arm :attr:`CompareConfig.chunk` more G steps, then logs for each arm
    the mean per-sample norm :math:`\|\nabla_x \mathcal{L}_G\|` at ``probe`` fixed-noise samples and
    how far those samples moved from where they started. The row holds, per arm label ``L``:
    ``L/step``, ``L/d_fake`` (the last D(G(z))), ``L/grad_norm`` and ``L/travel``.

    Attributes:
        arms: ``{label: ComparisonRun}`` in the order of ``config.losses``.
    """

    kind = "gan-compare"
    lab = "gan"
    config_class = CompareConfig

    def __init__(self, config: CompareConfig, *, seed: int | None = None, device: Any = None) -> None:
        if not isinstance(config, CompareConfig):
            raise ConfigError("LossComparison needs a CompareConfig.")
        config.validate()
        if seed is not None and seed != config.base.seed:
            raise ConfigError(f"A comparison's seed lives in its set-up (seed={config.base.seed}); got seed={seed!r}.")
        super().__init__(config, seed=config.base.seed, device=device if device is not None else config.base.device)
        self.arms: dict[str, ComparisonRun] = {}
        self._start: dict[str, torch.Tensor] = {}
        self.probe_seed = config.base.seed + 9
        for label, loss in zip(config.labels(), config.losses):
            cfg = comparison_config(config.base, loss, lr_g=config.lr_g, lr_d=config.lr_d, d_steps=config.d_steps)
            trainer = GANTrainer(cfg, device=self.device)
            arm = ComparisonRun(label, trainer)
            self._start[label] = _fixed_samples(trainer, config.probe, self.probe_seed)
            _measure(arm, self._start[label], config.probe, self.probe_seed)  # step 0: the same G and D for all
            self.arms[label] = arm

    @property
    def total_steps(self) -> int:  # type: ignore[override]
        """Measures to take: ``ceil(steps / chunk)``."""
        return math.ceil(self.config.steps / self.config.chunk)

    def _step(self) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for label, arm in self.arms.items():
            t = arm.trainer
            t.train(min(self.config.chunk, self.config.steps - t.step_count))
            _measure(arm, self._start[label], self.config.probe, self.probe_seed)
            row.update({f"{label}/step": t.step_count, f"{label}/d_fake": t.history[-1]["d_fake"],
                        f"{label}/grad_norm": arm.grad_norms[-1][1], f"{label}/travel": arm.travel[-1][1]})
        return row

    def preview(self) -> torch.Tensor:
        """The arms' previews side by side, ``(3, H, sum W + gaps)`` in [0, 1] (white gaps)."""
        pics = [arm.trainer.preview() for arm in self.arms.values()]
        h = max(p.shape[1] for p in pics)
        gap = torch.ones(3, h, 4)
        padded = [torch.nn.functional.pad(p, (0, 0, 0, h - p.shape[1]), value=1.0) for p in pics]
        out = [padded[0]]
        for p in padded[1:]:
            out += [gap, p]
        return torch.cat(out, dim=2)

    def summary(self) -> dict[str, Any]:
        """Per arm: G steps, mean gradient norm after step 0, and how far the samples travelled."""
        out: dict[str, Any] = {"steps": self.step_count}
        for label, arm in self.arms.items():
            out.update({f"{label}/g_steps": arm.trainer.step_count, f"{label}/mean_grad_norm": arm.mean_grad_norm,
                        f"{label}/final_travel": arm.final_travel})
        return {k: v for k, v in out.items() if not (isinstance(v, float) and not math.isfinite(v))}

    @classmethod
    def from_record(cls, record: Any, *, device: Any = None, **inputs: Any) -> "LossComparison":
        """The comparison of a record (before its first step); a bad value is a :class:`RecordError`."""
        if inputs:
            raise RecordError(f"A GAN comparison record needs no pictures; got {sorted(inputs)}.")
        rec = as_record(record, cls.lab)
        config = config_from_record(rec, CompareConfig, kind=cls.kind)
        if rec.seed != config.base.seed:
            raise RecordError(f"This record's seed ({rec.seed!r}) differs from its set-up's seed ({config.base.seed}).")
        try:
            return cls(config, device=device)
        except ConfigError as exc:
            raise RecordError(f"Record config is not a valid GAN comparison: {exc}") from exc

    def _state(self) -> dict[str, Any]:
        return {label: {"trainer": arm.trainer.state_dict(), "grad_norms": [list(g) for g in arm.grad_norms],
                        "travel": [list(t) for t in arm.travel], "start": self._start[label]}
                for label, arm in self.arms.items()}

    def _load_state(self, state: Mapping[str, Any]) -> None:
        from ..errors import CheckpointError

        if sorted(state) != sorted(self.arms):
            raise CheckpointError(f"This comparison state has arms {sorted(state)}, not {sorted(self.arms)}.")
        for label, arm in self.arms.items():
            sub = state[label]
            arm.trainer.load_state_dict(sub["trainer"])
            arm.grad_norms = [(int(s), float(g)) for s, g in sub["grad_norms"]]
            arm.travel = [(int(s), float(d)) for s, d in sub["travel"]]
            self._start[label] = sub["start"].to(self.device)


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
    """Run a :class:`LossComparison` to the end; ``progress(fraction_done, text)`` after every chunk.

    Returns:
        ``{label: ComparisonRun}`` in the order of ``losses``.

    Raises:
        ConfigError: ``steps`` < 1 or a bad loss / setting (from :class:`CompareConfig`).
    """
    run = LossComparison(CompareConfig(base=base, losses=tuple(losses), steps=steps, lr_g=lr_g, lr_d=lr_d,
                                       d_steps=d_steps, measures=measures, probe=probe))

    def report(r: Run, row: dict[str, Any]) -> None:
        if progress is not None:
            progress(r.step_count / r.total_steps, f"step {r.step_count} of {r.total_steps}: "
                     + ", ".join(f"{label} at G step {arm.trainer.step_count}" for label, arm in run.arms.items()))

    run_to_end(run, report)
    return run.arms


def small_run(seed: int = 0, device: Any = None) -> LossComparison:
    """A small comparison for the protocol tests: minimax vs ns on a 256-point ring, 16-wide MLPs,
    10 G steps per arm measured 5 times (each run step trains 2 steps of both arms)."""
    base = GANConfig(data="ring", n_points=256, hidden=16, batch_size=32, metrics_every=0, seed=seed)
    return LossComparison(CompareConfig(base=base, steps=10, measures=5, probe=32), device=device)
