"""Shared input validation and reduction for every loss in :mod:`stylelab.losses`.

Each check raises one of :mod:`stylelab.errors`' typed errors with a message a student can read,
so a page can show ``str(err)`` as is. ``reduce`` is the one place that implements the
``reduction`` argument (``"none"`` keeps the per-image values ``(N,)``; ``"mean"``/``"sum"``
reduce over the batch).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from ..errors import ConfigError, EmptyImageError, ImageError, NonFiniteError, ShapeError

REDUCTIONS = ("none", "mean", "sum")


def check_reduction(reduction: str) -> None:
    """Raise :class:`ConfigError` unless ``reduction`` is ``"none"``, ``"mean"`` or ``"sum"``."""
    if reduction not in REDUCTIONS:
        raise ConfigError(f"Unknown reduction {reduction!r}; choose one of {REDUCTIONS}.")


def check_tensor(x: object, name: str = "input") -> torch.Tensor:
    """Raise :class:`ShapeError` unless ``x`` is a floating-point tensor."""
    if not isinstance(x, torch.Tensor):
        raise ShapeError(f"{name} must be a torch.Tensor; got {type(x).__name__}.")
    if not x.is_floating_point():
        raise ShapeError(f"{name} must be a floating-point tensor; got dtype {x.dtype}.")
    return x


def check_finite(x: torch.Tensor, name: str = "input") -> torch.Tensor:
    """Raise :class:`NonFiniteError` if ``x`` holds NaN or infinity."""
    if not torch.isfinite(x).all():
        n_nan = int(torch.isnan(x).sum())
        n_inf = int(torch.isinf(x).sum())
        raise NonFiniteError(f"{name} contains {n_nan} NaN and {n_inf} infinite value(s); losses need finite numbers.")
    return x


def check_image(x: object, name: str = "image", channels: int | None = None) -> torch.Tensor:
    """Validate one batch of images ``(N, C, H, W)``: a finite float tensor, non-empty.

    The same policy as :func:`stylelab.validate.as_image_batch` (the app-wide image validator)
    where the two overlap: a non-tensor or a non-float tensor is an :class:`ImageError`, no pixels
    an :class:`EmptyImageError`, NaN/infinity a :class:`NonFiniteError`, a wrong rank or channel
    count a :class:`ShapeError`. Unlike it, a loss takes any value range and any channel count
    unless ``channels`` is given (losses also compare feature maps and residuals), and a batch must
    be 4-D (the caller adds the batch axis).
    """
    if not isinstance(x, torch.Tensor):
        raise ImageError(f"{name} must be a torch tensor (N, C, H, W); got {type(x).__name__} "
                         "(load files with stylelab.imageio.load_image).")
    if not x.is_floating_point():
        raise ImageError(f"{name} must be a floating-point tensor; got dtype {x.dtype} (divide 8-bit pixels by 255).")
    if x.ndim != 4:
        raise ShapeError(f"{name} must have shape (N, C, H, W); got {tuple(x.shape)} (rank {x.ndim}).")
    if x.numel() == 0:
        raise EmptyImageError(f"{name} is empty: shape {tuple(x.shape)}.")
    if channels is not None and x.shape[1] != channels:
        raise ShapeError(f"{name} must have {channels} channels; got {x.shape[1]} (shape {tuple(x.shape)}).")
    return check_finite(x, name)


def check_image_pair(x: object, y: object, channels: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate two image batches that are compared pixel to pixel: same shape ``(N, C, H, W)``."""
    x = check_image(x, "x", channels)
    y = check_image(y, "y", channels)
    if x.shape != y.shape:
        raise ShapeError(
            f"x and y must have the same shape; got {tuple(x.shape)} and {tuple(y.shape)}. "
            "Resize one of them first (stylelab.imageio.resize_tensor)."
        )
    return x, y


def check_layers(layers: object, available: Mapping[str, object] | None = None, what: str = "layer") -> list[str]:
    """Turn a layer selection into a non-empty list; check each name is in ``available``."""
    if isinstance(layers, str):
        layers = [layers]
    selection = list(layers) if layers is not None else []  # type: ignore[arg-type]
    if not selection:
        raise ConfigError(f"The {what} selection is empty: choose at least one {what}.")
    if available is not None:
        missing = [n for n in selection if n not in available]
        if missing:
            raise ConfigError(f"{what.capitalize()}(s) {missing} not found; available: {list(available)}.")
    return selection


def reduce(t: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Apply ``reduction`` to per-item values ``t`` of shape ``(N,)`` (or any shape).

    ``"none"`` returns ``t`` unchanged, ``"mean"`` its mean, ``"sum"`` its sum.
    """
    check_reduction(reduction)
    if reduction == "mean":
        return t.mean()
    if reduction == "sum":
        return t.sum()
    return t
