"""Before/after pictures for comparing a result with its content image."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..errors import ConfigError, ShapeError


def wipe(before: torch.Tensor, after: torch.Tensor, split: float = 0.5) -> torch.Tensor:
    """One image: ``before`` left of the vertical line at ``split`` (0-1 of the width), ``after`` right of it.

    ``before`` is resized to ``after``'s size. A 2-pixel white line marks the split. Shapes ``(3, H, W)``.
    """
    if before.ndim != 3 or after.ndim != 3 or before.shape[0] != 3 or after.shape[0] != 3:
        raise ShapeError(f"wipe needs two (3, H, W) images; got {tuple(before.shape)} and {tuple(after.shape)}.")
    if not 0.0 <= float(split) <= 1.0:
        raise ConfigError(f"split must be between 0 and 1, got {split}.")
    b = before.float()
    if b.shape != after.shape:
        b = F.interpolate(b[None], size=after.shape[-2:], mode="bilinear", align_corners=False)[0]
    out = after.float().clone()
    col = int(round(float(split) * out.shape[-1]))
    out[:, :, :col] = b[:, :, :col]
    if 0 < col < out.shape[-1]:
        out[:, :, max(0, col - 1):col + 1] = 1.0
    return out
