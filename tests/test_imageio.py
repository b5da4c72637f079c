"""Image I/O: every mode to RGB, EXIF orientation, size limits, and a typed error for every bad input."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from stylelab.errors import (
    CorruptImageError,
    EmptyImageError,
    ImageError,
    ImageTooLargeError,
    NonFiniteError,
    UnsupportedImageError,
)
from stylelab.imageio import image_grid, load_image, resize_tensor, to_numpy, to_pil, to_png_bytes


def _png(im: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="PNG", **kw)
    return buf.getvalue()


def _gradient(w: int = 40, h: int = 30) -> np.ndarray:
    x = np.linspace(0, 255, w, dtype=np.float32)[None, :, None]
    y = np.linspace(0, 255, h, dtype=np.float32)[:, None, None]
    return np.concatenate([np.broadcast_to(x, (h, w, 1)), np.broadcast_to(y, (h, w, 1)), np.full((h, w, 1), 77.0)], 2).astype(np.uint8)


def test_rgb_png_roundtrip_is_exact():
    arr = _gradient()
    t = load_image(_png(Image.fromarray(arr)))
    assert t.shape == (3, 30, 40) and t.dtype == torch.float32
    assert torch.equal((t * 255).round().to(torch.uint8).permute(1, 2, 0), torch.from_numpy(arr))
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(to_png_bytes(t)))), arr)


@pytest.mark.parametrize("mode", ["L", "LA", "P", "RGBA", "CMYK", "1", "I", "F", "YCbCr"])
def test_every_mode_becomes_rgb(mode):
    im = Image.fromarray(_gradient()).convert(mode)
    data = _png(im) if mode not in ("CMYK", "YCbCr", "F", "I") else None
    if data is None:  # formats PNG cannot hold: hand PIL images / TIFF bytes directly
        buf = io.BytesIO()
        im.save(buf, format="TIFF")
        data = buf.getvalue()
    t = load_image(data)
    assert t.shape == (3, 30, 40)
    assert 0.0 <= float(t.min()) and float(t.max()) <= 1.0


def test_16bit_greyscale_keeps_its_range():
    arr = np.linspace(0, 65535, 64 * 8, dtype=np.uint16).reshape(8, 64)
    im = Image.fromarray(arr)
    assert im.mode == "I;16"
    t = load_image(_png(im))
    assert t.shape == (3, 8, 64)
    # dark end stays dark, bright end stays bright (convert("L") would clip everything to white)
    assert float(t[0, 0, 0]) < 0.01 and float(t[0, -1, -1]) > 0.99
    assert torch.equal(t[0], t[1])


def test_transparency_is_composited_over_white_not_black():
    rgba = np.zeros((4, 4, 4), np.uint8)  # fully transparent black
    t = load_image(_png(Image.fromarray(rgba)))
    assert torch.allclose(t, torch.ones_like(t))
    pal = Image.new("P", (4, 4), 0)
    pal.putpalette([0, 0, 0] * 256)
    pal.info["transparency"] = 0
    assert torch.allclose(load_image(_png(pal, transparency=0)), torch.ones(3, 4, 4))


def test_exif_orientation_is_applied():
    arr = np.zeros((10, 20, 3), np.uint8)
    arr[:, :10] = 255  # left half white
    im = Image.fromarray(arr)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW to display
    buf = io.BytesIO()
    im.save(buf, format="JPEG", exif=exif.tobytes(), quality=95)
    t = load_image(buf.getvalue())
    assert t.shape == (3, 20, 10)  # displayed portrait
    assert float(t[:, :10].mean()) > 0.9 and float(t[:, 10:].mean()) < 0.1  # white half on top


def test_animated_gif_gives_first_frame():
    frames = [Image.new("RGB", (8, 8), c) for c in ((255, 0, 0), (0, 0, 255))]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    t = load_image(buf.getvalue())
    assert float(t[0].mean()) > 0.9 and float(t[2].mean()) < 0.1


def test_size_argument():
    t = load_image(_gradient(100, 50), size=40)
    assert t.shape == (3, 20, 40)
    assert load_image(_gradient(100, 50), size=(10, 12)).shape == (3, 10, 12)
    assert resize_tensor(torch.rand(2, 3, 16, 16), 8).shape == (2, 3, 8, 8)


def test_path_file_object_pil_numpy_and_tensor(tmp_path):
    arr = _gradient()
    p = tmp_path / "a.png"
    Image.fromarray(arr).save(p)
    ref = load_image(p)
    assert torch.equal(load_image(str(p)), ref)
    with open(p, "rb") as fh:
        assert torch.equal(load_image(fh), ref)
    assert torch.equal(load_image(Image.fromarray(arr)), ref)
    assert torch.allclose(load_image(arr), ref)
    assert torch.allclose(load_image(arr.astype(np.float32) / 255.0), ref, atol=1 / 255)
    assert torch.equal(load_image(ref), ref)
    assert load_image(torch.rand(1, 5, 5)).shape == (3, 5, 5)


# ----------------------------------------------------------------------------- bad input
def test_empty_inputs():
    with pytest.raises(EmptyImageError, match="empty"):
        load_image(b"")
    with pytest.raises(EmptyImageError):
        load_image(np.zeros((0, 5, 3), np.uint8))


def test_text_file_named_png(tmp_path):
    p = tmp_path / "notes.png"
    p.write_text("this is not an image")
    with pytest.raises(CorruptImageError, match="not an image format"):
        load_image(p)


def test_truncated_png():
    data = _png(Image.fromarray(_gradient(200, 200)))
    with pytest.raises(CorruptImageError, match="truncated or corrupt"):
        load_image(data[: len(data) // 2])


def _bomb_png(w: int, h: int) -> bytes:
    """A tiny PNG whose header declares w x h pixels (no real pixel data)."""
    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_before_decoding():
    with pytest.raises(ImageTooLargeError, match="too many pixels"):
        load_image(_bomb_png(30000, 30000))
    with pytest.raises(ImageTooLargeError, match="9000x9000"):  # under PIL's own limit: our check
        load_image(_bomb_png(9000, 9000))


def test_max_pixels_is_configurable():
    with pytest.raises(ImageTooLargeError):
        load_image(_png(Image.fromarray(_gradient(100, 100))), max_pixels=5000)


def test_bad_arrays_and_tensors():
    with pytest.raises(NonFiniteError):
        load_image(np.full((4, 4, 3), np.nan, np.float32))
    with pytest.raises(NonFiniteError):
        load_image(torch.full((3, 4, 4), float("nan")))
    with pytest.raises(UnsupportedImageError):
        load_image(np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(UnsupportedImageError):
        load_image(object())  # type: ignore[arg-type]


def test_missing_path_and_folder(tmp_path):
    with pytest.raises(CorruptImageError, match="No such"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(CorruptImageError, match="folder"):
        load_image(tmp_path)


def test_all_image_errors_share_a_base_class():
    for exc in (EmptyImageError, CorruptImageError, ImageTooLargeError, UnsupportedImageError):
        assert issubclass(exc, ImageError) and issubclass(exc, ValueError)


def test_export_helpers():
    t = torch.rand(3, 6, 7)
    assert to_pil(t).size == (7, 6)
    assert to_pil(t[0]).mode == "L"
    assert to_numpy(t).shape == (6, 7, 3)
    with pytest.raises(NonFiniteError):
        to_pil(torch.full((3, 2, 2), float("inf")))
    grid = image_grid(torch.rand(5, 3, 4, 4), nrow=3, padding=1)
    assert grid.shape == (3, 2 * 5 + 1, 3 * 5 + 1)


def test_every_hostile_upload_is_either_loaded_or_refused_with_a_typed_error():
    from badfiles import bad_uploads

    for name, (data, expect) in bad_uploads().items():
        if expect == "error":
            with pytest.raises(ImageError):
                load_image(data)
        else:
            t = load_image(data, size=256)
            assert t.shape[0] == 3 and max(t.shape[1:]) <= 256 and torch.isfinite(t).all(), name
