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

from ..errors import EmptyImageError, ImageError, NonFiniteError, ShapeError

#: Longer side (px) above which the report, BRISQUE and NIQE score a resized copy.
MAX_SIDE = 1024
#: Slack on the [0, 1] range check (optimisers and resamplers overshoot by tiny amounts).
RANGE_TOL = 1e-3


def as_batch(x: torch.Tensor, min_side: int = 1, name: str = "image") -> torch.Tensor:
    """Validate an image (batch) and return it as ``(N, 3, H, W)`` floating point.

    Args:
        x: ``(3, H, W)``, ``(N, 3, H, W)`` or greyscale ``(1, H, W)`` / ``(N, 1, H, W)`` in [0, 1].
        min_side: smallest allowed height and width for the measure asking.
        name: how the error messages call the input.

    Raises:
        ShapeError, EmptyImageError, NonFiniteError, ImageError: see the module docstring.
    """
    if not isinstance(x, torch.Tensor):
        raise ImageError(f"The {name} must be a torch tensor (N, 3, H, W) in [0, 1], not {type(x).__name__}; "
                         "load files with stylelab.imageio.load_image.")
    if x.ndim == 3:
        x = x.unsqueeze(0)
    if x.ndim != 4:
        raise ShapeError(f"The {name} must have shape (3, H, W) or (N, 3, H, W); got {tuple(x.shape)}.")
    n, c, h, w = x.shape
    if n == 0 or h == 0 or w == 0:
        raise EmptyImageError(f"The {name} has no pixels: shape {tuple(x.shape)}.")
    if c == 1:
        x = x.expand(n, 3, h, w)  # (N, 3, H, W) grey as RGB
    elif c != 3:
        hint = " (drop the alpha channel or use stylelab.imageio.load_image)" if c == 4 else ""
        raise ShapeError(f"The {name} must have 1 (grey) or 3 (RGB) channels; got {c}{hint}.")
    if min(h, w) < min_side:
        raise ShapeError(f"The {name} is {h}x{w} px; this measure needs at least {min_side}x{min_side} px.")
    if not x.is_floating_point():
        raise ImageError(f"The {name} must be a float tensor in [0, 1]; got dtype {x.dtype} "
                         "(divide 8-bit pixels by 255).")
    with torch.no_grad():
        if not torch.isfinite(x).all():
            raise NonFiniteError(f"The {name} contains NaN or infinite values.")
        lo, hi = float(x.min()), float(x.max())
    if lo < -RANGE_TOL or hi > 1 + RANGE_TOL:
        raise ImageError(f"The {name} must hold values in [0, 1]; got [{lo:.3g}, {hi:.3g}]"
                         + (" (looks like 0-255 pixels: divide by 255)." if hi > 2 else "."))
    return x


def fit_max_side(x: torch.Tensor, max_side: int | None = MAX_SIDE) -> torch.Tensor:
    """A copy of ``x`` (N, C, H, W) resized (antialiased) so that its longer side is at most ``max_side``."""
    h, w = x.shape[-2:]
    if max_side is None or max(h, w) <= max_side:
        return x
    scale = max_side / max(h, w)
    size = (max(1, round(h * scale)), max(1, round(w * scale)))
    return F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False).clamp(0, 1)

