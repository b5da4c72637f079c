"""One image validator for every lab: what a picture tensor must be, and the message when it is not.

Every lab accepts the same pictures: ``(3, H, W)`` or ``(N, 3, H, W)`` float tensors in [0, 1]
(grey ``(1, H, W)`` is expanded to RGB where the caller allows it). The same tensor is never
accepted by one lab and refused by another, and each refusal is a typed error whose message
tells a student what to do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import EmptyImageError, ImageError, NonFiniteError, ShapeError

if TYPE_CHECKING:  # pragma: no cover
    import torch

#: Slack on the [0, 1] range check (optimisers and resamplers overshoot by tiny amounts).
RANGE_TOL = 1e-3


def as_image_batch(x: object, *, name: str = "image", channels: int = 3, grey: str = "expand",
                   range_check: bool = True, min_side: int = 1,
                   max_batch: int | None = None) -> "tuple[torch.Tensor, bool]":
    """Validate a picture tensor and return it as a batch ``(N, C, H, W)``.

    Args:
        x: ``(C, H, W)`` or ``(N, C, H, W)`` floating point, values in [0, 1].
        name: how the messages call the input ("content image").
        channels: the channels the caller works with (3 for RGB, 1 for masks / grey digits).
        grey: for ``channels=3``, what a 1-channel input becomes: ``"expand"`` (grey as RGB)
            or ``"refuse"``.
        range_check: refuse values outside [0, 1] (with :data:`RANGE_TOL` slack). Never clamps.
        min_side: smallest height and width the caller can work with.
        max_batch: the largest N accepted (None: any).

    Returns:
        ``(batch, squeezed)``: the ``(N, C, H, W)`` tensor (a view where possible) and whether the
        input was a single ``(C, H, W)`` picture, so the caller can answer in the same shape.

    Raises:
        ImageError (not a float tensor, out of range), ShapeError (rank, channels, too small,
        batch too large), EmptyImageError (no pixels), NonFiniteError (NaN or infinity).
    """
    import torch

    if grey not in ("expand", "refuse"):
        raise ValueError(f"grey must be 'expand' or 'refuse', got {grey!r}")
    if not isinstance(x, torch.Tensor):
        raise ImageError(f"The {name} must be a torch tensor (3, H, W) in [0, 1], not {type(x).__name__}; "
                         "load files with stylelab.imageio.load_image.")
    squeezed = x.ndim == 3
    if squeezed:
        x = x.unsqueeze(0)
    if x.ndim != 4:
        raise ShapeError(f"The {name} must have shape (C, H, W) or (N, C, H, W); got {tuple(x.shape)}.")
    n, c, h, w = x.shape
    if n == 0 or h == 0 or w == 0:
        raise EmptyImageError(f"The {name} has no pixels: shape {tuple(x.shape)}.")
    if max_batch is not None and n > max_batch:
        raise ShapeError(f"The {name} holds {n} pictures; at most {max_batch} are allowed here.")
    if c != channels:
        if channels == 3 and c == 1 and grey == "expand":
            x = x.expand(n, 3, h, w)  # (N, 3, H, W): grey as RGB
        else:
            hint = " (drop the alpha channel, or load it with stylelab.imageio.load_image)" if c == 4 else ""
            want = "3 (RGB)" if channels == 3 else str(channels)
            if channels == 3 and grey == "expand":
                want = "1 (grey) or 3 (RGB)"
            raise ShapeError(f"The {name} must have {want} channels; got {c}{hint}.")
    if min(h, w) < min_side:
        raise ShapeError(f"The {name} is {h}x{w} px; this needs at least {min_side}x{min_side} px.")
    if not x.is_floating_point():
        raise ImageError(f"The {name} must be a float tensor in [0, 1]; got dtype {x.dtype} "
                         "(divide 8-bit pixels by 255).")
    with torch.no_grad():
        if not torch.isfinite(x).all():
            raise NonFiniteError(f"The {name} contains NaN or infinite values.")
        if range_check:
            lo, hi = float(x.min()), float(x.max())
            if lo < -RANGE_TOL or hi > 1 + RANGE_TOL:
                raise ImageError(f"The {name} must hold values in [0, 1]; got [{lo:.3g}, {hi:.3g}]"
                                 + (" (looks like 0-255 pixels: divide by 255)." if hi > 2 else "."))
    return x, squeezed


def as_image(x: object, **kwargs) -> "torch.Tensor":
    """One picture ``(C, H, W)``: :func:`as_image_batch` with ``max_batch=1``, squeezed."""
    batch, _ = as_image_batch(x, max_batch=1, **kwargs)
    return batch[0]
