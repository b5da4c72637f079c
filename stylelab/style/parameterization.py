r"""Image parameterisations: optimise the image as a differentiable function :math:`x = f(\theta)`.

The Gatys objective :math:`\mathcal{L}(x)` does not change; only the variables do. By the chain
rule :math:`\nabla_\theta\mathcal{L} = J_f^\top\,\nabla_x\mathcal{L}`, so a gradient step in
:math:`\theta` is, in image space, a step along :math:`J_f J_f^\top\,\nabla_x\mathcal{L}`: a linear
:math:`f` acts as a fixed preconditioner :math:`P = J_f J_f^\top` (Olah, Mordvintsev & Schubert,
"Feature Visualization", 2017; Mordvintsev et al., "Differentiable Image Parameterizations", 2018).

Three spaces, each optionally with decorrelated colour:

* ``pixels``: :math:`x = \theta` (:math:`P = I`, plain Gatys).
* ``laplacian``: a Laplacian pyramid :math:`\theta = (\theta_0, \dots, \theta_{L-1})` with level
  :math:`k` at :math:`1/2^k` of the size, :math:`x = \sum_k s^k\,U^k\theta_k` (:math:`U` = bilinear
  2x upsampling, :math:`s` = ``level_gain``). A coarse coefficient moves a whole :math:`2^k\times 2^k`
  block, so low frequencies take larger steps.
* ``fourier``: a scaled 2-D real FFT, :math:`x = \mathcal{F}^{-1}\!\left(w \odot \theta\right)` with
  :math:`w(f) = \max(|f|, 1/\max(H, W))^{-d}`, normalised to unit RMS, :math:`|f|` in cycles per
  pixel (``ortho`` norm) and :math:`d` = ``decay``: every frequency band gets a step proportional to
  the natural-image spectrum :math:`1/f` instead of the same step. (Unit RMS: a step of a given size
  in :math:`\theta` is a step of the same RMS size in the image, so Adam's learning rate means the
  same as in pixels; L-BFGS does not care about a global scale.)
* decorrelated colour (any of the three): the three channels of :math:`f(\theta)` are colour
  coordinates :math:`y`, and :math:`\mathrm{rgb} = M y + \mu`. ``imagenet``: :math:`M` = the square
  root :math:`U\sqrt{S}` of the ImageNet RGB covariance (the matrix published with the feature-
  visualisation code, columns normalised by the largest column norm), :math:`\mu` = the ImageNet mean;
  it is the default because it is fixed (the same space for every photo, so runs on different photos
  compare) and full rank. ``content``: :math:`M` = the symmetric square root of the content photo's
  own colour covariance (eigen-decomposition, scaled the same way), :math:`\mu` its mean; adapts to
  a photo with an unusual palette, but depends on it (and is ill-conditioned for a grey photo).

Measured for style transfer (:mod:`stylelab.style.bench_param`, astronaut + a Van Gogh, L-BFGS; the
tables are in docs/style_parameterization.md): the Fourier space with ``decay=0.5`` is the best and
:class:`~stylelab.style.gatys.GatysConfig`'s default. It reaches plain Gatys' 100-evaluation loss in
~72 evaluations at 128 px, ~60 at 256 px and ~50 at 512 px (the gain grows with the size), short of
the issue's aim (~35). ``decay`` 0.25 and 0.75 are slower, and ``decay=1`` (the feature-visualisation
choice, made for images grown from noise) damps the fine textures a style needs and is slower than
pixels; the Laplacian pyramid (4 levels) is close behind, and ``level_gain > 1`` (coarse levels bigger
steps) is slower, as is every coarse-to-fine schedule tried (fine frequencies or levels frozen at
first): the style lives in fine textures. Decorrelated colour slowed every space: the painting's
colours must move, and the ImageNet basis gives chroma steps 4-8x smaller than luminance (an
orthonormal colour basis changes nothing for L-BFGS, which is invariant to rotations of its variables).

Every :class:`Parameterization` has ``to_image(params)`` (differentiable) and ``from_image(x)``, its
inverse for the initialisation: ``to_image(from_image(x)) == x`` exactly (up to float rounding) for
every kind and colour basis. (The converse does not hold for ``fourier``: the imaginary parts of the
DC and Nyquist coefficients do not reach the image.)

The range :math:`[0, 1]`: ``range="clamp"`` (default) projects after each optimiser step,
:math:`\theta \leftarrow f^{-1}(\mathrm{clip}(f(\theta), 0, 1))`, which is exactly what plain Gatys does
to its pixels (the loss is always evaluated on an image in range; with ``pixels`` it is the old
behaviour bit for bit). ``range="sigmoid"`` squashes instead, :math:`x = \sigma(f(\theta))`, whose
inverse needs :math:`0 < x < 1`: the content photo is then moved in by ``sigmoid_eps`` (reported by
:meth:`Parameterization.init_change`, never done silently), and saturated pixels get tiny gradients.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F

from ..errors import ConfigError, ShapeError

KINDS = ("pixels", "laplacian", "fourier")
COLOUR_BASES = ("none", "imagenet", "content")

#: sqrt of the ImageNet RGB covariance, U sqrt(S) (rows R, G, B; columns: luminance, red-blue, green-magenta)
IMAGENET_COLOUR_SQRT = ((0.26, 0.09, 0.02), (0.27, 0.00, -0.05), (0.27, -0.09, 0.03))
IMAGENET_MEAN = (0.485, 0.456, 0.406)


@dataclass
class ParamConfig:
    """How the image is parameterised (see the module docstring)."""

    kind: Literal["pixels", "laplacian", "fourier"] = "pixels"
    colour: Literal["none", "imagenet", "content"] = "none"  #: decorrelated colour basis
    levels: int = 4  #: laplacian: pyramid levels (level k is 1/2**k of the size)
    level_gain: float = 1.0  #: laplacian: level k is multiplied by level_gain**k (1 = plain pyramid)
    decay: float = 1.0  #: fourier: amplitude 1/f**decay
    range: Literal["clamp", "sigmoid"] = "clamp"  #: how the image is kept in [0, 1]
    sigmoid_eps: float = 1e-3  #: sigmoid: the photo is mapped into [eps, 1-eps] before the logit

    def validate(self) -> "ParamConfig":
        if self.kind not in KINDS:
            raise ConfigError(f"Parameterisation must be one of {KINDS}, got {self.kind!r}.")
        if self.colour not in COLOUR_BASES:
            raise ConfigError(f"Colour basis must be one of {COLOUR_BASES}, got {self.colour!r}.")
        if self.range not in ("clamp", "sigmoid"):
            raise ConfigError(f"Range must be 'clamp' or 'sigmoid', got {self.range!r}.")
        if not 1 <= int(self.levels) <= 8:
            raise ConfigError(f"Pyramid levels must be 1-8, got {self.levels}.")
        for name in ("level_gain", "decay"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise ConfigError(f"{name} must be a finite number >= 0, got {v!r}.")
        if not 0 < self.sigmoid_eps < 0.5:
            raise ConfigError(f"sigmoid_eps must be in (0, 0.5), got {self.sigmoid_eps}.")
        return self

    @property
    def label(self) -> str:
        extra = {"laplacian": f" ({self.levels} levels)", "fourier": f" (1/f^{self.decay:g})"}.get(self.kind, "")
        return self.kind + extra + ("" if self.colour == "none" else f" + {self.colour} colour") + \
            ("" if self.range == "clamp" else " + sigmoid")


def _normalised(m: torch.Tensor) -> torch.Tensor:
    return m / m.norm(dim=0).max()


def colour_matrix(basis: str, content: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The fixed colour decorrelation :math:`\mathrm{rgb} = M y + \mu`: ``(M (3, 3), mu (3,))`` in float64.

    Args:
        basis: ``"none"`` (identity, zero mean), ``"imagenet"`` or ``"content"``.
        content: ``(..., 3, H, W)`` photo in [0, 1], needed for ``"content"``.
    """
    if basis == "none":
        return torch.eye(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)
    if basis == "imagenet":
        return _normalised(torch.tensor(IMAGENET_COLOUR_SQRT, dtype=torch.float64)), torch.tensor(IMAGENET_MEAN, dtype=torch.float64)
    if basis == "content":
        if content is None:
            raise ConfigError("The 'content' colour basis needs the content image.")
        px = content.detach().double().reshape(-1, 3, content.shape[-2] * content.shape[-1]).transpose(1, 2).reshape(-1, 3)
        mu = px.mean(0)
        cov = torch.cov(px.T)  # (3, 3)
        evals, evecs = torch.linalg.eigh(cov)
        if evals.min() <= 1e-8 * max(float(evals.max()), 1e-12):
            raise ConfigError("The content photo's colours span fewer than 3 dimensions (a grey or flat photo): "
                              "use the 'imagenet' colour basis.")
        sqrt = evecs @ torch.diag(evals.sqrt()) @ evecs.T  # symmetric square root of the covariance
        return _normalised(sqrt), mu
    raise ConfigError(f"Colour basis must be one of {COLOUR_BASES}, got {basis!r}.")


def fourier_scale(h: int, w: int, decay: float = 1.0, dtype: torch.dtype = torch.float32,
                  device: torch.device | str | None = None) -> torch.Tensor:
    r"""The amplitude :math:`w(f) = \max(|f|, 1/\max(H, W))^{-d}`, normalised to unit RMS: ``(H, W//2+1)``.

    :math:`|f| = \sqrt{f_y^2 + f_x^2}` in cycles per pixel (``torch.fft.fftfreq`` / ``rfftfreq``).
    """
    fy = torch.fft.fftfreq(h, dtype=torch.float64)[:, None]  # (H, 1)
    fx = torch.fft.rfftfreq(w, dtype=torch.float64)[None, :]  # (1, W//2+1)
    f = torch.sqrt(fy**2 + fx**2).clamp_min(1.0 / max(h, w))  # (H, W//2+1); the DC gets the lowest frequency's weight
    s = f.pow(-float(decay))
    return (s / s.pow(2).mean().sqrt()).to(dtype=dtype, device=device)


def laplacian_sizes(h: int, w: int, levels: int) -> list[tuple[int, int]]:
    """Level sizes, finest first: level k is ``ceil(h / 2**k) x ceil(w / 2**k)`` (at least 1 px)."""
    return [(max(1, -(-h // 2**k)), max(1, -(-w // 2**k))) for k in range(levels)]


def _up(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


def _down(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)


class Parameterization:
    """``params -> image`` for one image size; see the module docstring.

    Args:
        config: :class:`ParamConfig`.
        shape: ``(N, 3, H, W)`` of the images it produces.
        content: the content photo ``(N, 3, H, W)`` (only for the ``"content"`` colour basis).
        device, dtype: of the parameters and the images.
    """

    def __init__(self, config: ParamConfig, shape: tuple[int, int, int, int], content: torch.Tensor | None = None,
                 device: torch.device | str | None = None, dtype: torch.dtype = torch.float32) -> None:
        from ..device import get_device

        self.config = config.validate()
        if len(shape) != 4 or shape[1] != 3:
            raise ShapeError(f"A parameterisation makes (N, 3, H, W) images; got shape {tuple(shape)}.")
        self.shape = tuple(int(s) for s in shape)
        self.device = torch.device(device) if device is not None else get_device()
        self.dtype = dtype
        h, w = self.shape[-2:]
        m, mu = colour_matrix(config.colour, content)
        self.colour = m.to(self.device, dtype)  # (3, 3)
        self.colour_inv = torch.linalg.inv(m).to(self.device, dtype)  # (3, 3), exact for a full-rank M
        self.mean = mu.to(self.device, dtype).view(1, 3, 1, 1)
        self.sizes = laplacian_sizes(h, w, int(config.levels)) if config.kind == "laplacian" else [(h, w)]
        if config.kind == "fourier":
            self.scale = fourier_scale(h, w, config.decay, dtype, self.device)  # (H, W//2+1)

    # ---------------------------------------------------------------- colour
    def _to_rgb(self, y: torch.Tensor) -> torch.Tensor:
        if self.config.colour == "none":
            return y
        return torch.einsum("ij,njhw->nihw", self.colour, y) + self.mean  # (N, 3, H, W)

    def _from_rgb(self, x: torch.Tensor) -> torch.Tensor:
        if self.config.colour == "none":
            return x
        return torch.einsum("ij,njhw->nihw", self.colour_inv, x - self.mean)

    # ---------------------------------------------------------------- spatial basis
    def _spatial(self, params: list[torch.Tensor]) -> torch.Tensor:
        kind = self.config.kind
        if kind == "pixels":
            return params[0]
        if kind == "laplacian":
            g = self.config.level_gain
            x = params[-1] * g ** (len(params) - 1)
            for k in range(len(params) - 2, -1, -1):  # coarse to fine: x_k = gain^k theta_k + U x_{k+1}
                x = params[k] * g**k + _up(x, self.sizes[k])
            return x
        h, w = self.shape[-2:]
        spec = torch.view_as_complex(params[0]) * self.scale  # (N, 3, H, W//2+1)
        return torch.fft.irfft2(spec, s=(h, w), norm="ortho")

    def _spatial_inverse(self, y: torch.Tensor) -> list[torch.Tensor]:
        kind = self.config.kind
        if kind == "pixels":
            return [y.clone()]
        if kind == "laplacian":
            g = self.config.level_gain
            gauss = [y]
            for size in self.sizes[1:]:
                gauss.append(_down(gauss[-1], size))
            if g == 0 and len(gauss) > 1:
                raise ConfigError("level_gain 0 makes the coarse levels unreachable: no inverse.")
            out = [(gauss[k] - _up(gauss[k + 1], self.sizes[k])) / g**k for k in range(len(gauss) - 1)]
            return [*out, gauss[-1] / g ** (len(gauss) - 1)]
        spec = torch.fft.rfft2(y, norm="ortho") / self.scale  # (N, 3, H, W//2+1)
        return [torch.view_as_real(spec).contiguous()]

    # ---------------------------------------------------------------- public
    def to_image(self, params: list[torch.Tensor]) -> torch.Tensor:
        """The image ``(N, 3, H, W)`` (differentiable in ``params``); in [0, 1] only with ``range="sigmoid"``."""
        x = self._to_rgb(self._spatial(params))
        return torch.sigmoid(x) if self.config.range == "sigmoid" else x

    def from_image(self, image: torch.Tensor) -> list[torch.Tensor]:
        """Parameters (new leaf tensors, no grad) whose image is ``image`` ``(N, 3, H, W)``.

        With ``range="sigmoid"`` the image is first mapped into ``[eps, 1 - eps]`` (see :meth:`init_change`).
        """
        if tuple(image.shape) != self.shape:
            raise ShapeError(f"Expected an image of shape {self.shape}, got {tuple(image.shape)}.")
        x = image.detach().to(self.device, self.dtype)
        if self.config.range == "sigmoid":
            eps = self.config.sigmoid_eps
            x = torch.logit(eps + (1 - 2 * eps) * x)  # affine into (0, 1), not a clamp
        return [p.detach().contiguous() for p in self._spatial_inverse(self._from_rgb(x))]

    def init_change(self, image: torch.Tensor) -> float:
        """Largest change ``|to_image(from_image(image)) - image|`` (0 up to rounding, except with a sigmoid)."""
        with torch.no_grad():
            return float((self.to_image(self.from_image(image)) - image.to(self.device, self.dtype)).abs().max())

    def project(self, params: list[torch.Tensor]) -> None:
        """In place: ``params <- from_image(clip(to_image(params), 0, 1))`` (``range="clamp"``; no-op for a sigmoid)."""
        if self.config.range == "sigmoid":
            return
        with torch.no_grad():
            if self.config.kind == "pixels" and self.config.colour == "none":
                params[0].clamp_(0, 1)  # the plain Gatys clamp, unchanged
                return
            new = self._spatial_inverse(self._from_rgb(self.to_image(params).clamp(0, 1)))
            for p, q in zip(params, new):
                p.copy_(q)

    def numel(self) -> int:
        """Number of real parameters."""
        n, _, h, w = self.shape
        if self.config.kind == "fourier":
            return n * 3 * h * (w // 2 + 1) * 2
        return sum(n * 3 * a * b for a, b in self.sizes)
