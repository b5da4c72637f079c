"""The configs of the Style Studio's runs, importable without torch (the CLI builds its flags from them).

:class:`GatysConfig` (:class:`~stylelab.style.gatys.GatysStylizer`) and :class:`FastStyleConfig`
(:class:`~stylelab.style.train_fast.FastStyleTrainer`); both are re-exported by their modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import ConfigError

PARAM_KINDS = ("pixels", "laplacian", "fourier")  #: the spaces Gatys can optimise in (GatysConfig.param)
#: what the choice of space means, for the UI (measured figures: stylelab.style.bench_param)
PARAM_HELP = ("The loss is the same; only the variables change. pixels: plain Gatys. laplacian: a Laplacian "
              "pyramid (a coarse coefficient moves a whole block, so low frequencies take bigger steps). fourier "
              "(default): an FFT scaled by 1/f^0.5, so coarse structure takes bigger steps than fine detail. Why "
              "the default: measured (astronaut, a Van Gogh, L-BFGS) it reaches plain Gatys' 100-step loss in "
              "~72 steps at 128 px, ~60 at 256 px and ~50 at 512 px (1.4-2x fewer: the bigger the picture, the "
              "bigger the gain), and after 35 steps at 256 px its picture is as stylised as plain Gatys' after "
              "~55; it adds ~1% to a step. No space tried does it in a third of the steps (docs/"
              "style_parameterization.md). With Adam choose laplacian: there fourier is slower "
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
class FastStyleConfig:
    """A fast-style training run. Defaults give a visible result on a 2-core CPU in minutes."""

    style_name: str = ""  #: what the style was (path or bundled name), for the record
    size: int = 128  #: training crop size (pixels)
    batch_size: int = 2
    steps: int = 300
    lr: float = 2e-3
    content_weight: float = 1.0
    style_weight: float = 1e5
    tv_weight: float = 1e-2
    adv_weight: float = 0.0  #: 0 = no discriminator
    adv_kind: Literal["ns", "lsgan", "hinge"] = "lsgan"
    width: int = 16
    n_res: int = 3
    content_layers: tuple[str, ...] = ("relu2_2",)
    style_layers: tuple[str, ...] = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    seed: int = 0

    def validate(self) -> "FastStyleConfig":
        if not 32 <= int(self.size) <= 1024 or int(self.size) % 4:
            raise ConfigError(f"Training size must be a multiple of 4 between 32 and 1024; got {self.size}.")
        if int(self.batch_size) < 1 or int(self.steps) < 0:
            raise ConfigError("batch_size must be >= 1 and steps >= 0.")
        for name in ("lr", "content_weight", "style_weight", "tv_weight", "adv_weight"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or v != v or v < 0 or v == float("inf"):
                raise ConfigError(f"{name} must be a finite number >= 0; got {v!r}.")
        if self.adv_kind not in ("ns", "lsgan", "hinge"):
            raise ConfigError(f"adv_kind must be ns, lsgan or hinge; got {self.adv_kind!r}.")
        if self.width < 1 or self.n_res < 0:
            raise ConfigError("width must be >= 1 and n_res >= 0.")
        if not self.content_layers or not self.style_layers:
            raise ConfigError("Choose at least one content layer and one style layer.")
        return self
