r"""Aesthetic adjustment: nudge an image toward "more pleasing" while keeping it recognisable.

We minimise a weighted sum of aesthetic terms (from :mod:`stylelab.losses.aesthetic`) and a
content term that keeps the result close to the original :math:`x_0`:

.. math::
    \mathcal L(y) = \lambda_{col}\max(0, t_{col} - M(y))/100 + \lambda_{con}\max(0, t_{con} - \sigma_Y(y))
        + \lambda_{sat}\max(0, t_{sat} - \bar S(y)) + \lambda_{exp}(\bar Y(y) - t_{exp})^2
        + \lambda_{clip}\,\mathrm{clip}_{soft}(y) + \lambda_{content}\,d(y, x_0)

Hinge targets stop pushing once a measure is good enough (otherwise "more colourful" never ends).
Two things can be optimised with Adam:

* ``mode="params"`` (default): global photo-editing controls, so the result is always a
  plausible edit of the photo (:func:`apply_tone`): exposure (EV), white balance (temperature,
  tint), gamma, contrast and saturation. ``AdjustConfig.controls`` says which of the six Adam may
  move; by default white balance stays put (see below);
* ``mode="pixels"``: every pixel, projected back to [0, 1] after each step; more freedom, and the
  content term is all that stops it painting colour noise.

Why these defaults (measured on the coffee photo, 192 px, 60 Adam steps, MSE content term):

* the targets must lie ABOVE the photo's own measures, or the hinges are zero from the start and
  nothing is raised: the coffee photo already has colourfulness 76 and RMS contrast 0.22, so the
  former targets 60 / 0.25 left colourfulness unchanged (76 -> 77) and contrast nearly so;
* white balance is not an enhancement but a cast: Hasler & Suesstrunk's :math:`M` has a
  :math:`0.3\sqrt{\mu_{rg}^2 + \mu_{yb}^2}` term that a global cast raises, and Adam moves every
  free control by about ``lr`` per step whatever the size of its gradient, so with temperature and
  tint free the cheapest "improvement" was a yellow cast (tint -0.6, blue down) that also took
  saturation down (-0.2): the washed-out yellow photo of the bug report. Free them with
  ``controls=PARAM_NAMES`` to see that lesson on purpose.

With the defaults the coffee photo goes to colourfulness ~107 (+40%) and contrast ~0.27 (+21%)
at SSIM ~0.88 to the original (``tests/test_lesson_demos.py``).

:class:`Adjuster` is a :class:`stylelab.run.Run` with no UI code (``step()`` -> one row); the page
drives it with :func:`stylelab.ui.live.live_run`, a few steps per tick. Each row logs every raw and
weighted term (``weighted_sum``), the measures themselves (``m_*``) and the controls (``p_*``) for
the per-term curves, and :meth:`Adjuster.record` exports the run. Nothing here is random: the seed
is only recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from ..errors import CheckpointError, ConfigError, RecordError, StopRequested
from ..losses.aesthetic import (
    brightness,
    clipped_fraction,
    colorfulness,
    colorfulness_loss,
    contrast_loss,
    exposure_loss,
    luminance,
    rms_contrast,
    saturation,
    saturation_loss,
)
from ..losses.pixel import mse
from ..losses.weighted import weighted_sum
from ..run import Run, as_record, config_from_record
from .inputs import as_batch

MODES = ("params", "pixels")
CONTENT_LOSSES = ("lpips", "mse")
#: The global controls of ``mode="params"``, all 0 = "no change".
PARAM_NAMES = ("exposure", "temperature", "tint", "gamma", "contrast", "saturation")
#: The controls Adam moves by default: white balance (temperature, tint) stays at 0 (a cast, not an edit).
DEFAULT_CONTROLS = ("exposure", "gamma", "contrast", "saturation")
TERM_NAMES = ("colorfulness", "contrast", "saturation", "exposure", "clipping", "content")


@dataclass
class AdjustConfig:
    """Weights, targets and optimiser settings of an adjustment run."""

    mode: str = "params"
    steps: int = 60
    lr: float | None = None  #: default 0.05 for params, 0.01 for pixels
    weights: dict[str, float] = field(default_factory=lambda: {
        "colorfulness": 1.0, "contrast": 1.0, "saturation": 0.0, "exposure": 1.0, "clipping": 0.5, "content": 1.0})
    color_target: float = 100.0  #: colourfulness, 0-255 scale (between "highly" 82 and "extremely" 109)
    contrast_target: float = 0.30  #: RMS contrast of the luma
    saturation_target: float = 0.5
    exposure_target: float = 0.5  #: mean luma
    content: str = "lpips"  #: "lpips" (VGG16) or "mse"
    seed: int = 0
    controls: tuple[str, ...] = DEFAULT_CONTROLS  #: params mode: the controls Adam may move (others stay 0)

    def validate(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"mode must be one of {MODES}; got {self.mode!r}.")
        if self.content not in CONTENT_LOSSES:
            raise ConfigError(f"content must be one of {CONTENT_LOSSES}; got {self.content!r}.")
        unknown = sorted(set(self.weights) - set(TERM_NAMES))
        if unknown:
            raise ConfigError(f"Unknown term(s) {unknown}; the terms are {list(TERM_NAMES)}.")
        if any(w < 0 for w in self.weights.values()):
            raise ConfigError("Weights must be >= 0.")
        if self.steps < 0 or (self.lr is not None and not self.lr > 0):
            raise ConfigError("steps must be >= 0 and lr > 0.")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or not 0 <= self.seed < 2**63:
            raise ConfigError(f"seed must be an integer in [0, 2**63); got {self.seed!r}.")
        if not 0 <= self.exposure_target <= 1:
            raise ConfigError(f"exposure_target must be in [0, 1]; got {self.exposure_target}.")
        self.controls = tuple(self.controls)
        bad = [k for k in self.controls if k not in PARAM_NAMES]
        if bad or not self.controls:
            raise ConfigError(f"controls must be a non-empty subset of {list(PARAM_NAMES)}; got {list(self.controls)}.")

    @property
    def learning_rate(self) -> float:
        return self.lr if self.lr is not None else (0.05 if self.mode == "params" else 0.01)


def apply_tone(x: torch.Tensor, p: dict[str, torch.Tensor]) -> torch.Tensor:
    r"""Apply the global controls (each 0 = identity) to ``(N, 3, H, W)`` in [0, 1]. Differentiable.

    .. math::
        y_1 = x\cdot 2^{e}\cdot(e^{t}, e^{-\tau/2}, e^{-t})\ \text{(exposure, temperature t, tint }\tau),\quad
        y_2 = y_1^{\,e^{g}},\quad
        y_3 = \bar Y + e^{c}(y_2 - \bar Y),\quad
        y = \operatorname{clip}_{[0,1]}\big(Y + e^{s}(y_3 - Y)\big)

    (:math:`\bar Y` the mean luma, :math:`Y` the per-pixel luma; the log-parametrised factors keep
    contrast, saturation and gamma positive.)
    """
    gains = torch.stack([torch.exp(p["temperature"]), torch.exp(-p["tint"] / 2), torch.exp(-p["temperature"])])
    y = x * (2.0 ** p["exposure"]) * gains.view(1, 3, 1, 1)  # (N, 3, H, W)
    y = y.clamp(1e-6, 1.0) ** torch.exp(p["gamma"])
    mean_y = luminance(y).mean(dim=(1, 2, 3), keepdim=True)  # (N, 1, 1, 1)
    y = mean_y + torch.exp(p["contrast"]) * (y - mean_y)
    lum = luminance(y)  # (N, 1, H, W)
    y = lum + torch.exp(p["saturation"]) * (y - lum)
    return y.clamp(0.0, 1.0)


class Adjuster(Run):
    """A stoppable Adam loop that adjusts one image (see the module docstring), as a :class:`~stylelab.run.Run`.

    Args:
        image: ``(3, H, W)`` or ``(N, 3, H, W)`` in [0, 1] (grey is expanded), at least 16x16 px.
        config: :class:`AdjustConfig` (its ``steps`` is the run's length, its ``seed`` the run's seed).
        device: where to run (default :func:`stylelab.device.get_device`).
        seed: when given, it must equal ``config.seed``.
    """

    kind = "adjust"
    lab = "aesthetics"
    config_class = AdjustConfig

    def __init__(self, image: torch.Tensor, config: AdjustConfig | None = None,
                 device: str | torch.device | None = None, *, seed: int | None = None) -> None:
        import dataclasses

        config = dataclasses.replace(config) if config is not None else AdjustConfig()
        config.weights = dict(config.weights)  # this run's own copy
        config.validate()  # nothing here is random: the seed is only recorded
        if seed is not None and seed != config.seed:
            raise ConfigError(f"The seed ({seed}) and config.seed ({config.seed}) differ; set config.seed.")
        super().__init__(config, seed=config.seed, device=device)
        self._given = as_batch(image, min_side=16, name="image").detach().float().cpu()  # (N, 3, H, W)
        self.original = self._given.to(self.device)  # (N, 3, H, W)
        if self.config.mode == "params":
            self.params = {k: torch.zeros((), device=self.device, requires_grad=k in self.config.controls)
                           for k in PARAM_NAMES}
            tensors = [self.params[k] for k in self.config.controls]
        else:
            self.pixels = self.original.clone().requires_grad_(True)
            tensors = [self.pixels]
        self.optimizer = torch.optim.Adam(tensors, lr=self.config.learning_rate)

    # ------------------------------------------------------------------ the Run contract
    @property
    def total_steps(self) -> int:
        return self.config.steps


    def current(self) -> torch.Tensor:
        """The adjusted image ``(N, 3, H, W)`` (differentiable in params mode)."""
        return apply_tone(self.original, self.params) if self.config.mode == "params" else self.pixels

    @property
    def image(self) -> torch.Tensor:
        """The current result, detached, ``(N, 3, H, W)`` in [0, 1]."""
        with torch.no_grad():
            return self.current().detach().clamp(0, 1)

    def preview(self) -> torch.Tensor:
        return self.image[0].float().cpu()

    def inputs(self) -> dict[str, torch.Tensor]:
        return {"image": self._given[0] if self._given.shape[0] == 1 else self._given}

    def parameters_now(self) -> dict[str, float]:
        """The global controls as plain numbers (params mode; empty in pixels mode)."""
        return {k: float(v.detach()) for k, v in self.params.items()} if self.config.mode == "params" else {}

    def terms(self, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every loss term of :math:`\\mathcal L` at ``y`` (terms with weight 0 are still computed, for the curves, except content)."""
        c, w = self.config, self.config.weights
        terms = {
            "colorfulness": colorfulness_loss(y, target=c.color_target),
            "contrast": contrast_loss(y, target=c.contrast_target),
            "saturation": saturation_loss(y, target=c.saturation_target),
            "exposure": exposure_loss(y, target=c.exposure_target),
            "clipping": clipped_fraction(y, soft=True).sum(dim=1).mean(),
        }
        if w.get("content", 0.0) > 0:
            if c.content == "lpips":
                from ..losses.lpips import lpips

                terms["content"] = lpips(y, self.original, net="vgg")
            else:
                terms["content"] = mse(y, self.original)
        return terms

    def _step(self) -> dict[str, float]:
        """One Adam step; returns the row ``{total, <term>, <term>_raw, m_<measure>..., p_<control>...}``.

        The measures ``m_*`` are those of the image the step's gradient was taken at (before the update).
        """
        self.optimizer.zero_grad(set_to_none=True)
        y = self.current()
        weights = {k: float(self.config.weights.get(k, 0.0)) for k in TERM_NAMES}
        terms = self.terms(y)
        total, values = weighted_sum(terms, {k: weights[k] for k in terms})
        total.backward()
        self.optimizer.step()
        if self.config.mode == "pixels":
            with torch.no_grad():
                self.pixels.clamp_(0.0, 1.0)  # projected gradient: stay a valid image
        with torch.no_grad():
            return {**values,
                    "m_colorfulness": float(colorfulness(y).mean()), "m_rms_contrast": float(rms_contrast(y).mean()),
                    "m_saturation": float(saturation(y).mean()), "m_brightness": float(brightness(y).mean()),
                    **{f"p_{k}": v for k, v in self.parameters_now().items()}}

    def _state(self) -> dict[str, Any]:
        tensors = ({k: v.detach().cpu() for k, v in self.params.items()} if self.config.mode == "params"
                   else {"pixels": self.pixels.detach().cpu()})
        return {"tensors": tensors, "optimizer": self.optimizer.state_dict()}

    def _load_state(self, state: Mapping[str, Any]) -> None:
        tensors = state.get("tensors")
        mine = self.params if self.config.mode == "params" else {"pixels": self.pixels}
        if not isinstance(tensors, Mapping) or set(tensors) != set(mine) or any(
                not isinstance(tensors[k], torch.Tensor) or tensors[k].shape != mine[k].shape for k in mine):
            raise CheckpointError("This adjustment state does not fit this run (another mode or picture size).")
        with torch.no_grad():
            for k, t in mine.items():
                t.copy_(tensors[k].to(self.device))
        self.optimizer.load_state_dict(state["optimizer"])

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from :meth:`state_dict` (a run extended before it was saved keeps its length)."""
        if isinstance(state, Mapping) and isinstance(state.get("config"), Mapping):
            from ..run import config_to_dict

            saved, mine = dict(state["config"]), config_to_dict(self.config)
            steps = saved.get("steps")
            if (isinstance(steps, int) and not isinstance(steps, bool) and steps >= 0
                    and {k: v for k, v in saved.items() if k != "steps"} == {k: v for k, v in mine.items() if k != "steps"}):
                self.config.steps = steps
        super().load_state_dict(state)

    def summary(self) -> dict[str, Any]:
        """The last row's weighted terms and measures, the step count and the final controls."""
        last = self.history[-1] if self.history else {}
        return {"steps": self.step_count, **{k: v for k, v in last.items() if not k.endswith("_raw") and k != "step"},
                **self.parameters_now()}

    @classmethod
    def from_record(cls, record: Any, *, device: Any = None, **inputs: Any) -> "Adjuster":
        """Rebuild the adjustment from its record and ``image=`` (the photo it adjusted)."""
        rec = as_record(record, cls.lab)
        config = config_from_record(rec, AdjustConfig, kind=cls.kind)
        if rec.seed != config.seed:
            raise RecordError(f"The record's seed ({rec.seed}) and its config seed ({config.seed}) differ.")
        if inputs.get("image") is None:
            raise RecordError("An adjustment record holds the settings, not the photo: pass image=...")
        return cls(inputs["image"], config, device=device)

    def run(self, steps: int | None = None, callback: Callable[[dict[str, float]], bool | None] | None = None,
            should_stop: Callable[[], bool] | None = None) -> list[dict[str, float]]:
        """Step until done (or ``steps`` more steps). Stops early, keeping the result so far, when
        ``callback(row)`` returns False or raises :class:`StopRequested`, or ``should_stop()`` is true."""
        from ..run import run_to_end

        if steps is not None and self.step_count + steps > self.config.steps:
            self.extend(self.step_count + steps - self.config.steps)

        def each(_run: Run, row: dict[str, Any]) -> bool:
            try:
                return callback is None or callback(row) is not False
            except StopRequested:
                return False

        run_to_end(self, each, stop=should_stop, max_steps=steps)
        return self.history


def small_run(seed: int = 0, device: Any = None) -> Adjuster:
    """A small adjustment for the protocol tests and benchmarks: 32 px, MSE content term, 10 steps."""
    from ..assets import load_bundled

    photo = load_bundled("photo:astronaut", size=32)  # (3, 32, 32)
    return Adjuster(photo, AdjustConfig(steps=10, content="mse", seed=seed), device=device)


@dataclass
class AdjustResult:
    image: torch.Tensor  #: (3, H, W) adjusted
    params: dict[str, float]  #: final global controls (params mode)
    history: list[dict[str, float]]  #: one row per step
    adjuster: Adjuster = field(repr=False)


def adjust(image: torch.Tensor, weights: dict[str, float] | None = None, steps: int = 60, mode: str = "params",
           callback: Callable[[dict[str, float]], bool | None] | None = None, **config: object) -> AdjustResult:
    """Adjust one image ``(3, H, W)`` in [0, 1] toward the aesthetic targets (see the module docstring).

    Args:
        image: the photo to adjust (at least 16x16 px).
        weights: ``{term: lambda}`` for ``colorfulness, contrast, saturation, exposure, clipping,
            content`` (missing terms keep their defaults; 0 switches a term off).
        steps: Adam steps.
        mode: ``"params"`` (global controls) or ``"pixels"``.
        callback: called with each step's row; return False to stop early.
        **config: any other :class:`AdjustConfig` field (``lr``, ``content``, targets, ``seed``).

    Returns:
        :class:`AdjustResult` with the image, the controls and the per-term curves.

    Example:
        >>> from stylelab.assets import load_bundled
        >>> r = adjust(load_bundled("photo:coffee", size=64), steps=5, content="mse")
        >>> len(r.history), tuple(r.image.shape)
        (5, (3, 43, 64))
    """
    cfg = AdjustConfig(mode=mode, steps=steps, **config)  # type: ignore[arg-type]
    if weights:
        cfg.weights = {**cfg.weights, **weights}
    adj = Adjuster(image, cfg)
    adj.run(callback=callback)
    return AdjustResult(adj.image[0], adj.parameters_now(), adj.history, adj)
