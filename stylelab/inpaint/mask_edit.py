"""Mask editing as inpainting tools offer it: brush, rectangle, eraser, undo, and reusing a mask.

The drawing canvas (streamlit-drawable-canvas, a fabric.js canvas) returns its drawing as JSON
objects, in the order they were drawn: free-hand ``path`` strokes (``[["M", x, y], ["Q", cx, cy, x, y],
..., ["L", x, y]]`` in canvas pixels, with a ``strokeWidth``) and ``rect`` boxes (``left, top, width,
height, scaleX, scaleY``). :func:`mask_from_drawing` rasterises them here, one after another, so

- a stroke in :data:`ERASE_STROKE` (the eraser) gives its pixels back to the picture (0),
  any other stroke or box makes a hole (1): the later object wins where they overlap;
- **undo** is the drawing without its last object, **clear** the empty drawing, and the mask always
  follows the drawing exactly (no browser needed to compute it, so it is tested without one).

:func:`fit_mask` reuses a mask on a picture of another size (the "last mask" tool).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["ERASE_STROKE", "HOLE_STROKE", "fit_mask", "is_eraser", "mask_from_drawing", "stroke_points"]

#: colour of the hole strokes and of the eraser strokes on the canvas
HOLE_STROKE = "rgba(255, 0, 255, 0.7)"
ERASE_STROKE = "rgba(0, 200, 90, 0.9)"


def is_eraser(obj: dict[str, Any]) -> bool:
    """Whether a canvas object was drawn with the eraser (its stroke colour is :data:`ERASE_STROKE`)."""
    return str(obj.get("stroke", "")).replace(" ", "") == ERASE_STROKE.replace(" ", "")


def stroke_points(path: Sequence[Sequence[Any]]) -> list[tuple[float, float]]:
    """The points a fabric.js path passes through: each command's end point (and a quadratic's control point)."""
    pts: list[tuple[float, float]] = []
    for cmd in path:
        nums = [float(v) for v in cmd[1:]]
        if len(nums) % 2:
            raise ConfigError(f"A drawn path command has an odd number of coordinates: {list(cmd)!r}.")
        pts.extend(zip(nums[0::2], nums[1::2]))
    return pts


def mask_from_drawing(objects: Sequence[dict[str, Any]], height: int, width: int, scale: float = 1.0) -> "torch.Tensor":
    """The ``(1, height, width)`` mask of a canvas drawing (see the module docstring).

    Args:
        objects: the canvas JSON's ``"objects"``, in drawing order.
        height, width: the picture's size in pixels.
        scale: canvas pixels per picture pixel (the canvas shows the picture enlarged).

    Returns:
        float32 mask in {0, 1}; all zeros for an empty drawing.
    """
    import numpy as np
    import torch
    from PIL import Image, ImageDraw

    if scale <= 0:
        raise ConfigError(f"The canvas scale must be positive, got {scale}.")
    canvas = Image.new("L", (round(width * scale), round(height * scale)), 0)
    draw = ImageDraw.Draw(canvas)
    for obj in objects:
        value = 0 if is_eraser(obj) else 255
        kind = str(obj.get("type", "")).lower()  # fabric.js writes "path" or "Path" by version
        if kind == "path":
            pts = stroke_points(obj.get("path") or [])
            lw = max(1, round(float(obj.get("strokeWidth", 1))))
            if len(pts) == 1:
                pts = pts * 2
            draw.line(pts, fill=value, width=lw, joint="curve")
            r = lw / 2  # round caps at both ends and at every point (a brush is round)
            for x, y in (pts[0], pts[-1]):
                draw.ellipse((x - r, y - r, x + r, y + r), fill=value)
        elif kind == "rect":
            left, top = float(obj.get("left", 0)), float(obj.get("top", 0))
            w = float(obj.get("width", 0)) * float(obj.get("scaleX", 1))
            h = float(obj.get("height", 0)) * float(obj.get("scaleY", 1))
            if w >= 1 and h >= 1:  # the box covers [left, left + w) x [top, top + h) (PIL's corners are inclusive)
                draw.rectangle((left, top, left + w - 1, top + h - 1), fill=value)
        else:
            raise ConfigError(f"The mask canvas draws brush strokes and rectangles, not {kind!r}.")
    small = canvas.resize((width, height), Image.Resampling.BOX) if scale != 1 else canvas
    return torch.from_numpy((np.asarray(small, dtype=np.float32) >= 127.5).astype(np.float32))[None]


def fit_mask(mask: "torch.Tensor", height: int, width: int) -> "torch.Tensor":
    """Reuse ``mask`` (1, h, w) on a ``height x width`` picture: nearest-neighbour resize, still binary where it was."""
    import torch.nn.functional as F

    if mask.ndim != 3 or mask.shape[0] != 1:
        raise ConfigError(f"fit_mask takes a (1, H, W) mask, got {tuple(mask.shape)}.")
    if tuple(mask.shape[-2:]) == (height, width):
        return mask.clone()
    return F.interpolate(mask[None].float(), size=(height, width), mode="nearest")[0]
