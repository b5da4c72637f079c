r"""Neural style transfer by optimisation (Gatys, Ecker & Bethge 2016), made fast for a CPU.

We look for the image :math:`x` that minimises

.. math::

    \mathcal{L}(x) = \alpha\,\mathcal{L}_{content}(x, c) + \beta\,\mathcal{L}_{style}(x, s)
                   + \lambda_{TV}\,\frac{TV(x)}{HW}
                   - \lambda_{col}\,\frac{M(x)}{100} - \lambda_{con}\,\sigma_Y(x)

with the content and style losses of :mod:`stylelab.losses.perceptual` on VGG features, the
total variation of :mod:`stylelab.losses.tv` (divided by the pixel count so one weight works at
every size) and optional aesthetic terms of :mod:`stylelab.losses.aesthetic`. The loss functions
live there; this module only runs the optimisation.

What makes it fast (each measured in :mod:`stylelab.style.bench`, see docs/performance.md):

* the VGG forward pass stops at the deepest layer needed (``relu5_1`` for Gatys' layers);
* the style Grams (and content features) are computed ONCE per scale, under ``no_grad`` (tensors
  made under ``inference_mode`` cannot enter a loss that is back-propagated);
* bf16 where the CPU/GPU has a bf16 fast path: a bf16 copy of the network (weights cast once),
  with the Gram matrices and losses in fp32;
* the Gram's backward as one matmul (:func:`stylelab.losses.gram_matrix`);
* no NaN scan of every feature map (the total loss is checked once per step);
* channels_last memory format for image and network;
* coarse-to-fine: optimise at half size first, then continue at full size from the content plus
  the upsampled CHANGE (upsampling the image itself starts the fine scale blurry, worse than the
  content photo). Cheap coarse steps fix the layout, but the fine textures still need most of
  the fine-scale steps: measured, the pyramid does not reach the single-scale loss sooner.

The image is optimised in the space of :mod:`stylelab.style.parameterization` (``param``): by
default a Fourier basis scaled by :math:`1/f^{0.5}`, a fixed preconditioner that reaches a given
loss in ~1.6x fewer evaluations than raw pixels (``param="pixels"``: plain Gatys, bit for bit).

L-BFGS runs one loss evaluation per ``step`` (``max_iter=1`` per call, history kept), so the
callback sees every evaluation and Stop is honoured between any two. The loss handed to the
optimiser is scaled so its first value is ~100: with tiny losses L-BFGS silently skips its
history updates (its curvature test ``y^T s > 1e-10``).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import torch
import torch.nn.functional as F

from ..errors import ConfigError, NonFiniteError, ShapeError

StepCallback = Callable[[int, torch.Tensor, dict], None]
StopSignal = Callable[[], bool] | threading.Event | None


PARAM_KINDS = ("pixels", "laplacian", "fourier")  #: the spaces Gatys can optimise in (GatysConfig.param)
#: what the choice of space means, for the UI (measured figures: stylelab.style.bench_param)
PARAM_HELP = ("The loss is the same; only the variables change. pixels: plain Gatys. laplacian: a Laplacian "
              "pyramid (a coarse coefficient moves a whole block, so low frequencies take bigger steps). fourier "
              "(default): an FFT scaled by 1/f^0.5, so coarse structure takes bigger steps than fine detail. Why "
              "the default: measured at 256 px (astronaut, a Van Gogh, L-BFGS) it reaches plain Gatys' "
              "100-step loss in ~62 steps (about 1.6x fewer), and after 35 steps its picture is as stylised as "
              "plain Gatys' after ~55; it adds ~1% to a step. With Adam choose laplacian: there fourier is slower "
              "than pixels (Adam already rescales each coordinate). Tick 'Also run plain pixels' to compare.")


@dataclass
class GatysConfig:
    """Everything that defines a Gatys run (with the seed, it reproduces the result)."""

    size: int = 256  #: longer side of the result, in pixels
    steps: int = 300  #: loss evaluations in total (over all scales)
    optimizer: Literal["lbfgs", "adam"] = "lbfgs"
    lr: float = 1.0  #: L-BFGS step length (1.0); Adam uses ``adam_lr``
    adam_lr: float = 0.02
    content_weight: float = 1.0  #: alpha
    style_weight: float = 1e6  #: beta (Grams normalised by C*H*W, so style terms are small)
    tv_weight: float = 1e-2  #: lambda_TV, per pixel
    colorfulness_weight: float = 0.0  #: lambda of the colour term -M/100 (losses.colorfulness_loss, as in the Loss Lab)
    contrast_weight: float = 0.0  #: rewards RMS contrast
    content_layers: tuple[str, ...] = ("relu4_2",)
    style_layers: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
    style_layer_weights: tuple[float, ...] | None = None  #: default 1 each (as in the tutorial)
    gram_normalize: Literal["none", "hw", "chw"] = "chw"
    init: Literal["content", "noise", "style"] = "content"
    #: 1 = single scale (default); 2 = half size then full size; ... Measured at 256 px, 300 its:
    #: the coarse steps are worth only ~10 full-size steps, so one scale reaches a loss sooner
    #: (72 s to loss 13.32 vs 45 s to 14.44 with 2 scales; the reference needs 132 s / 68 s).
    pyramid_levels: int = 1
    coarse_fraction: float = 0.5  #: share of the steps at the coarser scales (0.67 lost ~10% final loss at 150 its)
    color: Literal["none", "luminance", "histogram"] = "none"
    network: Literal["vgg16", "vgg19"] = "vgg16"
    pool: Literal["max", "avg"] = "max"
    precision: Literal["auto", "fp32", "bf16"] = "auto"  #: auto = bf16 where the device has a fast path
    channels_last: bool = True
    upsample: Literal["residual", "image"] = "residual"  #: how a coarse result starts the next scale
    lbfgs_history: int = 20  #: ~8.5 MB per entry at 512 px (docs/performance.md)
    #: the variables optimised (:mod:`stylelab.style.parameterization`): "pixels" (plain Gatys),
    #: "laplacian" (a Laplacian pyramid) or "fourier" (a scaled FFT); the loss is the same. Default
    #: fourier with amplitude 1/f**0.5: measured (stylelab.style.bench_param, astronaut + Van Gogh,
    #: L-BFGS, fp32 objective) it is below plain pixels at every checkpoint, at 256 px plain Gatys'
    #: 100-evaluation loss 14.18 in ~62 evaluations (35 evals: 16.6 vs 20.5), at 128 px 40.3 in ~77;
    #: its cost is ~6 ms per evaluation. Decorrelated colour was worse in every space. With Adam
    #: (lr 0.02) it is SLOWER than pixels (256 px, 100 evals: 20.1 vs 17.2); use "laplacian" (15.1).
    param: Literal["pixels", "laplacian", "fourier"] = "fourier"
    param_colour: Literal["none", "imagenet", "content"] = "none"  #: decorrelated colour basis
    param_levels: int = 4  #: laplacian levels
    param_level_gain: float = 1.0  #: laplacian: level k enters the image times gain**k
    param_decay: float = 0.5  #: fourier amplitude 1/f**decay (measured at 256 px, 100 evals: 0.25 13.22, 0.5 12.86, 0.75 13.19)
    param_range: Literal["clamp", "sigmoid"] = "clamp"  #: clamp = project after each step, as pixels are clamped
    seed: int = 0

    def param_config(self):
        """The :class:`~stylelab.style.parameterization.ParamConfig` of this run."""
        from .parameterization import ParamConfig

        return ParamConfig(kind=self.param, colour=self.param_colour, levels=int(self.param_levels),
                           level_gain=self.param_level_gain, decay=self.param_decay, range=self.param_range)

    def validate(self) -> "GatysConfig":
        if not 16 <= int(self.size) <= 2048:
            raise ConfigError(f"Size must be between 16 and 2048 pixels, got {self.size}.")
        if int(self.steps) < 1:
            raise ConfigError(f"Steps must be at least 1, got {self.steps}.")
        if self.optimizer not in ("lbfgs", "adam"):
            raise ConfigError(f"Optimizer must be 'lbfgs' or 'adam', got {self.optimizer!r}.")
        if self.init not in ("content", "noise", "style"):
            raise ConfigError(f"Init must be content, noise or style, got {self.init!r}.")
        if self.color not in ("none", "luminance", "histogram"):
            raise ConfigError(f"Colour mode must be none, luminance or histogram, got {self.color!r}.")
        if self.precision not in ("auto", "fp32", "bf16"):
            raise ConfigError(f"Precision must be auto, fp32 or bf16, got {self.precision!r}.")
        for name in ("content_weight", "style_weight", "tv_weight", "colorfulness_weight", "contrast_weight", "lr", "adam_lr"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or v != v or v < 0 or v == float("inf"):
                raise ConfigError(f"{name} must be a finite number >= 0, got {v!r}.")
        if not 1 <= int(self.pyramid_levels) <= 4:
            raise ConfigError(f"pyramid_levels must be 1-4, got {self.pyramid_levels}.")
        if not 0.0 <= self.coarse_fraction < 1.0:
            raise ConfigError(f"coarse_fraction must be in [0, 1), got {self.coarse_fraction}.")
        if self.size / 2 ** (self.pyramid_levels - 1) < 16:
            raise ConfigError("The coarsest pyramid level would be under 16 px: use fewer levels or a larger size.")
        if not self.content_layers or not self.style_layers:
            raise ConfigError("Choose at least one content layer and one style layer.")
        if self.style_layer_weights is not None and len(self.style_layer_weights) != len(self.style_layers):
            raise ConfigError("Give one style-layer weight per style layer.")
        if self.upsample not in ("residual", "image"):
            raise ConfigError(f"upsample must be 'residual' or 'image', got {self.upsample!r}.")
        if self.lbfgs_history < 1:
            raise ConfigError("lbfgs_history must be at least 1.")
        self.param_config().validate()
        return self

    def schedule(self) -> list[tuple[int, int]]:
        """``[(size, steps), ...]`` from coarse to fine; the steps add up to ``steps``."""
        levels = int(self.pyramid_levels)
        sizes = [max(16, round(self.size / 2 ** (levels - 1 - i))) for i in range(levels)]
        if levels == 1:
            return [(sizes[0], int(self.steps))]
        coarse_total = int(round(self.steps * self.coarse_fraction))
        per = [coarse_total // (levels - 1)] * (levels - 1)
        per[-1] += coarse_total - sum(per)
        out = [(s, n) for s, n in zip(sizes[:-1], per) if n > 0]
        out.append((sizes[-1], int(self.steps) - coarse_total))
        return [(s, n) for s, n in out if n > 0] or [(sizes[-1], int(self.steps))]


@dataclass
class GatysResult:
    image: torch.Tensor  #: ``(3, H, W)`` float32 in [0, 1] on the CPU
    history: list[dict] = field(default_factory=list)  #: one row of loss terms per step
    seconds: float = 0.0
    stopped: bool = False
    config: GatysConfig | None = None


_LOCK = threading.RLock()


@functools.lru_cache(maxsize=8)
def _truncated_net(arch: str, pool: str, device: str, deepest: str, channels_last: bool, dtype: torch.dtype = torch.float32):
    """A private copy of the frozen extractor cut after ``deepest``, in ``dtype`` (optionally channels_last).

    Only the copy in the dtype a run uses is built: a bf16 run holds no fp32 copy (weights cast
    once, not on every forward as under autocast).
    """
    from ..features import FeatureExtractor, load_extractor

    full = load_extractor(arch, pool, "imagenet", device)  # type: ignore[arg-type]  # dropped after the copy
    names = full.names[: full.names.index(deepest) + 1]
    mods = [copy.deepcopy(m).to(dtype) for _, m in zip(names, full.body.children())]
    net = FeatureExtractor(list(zip(names, mods)), full.normalisation).to(device=device, dtype=dtype)
    net.eval().requires_grad_(False)
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    return net


def feature_net(config: GatysConfig, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32):
    """The VGG used by ``config`` on ``device``: only the layers needed, frozen, in ``dtype``, cached."""
    from ..features import VGG_CFG, _vgg_layer_names

    if config.network not in VGG_CFG:
        raise ConfigError(f"Unknown network {config.network!r}; choose one of {sorted(VGG_CFG)}.")
    names = _vgg_layer_names(VGG_CFG[config.network])
    layers = list(config.content_layers) + list(config.style_layers)
    with _LOCK:
        unknown = [n for n in layers if n not in names]
        if unknown:
            relus = [n for n in names if not n.startswith("pool")]
            raise ConfigError(f"Unknown layer(s) {unknown}; {config.network} has {relus}.")
        deepest = max(layers, key=names.index)
        return _truncated_net(config.network, config.pool, str(torch.device(device)), deepest,
                              bool(config.channels_last), dtype)


def _use_bf16(config: GatysConfig, device: torch.device) -> bool:
    from ..device import fast_dtype

    if config.precision == "fp32":
        return False
    if config.precision == "bf16":
        return device.type in ("cpu", "cuda")
    return fast_dtype(device) == torch.bfloat16


def _resize(img: torch.Tensor, size: int) -> torch.Tensor:
    from ..imageio import resize_tensor

    return resize_tensor(img, size)


def _fit_style(style: torch.Tensor, content_hw: tuple[int, int]) -> torch.Tensor:
    """Resize the style (aspect kept) so its shorter side matches the content's; longer side at most 2x the content's."""
    from ..imageio import resize_tensor

    h, w = style.shape[-2:]
    scale = min(content_hw) / min(h, w)
    scale = min(scale, 2 * max(content_hw) / max(h, w))
    return resize_tensor(style, (max(16, round(h * scale)), max(16, round(w * scale))))


def _check_image(x: torch.Tensor, what: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or x.ndim not in (3, 4) or x.shape[-3] != 3:
        raise ShapeError(f"The {what} image must be an RGB tensor (3, H, W); got {getattr(x, 'shape', type(x).__name__)}.")
    x = x[0] if x.ndim == 4 else x
    if min(x.shape[-2:]) < 16:
        raise ShapeError(f"The {what} image is too small ({x.shape[-1]}x{x.shape[-2]}); both sides need 16 pixels.")
    if not torch.isfinite(x).all():
        raise NonFiniteError(f"The {what} image contains NaN or infinite values.")
    return x.detach().float().cpu().clamp(0, 1)


def _should_stop(stop: StopSignal) -> bool:
    if stop is None:
        return False
    if isinstance(stop, threading.Event):
        return stop.is_set()
    return bool(stop())


class GatysStylizer:
    """A resumable Gatys run: ``run(n)`` does ``n`` more steps (a UI calls it a few steps per rerun).

    Args:
        content, style: ``(3, H, W)`` in [0, 1].
        config: :class:`GatysConfig`.
        device: torch device (default: :func:`stylelab.device.get_device`).
    """

    def __init__(self, content: torch.Tensor, style: torch.Tensor, config: GatysConfig | None = None,
                 device: torch.device | str | None = None) -> None:
        from ..device import get_device, seed_everything

        self.config = (config or GatysConfig()).validate()
        self.device = torch.device(device) if device is not None else get_device()
        self.content = _check_image(content, "content")
        self.style = _check_image(style, "style")
        self.generator = seed_everything(int(self.config.seed))
        self.bf16 = _use_bf16(self.config, self.device)
        self.net = feature_net(self.config, self.device, torch.bfloat16 if self.bf16 else torch.float32)
        self.plan = self.config.schedule()
        self.level = -1
        self.level_step = 0
        self.step = 0
        self.history: list[dict] = []
        self.seconds = 0.0
        self.x: torch.Tensor | None = None
        self._prepare_level(0)

    # -------------------------------------------------------------- setup per scale
    def _inputs(self, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Content and style at this scale, after the colour-preservation preprocessing."""
        from .colour import luminance_image, match_color, match_luminance

        content = _resize(self.content, size)
        style = _fit_style(self.style, tuple(content.shape[-2:]))
        if self.config.color == "luminance":
            return luminance_image(content), match_luminance(style, content)
        if self.config.color == "histogram":
            return content, match_color(style, content)
        return content, style

    def _features(self, x: torch.Tensor, layers) -> dict[str, torch.Tensor]:
        """VGG features (the network runs in bf16 where ``self.bf16``).

        bf16: a bf16 copy of the network on a bf16 copy of ``x``; the Grams and losses stay fp32.
        Measured at 256 px on the 2-core Zen 4 CPU (quiet, ``stylelab.style.bench``): 0.445 s per
        step in fp32, 0.287 s with the bf16 copy, 0.241 s adding channels_last; bf16 also wins at
        128 px (0.069 vs 0.12 s) and 64 px.
        """
        feats = self.net(x.to(torch.bfloat16) if self.bf16 else x, layers)
        # content maps to fp32 here; style maps stay bf16: gram_matrix computes in fp32 and, unlike
        # a .float() copy, keeps no fp32 map for the backward (~127 MB less at 512 px)
        return {k: v.float() if k in self.config.content_layers else v for k, v in feats.items()}

    def _prepare_level(self, level: int) -> None:
        from ..losses import gram_matrix

        size, _ = self.plan[level]
        content, style = self._inputs(size)
        c = self._to_device(content)
        s = self._to_device(style)
        with torch.no_grad():  # NOT inference_mode: these tensors enter a back-propagated loss
            self.content_feats = self._features(c, self.config.content_layers)
            self.style_grams = {k: gram_matrix(v, self.config.gram_normalize)
                                for k, v in self._features(s, self.config.style_layers).items()}
        if self.x is None:  # first scale: initialise
            if self.config.init == "content":
                x0 = c.clone()
            elif self.config.init == "style":
                x0 = F.interpolate(s, size=c.shape[-2:], mode="bilinear", align_corners=False)
            else:
                noise = torch.rand(tuple(c.shape[1:]), generator=self.generator)  # (3, H, W)
                x0 = self._to_device(noise)
        elif self.config.upsample == "residual":  # coarse-to-fine: upsample what the coarse level CHANGED
            # x0 = c + up(x_coarse - c_coarse): the fine content keeps its own high frequencies.
            # Upsampling the image itself gives a blurry start that the fine style loss rates
            # worse than the content image (measured: 693 vs 486 at 256 px).
            delta = self.x.detach() - self._level_content
            x0 = c + F.interpolate(delta, size=c.shape[-2:], mode="bilinear", align_corners=False)
        else:  # coarse-to-fine: upsample the current result
            x0 = F.interpolate(self.x.detach(), size=c.shape[-2:], mode="bilinear", align_corners=False)
        self._level_content = c
        # the optimised tensors stay NCHW-contiguous (L-BFGS flattens them with .view); the copy fed
        # to VGG is channels_last. With pixels (the default) the one parameter IS the image self.x.
        from .parameterization import Parameterization

        x0 = x0.clamp(0, 1).contiguous()
        self.param = Parameterization(self.config.param_config(), tuple(x0.shape), content=c, device=self.device)
        self.params = [p.requires_grad_(True) for p in self.param.from_image(x0)]
        self.x = self._current_image()
        self.opt = self._make_optimizer()
        self.level = level
        self.level_step = 0
        self.loss_scale: float | None = None
        self.pixels = float(c.shape[-1] * c.shape[-2])

    def _to_device(self, img: torch.Tensor) -> torch.Tensor:
        t = img.unsqueeze(0).to(self.device)  # (1, 3, H, W)
        return t.contiguous(memory_format=torch.channels_last) if self.config.channels_last else t

    def _identity(self) -> bool:
        p = self.param.config
        return p.kind == "pixels" and p.colour == "none" and p.range == "clamp"

    def _current_image(self) -> torch.Tensor:
        """The image of the current parameters ``(1, 3, h, w)`` (the parameter itself for plain pixels)."""
        if self._identity():
            return self.params[0]
        with torch.no_grad():
            return self.param.to_image(self.params)

    def _make_optimizer(self) -> torch.optim.Optimizer:
        if self.config.optimizer == "adam":
            return torch.optim.Adam(self.params, lr=self.config.adam_lr)
        return torch.optim.LBFGS(self.params, lr=self.config.lr, max_iter=1, history_size=self.config.lbfgs_history,
                                 tolerance_grad=0.0, tolerance_change=0.0)

    # -------------------------------------------------------------- the loss
    def loss_terms(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """Weighted total and every term (weighted and raw), see :func:`stylelab.losses.weighted_sum`."""
        from ..losses import colorfulness_loss, content_loss, contrast_loss, style_loss, total_variation, weighted_sum

        cfg = self.config
        layers = list(dict.fromkeys([*cfg.content_layers, *cfg.style_layers]))
        x_in = x.contiguous(memory_format=torch.channels_last) if cfg.channels_last else x
        feats = self._features(x_in, layers)
        sw = cfg.style_layer_weights or (1.0,) * len(cfg.style_layers)
        terms = {
            # no per-feature NaN scan (a pass over every map + a sync): _one_step checks the total
            "content": content_loss(feats, self.content_feats, cfg.content_layers, check=False),
            "style": style_loss(feats, self.style_grams, dict(zip(cfg.style_layers, sw)), cfg.gram_normalize, check=False),
            "tv": total_variation(x.float(), "l2", per_pixel=True),
        }
        weights = {"content": cfg.content_weight, "style": cfg.style_weight, "tv": cfg.tv_weight}
        if cfg.colorfulness_weight:
            terms["colorfulness"] = colorfulness_loss(x.float())
            weights["colorfulness"] = cfg.colorfulness_weight
        if cfg.contrast_weight:
            terms["contrast"] = contrast_loss(x.float())
            weights["contrast"] = cfg.contrast_weight
        return weighted_sum(terms, weights)

    # -------------------------------------------------------------- running
    @property
    def done(self) -> bool:
        return self.level == len(self.plan) - 1 and self.level_step >= self.plan[self.level][1]

    @property
    def total_steps(self) -> int:
        return sum(n for _, n in self.plan)

    def run(self, n_steps: int | None = None, callback: StepCallback | None = None, stop: StopSignal = None) -> bool:
        """Do up to ``n_steps`` more steps (all remaining if None). Returns True if stopped early.

        ``callback(step, image, terms)`` is called after every step with the current image
        ``(3, h, w)`` (CPU, [0, 1]) and the loss terms of that step.
        """
        remaining = self.total_steps - self.step if n_steps is None else int(n_steps)
        t0 = time.perf_counter()
        try:
            while remaining > 0 and not self.done:
                if _should_stop(stop):
                    return True
                if self.level_step >= self.plan[self.level][1]:
                    self._prepare_level(self.level + 1)
                values = self._one_step()
                self.step += 1
                self.level_step += 1
                remaining -= 1
                row = {"step": self.step, "size": self.plan[self.level][0], **values}
                self.history.append(row)
                if callback is not None:
                    callback(self.step, self.image(), row)
            return False
        finally:
            self.seconds += time.perf_counter() - t0

    def _one_step(self) -> dict[str, float]:
        assert self.x is not None
        values: dict[str, float] = {}

        def closure() -> torch.Tensor:
            self.opt.zero_grad(set_to_none=True)
            x = self.params[0] if self._identity() else self.param.to_image(self.params)  # (1, 3, h, w)
            total, vals = self.loss_terms(x)
            if self.loss_scale is None:  # L-BFGS needs losses far above its 1e-10 curvature threshold
                self.loss_scale = 100.0 / max(vals["total"], 1e-12) if self.config.optimizer == "lbfgs" else 1.0
            scaled = total * self.loss_scale
            scaled.backward()
            values.clear()
            values.update(vals)
            return scaled

        self.opt.step(closure)
        self.param.project(self.params)  # pixels: the plain clamp to [0, 1]; else the same clamp in image space
        self.x = self._current_image()
        if not values or values["total"] != values["total"]:
            raise NonFiniteError("The loss became NaN: lower the learning rate or the weights.")
        return values

    def image(self) -> torch.Tensor:
        """The current image ``(3, h, w)`` on the CPU (colour-preservation applied)."""
        assert self.x is not None
        img = self.x.detach()[0].float().cpu().clamp(0, 1).contiguous()
        if self.config.color == "luminance":
            from .colour import combine_luminance

            img = combine_luminance(img, self.content)
        return img

    def record(self, **summary: object):
        """The experiment record of this run so far (config, seed, per-step terms, summary)."""
        from ..record import ExperimentRecord

        last = self.history[-1] if self.history else {}
        info = {"method": "gatys", "steps_done": self.step, "seconds": round(self.seconds, 3),
                "final_loss": last.get("total"), **summary}
        return ExperimentRecord(lab="style", config=self.config, seed=int(self.config.seed), metrics=list(self.history),
                                summary=info, device=str(self.device))

    def result(self, stopped: bool = False) -> GatysResult:
        return GatysResult(self.image(), list(self.history), self.seconds, stopped, dataclasses.replace(self.config))


def objective(image: torch.Tensor, content: torch.Tensor, style: torch.Tensor, config: GatysConfig,
              device: torch.device | str | None = None) -> dict[str, float]:
    """The loss terms of ``image`` under ``config``'s objective at full size, in fp32 (for fair comparisons)."""
    exact = dataclasses.replace(config, precision="fp32", channels_last=False, pyramid_levels=1, init="content")
    judge = GatysStylizer(content, style, exact, device)
    x = _resize(_check_image(image, "result"), exact.size).unsqueeze(0).to(judge.device)  # (1, 3, H, W)
    with torch.no_grad():
        return judge.loss_terms(x)[1]


def config_from_record(record) -> GatysConfig:
    """Rebuild the :class:`GatysConfig` of an experiment record (raises RecordError / ConfigError)."""
    from ..errors import RecordError

    if record.summary.get("method", "gatys") != "gatys":
        raise RecordError(f"This record is a {record.summary.get('method')!r} run, not a Gatys run.")
    config = record.config_as(GatysConfig)
    if "param" not in record.config:  # a record from before the parameterisations: it optimised the pixels
        config = dataclasses.replace(config, param="pixels", param_colour="none")
    return config.validate()


def stylize_gatys(
    content: torch.Tensor,
    style: torch.Tensor,
    config: GatysConfig | None = None,
    callback: StepCallback | None = None,
    stop: StopSignal = None,
    device: torch.device | str | None = None,
) -> GatysResult:
    """Run Gatys style transfer to the end (or until ``stop``). See :class:`GatysStylizer`.

    Args:
        content, style: ``(3, H, W)`` RGB in [0, 1] (any sizes; both are resized to ``config.size``).
        config: weights, layers, optimiser, scales, colour mode, seed.
        callback: ``callback(step, image, terms)`` after every step.
        stop: a ``threading.Event`` or a function returning True to stop between steps.

    Returns:
        :class:`GatysResult` with the image ``(3, H, W)``, the per-step loss history, the time
        spent and whether it was stopped early.
    """
    run = GatysStylizer(content, style, config, device)
    stopped = run.run(None, callback, stop)
    return run.result(stopped)
