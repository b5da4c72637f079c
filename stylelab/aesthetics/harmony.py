r"""Hue harmony: how well an image's hues fit the classic harmonic templates (Cohen-Or et al. 2006).

Matsuda's templates, as used by Cohen-Or et al., are sets of sectors on the hue wheel; an image is
harmonious under a template if (after rotating it by some angle :math:`\alpha`) its hues fall
inside the sectors. The distance of an image to template :math:`T_m` at rotation :math:`\alpha`:

.. math::
    F(X, (m, \alpha)) = \frac{\sum_p \big\lVert H(p) - E_{T_m(\alpha)}(p) \big\rVert \cdot S(p)}{\sum_p S(p)}

:math:`H(p)` the hue of pixel :math:`p` (degrees), :math:`E` the nearest sector border (0 if inside
a sector), :math:`\lVert\cdot\rVert` the arc length on the wheel, :math:`S(p)` the HSV saturation
(grey pixels have no hue that matters). We divide by :math:`\sum_p S(p)` so the answer reads as a
mean deviation in degrees. The harmony deviation of an image is the best template and rotation:
:math:`\min_{m,\alpha} F`.

Templates (sector centre offset, width in degrees): ``i`` (0, 18); ``V`` (0, 93.6);
``L`` (0, 18) + (90, 79.2); ``I`` (0, 18) + (180, 18); ``T`` (0, 180); ``Y`` (0, 93.6) + (180, 18);
``X`` (0, 93.6) + (180, 93.6).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import torch

from .inputs import as_batch

TEMPLATES: dict[str, tuple[tuple[float, float], ...]] = {
    "i": ((0.0, 18.0),),
    "V": ((0.0, 93.6),),
    "L": ((0.0, 18.0), (90.0, 79.2)),
    "I": ((0.0, 18.0), (180.0, 18.0)),
    "T": ((0.0, 180.0),),
    "Y": ((0.0, 93.6), (180.0, 18.0)),
    "X": ((0.0, 93.6), (180.0, 93.6)),
}
#: Hue histogram bins (1 degree each) and the rotations tried (every degree).
BINS = 360


def rgb_to_hsv(x: torch.Tensor) -> torch.Tensor:
    """HSV of ``(N, 3, H, W)`` RGB in [0, 1]: hue in degrees [0, 360), saturation and value in [0, 1]."""
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    mx, mn = x.amax(1), x.amin(1)  # (N, H, W)
    d = mx - mn
    safe = d.clamp_min(1e-12)
    h = torch.where(mx == r, ((g - b) / safe) % 6, torch.where(mx == g, (b - r) / safe + 2, (r - g) / safe + 4))
    h = torch.where(d > 0, h * 60.0, torch.zeros_like(h)) % 360.0
    s = torch.where(mx > 0, d / mx.clamp_min(1e-12), torch.zeros_like(mx))
    return torch.stack([h, s, mx], dim=1)  # (N, 3, H, W)


def arc_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Distance on the hue circle, in degrees [0, 180]."""
    d = (a - b).abs() % 360.0
    return torch.minimum(d, 360.0 - d)


@functools.cache
def template_distance_table(name: str) -> torch.Tensor:
    """``(360 rotations, 360 hues)``: arc distance from each hue bin centre to template ``name`` rotated."""
    hues = torch.arange(BINS, dtype=torch.float64) + 0.5  # (360,)
    alphas = torch.arange(BINS, dtype=torch.float64)  # (360,)
    best = torch.full((BINS, BINS), float("inf"), dtype=torch.float64)
    for offset, width in TEMPLATES[name]:
        centre = (alphas + offset)[:, None]  # (360, 1)
        d = (arc_distance(hues[None, :], centre) - width / 2).clamp_min(0.0)  # (360, 360)
        best = torch.minimum(best, d)
    return best


class HueHarmony(NamedTuple):
    """Best harmonic template per image."""

    template: list[str]  #: best template name per image ("N" for images without colour)
    angle: torch.Tensor  #: (N,) its rotation in degrees
    deviation: torch.Tensor  #: (N,) mean saturation-weighted hue deviation (degrees) under it
    per_template: torch.Tensor  #: (N, 7) best deviation for each template, in TEMPLATES order


def hue_histogram(x: torch.Tensor) -> torch.Tensor:
    """Saturation-weighted hue histogram, 1 degree bins: ``(N, 3, H, W)`` -> ``(N, 360)``, not normalised."""
    hsv = rgb_to_hsv(as_batch(x).detach().double())
    idx = hsv[:, 0].long().clamp(0, BINS - 1).flatten(1)  # (N, HW)
    hist = torch.zeros(idx.shape[0], BINS, dtype=torch.float64)
    return hist.scatter_add_(1, idx.cpu(), hsv[:, 1].flatten(1).cpu())


def harmony_fit(x: torch.Tensor) -> HueHarmony:
    """Fit every template at every rotation (1 degree) and keep the best (see the module docstring).

    An image without colour (all saturations 0) fits Matsuda's template ``N``: deviation 0.
    """
    hist = hue_histogram(x)  # (N, 360)
    mass = hist.sum(1)  # (N,)
    per, angles = [], []
    for name in TEMPLATES:
        cost = hist @ template_distance_table(name).T / mass.clamp_min(1e-12)[:, None]  # (N, 360 rotations)
        best, arg = cost.min(dim=1)
        per.append(best)
        angles.append(arg)
    per_t = torch.stack(per, dim=1)  # (N, 7)
    ang_t = torch.stack(angles, dim=1)
    dev, which = per_t.min(dim=1)
    names = list(TEMPLATES)
    colourless = mass <= 1e-9
    template = ["N" if c else names[int(w)] for c, w in zip(colourless.tolist(), which.tolist())]
    angle = ang_t.gather(1, which[:, None])[:, 0].double()
    return HueHarmony(template, angle, torch.where(colourless, torch.zeros_like(dev), dev), per_t)


def hue_harmony(x: torch.Tensor) -> torch.Tensor:
    """Harmony deviation in degrees, ``(N,)`` in [0, 180): 0 = every hue inside the best template. Lower is more harmonious.

    The template ``T`` (half the wheel) is generous, so typical photos score 0-15 degrees and
    only images whose hues spread round most of the wheel score high.
    """
    return harmony_fit(x).deviation
