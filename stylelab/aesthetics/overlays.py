"""Pictures that explain a measure: thirds grid, saliency heatmap, clipped pixels, palette strip.

Each function takes one image ``(3, H, W)`` in [0, 1] and returns a new ``(3, H, W)`` image in
[0, 1] (the page and the notebook show them; no measure is computed here that is not computed
by its own module).
"""

from __future__ import annotations

import torch

from .composition import POWER_POINTS, rule_of_thirds, spectral_residual_saliency
from .inputs import as_batch
from .tone import HIGHLIGHT_CLIP, SHADOW_CLIP


def _one(x: torch.Tensor) -> torch.Tensor:
    return as_batch(x)[0].detach().float().clone()  # (3, H, W)


def _dot(img: torch.Tensor, cx: float, cy: float, r: int, colour: tuple[float, float, float]) -> None:
    h, w = img.shape[-2:]
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    disk = (xx - cx * w) ** 2 + (yy - cy * h) ** 2 <= r * r  # (H, W)
    ring = disk & ((xx - cx * w) ** 2 + (yy - cy * h) ** 2 >= (r - max(1, r // 3)) ** 2)
    img[:, ring] = torch.tensor(colour).view(3, 1)


def thirds_overlay(x: torch.Tensor) -> torch.Tensor:
    """The image with its thirds lines (white), power points, the saliency centroid (red ring) and peak (yellow ring)."""
    img = _one(x)
    h, w = img.shape[-2:]
    t = max(1, round(min(h, w) / 200))
    rot = rule_of_thirds(img)
    for f in (1 / 3, 2 / 3):
        c, r = round(f * w), round(f * h)
        img[:, :, max(0, c - t):c + t] = 0.5 * img[:, :, max(0, c - t):c + t] + 0.5
        img[:, max(0, r - t):r + t, :] = 0.5 * img[:, max(0, r - t):r + t, :] + 0.5
    rad = max(3, round(min(h, w) / 40))
    for px, py in POWER_POINTS:
        _dot(img, px, py, rad, (1.0, 1.0, 1.0))
    _dot(img, *rot.peak[0].tolist(), 2 * rad, (1.0, 0.85, 0.0))
    _dot(img, *rot.centroid[0].tolist(), 2 * rad, (1.0, 0.1, 0.1))
    return img.clamp(0, 1)


def heatmap(values: torch.Tensor) -> torch.Tensor:
    """A ``(H, W)`` map in [0, 1] as an RGB heat map ``(3, H, W)`` (black -> red -> yellow -> white)."""
    v = values.clamp(0, 1)
    return torch.stack([(3 * v).clamp(0, 1), (3 * v - 1).clamp(0, 1), (3 * v - 2).clamp(0, 1)])


def saliency_overlay(x: torch.Tensor, alpha: float = 0.6) -> torch.Tensor:
    """The spectral-residual saliency as a heat map blended over a dimmed copy of the image."""
    img = _one(x)
    sal = spectral_residual_saliency(img)[0]  # (H, W)
    return ((1 - alpha) * img * 0.7 + alpha * heatmap(sal)).clamp(0, 1)


def clipping_overlay(x: torch.Tensor, low: float = SHADOW_CLIP, high: float = HIGHLIGHT_CLIP) -> torch.Tensor:
    """Crushed shadows painted blue, blown highlights painted red, over a faded grey copy."""
    from ..losses.aesthetic import luminance

    img = _one(x)
    y = luminance(img[None])[0, 0]  # (H, W)
    out = (0.35 + 0.5 * y).expand(3, -1, -1).clone()
    out[:, y <= low] = torch.tensor([0.1, 0.3, 1.0]).view(3, 1)
    out[:, y >= high] = torch.tensor([1.0, 0.15, 0.1]).view(3, 1)
    return out


def palette_strip(colors: torch.Tensor, weights: torch.Tensor, width: int = 480, height: int = 48) -> torch.Tensor:
    """Swatches ``(3, height, width)``: each colour ``(k, 3)`` as wide as its share ``(k,)`` of the pixels."""
    w = weights.float().clamp_min(0)
    w = w / w.sum().clamp_min(1e-12)
    edges = torch.cumsum(w, 0) * width  # (k,)
    cols = torch.arange(width).float() + 0.5
    idx = torch.searchsorted(edges, cols).clamp(max=len(w) - 1)  # (width,)
    return colors.float()[idx].T[:, None, :].expand(3, height, width).clone()
