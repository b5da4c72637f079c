r"""Crop-to-mask: inpaint a large image around its holes only, at the scale the network was trained on.

Practical inpainting tools on a CPU do not run the network on a 1024 px photo with a 40 px hole.
For each connected hole region (:func:`hole_regions`) they

1. take a square window around the region's bounding box, ``margin`` times its size on each side
   (at least ``min_side`` px, clipped to the image);
2. resize the window to ``scale`` px when it is larger (the trained scale), fill it, resize the
   prediction back;
3. paste back **only the hole's pixels**: :math:`y = m \odot \hat x + (1 - m) \odot x` over the window,
   so every known pixel (:math:`m = 0`) is the input's, bit for bit.

The cost is then that of a ``scale`` px image per region, whatever the photo's size.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from ..errors import ConfigError
from .masks import composite

__all__ = ["crop_window", "hole_regions", "inpaint_cropped"]


def hole_regions(mask: torch.Tensor) -> list[tuple[int, int, int, int]]:
    """Bounding boxes ``(top, left, bottom, right)`` (exclusive ends) of the 8-connected hole regions.

    Args:
        mask: ``(1, H, W)`` or ``(H, W)``; the hole is ``mask > 0``.
    """
    from scipy import ndimage

    m = (mask.reshape(mask.shape[-2:]) > 0).cpu().numpy()
    labels, _ = ndimage.label(m, structure=[[1, 1, 1], [1, 1, 1], [1, 1, 1]])
    return [(s[0].start, s[1].start, s[0].stop, s[1].stop) for s in ndimage.find_objects(labels) if s is not None]


def crop_window(box: tuple[int, int, int, int], height: int, width: int, margin: float = 1.0,
                min_side: int = 64) -> tuple[int, int, int, int]:
    """A square window ``(top, left, bottom, right)`` around ``box``, ``margin`` x its side of context per side.

    The side is ``max(min_side, (1 + 2 margin) max(box h, box w))``, at most the image's shorter side;
    the window is shifted (not shrunk) to stay inside the image, and always contains ``box``
    (when ``box`` is larger than the shorter side, the window is the box's rectangle itself).
    """
    top, left, bottom, right = box
    bh, bw = bottom - top, right - left
    side = max(min_side, round((1 + 2 * margin) * max(bh, bw)))
    sh, sw = min(side, height), min(side, width)
    sh, sw = max(sh, bh), max(sw, bw)
    cy, cx = (top + bottom) / 2, (left + right) / 2
    t = int(min(max(round(cy - sh / 2), 0), height - sh))
    lft = int(min(max(round(cx - sw / 2), 0), width - sw))
    return t, lft, t + sh, lft + sw


def inpaint_cropped(image: torch.Tensor, mask: torch.Tensor, fill: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                    scale: int = 128, margin: float = 1.0, min_side: int = 64) -> torch.Tensor:
    """Fill each hole region of ``image`` inside its own window (see the module docstring).

    Args:
        image: ``(3, H, W)`` in [0, 1].
        mask: ``(1, H, W)``, 1 = hole (soft values blend, as everywhere).
        fill: ``fill(window (1, 3, h, w), window_mask (1, 1, h, w)) -> prediction (1, 3, h, w)``
            (a method's raw prediction, e.g. :func:`stylelab.inpaint.methods.predict`).
        scale: windows larger than this are resized to ``scale`` px (longer side) before ``fill``.
        margin, min_side: see :func:`crop_window`.

    Returns:
        ``(3, H, W)``: the input with every hole pixel filled; known pixels are the input's exactly.
    """
    from ..imageio import resize_tensor

    if image.ndim != 3 or mask.ndim != 3 or mask.shape[-2:] != image.shape[-2:]:
        raise ConfigError(f"inpaint_cropped takes (3, H, W) and (1, H, W); got {tuple(image.shape)}, {tuple(mask.shape)}.")
    if scale < 16:
        raise ConfigError(f"The trained scale must be >= 16 px, got {scale}.")
    out = image.clone()
    h, w = image.shape[-2:]
    for box in hole_regions(mask):
        t, lft, b, r = crop_window(box, h, w, margin, min_side)
        win = out[:, t:b, lft:r]  # (3, h', w'): earlier regions' fills are context now
        wm = mask[:, t:b, lft:r]
        wh, ww = win.shape[-2:]
        if max(wh, ww) > scale:
            s = scale / max(wh, ww)
            size = (max(16, round(wh * s)), max(16, round(ww * s)))
            # a small pixel is hole if any of its footprint is, grown by 1 px for the resize's support
            small_mask = (F.interpolate((wm > 0).float()[None], size=size, mode="area") > 0).float()
            small_mask = F.max_pool2d(small_mask, 3, stride=1, padding=1)[0]  # (1, h, w)
            pred = fill(resize_tensor(win, size)[None], small_mask[None])[0]  # (3, h, w)
            pred = resize_tensor(pred, (wh, ww))
        else:
            pred = fill(win[None], (wm > 0).float()[None])[0]
        out[:, t:b, lft:r] = composite(pred.to(image.dtype)[None], win[None], wm.to(image.dtype)[None])[0]
    known = mask <= 0
    return torch.where(known.expand_as(image), image, out)  # known pixels: the input's, bit for bit
