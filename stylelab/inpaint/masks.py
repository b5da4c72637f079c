"""Inpainting masks: the one convention, its validation, and the generators.

The convention (used by every function of :mod:`stylelab.inpaint`)::

    mask: float tensor (N, 1, H, W) or (1, H, W), values in [0, 1]
          1 = hole (missing pixel, to be filled), 0 = known pixel (kept as is)

A feathered mask has soft values at the hole's edge; the *hole* is every pixel with
``mask > 0`` and the result is composited as ``mask * prediction + (1 - mask) * input``,
so a pixel with ``mask == 0`` is never changed.

Generators return ``(1, H, W)`` float32 masks:

- :func:`rect_mask` a rectangle, :func:`center_mask` a centred square hole,
- :func:`random_strokes` free-form brush strokes, the masks modern inpainters train on
  (Yu et al. 2019, "Free-Form Image Inpainting with Gated Convolution", DeepFill v2),
- :func:`random_rect_mask` a random rectangle, :func:`mask_from_image` a mask from a picture
  (an upload or a drawing canvas), :func:`feather` soft edges.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ConfigError, NonFiniteError, ShapeError

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = [
    "as_batch",
    "center_mask",
    "composite",
    "coverage",
    "damage",
    "feather",
    "hole",
    "hole_overlay",
    "mask_from_image",
    "random_rect_mask",
    "random_strokes",
    "rect_mask",
    "validate_mask",
]


# ----------------------------------------------------------------------------- validation
def as_batch(image: "torch.Tensor", mask: "torch.Tensor") -> tuple["torch.Tensor", "torch.Tensor", bool]:
    """Bring ``image`` and ``mask`` to ``(N, 3, H, W)`` / ``(N, 1, H, W)`` and validate them.

    The image goes through the one image validator of stylelab
    (:func:`stylelab.validate.as_image_batch`: RGB or grey, float, finite, in [0, 1]); the mask
    through :func:`validate_mask` (the mask convention, with its own messages).

    Args:
        image: ``(C, H, W)`` or ``(N, C, H, W)`` float image in [0, 1], C = 3 (or 1: grey, expanded).
        mask: ``(1, H, W)`` or ``(N, 1, H, W)`` (``(H, W)`` is accepted too); 1 = hole.

    Returns:
        ``(image, mask, squeezed)``: batched float tensors (mask on the image's device and dtype)
        and whether the caller passed an unbatched image (so the result can be squeezed back).

    Raises:
        ShapeError: wrong ranks or channels, or the mask's size does not match the image's.
        ImageError: not a float tensor in [0, 1]. NonFiniteError: NaN / inf in the image or the mask.
        ConfigError: the mask has no hole, or it hides the whole image.
    """
    from ..validate import as_image_batch

    x, squeezed = as_image_batch(image, name="image to inpaint")  # (N, 3, H, W)
    m = validate_mask(mask, size=tuple(x.shape[-2:]))
    if m.shape[0] not in (1, x.shape[0]):
        raise ShapeError(f"The mask batch ({m.shape[0]}) does not match the image batch ({x.shape[0]}).")
    m = m.to(device=x.device, dtype=x.dtype).expand(x.shape[0], 1, *x.shape[-2:])  # (N, 1, H, W)
    return x, m, squeezed


def validate_mask(mask: "torch.Tensor", size: tuple[int, int] | None = None) -> "torch.Tensor":
    """Check a mask against the convention and return it as float ``(N, 1, H, W)``.

    Args:
        mask: ``(H, W)``, ``(1, H, W)`` or ``(N, 1, H, W)``; bool or float in [0, 1]; 1 = hole.
        size: the image's ``(H, W)``; the mask must match it exactly.

    Raises:
        ShapeError: wrong rank, more than one channel, or a size that differs from ``size``.
        ConfigError: values outside [0, 1], no hole at all, or a hole over every pixel.
        NonFiniteError: NaN / inf values.
    """
    import torch

    if not isinstance(mask, torch.Tensor):
        raise ShapeError(f"The mask must be a tensor, got {type(mask).__name__}.")
    m = mask
    if m.ndim == 2:
        m = m[None, None]
    elif m.ndim == 3:
        if m.shape[0] != 1:
            raise ShapeError(f"A (C, H, W) mask must have one channel, got shape {tuple(mask.shape)}.")
        m = m[None]
    elif m.ndim != 4 or m.shape[1] != 1:
        raise ShapeError(f"The mask must be (1, H, W) or (N, 1, H, W), got shape {tuple(mask.shape)}.")
    m = m.float() if not m.is_floating_point() else m
    if size is not None and tuple(m.shape[-2:]) != tuple(size):
        raise ShapeError(
            f"The mask is {m.shape[-2]}x{m.shape[-1]} (HxW) but the image is {size[0]}x{size[1]}: "
            "they must be the same size."
        )
    if not torch.isfinite(m).all():
        raise NonFiniteError("The mask contains NaN or infinite values.")
    if m.min() < 0 or m.max() > 1:
        raise ConfigError(f"Mask values must lie in [0, 1] (1 = hole), got [{m.min():.3g}, {m.max():.3g}].")
    holes = (m > 0).flatten(1)  # (N, H*W)
    if not holes.any(dim=1).all():
        raise ConfigError("The mask is empty: there is no hole to fill (mark the hole with 1s).")
    if holes.all(dim=1).any():
        raise ConfigError("The mask covers the whole image: nothing is left to fill the hole from.")
    return m


def composite(pred: "torch.Tensor", x: "torch.Tensor", mask: "torch.Tensor") -> "torch.Tensor":
    r"""The inpainting result: the prediction inside the hole, the input everywhere else.

    .. math::
        y = m \odot \hat x + (1 - m) \odot x

    This is the one composite of :mod:`stylelab.inpaint` (the U-Net, the classical methods, the
    Deep Image Prior and the training loop call it), so a pixel with ``mask == 0`` is never
    changed and a feathered mask blends linearly. Differentiable in ``pred`` (and ``x``).

    Args:
        pred: the prediction :math:`\hat x`, ``(N, C, H, W)``.
        x: the input image, ``(N, C, H, W)`` (or anything that broadcasts against ``pred``).
        mask: ``(N, 1, H, W)`` or ``(1, 1, H, W)`` in [0, 1], 1 = hole (broadcast over channels).

    Returns:
        ``(N, C, H, W)``.

    Raises:
        ShapeError: the mask has more than one channel or another size than the images.

    Examples:
        >>> import torch
        >>> m = torch.tensor([[[[1.0, 0.0, 0.5]]]])  # hole, known, half-feathered
        >>> composite(torch.full((1, 1, 1, 3), 2.0), torch.zeros(1, 1, 1, 3), m).tolist()
        [[[[2.0, 0.0, 1.0]]]]
    """
    if mask.ndim != 4 or mask.shape[1] != 1 or tuple(mask.shape[-2:]) != tuple(pred.shape[-2:]) \
            or tuple(x.shape[-2:]) != tuple(pred.shape[-2:]):
        raise ShapeError(f"composite needs pred, x (N, C, H, W) and a mask (N, 1, H, W) of one size; got "
                         f"{tuple(pred.shape)}, {tuple(x.shape)}, {tuple(mask.shape)}.")
    return mask * pred + (1.0 - mask) * x  # (N, C, H, W)


def hole(mask: "torch.Tensor") -> "torch.Tensor":
    """The binary hole of a (possibly feathered) mask: 1 where ``mask > 0``."""
    return (mask > 0).to(mask.dtype)


def coverage(mask: "torch.Tensor") -> float:
    """Fraction of pixels in the hole (``mask > 0``), in [0, 1]."""
    return float((mask > 0).float().mean())


def damage(image: "torch.Tensor", mask: "torch.Tensor") -> "torch.Tensor":
    r"""The damaged input every method receives: the hole blanked to 0, so no method can peek into it.

    .. math::
        x_{damaged} = (1 - [m > 0]) \odot x

    Args:
        image: ``(3, H, W)`` or ``(N, 3, H, W)``.
        mask: ``(1, H, W)`` or ``(N, 1, H, W)`` (feathered values count as hole).

    Returns:
        same shape as ``image``.
    """
    if mask.shape[-2:] != image.shape[-2:]:
        raise ShapeError(f"The mask is {tuple(mask.shape[-2:])} but the image is {tuple(image.shape[-2:])}: "
                         "they must be the same size.")
    return image * (1.0 - hole(mask))


#: The colour the hole is shown in (RGB in [0, 1]): magenta, which no photo is full of.
HOLE_COLOUR = (1.0, 0.0, 1.0)


def hole_overlay(image: "torch.Tensor", mask: "torch.Tensor", colour: tuple[float, float, float] = HOLE_COLOUR) -> "torch.Tensor":
    r"""The picture with its hole painted in ``colour`` (magenta): what the page shows as "with the hole".

    .. math::
        (1 - [m > 0]) \odot x + [m > 0] \odot c

    Args:
        image: ``(3, H, W)`` or ``(N, 3, H, W)``; mask: ``(1, H, W)`` or ``(N, 1, H, W)``.

    Returns:
        same shape as ``image``, in [0, 1].
    """
    import torch

    c = torch.tensor(colour, dtype=image.dtype, device=image.device)[:, None, None]  # (3, 1, 1)
    return damage(image, mask) + hole(mask) * c


# ----------------------------------------------------------------------------- generators
def _check_size(height: int, width: int) -> None:
    if int(height) < 2 or int(width) < 2:
        raise ConfigError(f"A mask needs at least 2x2 pixels, got {height}x{width}.")


def rect_mask(height: int, width: int, x: int, y: int, w: int, h: int) -> "torch.Tensor":
    """A rectangular hole with top-left corner ``(x, y)`` and size ``w x h`` (pixels).

    The rectangle is clipped to the image; an empty result raises.

    Returns:
        ``(1, height, width)`` float mask, 1 inside the rectangle.
    """
    import torch

    _check_size(height, width)
    if w <= 0 or h <= 0:
        raise ConfigError(f"The rectangle needs a positive width and height, got {w}x{h}.")
    x0, y0 = max(0, int(x)), max(0, int(y))
    x1, y1 = min(width, int(x) + int(w)), min(height, int(y) + int(h))
    if x1 <= x0 or y1 <= y0:
        raise ConfigError(f"The rectangle ({x},{y},{w},{h}) lies outside the {width}x{height} image.")
    m = torch.zeros(1, height, width)  # (1, H, W)
    m[:, y0:y1, x0:x1] = 1.0
    return m


def center_mask(height: int, width: int, fraction: float = 0.25) -> "torch.Tensor":
    """A centred rectangular hole covering ``fraction`` of the image's area (same aspect)."""
    if not 0.0 < fraction < 1.0:
        raise ConfigError(f"The centre hole's area fraction must be in (0, 1), got {fraction}.")
    side = math.sqrt(fraction)
    h, w = max(1, round(height * side)), max(1, round(width * side))
    return rect_mask(height, width, (width - w) // 2, (height - h) // 2, w, h)


def random_rect_mask(
    height: int, width: int, min_frac: float = 0.15, max_frac: float = 0.5, rng: np.random.Generator | None = None
) -> "torch.Tensor":
    """A random rectangle whose sides are ``min_frac``..``max_frac`` of the image's sides."""
    rng = rng if rng is not None else np.random.default_rng()
    h = max(1, int(height * rng.uniform(min_frac, max_frac)))
    w = max(1, int(width * rng.uniform(min_frac, max_frac)))
    y = int(rng.integers(0, height - h + 1))
    x = int(rng.integers(0, width - w + 1))
    return rect_mask(height, width, x, y, w, h)


def random_strokes(
    height: int,
    width: int,
    n_strokes: tuple[int, int] = (1, 4),
    max_vertices: int = 8,
    max_width: float = 0.12,
    max_length: float = 0.3,
    rng: np.random.Generator | None = None,
    max_coverage: float = 0.6,
) -> "torch.Tensor":
    """Free-form brush strokes (DeepFill v2's training masks, scaled to the image).

    Each stroke starts at a random point and makes ``1..max_vertices`` straight moves of random
    angle and length (up to ``max_length`` of the longer side) with a round brush of width up to
    ``max_width`` of the longer side.

    Args:
        height, width: mask size.
        n_strokes: inclusive range of the number of strokes.
        max_vertices: most moves per stroke.
        max_width, max_length: brush width and move length as fractions of ``max(H, W)``.
        rng: NumPy generator (seed it for reproducible masks).
        max_coverage: strokes stop being added once this fraction of pixels is covered.

    Returns:
        ``(1, height, width)`` float mask with values in {0, 1} and at least one hole pixel.
    """
    import cv2
    import torch

    _check_size(height, width)
    if not (0 < max_width <= 1 and 0 < max_length <= 1 and 0 < max_coverage < 1):
        raise ConfigError("random_strokes: max_width, max_length in (0, 1], max_coverage in (0, 1).")
    rng = rng if rng is not None else np.random.default_rng()
    side = max(height, width)
    canvas = np.zeros((height, width), np.uint8)  # (H, W)
    lo, hi = n_strokes
    for _ in range(int(rng.integers(lo, hi + 1))):
        x, y = float(rng.uniform(0, width)), float(rng.uniform(0, height))
        brush = max(1, int(rng.uniform(0.3, 1.0) * max_width * side))
        for _ in range(int(rng.integers(1, max_vertices + 1))):
            angle = rng.uniform(0, 2 * math.pi)
            length = rng.uniform(0.1, 1.0) * max_length * side
            nx = float(np.clip(x + length * math.cos(angle), 0, width - 1))
            ny = float(np.clip(y + length * math.sin(angle), 0, height - 1))
            cv2.line(canvas, (int(x), int(y)), (int(nx), int(ny)), 1, brush)
            cv2.circle(canvas, (int(nx), int(ny)), brush // 2, 1, -1)
            x, y = nx, ny
        if canvas.mean() >= max_coverage:
            break
    if canvas.all():  # a tiny mask fully covered: open one pixel so something stays known
        canvas[0, 0] = 0
    if not canvas.any():
        canvas[height // 2, width // 2] = 1
    return torch.from_numpy(canvas.astype(np.float32))[None]  # (1, H, W)


def mask_from_image(
    src: object, size: tuple[int, int] | None = None, threshold: float = 0.5, invert: bool = False
) -> "torch.Tensor":
    """A mask from a picture: an uploaded PNG, a drawing canvas' RGBA array, a numpy array.

    White (bright) pixels become the hole; with an alpha channel (a drawing canvas), painted
    (opaque) pixels become the hole. ``invert=True`` swaps hole and known.

    Args:
        src: path, bytes, file, PIL image, or numpy array ``(H, W)``, ``(H, W, 3)``, ``(H, W, 4)``.
        size: ``(H, W)`` to resize to (nearest neighbour keeps the mask binary).
        threshold: brightness (or opacity) above which a pixel is a hole.

    Returns:
        ``(1, H, W)`` float mask in {0, 1}. It may be empty or full: validate it against the
        image with :func:`validate_mask` before use.
    """
    import torch
    from PIL import Image

    from ..imageio import open_pil

    if isinstance(src, np.ndarray):
        arr = src
        if arr.ndim == 3 and arr.shape[2] == 4:
            value = arr[..., 3].astype(np.float32)
        elif arr.ndim == 3:
            value = arr[..., :3].astype(np.float32).mean(axis=2)
        elif arr.ndim == 2:
            value = arr.astype(np.float32)
        else:
            raise ShapeError(f"A mask array must be (H, W), (H, W, 3) or (H, W, 4), got {arr.shape}.")
        if arr.dtype == np.uint8 or value.max() > 1.0:
            value = value / 255.0
        im = Image.fromarray((np.clip(value, 0, 1) * 255).astype(np.uint8), mode="L")
    else:
        im = src if isinstance(src, Image.Image) else open_pil(src)
        if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
            rgba = im.convert("RGBA")
            alpha = np.asarray(rgba)[..., 3]
            # A PNG with real transparency: painted (opaque) pixels are the hole.
            im = rgba.getchannel("A") if alpha.min() < 255 else rgba.convert("L")
        else:
            im = im.convert("L")
    if size is not None:
        im = im.resize((int(size[1]), int(size[0])), Image.NEAREST)
    value = np.asarray(im, dtype=np.float32) / 255.0  # (H, W)
    m = (value > threshold).astype(np.float32)
    if invert:
        m = 1.0 - m
    return torch.from_numpy(m)[None]  # (1, H, W)


def feather(mask: "torch.Tensor", radius: int = 3) -> "torch.Tensor":
    """Soften the hole's edge outward: known pixels near the hole get a value in (0, 1).

    The hole itself stays 1 (every missing pixel is still filled); a band of ``radius`` pixels
    around it blends prediction and input, which hides the seam of methods that do not
    match the surrounding colours exactly.

    Args:
        mask: ``(1, H, W)`` or ``(N, 1, H, W)`` binary mask.
        radius: width of the soft band in pixels (0 returns the mask unchanged).

    Returns:
        A mask of the same shape with values in [0, 1].
    """
    import torch
    import torch.nn.functional as F

    if radius < 0:
        raise ConfigError(f"Feather radius must be >= 0, got {radius}.")
    if radius == 0:
        return mask.clone()
    squeeze = mask.ndim == 3
    m = (mask[None] if squeeze else mask).float()  # (N, 1, H, W)
    # Distance (in pixels, chessboard metric) to the hole, by repeated 3x3 dilation.
    soft = m.clone()
    grown = m.clone()
    for step in range(1, radius + 1):
        grown = F.max_pool2d(grown, 3, stride=1, padding=1)
        soft = torch.maximum(soft, grown * (1.0 - step / (radius + 1)))
    return soft[0] if squeeze else soft
