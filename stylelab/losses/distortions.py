"""Image distortions of adjustable strength, and the study "what does each loss see?".

Each distortion is ``fn(image, strength, seed) -> image`` with ``image`` ``(N, 3, H, W)`` or
``(3, H, W)`` in ``[0, 1]``, ``strength`` in ``[0, 1]`` (0 = unchanged, 1 = strong) and a seed
for the random ones; the output has the input's shape and stays in ``[0, 1]``.

:func:`distortion_study` applies every distortion at several strengths and measures every
loss between the original and the distorted image (pixel losses, SSIM, LPIPS, VGG content and
style, TV), returning a tidy :class:`pandas.DataFrame` that a page only has to plot.
The lesson it shows: pixel MSE punishes a 4-pixel shift as much as heavy noise, SSIM and LPIPS
do not; the style (Gram) loss barely notices patch shuffling, the content loss does.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from ..errors import ConfigError
from ._checks import check_image
from .ssim import gaussian_window

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


def _batched(fn: Callable[[torch.Tensor, float, int], torch.Tensor]) -> Callable[..., torch.Tensor]:
    """Accept (3, H, W) or (N, 3, H, W), validate strength, return the input's shape."""

    def wrapper(image: torch.Tensor, strength: float, seed: int = 0) -> torch.Tensor:
        if not 0.0 <= float(strength) <= 1.0:
            raise ConfigError(f"Distortion strength must be in [0, 1]; got {strength}.")
        single = isinstance(image, torch.Tensor) and image.ndim == 3
        x = check_image(image[None] if single else image, "image", channels=3)
        out = x if strength == 0 else fn(x, float(strength), int(seed)).clamp(0, 1)
        return out[0] if single else out

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


@_batched
def gaussian_noise(x: torch.Tensor, strength: float, seed: int) -> torch.Tensor:
    """Additive Gaussian noise, standard deviation ``0.3 * strength``."""
    g = torch.Generator().manual_seed(seed)
    noise = torch.randn(x.shape, generator=g, dtype=x.dtype).to(x.device)
    return x + 0.3 * strength * noise


@_batched
def gaussian_blur(x: torch.Tensor, strength: float, seed: int) -> torch.Tensor:
    """Gaussian blur, sigma ``4 * strength`` pixels (reflect padding)."""
    sigma = 4.0 * strength
    radius = max(1, math.ceil(3 * sigma))
    radius = min(radius, min(x.shape[-2:]) - 1)
    g = gaussian_window(2 * radius + 1, sigma, dtype=x.dtype, device=x.device)
    c = x.shape[1]
    y = F.pad(x, (radius, radius, radius, radius), mode="reflect")
    y = F.conv2d(y, g.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(y, g.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


@_batched
def shift(x: torch.Tensor, strength: float, seed: int) -> torch.Tensor:
    """Translate right and down by ``strength * 12.5%`` of the size (edge pixels repeated)."""
    h, w = x.shape[-2:]
    dy, dx = round(strength * 0.125 * h), round(strength * 0.125 * w)
    y = F.pad(x, (dx, 0, dy, 0), mode="replicate")
    return y[..., :h, :w]


@_batched
def rotation(x: torch.Tensor, strength: float, seed: int) -> torch.Tensor:
    """Rotate about the centre by ``30 * strength`` degrees (reflection at the border)."""
    a = math.radians(30.0 * strength)
    theta = torch.tensor([[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0]], dtype=x.dtype, device=x.device)
    grid = F.affine_grid(theta.expand(x.shape[0], 2, 3), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


@_batched
def colour_shift(x: torch.Tensor, strength: float, seed: int) -> torch.Tensor:
    """Rotate the hue by ``180 * strength`` degrees (a rotation in the YIQ chroma plane)."""
    a = math.radians(180.0 * strength)
    to_yiq = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]], dtype=x.dtype)
    rot = torch.tensor([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]], dtype=x.dtype)
    m = (torch.linalg.inv(to_yiq) @ rot @ to_yiq).to(x.device)  # (3, 3) RGB -> RGB
    return torch.einsum("ij,njhw->nihw", m, x)


@_batched
def jpeg(x: torch.Tensor, strength: float, seed: int) -> torch.Tensor:
    """JPEG round trip at quality ``round(95 - 90 * strength)`` (95 = light, 5 = blocky)."""
    from PIL import Image

    from ..imageio import load_image, to_pil

    quality = int(round(95 - 90 * strength))
    out = []
    for img in x:
        buf = io.BytesIO()
        to_pil(img.detach().float().cpu()).save(buf, format="JPEG", quality=quality)
        buf.seek(0)
        out.append(load_image(Image.open(buf)).to(dtype=x.dtype))
    return torch.stack(out).to(x.device)


@_batched
def patch_shuffle(x: torch.Tensor, strength: float, seed: int) -> torch.Tensor:
    """Cut the image into an 8x8 grid of patches and shuffle a ``strength`` fraction of them."""
    n, c, h, w = x.shape
    grid = 8
    ph, pw = h // grid, w // grid
    if ph == 0 or pw == 0:
        raise ConfigError(f"Patch shuffle needs images at least {grid}x{grid}; got {h}x{w}.")
    body = x[..., : ph * grid, : pw * grid]
    patches = body.reshape(n, c, grid, ph, grid, pw).permute(0, 2, 4, 1, 3, 5).reshape(n, grid * grid, c, ph, pw)
    g = torch.Generator().manual_seed(seed)
    k = round(strength * grid * grid)
    chosen = torch.randperm(grid * grid, generator=g)[:k]
    order = torch.arange(grid * grid)
    order[chosen] = chosen[torch.randperm(k, generator=g)]
    patches = patches[:, order.to(x.device)]
    body = patches.reshape(n, grid, grid, c, ph, pw).permute(0, 3, 1, 4, 2, 5).reshape(n, c, ph * grid, pw * grid)
    out = x.clone()
    out[..., : ph * grid, : pw * grid] = body
    return out


#: name -> fn(image, strength in [0, 1], seed) -> image
DISTORTIONS: dict[str, Callable[..., torch.Tensor]] = {
    "noise": gaussian_noise,
    "blur": gaussian_blur,
    "shift": shift,
    "rotation": rotation,
    "colour shift": colour_shift,
    "jpeg": jpeg,
    "patch shuffle": patch_shuffle,
}


def distort(image: torch.Tensor, name: str, strength: float, seed: int = 0) -> torch.Tensor:
    """Apply the distortion ``name`` (a key of :data:`DISTORTIONS`)."""
    if name not in DISTORTIONS:
        raise ConfigError(f"Unknown distortion {name!r}; choose from {list(DISTORTIONS)}.")
    return DISTORTIONS[name](image, strength, seed)


def distortion_strip(image: torch.Tensor, names: Sequence[str], strength: float, seed: int = 0) -> torch.Tensor:
    """Every distortion in ``names`` applied to ``image`` ``(3, H, W)`` at one ``strength``: ``(len(names), 3, H, W)``.

    (The preview row of the Loss Lab's distortion study.)
    """
    if not names:
        raise ConfigError("Choose at least one distortion.")
    x = image if image.ndim == 3 else image[0]  # (3, H, W)
    return torch.stack([distort(x, n, strength, seed) for n in names])  # (len(names), 3, H, W)


def strength_grid(n: int) -> tuple[float, ...]:
    """``n`` evenly spaced strengths from 0 to 1 (``n >= 2``), rounded to 3 decimals."""
    if not isinstance(n, int) or n < 2:
        raise ConfigError(f"A strength grid needs at least 2 points; got {n!r}.")
    return tuple(round(i / (n - 1), 3) for i in range(n))


#: The losses the study measures by default (keys of :func:`stylelab.losses.compare.pair_metrics`).
STUDY_METRICS = ("mse", "ssim", "lpips_vgg", "content", "style", "tv")


def distortion_study(
    image: torch.Tensor,
    names: Iterable[str] | None = None,
    strengths: Sequence[float] = (0.0, 0.25, 0.5, 0.75, 1.0),
    metrics: Sequence[str] = STUDY_METRICS,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
) -> pd.DataFrame:
    """Measure how every loss responds to every distortion.

    Args:
        image: ``(3, H, W)`` or ``(1, 3, H, W)`` in ``[0, 1]`` (128-192 px keeps it quick).
        names: distortions (default: all of :data:`DISTORTIONS`).
        strengths: strengths in ``[0, 1]``.
        metrics: keys understood by :func:`stylelab.losses.compare.pair_metrics`; ``"tv"`` is the
            distorted image's squared-L2 TV divided by the original's (1 = as smooth as before).
        seed: seed of the random distortions.
        progress: called with the fraction done after each distortion.

    Returns:
        Long-format DataFrame with columns ``distortion, strength, metric, value``.
    """
    import pandas as pd

    from .compare import pair_metrics

    x = image[None] if image.ndim == 3 else image
    x = check_image(x, "image", channels=3)
    if x.shape[0] != 1:
        raise ConfigError("distortion_study takes one image.")
    chosen = list(DISTORTIONS) if names is None else list(names)
    if not chosen:
        raise ConfigError("Choose at least one distortion.")
    if not metrics:
        raise ConfigError("Choose at least one metric.")
    rows = []
    for i, name in enumerate(chosen):
        batch = torch.cat([distort(x, name, s, seed) for s in strengths])  # (S, 3, H, W)
        values = pair_metrics(batch, x.expand_as(batch), metrics)
        for metric, v in values.items():
            for s, val in zip(strengths, v.tolist(), strict=True):
                rows.append({"distortion": name, "strength": float(s), "metric": metric, "value": float(val)})
        if progress is not None:
            progress((i + 1) / len(chosen))
    return pd.DataFrame(rows, columns=["distortion", "strength", "metric", "value"])


__all__ = ["DISTORTIONS", "STUDY_METRICS", "distort", "distortion_strip", "distortion_study", "strength_grid"] + [f.__name__ for f in DISTORTIONS.values()]
