"""Image input/output: anything a user can hand us -> an RGB float tensor, and back.

``load_image`` accepts a path, raw bytes, a file object, a PIL image, a NumPy array or a tensor,
applies the EXIF orientation, converts every PIL mode (1, L, LA, P, RGBA, CMYK, I;16, I, F, YCbCr,
...) to RGB, and returns a ``(3, H, W)`` float32 tensor in ``[0, 1]``. Transparent pixels are
composited over a background colour (white by default) rather than dropped to black.

Every failure is a typed :class:`~stylelab.errors.ImageError` whose message a student can read:
empty input, not an image, truncated file, decompression bomb (too many pixels, checked from the
header *before* decoding), unsupported layout, NaN values.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import IO, TYPE_CHECKING, Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import (
    CorruptImageError,
    EmptyImageError,
    ImageTooLargeError,
    NonFiniteError,
    UnsupportedImageError,
)

if TYPE_CHECKING:  # pragma: no cover
    import torch

ImageSource = Union[str, os.PathLike, bytes, bytearray, memoryview, IO[bytes], Image.Image, np.ndarray, "torch.Tensor"]

#: Default pixel budget: 40 megapixels (a 8000x5000 photo). Above it we refuse before decoding.
DEFAULT_MAX_PIXELS = 40_000_000
#: Largest upload we read at all (bytes).
DEFAULT_MAX_BYTES = 100 * 2**20


def _human(n: int) -> str:
    return f"{n / 1e6:.1f} MP" if n >= 1e6 else f"{n:,} px"


def open_pil(
    src: ImageSource,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Image.Image:
    """Open ``src`` as a fully decoded, EXIF-oriented PIL image (mode unchanged).

    Raises:
        EmptyImageError, CorruptImageError, ImageTooLargeError, UnsupportedImageError.
    """
    if isinstance(src, Image.Image):
        im = src
        _check_pixels(im.size, max_pixels)
        return ImageOps.exif_transpose(im) if hasattr(im, "getexif") else im
    if isinstance(src, (str, os.PathLike)):
        path = Path(src)
        if not path.exists():
            raise CorruptImageError(f"No such image file: {path}")
        if path.is_dir():
            raise CorruptImageError(f"{path} is a folder, not an image file.")
        size = path.stat().st_size
        if size == 0:
            raise EmptyImageError(f"The file {path.name} is empty (0 bytes).")
        if size > max_bytes:
            raise ImageTooLargeError(f"The file {path.name} is {size / 2**20:.0f} MiB; the limit is {max_bytes / 2**20:.0f} MiB.")
        data = path.read_bytes()
        name = path.name
    elif isinstance(src, (bytes, bytearray, memoryview)):
        data = bytes(src)
        name = "upload"
    elif hasattr(src, "read"):
        data = src.read(max_bytes + 1)
        name = getattr(src, "name", "upload")
        if isinstance(name, str):
            name = Path(name).name
        if len(data) > max_bytes:
            raise ImageTooLargeError(f"The file {name} is larger than the {max_bytes / 2**20:.0f} MiB limit.")
    else:
        raise UnsupportedImageError(f"Cannot read an image from an object of type {type(src).__name__}.")
    if not data:
        raise EmptyImageError(f"The file {name} is empty (0 bytes).")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
            _check_pixels(im.size, max_pixels)  # header only: nothing decoded yet
            if getattr(im, "n_frames", 1) > 1:
                im.seek(0)  # animated GIF/WebP/APNG: the first frame
            im.load()
    except ImageTooLargeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLargeError(
            f"{name} declares too many pixels to be decoded safely (a decompression bomb?); "
            f"the limit is {_human(max_pixels)}. Details: {exc}"
        ) from exc
    except UnidentifiedImageError as exc:
        raise CorruptImageError(f"{name} is not an image format we can read (is it really a PNG/JPEG/WebP/GIF?).") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        # PIL reports truncated/corrupt data as OSError ("image file is truncated", "broken data stream")
        raise CorruptImageError(f"{name} could not be decoded: it looks truncated or corrupt ({exc}).") from exc
    try:
        im = ImageOps.exif_transpose(im)
    except (OSError, ValueError, SyntaxError, KeyError, TypeError) as exc:
        raise CorruptImageError(f"{name} has an unreadable EXIF orientation block ({exc}).") from exc
    return im


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    w, h = size
    if w <= 0 or h <= 0:
        raise EmptyImageError(f"The image has no pixels ({w}x{h}).")
    if w * h > max_pixels:
        raise ImageTooLargeError(
            f"The image is {w}x{h} ({_human(w * h)}); the limit is {_human(max_pixels)}. "
            "Please resize it before uploading."
        )


def pil_to_rgb(im: Image.Image, background: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """Convert any PIL mode to 8-bit RGB, compositing transparency over ``background``.

    High-bit-depth greyscale (``I;16``, ``I``, ``F``) is rescaled from its own range rather
    than clipped (PIL's ``convert("L")`` would clip 16-bit values at 255).
    """
    mode = im.mode
    if mode == "RGB":
        return im
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(im, dtype=np.float64)
        if not np.isfinite(arr).all():
            raise NonFiniteError("The image contains NaN or infinite pixel values.")
        if mode.startswith("I;16"):
            scale = 65535.0
        else:
            lo, hi = float(arr.min()), float(arr.max())
            arr = arr - lo
            scale = (hi - lo) or 1.0
        g = np.clip(arr / scale * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(g).convert("RGB")
    if mode == "P":
        im = im.convert("RGBA") if "transparency" in im.info else im.convert("RGB")
        mode = im.mode
        if mode == "RGB":
            return im
    if mode in ("LA", "La", "PA", "RGBa"):
        im = im.convert("RGBA")
        mode = "RGBA"
    if mode == "RGBA":
        bg = Image.new("RGB", im.size, background)
        bg.paste(im, mask=im.getchannel("A"))
        return bg
    try:
        return im.convert("RGB")  # 1, L, CMYK, YCbCr, LAB, HSV
    except (ValueError, OSError) as exc:
        raise UnsupportedImageError(f"Images in PIL mode {mode!r} cannot be converted to RGB.") from exc


def load_image(
    src: ImageSource,
    size: int | tuple[int, int] | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    background: tuple[int, int, int] = (255, 255, 255),
) -> "torch.Tensor":
    """Load anything image-like as an RGB float tensor.

    Args:
        src: path, bytes, file object, PIL image, NumPy array ``(H, W)``, ``(H, W, C)`` with
            C in {1, 3, 4} (uint8, uint16 or float in [0, 1]), or a tensor ``(C, H, W)``.
        size: None keeps the size; an int resizes so the *longer* side equals it (aspect kept);
            ``(H, W)`` resizes exactly. Resampling is Lanczos with antialiasing.
        max_pixels: refuse images with more pixels than this (checked before decoding).
        background: RGB colour that transparent pixels are composited over.

    Returns:
        Tensor of shape ``(3, H, W)``, dtype float32, values in ``[0, 1]``.

    Raises:
        EmptyImageError, CorruptImageError, ImageTooLargeError, UnsupportedImageError,
        NonFiniteError.
    """
    import torch

    if isinstance(src, torch.Tensor):
        return _tensor_to_rgb(src, size)
    if isinstance(src, np.ndarray):
        im = array_to_pil(src)
    else:
        im = open_pil(src, max_pixels=max_pixels)
    im = pil_to_rgb(im, background)
    if size is not None:
        im = resize_pil(im, size)
    arr = np.asarray(im, dtype=np.float32) / 255.0  # (H, W, 3)
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).contiguous()  # (3, H, W)


def array_to_pil(arr: np.ndarray) -> Image.Image:
    """NumPy ``(H, W)`` / ``(H, W, C)`` (uint8, uint16, bool or float in [0, 1]) -> PIL image."""
    if arr.size == 0:
        raise EmptyImageError(f"The array has no pixels (shape {arr.shape}).")
    if arr.ndim == 3 and arr.shape[0] in (1, 3, 4) and arr.shape[2] > 4:
        arr = np.moveaxis(arr, 0, -1)  # (C, H, W) -> (H, W, C)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise UnsupportedImageError(f"An image array must be (H, W) or (H, W, 3|4); got shape {arr.shape}.")
    if arr.dtype == np.bool_:
        arr = arr.astype(np.uint8) * 255
    elif arr.dtype == np.uint16:
        arr = (arr.astype(np.float64) / 257.0 + 0.5).astype(np.uint8)
    elif np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all():
            raise NonFiniteError("The image array contains NaN or infinite values.")
        arr = (np.clip(arr, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    elif arr.dtype != np.uint8:
        if arr.min() < 0 or arr.max() > 255:
            raise UnsupportedImageError(f"Integer image arrays must be in [0, 255]; got dtype {arr.dtype} range [{arr.min()}, {arr.max()}].")
        arr = arr.astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(arr))  # uint8: L, RGB or RGBA from the shape


def _tensor_to_rgb(t: "torch.Tensor", size: int | tuple[int, int] | None) -> "torch.Tensor":
    import torch

    if t.ndim == 4 and t.shape[0] == 1:
        t = t[0]
    if t.ndim == 2:
        t = t.unsqueeze(0)
    if t.ndim != 3 or t.shape[0] not in (1, 3, 4):
        raise UnsupportedImageError(f"An image tensor must be (C, H, W) with C in 1, 3, 4; got {tuple(t.shape)}.")
    if t.numel() == 0:
        raise EmptyImageError(f"The image tensor has no pixels ({tuple(t.shape)}).")
    t = t.detach().to(torch.float32)
    if not torch.isfinite(t).all():
        raise NonFiniteError("The image tensor contains NaN or infinite values.")
    if t.shape[0] == 1:
        t = t.expand(3, -1, -1)
    elif t.shape[0] == 4:
        rgb, a = t[:3], t[3:].clamp(0, 1)
        t = rgb * a + (1 - a)  # over white
    t = t.clamp(0, 1).contiguous()
    if size is not None:
        t = resize_tensor(t, size)
    return t


def _target_size(w: int, h: int, size: int | tuple[int, int]) -> tuple[int, int]:
    """(W, H) after resizing so the longer side is ``size`` (int) or exactly ``(H, W)``."""
    if isinstance(size, int):
        if size < 1:
            raise UnsupportedImageError(f"Target size must be at least 1 pixel, got {size}.")
        scale = size / max(w, h)
        return max(1, round(w * scale)), max(1, round(h * scale))
    th, tw = size
    if th < 1 or tw < 1:
        raise UnsupportedImageError(f"Target size must be at least 1x1, got {size}.")
    return int(tw), int(th)


def resize_pil(im: Image.Image, size: int | tuple[int, int]) -> Image.Image:
    """Resize a PIL image; ``size`` int = longer side, tuple = ``(H, W)``."""
    tw, th = _target_size(im.width, im.height, size)
    if (tw, th) == im.size:
        return im
    return im.resize((tw, th), Image.Resampling.LANCZOS, reducing_gap=3.0 if tw < im.width else None)


def resize_tensor(t: "torch.Tensor", size: int | tuple[int, int]) -> "torch.Tensor":
    """Resize ``(C, H, W)`` or ``(N, C, H, W)`` with antialiased bicubic; output clamped to [0, 1]."""
    import torch.nn.functional as F

    squeeze = t.ndim == 3
    x = t.unsqueeze(0) if squeeze else t
    h, w = x.shape[-2:]
    tw, th = _target_size(w, h, size)
    if (th, tw) != (h, w):
        x = F.interpolate(x, size=(th, tw), mode="bicubic", align_corners=False, antialias=True).clamp(0, 1)
    return x[0] if squeeze else x


def to_pil(t: "torch.Tensor") -> Image.Image:
    """``(3, H, W)``, ``(1, H, W)``, ``(H, W)`` or ``(1, 3, H, W)`` tensor in [0, 1] -> RGB/L PIL image."""
    import torch

    if t.ndim == 4:
        if t.shape[0] != 1:
            raise UnsupportedImageError(f"to_pil takes one image; got a batch of {t.shape[0]}.")
        t = t[0]
    t = t.detach().to("cpu", torch.float32)
    if not torch.isfinite(t).all():
        raise NonFiniteError("Cannot export an image with NaN or infinite values.")
    if t.ndim == 3 and t.shape[0] == 1:
        t = t[0]
    arr = (t.clamp(0, 1) * 255.0 + 0.5).to(torch.uint8)
    if arr.ndim == 2:
        return Image.fromarray(arr.numpy())
    if arr.ndim != 3 or arr.shape[0] != 3:
        raise UnsupportedImageError(f"to_pil expects (3, H, W) or (H, W); got {tuple(t.shape)}.")
    return Image.fromarray(arr.permute(1, 2, 0).contiguous().numpy())


def to_numpy(t: "torch.Tensor") -> np.ndarray:
    """``(3, H, W)`` tensor -> ``(H, W, 3)`` float32 array in [0, 1] (for plotting)."""
    import torch

    if t.ndim == 4:
        t = t[0]
    arr = t.detach().to("cpu", torch.float32).clamp(0, 1)
    return arr.permute(1, 2, 0).numpy() if arr.ndim == 3 else arr.numpy()


def to_png_bytes(t: "torch.Tensor | Image.Image") -> bytes:
    """Encode a tensor (or PIL image) as PNG bytes (for downloads)."""
    im = t if isinstance(t, Image.Image) else to_pil(t)
    buf = io.BytesIO()
    im.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def image_grid(images: "torch.Tensor", nrow: int = 8, padding: int = 2, pad_value: float = 1.0) -> "torch.Tensor":
    """Tile ``(N, C, H, W)`` images into one ``(C, H', W')`` grid (C = 1 or 3)."""
    import torch

    if images.ndim != 4:
        raise UnsupportedImageError(f"image_grid expects (N, C, H, W); got {tuple(images.shape)}.")
    n, c, h, w = images.shape
    nrow = max(1, min(nrow, n))
    rows = (n + nrow - 1) // nrow
    grid = torch.full((c, rows * (h + padding) + padding, nrow * (w + padding) + padding), pad_value, dtype=images.dtype)
    for i in range(n):
        r, col = divmod(i, nrow)
        y, x = padding + r * (h + padding), padding + col * (w + padding)
        grid[:, y : y + h, x : x + w] = images[i].detach().cpu()
    return grid
