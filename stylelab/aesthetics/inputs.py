"""Input checks shared by every aesthetic measure: shape, range, finiteness, size.

Every measure of :mod:`stylelab.aesthetics` accepts

* ``(3, H, W)`` or ``(N, 3, H, W)`` float tensors in [0, 1] (RGB);
* greyscale ``(1, H, W)`` / ``(N, 1, H, W)``: **converted** to RGB by repeating the channel (a grey
  image then has colourfulness 0 and saturation 0, as it should);

and answers with typed errors a student can read:

* other channel counts (RGBA, 2, 5...) -> :class:`~stylelab.errors.ShapeError`;
* an image with no pixels -> :class:`~stylelab.errors.EmptyImageError`;
* NaN / infinity -> :class:`~stylelab.errors.NonFiniteError`;
* values outside [0, 1] (for example 0-255 pixels) -> :class:`~stylelab.errors.ImageError`;
* smaller than a measure's minimum side (e.g. 3 px for a Laplacian) -> ``ShapeError``.

Huge images are not an error: :func:`fit_max_side` returns a resized copy whose longer side is at
most :data:`MAX_SIDE` px; the report, BRISQUE and NIQE score that copy.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..validate import RANGE_TOL, as_image_batch  # noqa: F401  (RANGE_TOL: the one slack, re-exported)

#: Longer side (px) above which the report, BRISQUE and NIQE score a resized copy.
MAX_SIDE = 1024


def as_batch(x: torch.Tensor, min_side: int = 1, name: str = "image") -> torch.Tensor:
    """Validate an image (batch) and return it as ``(N, 3, H, W)`` floating point.

    A thin wrapper over :func:`stylelab.validate.as_image_batch` (the one image validator of every
    lab): grey is expanded to RGB, values must lie in [0, 1] (never clamped).

    Args:
        x: ``(3, H, W)``, ``(N, 3, H, W)`` or greyscale ``(1, H, W)`` / ``(N, 1, H, W)`` in [0, 1].
        min_side: smallest allowed height and width for the measure asking.
        name: how the error messages call the input.

    Raises:
        ShapeError, EmptyImageError, NonFiniteError, ImageError: see the module docstring.
    """
    batch, _ = as_image_batch(x, name=name, channels=3, grey="expand", range_check=True, min_side=min_side)
    return batch  # (N, 3, H, W)


def fit_max_side(x: torch.Tensor, max_side: int | None = MAX_SIDE) -> torch.Tensor:
    """A copy of ``x`` (N, C, H, W) resized (antialiased) so that its longer side is at most ``max_side``."""
    h, w = x.shape[-2:]
    if max_side is None or max(h, w) <= max_side:
        return x
    scale = max_side / max(h, w)
    size = (max(1, round(h * scale)), max(1, round(w * scale)))
    return F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False).clamp(0, 1)

