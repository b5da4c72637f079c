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
loss in ~1.4x (128 px) to ~2x (512 px) fewer evaluations than raw pixels (``param="pixels"``: plain
Gatys, bit for bit); docs/style_parameterization.md has the measured curves.

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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from ..errors import ConfigError, NonFiniteError, RecordError
from ..run import Run, StopSignal, make_generator, run_to_end
from .configs import PARAM_HELP, PARAM_KINDS, GatysConfig

__all__ = ["PARAM_HELP", "PARAM_KINDS", "GatysConfig", "GatysResult", "GatysStylizer", "config_from_record",
           "feature_net", "objective", "small_run", "stylize_gatys"]

StepCallback = Callable[[int, torch.Tensor, dict], None]

#: the generator stream of the noise start image (``init="noise"``)
NOISE_STREAM = 0



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


def feature_net(config: GatysConfig, device: torch.device | str | None = None, dtype: torch.dtype = torch.float32):
    """The VGG used by ``config`` on ``device`` (default :func:`~stylelab.device.get_device`): only the
    layers needed, frozen, in ``dtype``, cached per device."""
    from ..features import VGG_CFG, _vgg_layer_names
    from ..run import resolve_device

    device = resolve_device(device)

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


def _check_image(x: object, what: str) -> torch.Tensor:
    """One picture for Gatys: ``(3, H, W)`` (or a batch of one; grey is expanded), both sides >= 16 px,
    values in [0, 1] (:func:`stylelab.validate.as_image_batch`); returned as float32 on the CPU."""
    from ..validate import as_image_batch

    batch, _ = as_image_batch(x, name=f"{what} image", min_side=16, max_batch=1)
    return batch[0].detach().float().cpu().clamp(0, 1).contiguous()  # (3, H, W); clamp: only the RANGE_TOL slack


class GatysStylizer(Run):
    r"""A Gatys run (the :class:`~stylelab.run.Run` contract): one :meth:`step` = one loss evaluation.

    Each step evaluates :math:`\mathcal{L}(x)` and its gradient once and updates the variables
    (L-BFGS with ``max_iter=1``, history kept, or Adam), so "Steps (loss evaluations)" in the app,
    ``config.steps`` and :attr:`total_steps` are the same number. The row of a step holds every
    loss term (weighted and ``_raw``), the ``total`` and the working ``size`` of its scale.

    Args:
        content, style: ``(3, H, W)`` in [0, 1] (a batch of one and grey pictures are accepted).
        config: :class:`GatysConfig` (its ``seed`` is the run's seed).
        device: torch device (default None: :func:`stylelab.device.get_device`).
        seed: overrides ``config.seed`` when given (the config is updated to say so).

    Randomness: only ``init="noise"`` draws (the start image), from the run's own generator.
    """

    kind = "gatys"
    lab = "style"
    config_class = GatysConfig

    def __init__(self, content: torch.Tensor, style: torch.Tensor, config: GatysConfig | None = None,
                 device: torch.device | str | None = None, *, seed: int | None = None) -> None:
        config = config or GatysConfig()
        if seed is not None and seed != config.seed:
            config = dataclasses.replace(config, seed=seed)
        config.validate()
        super().__init__(config, seed=config.seed, device=device)
        self.content = _check_image(content, "content")
        self.style = _check_image(style, "style")
        self.generator = make_generator(self.seed, "cpu", NOISE_STREAM)  # the noise is drawn on the CPU
        self.bf16 = _use_bf16(self.config, self.device)
        self.net = feature_net(self.config, self.device, torch.bfloat16 if self.bf16 else torch.float32)
        self.plan = self.config.schedule()
        self.level = -1
        self.level_step = 0
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

    # -------------------------------------------------------------- the Run contract
    @property
    def total_steps(self) -> int:  # type: ignore[override]
        return sum(n for _, n in self.plan)

    def _step(self) -> dict[str, Any]:
        if self.level_step >= self.plan[self.level][1]:
            self._prepare_level(self.level + 1)
        values = self._one_step()
        self.level_step += 1
        return {"size": self.plan[self.level][0], **values}

    def preview(self) -> torch.Tensor:
        """The current image ``(3, h, w)`` float32 on the CPU in [0, 1] (see :meth:`image`)."""
        return self.image()

    def inputs(self) -> dict[str, Any]:
        return {"content": self.content, "style": self.style}

    def _state(self) -> dict[str, Any]:
        """The variables, the optimiser (L-BFGS history included), the scale and the noise generator."""
        return {
            "level": self.level,
            "level_step": self.level_step,
            "loss_scale": self.loss_scale,
            "params": [p.detach().clone() for p in self.params],
            "optimizer": self.opt.state_dict(),
            "generator": self.generator.get_state(),
        }

    def _load_state(self, state: dict[str, Any]) -> None:
        level = int(state["level"])
        if not 0 <= level < len(self.plan):
            from ..errors import CheckpointError

            raise CheckpointError(f"This Gatys state is at scale {level}; the run has {len(self.plan)} scale(s).")
        if level != self.level:
            self._prepare_level(level)
        params = state["params"]
        if len(params) != len(self.params) or any(a.shape != b.shape for a, b in zip(params, self.params)):
            from ..errors import CheckpointError

            raise CheckpointError("This Gatys state's variables do not fit the run (another size or space?).")
        with torch.no_grad():
            for p, saved in zip(self.params, params):
                p.copy_(saved.to(p.device))
        self.opt = self._make_optimizer()
        self.opt.load_state_dict(state["optimizer"])
        self.level_step = int(state["level_step"])
        self.loss_scale = None if state["loss_scale"] is None else float(state["loss_scale"])
        self.generator.set_state(state["generator"])
        self.x = self._current_image()

    def summary(self) -> dict[str, Any]:
        last = self.history[-1] if self.history else {}
        return {"method": "gatys", "steps_done": self.step_count, "stopped": not self.done,
                "final_loss": last.get("total")}

    def record(self, notes: str = "", **summary: object):
        """The experiment record so far (config with ``kind``, seed, per-step terms, summary);
        ``summary`` adds entries (e.g. the names of the pictures)."""
        rec = super().record(notes)
        rec.summary.update(summary)
        return rec

    # -------------------------------------------------------------- thin wrappers
    def run(self, n_steps: int | None = None, callback: StepCallback | None = None, stop: StopSignal = None) -> bool:
        """Do up to ``n_steps`` more steps (all remaining if None); True if stopped early by ``stop``.

        A thin wrapper over :func:`stylelab.run.run_to_end`: ``callback(step, image, row)`` after
        every step with the current image ``(3, h, w)`` (CPU, [0, 1]) and the row of that step.
        """
        cb = None if callback is None else (lambda run, row: callback(run.step_count, run.image(), row))
        before = self.step_count
        if run_to_end(self, cb, stop, max_steps=n_steps):
            return False
        return n_steps is None or self.step_count - before < n_steps

    @classmethod
    def from_record(cls, record: Any, *, device: Any = None, **inputs: Any) -> "GatysStylizer":
        """The run of a record (before its first step): ``from_record(rec, content=, style=, device=)``.

        Old records (no ``kind``, no ``param``) are read too; a bad value is a RecordError."""
        from ..run import as_record

        rec = as_record(record, cls.lab)
        return cls(**inputs, config=config_from_record(rec), seed=rec.seed, device=device)

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


def config_from_record(record: Any) -> GatysConfig:
    """The :class:`GatysConfig` of an experiment record (its ExperimentRecord, dict or JSON).

    Reads the records of :meth:`GatysStylizer.record` (``config["kind"] == "gatys"``) and older ones
    (no ``kind``; no ``param``: those optimised the pixels). Unknown fields, wrong types and values
    the config refuses are a :class:`~stylelab.errors.RecordError`, never clamped.
    """
    from ..run import as_record
    from ..run import config_from_record as typed_config

    rec = as_record(record, "style")
    method = rec.config.get("method", rec.summary.get("method", "gatys"))
    if method != "gatys":
        raise RecordError(f"This record is a {method!r} run, not a Gatys run.")
    cfg = {k: v for k, v in rec.config.items() if k != "method"}
    if "param" not in cfg:  # a record from before the parameterisations: it optimised the pixels
        cfg.update(param="pixels", param_colour="none")
    return typed_config(dataclasses.replace(rec, config=cfg), GatysConfig, kind="gatys")


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


def small_run(seed: int = 0, device: Any = None) -> GatysStylizer:
    """A small Gatys run for the catalogue: the 32 px astronaut in the style of a 32 px brick texture,
    8 evaluations, started from noise (so its rows depend on the seed), pixels + fourier alike fast."""
    from ..assets import load_bundled

    config = GatysConfig(size=32, steps=8, init="noise", seed=seed, pyramid_levels=1)
    return GatysStylizer(load_bundled("photo:astronaut", size=32), load_bundled("texture:brick", size=32), config,
                         device)
