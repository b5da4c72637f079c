r"""Tone: Michelson contrast and clipped shadows / highlights (exposure).

The other tone and colour measures are defined once in :mod:`stylelab.losses.aesthetic` (they
are differentiable and the Loss Lab steers images with them) and re-exported by
:mod:`stylelab.aesthetics`: ``colorfulness`` (Hasler & Süsstrunk 2003), ``rms_contrast``,
``saturation``, ``brightness``, ``exposure_error``, ``clipped_fraction``.
"""

from __future__ import annotations

import torch

from ..errors import ConfigError
from ..losses.aesthetic import clipped_fraction, luminance
from .inputs import as_batch

#: Luma at or below which a pixel counts as crushed black (2/255), at or above which as blown (253/255).
SHADOW_CLIP = 2 / 255
HIGHLIGHT_CLIP = 253 / 255


def michelson_contrast(x: torch.Tensor, q: float = 0.01, eps: float = 1e-8) -> torch.Tensor:
    r"""Michelson contrast of the luma, with robust extremes.

    .. math:: C_M = \frac{Y_{\max} - Y_{\min}}{Y_{\max} + Y_{\min}}

    :math:`Y_{\min}, Y_{\max}` are the ``q`` and ``1 - q`` quantiles of the Rec. 601 luma (``q = 0``
    gives the classic min and max, which a single hot pixel decides; 1 % ignores such outliers).

    Args:
        x: ``(3, H, W)`` or ``(N, 3, H, W)`` in [0, 1] (grey accepted).
        q: quantile for the extremes, in [0, 0.5).

    Returns:
        ``(N,)`` in [0, 1]: 0 for a flat image (black included: 0/0 is defined as 0),
        1 whenever the dark end is pure black (a black-and-white checkerboard).
    """
    if not 0.0 <= q < 0.5:
        raise ConfigError(f"The quantile q must be in [0, 0.5); got {q}.")
    y = luminance(as_batch(x)).flatten(1).sort(dim=1).values  # (N, HW) sorted
    n = y.shape[1]
    lo = y[:, int(round(q * (n - 1)))]  # (N,)
    hi = y[:, int(round((1 - q) * (n - 1)))]
    return (hi - lo) / (hi + lo + eps)


def clipped_shadows(x: torch.Tensor, low: float = SHADOW_CLIP) -> torch.Tensor:
    r"""Fraction of pixels crushed to black, :math:`\frac{1}{HW}\sum_p [Y_p \le 2/255]`: ``(N,)`` in [0, 1].

    Moved by: lowering exposure or gamma (more), lifting shadows (less).
    """
    return clipped_fraction(as_batch(x), low=low, high=max(HIGHLIGHT_CLIP, low + 1e-6))[:, 0]


def clipped_highlights(x: torch.Tensor, high: float = HIGHLIGHT_CLIP) -> torch.Tensor:
    r"""Fraction of pixels blown out to white, :math:`\frac{1}{HW}\sum_p [Y_p \ge 253/255]`: ``(N,)`` in [0, 1]."""
    return clipped_fraction(as_batch(x), low=min(SHADOW_CLIP, high - 1e-6), high=high)[:, 1]
