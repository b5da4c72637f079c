r"""The mixing desk: a short, stoppable optimisation of an image under a weighted sum of losses.

Start from the content image (or noise) and take Adam steps on the pixels to minimise

.. math::
    \mathcal{L}(x) = \lambda_c \mathcal{L}_{content}(x, c)
        + \sum_{l} \lambda_{s,l}\, E_l(x, s)
        + \lambda_{tv} \frac{TV_{l2}(x)}{HW}
        - \lambda_{col} \frac{M(x)}{100} - \lambda_{con}\, \sigma_Y(x)

with every term kept separately (:func:`~stylelab.losses.weighted.weighted_sum`) so a page can
draw one curve per term and the ablation grid can switch each one off. Each term is the one
library function of its equation (:func:`~stylelab.losses.tv.total_variation` with
``per_pixel=True``, :func:`~stylelab.losses.aesthetic.colorfulness_loss`,
:func:`~stylelab.losses.aesthetic.contrast_loss`), the same calls as the Style Studio's
:mod:`stylelab.style.gatys`, so a weight means the same in both labs.

Adam's :math:`\varepsilon` is part of the method here (``MixingConfig.adam_eps``). Adam divides
each pixel's gradient by its running RMS, so with the usual :math:`\varepsilon = 10^{-8}` a term
whose gradient is tiny moves every pixel by the full learning rate: its first step is
``lr * sign(g)``. Started from the content image with the style switched off, the only non-zero
gradient is the TV term's (about 1e-5 per pixel at 128 px), whose sign is the sign of the
image's Laplacian: every pixel jumps by 0.03 in a per-channel random-looking direction (rainbow
noise), the content loss jumps from 0 to ~5.7, and 20 steps do not undo it. A larger
:math:`\varepsilon` (0.03, of the order of the content and style gradients) makes a pixel whose
gradient is far below it move in proportion to its gradient, so weak terms stay weak. This is a teaching loop
(128 px, Adam, tens of steps, VGG16); the full Gatys transfer lives in :mod:`stylelab.style`
and uses the same loss functions. No UI code here: :class:`MixingDesk` is a
:class:`stylelab.run.Run` (``step()`` -> one row of every weighted and raw term), so the Loss Lab
drives it with :func:`stylelab.ui.live.live_run` and a script with :func:`stylelab.run.run_to_end`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..errors import CheckpointError, ConfigError, RecordError, StopRequested
from ..run import (
    Run,
    StopSignal,
    as_record,
    config_from_record,
    config_to_dict,
    make_generator,
    run_to_end,
)
from .aesthetic import colorfulness_loss, contrast_loss
from .perceptual import DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS, content_loss, gram_targets, style_loss_per_layer
from .tv import total_variation
from .weighted import weighted_sum

STYLE_PREFIX = "style:"


def term_names(style_layers: Sequence[str] = DEFAULT_STYLE_LAYERS) -> list[str]:
    """Names of the desk's terms: ``content``, ``style:<layer>`` per layer, ``tv``, ``colorfulness``, ``contrast``."""
    return ["content", *[STYLE_PREFIX + layer for layer in style_layers], "tv", "colorfulness", "contrast"]


def default_weights(style_layers: Sequence[str] = DEFAULT_STYLE_LAYERS) -> dict[str, float]:
    """Weights that make style visible in ~30 Adam steps at 128 px (Grams normalised by CHW)."""
    weights = {"content": 1.0, "tv": 1.0, "colorfulness": 0.0, "contrast": 0.0}
    weights.update({STYLE_PREFIX + layer: 1e5 for layer in style_layers})
    return weights


@dataclass
class MixingConfig:
    """Settings of one mixing-desk run.

    Attributes:
        size: longer side of the optimised image (pixels).
        lr: Adam learning rate on pixel values in [0, 1].
        content_layers, style_layers: VGG16 layers (Gatys' choice by default).
        weights: ``{term: lambda}`` for every name in :func:`term_names` (missing names: 0).
        gram_normalize: Gram normalisation (see :func:`~stylelab.losses.perceptual.gram_matrix`).
        init: ``"content"`` (start from the content image) or ``"noise"``.
        seed: seed of the noise initialisation (the run's own generator; nothing global).
        steps: how many steps the run makes (``MixingDesk.extend`` adds more).
        adam_eps: Adam's epsilon, the gradient scale below which a pixel's step shrinks in proportion
            to its gradient (see the module docstring; ``1e-8`` brings back the noise).
    """

    size: int = 128
    lr: float = 0.03
    content_layers: tuple[str, ...] = DEFAULT_CONTENT_LAYERS
    style_layers: tuple[str, ...] = DEFAULT_STYLE_LAYERS
    weights: dict[str, float] = field(default_factory=default_weights)
    gram_normalize: str = "chw"
    init: str = "content"
    seed: int = 0
    adam_eps: float = 0.03
    steps: int = 40

    def __post_init__(self) -> None:
        if not 16 <= int(self.size) <= 1024:
            raise ConfigError(f"size must be between 16 and 1024 pixels; got {self.size}.")
        if self.lr <= 0:
            raise ConfigError(f"The learning rate must be positive; got {self.lr}.")
        if not isinstance(self.steps, int) or isinstance(self.steps, bool) or not 1 <= self.steps <= 100_000:
            raise ConfigError(f"steps must be an integer between 1 and 100000; got {self.steps!r}.")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or not 0 <= self.seed < 2**63:
            raise ConfigError(f"seed must be an integer in [0, 2**63); got {self.seed!r}.")
        if not self.adam_eps > 0:
            raise ConfigError(f"adam_eps must be positive; got {self.adam_eps}.")
        if self.init not in ("content", "noise"):
            raise ConfigError(f"init must be 'content' or 'noise'; got {self.init!r}.")
        if not self.content_layers:
            raise ConfigError("Choose at least one content layer.")
        if not self.style_layers:
            raise ConfigError("Choose at least one style layer.")
        self.content_layers = tuple(self.content_layers)
        self.style_layers = tuple(self.style_layers)
        known = set(term_names(self.style_layers))
        unknown = [k for k in self.weights if k not in known]
        if unknown:
            raise ConfigError(f"Unknown term(s) {unknown}; the terms are {sorted(known)}.")
        bad = {k: v for k, v in self.weights.items() if not float(v) >= 0}
        if bad:
            raise ConfigError(f"Weights must be >= 0; got {bad}.")
        self.weights = {name: float(self.weights.get(name, 0.0)) for name in term_names(self.style_layers)}


#: ``format`` of the desk's checkpoints before the Run contract (still read by :meth:`MixingDesk.load`).
LEGACY_FORMAT = "stylelab.mixing"


def _own_config(config: MixingConfig | None, seed: int | None) -> MixingConfig:
    """The run's own copy of ``config`` (the sliders move this run's weights, never the caller's);
    a ``seed`` argument, when given, must agree with ``config.seed`` (the record keeps both)."""
    config = config or MixingConfig()
    config = dataclasses.replace(config, weights=dict(config.weights))
    if seed is not None and seed != config.seed:
        raise ConfigError(f"The seed ({seed}) and config.seed ({config.seed}) differ; set config.seed.")
    return config


class MixingDesk(Run):
    r"""A resumable Adam loop over the pixels of one image (a :class:`stylelab.run.Run`).

    Each :meth:`step` takes one Adam step on :math:`x` (pixels clipped to [0, 1] after it) and
    returns the row ``{"step", "total", <term>, <term>_raw, ...}``: every term of
    :func:`term_names`, weighted (:math:`\lambda_i \mathcal L_i`) and raw (:math:`\mathcal L_i`).

    Args:
        content, style: ``(3, H, W)`` RGB in ``[0, 1]``; both are resized to ``config.size``
            (the style image to the content image's shape).
        config: :class:`MixingConfig` (its ``seed`` is the run's seed; ``steps`` its length).
        device: where to run (default: the extractor's device if one is given, else
            :func:`stylelab.device.get_device`).
        extractor: feature network (default: the pretrained VGG16 from :mod:`stylelab.features`).
        seed: the run's seed; when given it must equal ``config.seed`` (the record keeps both).
    """

    kind = "mixing"
    lab = "loss"
    config_class = MixingConfig

    def __init__(self, content: torch.Tensor, style: torch.Tensor, config: MixingConfig | None = None,
                 device: torch.device | str | None = None, extractor: torch.nn.Module | None = None, *,
                 seed: int | None = None) -> None:
        from ..imageio import resize_tensor
        from ..validate import as_image

        config = _own_config(config, seed)
        if device is None and extractor is not None:
            param = next(iter(extractor.parameters()), None)
            device = param.device if param is not None else None
        super().__init__(config, seed=config.seed, device=device)
        content = as_image(content, name="content image", grey="refuse")  # (3, H, W)
        style = as_image(style, name="style image", grey="refuse")
        self._given = {"content": content.detach().float().cpu(), "style": style.detach().float().cpu()}
        c = resize_tensor(self._given["content"], self.config.size)  # (3, h, w)
        s = resize_tensor(self._given["style"], tuple(c.shape[-2:]))
        self.content = c[None].to(self.device)  # (1, 3, h, w)
        self.style = s[None].to(self.device)
        if extractor is None:
            from ..features import get_extractor

            extractor = get_extractor("vgg16", device=self.device)
        self.net = extractor
        self.layers = list(dict.fromkeys([*self.config.content_layers, *self.config.style_layers]))
        with torch.no_grad():  # targets once; no_grad (not inference_mode): they enter a backward pass
            fc = self.net(self.content, self.layers)
            self.content_feats = {k: fc[k] for k in self.config.content_layers}
            self.style_grams = gram_targets(self.net(self.style, self.layers), self.config.style_layers, self.config.gram_normalize)
        if self.config.init == "content":
            x0 = self.content.clone()
        else:  # uniform noise from this run's own generator (stream 0), on its device
            gen = make_generator(self.seed, self.device, stream=0)
            x0 = torch.rand(self.content.shape, generator=gen, device=self.device)  # (1, 3, h, w)
        self.x = x0.requires_grad_(True)  # (1, 3, h, w)
        self.optimizer = torch.optim.Adam([self.x], lr=self.config.lr, eps=self.config.adam_eps)

    # ------------------------------------------------------------------ the Run contract
    @property
    def total_steps(self) -> int:
        return self.config.steps


    @property
    def weights(self) -> dict[str, float]:
        return self.config.weights

    def set_weights(self, weights: Mapping[str, float]) -> None:
        """Change term weights between steps (the mixing desk's sliders); the record keeps the last ones."""
        unknown = [k for k in weights if k not in self.config.weights]
        if unknown:
            raise ConfigError(f"Unknown term(s) {unknown}; the terms are {list(self.config.weights)}.")
        for k, v in weights.items():
            if not float(v) >= 0:
                raise ConfigError(f"Weight of {k} must be >= 0; got {v}.")
        for k, v in weights.items():
            self.config.weights[k] = float(v)

    @property
    def image(self) -> torch.Tensor:
        """The current image ``(3, H, W)`` on the CPU."""
        return self.x.detach()[0].float().cpu().clamp(0, 1)

    def preview(self) -> torch.Tensor:
        return self.image

    def inputs(self) -> dict[str, torch.Tensor]:
        return dict(self._given)

    def terms(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every unweighted term for the image ``x`` ``(1, 3, H, W)``."""
        cfg = self.config
        feats = self.net(x, self.layers)
        terms = {"content": content_loss(feats, self.content_feats, cfg.content_layers)}
        per_layer = style_loss_per_layer(feats, self.style_grams, cfg.style_layers, cfg.gram_normalize)
        terms.update({STYLE_PREFIX + k: v for k, v in per_layer.items()})
        terms["tv"] = total_variation(x, "l2", per_pixel=True)  # / (H W): one weight for any size
        terms["colorfulness"] = colorfulness_loss(x)
        terms["contrast"] = contrast_loss(x)
        return terms

    def _step(self) -> dict[str, float]:
        """One Adam step on the pixels, then clip them to [0, 1]: ``x <- clip(x - lr * Adam(grad L))``."""
        self.optimizer.zero_grad(set_to_none=True)
        total, values = weighted_sum(self.terms(self.x), self.config.weights)
        if total.requires_grad:
            total.backward()
            self.optimizer.step()
        with torch.no_grad():
            self.x.clamp_(0, 1)
        return values

    def _state(self) -> dict[str, Any]:
        return {"x": self.x.detach().cpu(), "optimizer": self.optimizer.state_dict()}

    def _load_state(self, state: Mapping[str, Any]) -> None:
        x = state.get("x")
        if not isinstance(x, torch.Tensor) or x.shape != self.x.shape:
            raise CheckpointError(f"Checkpoint image has shape {getattr(x, 'shape', None)}; "
                                  f"this desk uses {tuple(self.x.shape)}.")
        with torch.no_grad():
            self.x.copy_(x.to(self.device))
        self.optimizer.load_state_dict(state["optimizer"])

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from :meth:`state_dict` (or a desk checkpoint saved before the Run contract).

        The weights saved with the state replace this desk's (they may have been moved live).
        """
        if isinstance(state, Mapping) and state.get("kind") == LEGACY_FORMAT:  # the unversioned old layout
            self._load_state({"x": state.get("x"), "optimizer": state["optimizer"]})
            self.step_count = int(state["step"])
            self.history = [{**dict(r), "step": int(r["step"])} for r in state["history"]]
            self.set_weights(dict(state["config"]["weights"]))
            return
        if isinstance(state, Mapping) and isinstance(state.get("config"), Mapping):
            # the live settings (weights moved by the sliders, a run extended) come with the state;
            # every other setting must match this desk's, which the base class checks
            saved, mine = dict(state["config"]), config_to_dict(self.config)
            weights, steps = saved.get("weights"), saved.get("steps")
            live_ok = (isinstance(weights, Mapping) and set(weights) == set(self.config.weights)
                       and isinstance(steps, int) and not isinstance(steps, bool) and steps >= 1)
            if live_ok and {k: v for k, v in saved.items() if k not in ("weights", "steps")} == \
                    {k: v for k, v in mine.items() if k not in ("weights", "steps")}:
                self.set_weights(weights)
                self.config.steps = steps
        super().load_state_dict(state)

    @classmethod
    def from_record(cls, record: Any, *, device: Any = None, **inputs: Any) -> "MixingDesk":
        """Rebuild the desk from its record (with the weights it ended with) and ``content=``, ``style=``."""
        rec = as_record(record, cls.lab)
        config = config_from_record(rec, MixingConfig, kind=cls.kind)
        if rec.seed != config.seed:
            raise RecordError(f"The record's seed ({rec.seed}) and its config seed ({config.seed}) differ.")
        missing = [n for n in ("content", "style") if inputs.get(n) is None]
        if missing:
            raise RecordError("A mixing-desk record holds the settings, not the pictures: pass "
                              + ", ".join(f"{n}=..." for n in missing) + ".")
        return cls(inputs["content"], inputs["style"], config, device=device)

    # ------------------------------------------------------------------ thin drivers and files
    def run_all(self, n_steps: int | None = None, stop: StopSignal = None, raise_on_stop: bool = False) -> dict | None:
        """Step until done, or ``n_steps`` more steps; return the last row (None if none was made).

        ``raise_on_stop`` raises :class:`StopRequested` when ``stop`` ended it early.
        """
        if n_steps is not None and self.step_count + n_steps > self.config.steps:
            self.extend(self.step_count + n_steps - self.config.steps)
        before = self.step_count
        finished = run_to_end(self, stop=stop, max_steps=n_steps)
        stopped = not finished and (n_steps is None or self.step_count - before < n_steps)
        if raise_on_stop and stopped:
            raise StopRequested(f"Stopped after {self.step_count} steps.")
        return self.history[-1] if self.step_count > before else None

    def save(self, path: str | Path) -> Path:
        """Write :meth:`state_dict` atomically (the folder is created if needed)."""
        from ..checkpoint import save_checkpoint

        return save_checkpoint(self.state_dict(), path)

    def load(self, path: str | Path) -> None:
        from ..checkpoint import load_checkpoint

        self.load_state_dict(load_checkpoint(path, "mixing-desk checkpoint"))


def small_run(seed: int = 0, device: Any = None) -> MixingDesk:
    """A small desk for the protocol tests and benchmarks: 32 px, noise start (so the seed matters)."""
    from ..assets import load_bundled

    content = load_bundled("photo:astronaut", size=32)  # (3, 32, 32)
    style = load_bundled("texture:brick", size=32)
    cfg = MixingConfig(size=32, init="noise", seed=seed, steps=10, content_layers=("relu2_2",),
                       style_layers=("relu1_1", "relu2_1"),
                       weights={"content": 1.0, "style:relu1_1": 1e4, "style:relu2_1": 1e4, "tv": 1.0,
                                "colorfulness": 0.1, "contrast": 0.1})
    return MixingDesk(content, style, cfg, device=device)


#: Term groups the ablation grid switches off one at a time.
ABLATION_GROUPS = ("content", "style", "tv", "colorfulness", "contrast")


@dataclass
class AblationResult:
    """One cell of the ablation grid: which group was off, the final image and terms."""

    switched_off: str | None
    image: torch.Tensor
    values: dict[str, float]


def ablation_groups(weights: Mapping[str, float]) -> list[str | None]:
    """The cells of the ablation grid: ``None`` (all terms on), then every group with a weight > 0."""
    return [None] + [g for g in ABLATION_GROUPS
                     if any(v > 0 for k, v in weights.items() if k == g or k.startswith(g + ":"))]


def _switched_off(weights: Mapping[str, float], group: str | None) -> dict[str, float]:
    return {k: (0.0 if group is not None and (k == group or k.startswith(group + ":")) else float(v))
            for k, v in weights.items()}


class AblationGrid(Run):
    """The ablation grid as one Run: a fresh desk per cell (:func:`ablation_groups`), each for
    ``config.steps`` steps with one term group switched off, started from the same content image.

    Each row is the current cell's desk row plus ``cell`` (its index) and ``switched_off`` (the
    group, ``""`` for all terms on); :attr:`results` holds the finished cells. The page drives it
    with :func:`stylelab.ui.live.live_run`, so the grid never blocks the page.
    """

    kind = "ablation"
    lab = "loss"
    config_class = MixingConfig

    def __init__(self, content: torch.Tensor, style: torch.Tensor, config: MixingConfig | None = None,
                 device: torch.device | str | None = None, extractor: torch.nn.Module | None = None, *,
                 seed: int | None = None) -> None:
        from ..validate import as_image

        config = _own_config(config, seed)
        super().__init__(config, seed=config.seed, device=device)
        self._given = {"content": as_image(content, name="content image", grey="refuse").detach().float().cpu(),
                       "style": as_image(style, name="style image", grey="refuse").detach().float().cpu()}
        self._extractor = extractor
        self.groups = ablation_groups(self.config.weights)
        self.results: list[AblationResult] = []
        self.desk: MixingDesk | None = None  # the cell being run

    @property
    def total_steps(self) -> int:
        return len(self.groups) * self.config.steps

    def inputs(self) -> dict[str, torch.Tensor]:
        return dict(self._given)

    def _new_desk(self) -> MixingDesk:
        group = self.groups[len(self.results)]
        cfg = dataclasses.replace(self.config, weights=_switched_off(self.config.weights, group))
        return MixingDesk(self._given["content"], self._given["style"], cfg, device=self.device,
                          extractor=self._extractor)

    def _step(self) -> dict[str, Any]:
        if self.desk is None:
            self.desk = self._new_desk()
        cell = len(self.results)
        row = {k: v for k, v in self.desk.step().items() if k != "step"}
        if self.desk.done:
            self.results.append(AblationResult(self.groups[cell], self.desk.image, row))
            self.desk = None
        return {"cell": cell, "switched_off": self.groups[cell] or "", **row}

    def preview(self) -> torch.Tensor | None:
        if self.desk is not None:
            return self.desk.image
        return self.results[-1].image if self.results else None

    def _state(self) -> dict[str, Any]:
        return {"images": [r.image for r in self.results], "values": [dict(r.values) for r in self.results],
                "desk": None if self.desk is None else self.desk.state_dict()}

    def _load_state(self, state: Mapping[str, Any]) -> None:
        images, values = state.get("images"), state.get("values")
        if not isinstance(images, list) or not isinstance(values, list) or len(images) != len(values) \
                or len(images) > len(self.groups):
            raise CheckpointError("This ablation state does not fit this grid.")
        self.results = [AblationResult(g, im, dict(v)) for g, im, v in zip(self.groups, images, values)]
        self.desk = None
        if state.get("desk") is not None:
            self.desk = self._new_desk()
            self.desk.load_state_dict(state["desk"])

    @classmethod
    def from_record(cls, record: Any, *, device: Any = None, **inputs: Any) -> "AblationGrid":
        rec = as_record(record, cls.lab)
        config = config_from_record(rec, MixingConfig, kind=cls.kind)
        missing = [n for n in ("content", "style") if inputs.get(n) is None]
        if missing:
            raise RecordError("An ablation record holds the settings, not the pictures: pass "
                              + ", ".join(f"{n}=..." for n in missing) + ".")
        return cls(inputs["content"], inputs["style"], config, device=device)


def ablation_study(content: torch.Tensor, style: torch.Tensor, config: MixingConfig, steps: int = 20,
                   device: torch.device | str | None = None, progress: Callable[[float], None] | None = None,
                   stop: StopSignal = None) -> list[AblationResult]:
    """Rerun the desk from scratch for ``steps`` steps with each active term group switched off
    (plus one with all on): :class:`AblationGrid` run to its end. A stop keeps the cells finished so far.

    Groups with weight 0 everywhere are skipped (switching them off changes nothing).
    """
    grid = AblationGrid(content, style, dataclasses.replace(config, steps=steps), device=device)

    def each(run: Run, row: dict[str, Any]) -> None:
        if progress is not None and grid.desk is None:  # a cell just finished
            progress(len(grid.results) / len(grid.groups))

    run_to_end(grid, each, stop=stop)
    return grid.results


__all__ = ["MixingConfig", "MixingDesk", "AblationGrid", "AblationResult", "ABLATION_GROUPS", "STYLE_PREFIX",
           "LEGACY_FORMAT", "ablation_groups", "ablation_study", "default_weights", "small_run", "term_names"]
