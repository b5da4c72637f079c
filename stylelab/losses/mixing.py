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
and uses the same loss functions. No UI code here: :meth:`MixingDesk.run` yields after every
step and stops when asked.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from ..errors import CheckpointError, ConfigError, StopRequested
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
        seed: seed of the noise initialisation.
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

    def __post_init__(self) -> None:
        if not 16 <= int(self.size) <= 1024:
            raise ConfigError(f"size must be between 16 and 1024 pixels; got {self.size}.")
        if self.lr <= 0:
            raise ConfigError(f"The learning rate must be positive; got {self.lr}.")
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


@dataclass
class StepResult:
    """What one step produced: step number, every term (weighted and ``_raw``) and the image ``(3, H, W)``."""

    step: int
    values: dict[str, float]
    image: torch.Tensor


StopSignal = Callable[[], bool] | threading.Event | None


def _stopped(stop: StopSignal) -> bool:
    if stop is None:
        return False
    if isinstance(stop, threading.Event):
        return stop.is_set()
    return bool(stop())


class MixingDesk:
    """A resumable Adam loop over the pixels of one image.

    Args:
        content, style: ``(3, H, W)`` RGB in ``[0, 1]``; both are resized to ``config.size``
            (the style image to the content image's shape).
        config: :class:`MixingConfig`.
        device: where to run (default: the extractor's device if one is given, else
            :func:`stylelab.device.get_device`).
        extractor: feature network (default: the pretrained VGG16 from :mod:`stylelab.features`).
    """

    def __init__(self, content: torch.Tensor, style: torch.Tensor, config: MixingConfig | None = None,
                 device: torch.device | str | None = None, extractor: torch.nn.Module | None = None) -> None:
        from ..device import get_device
        from ..imageio import resize_tensor
        from ._checks import check_image

        self.config = config or MixingConfig()
        if device is None:
            param = next(iter(extractor.parameters()), None) if extractor is not None else None
            device = param.device if param is not None else get_device()
        self.device = torch.device(device)
        check_image(content[None] if content.ndim == 3 else content, "content", channels=3)
        check_image(style[None] if style.ndim == 3 else style, "style", channels=3)
        c = resize_tensor(content.detach().float().cpu(), self.config.size)  # (3, h, w)
        s = resize_tensor(style.detach().float().cpu(), tuple(c.shape[-2:]))
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
        else:
            g = torch.Generator().manual_seed(self.config.seed)
            x0 = torch.rand(self.content.shape, generator=g).to(self.device)
        self.x = x0.requires_grad_(True)  # (1, 3, h, w)
        self.optimizer = torch.optim.Adam([self.x], lr=self.config.lr, eps=self.config.adam_eps)
        self.step_count = 0
        self.history: list[dict[str, float]] = []

    @property
    def weights(self) -> dict[str, float]:
        return self.config.weights

    def set_weights(self, weights: dict[str, float]) -> None:
        """Change term weights between steps (the mixing desk's sliders)."""
        unknown = [k for k in weights if k not in self.config.weights]
        if unknown:
            raise ConfigError(f"Unknown term(s) {unknown}; the terms are {list(self.config.weights)}.")
        for k, v in weights.items():
            if not float(v) >= 0:
                raise ConfigError(f"Weight of {k} must be >= 0; got {v}.")
            self.config.weights[k] = float(v)

    @property
    def image(self) -> torch.Tensor:
        """The current image ``(3, H, W)`` on the CPU."""
        return self.x.detach()[0].cpu().clamp(0, 1)

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

    def step(self) -> StepResult:
        """One Adam step; pixels are clipped to ``[0, 1]`` after it."""
        self.optimizer.zero_grad(set_to_none=True)
        total, values = weighted_sum(self.terms(self.x), self.config.weights)
        if total.requires_grad:
            total.backward()
            self.optimizer.step()
        with torch.no_grad():
            self.x.clamp_(0, 1)
        self.step_count += 1
        values = {"step": float(self.step_count), **values}
        self.history.append(values)
        return StepResult(self.step_count, values, self.image)

    def run(self, n_steps: int, stop: StopSignal = None) -> Iterator[StepResult]:
        """Yield after each of ``n_steps`` steps; end early when ``stop`` says so."""
        for _ in range(int(n_steps)):
            if _stopped(stop):
                return
            yield self.step()

    def run_all(self, n_steps: int, stop: StopSignal = None, raise_on_stop: bool = False) -> StepResult | None:
        """Run ``n_steps`` steps; return the last result. ``raise_on_stop`` raises :class:`StopRequested`."""
        last = None
        for i, last in enumerate(self.run(n_steps, stop), 1):  # noqa: B007
            pass
        if raise_on_stop and (last is None or i < n_steps):
            raise StopRequested(f"Stopped after {self.step_count} steps.")
        return last

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict:
        cfg = asdict(self.config)
        return {"kind": "stylelab.mixing", "config": cfg, "x": self.x.detach().cpu(),
                "optimizer": self.optimizer.state_dict(), "step": self.step_count, "history": self.history}

    def load_state_dict(self, state: dict) -> None:
        if not isinstance(state, dict) or state.get("kind") != "stylelab.mixing":
            raise CheckpointError("This checkpoint is not a mixing-desk checkpoint.")
        x = state.get("x")
        if not isinstance(x, torch.Tensor) or x.shape != self.x.shape:
            raise CheckpointError(f"Checkpoint image has shape {getattr(x, 'shape', None)}; this desk uses {tuple(self.x.shape)}.")
        with torch.no_grad():
            self.x.copy_(x.to(self.device))
        self.optimizer.load_state_dict(state["optimizer"])
        self.step_count = int(state["step"])
        self.history = list(state["history"])
        self.set_weights(dict(state["config"]["weights"]))

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        torch.save(self.state_dict(), path)
        return path

    def load(self, path: str | Path) -> None:
        from ..checkpoint import load_checkpoint

        self.load_state_dict(load_checkpoint(path, "mixing-desk checkpoint"))


#: Term groups the ablation grid switches off one at a time.
ABLATION_GROUPS = ("content", "style", "tv", "colorfulness", "contrast")


@dataclass
class AblationResult:
    """One cell of the ablation grid: which group was off, the final image and terms."""

    switched_off: str | None
    image: torch.Tensor
    values: dict[str, float]


def ablation_study(content: torch.Tensor, style: torch.Tensor, config: MixingConfig, steps: int = 20,
                   device: torch.device | str | None = None, progress: Callable[[float], None] | None = None,
                   stop: StopSignal = None) -> list[AblationResult]:
    """Rerun the desk from scratch with each active term group switched off (plus one with all on).

    Groups with weight 0 everywhere are skipped (switching them off changes nothing).
    """
    groups = [None] + [g for g in ABLATION_GROUPS
                       if any(v > 0 for k, v in config.weights.items() if k == g or k.startswith(g + ":"))]
    results = []
    for i, group in enumerate(groups):
        weights = {k: (0.0 if group is not None and (k == group or k.startswith(group + ":")) else v)
                   for k, v in config.weights.items()}
        cfg = MixingConfig(**{**asdict(config), "weights": weights})
        desk = MixingDesk(content, style, cfg, device=device)
        last = desk.run_all(steps, stop)
        if last is None:
            break
        results.append(AblationResult(group, last.image, last.values))
        if progress is not None:
            progress((i + 1) / len(groups))
        if _stopped(stop):
            break
    return results


__all__ = ["MixingConfig", "MixingDesk", "StepResult", "AblationResult", "ABLATION_GROUPS", "STYLE_PREFIX",
           "ablation_study", "default_weights", "term_names"]
