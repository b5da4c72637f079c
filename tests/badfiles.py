"""Generators for the hostile and unusual uploads every page must survive (issue: bad input).

Each entry: file name -> (bytes, expectation) where expectation is ``"error"`` (a clear message
must appear) or ``"ok"`` (the image must be accepted).
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image


def _save(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _photo(w: int = 96, h: int = 64) -> Image.Image:
    y, x = np.mgrid[0:h, 0:w]
    arr = np.stack([x * 255 // max(w - 1, 1), y * 255 // max(h - 1, 1), (x + y) % 256], -1).astype(np.uint8)
    return Image.fromarray(arr)


def bomb_png(w: int = 30000, h: int = 30000) -> bytes:
    """A 100-byte PNG whose header declares w x h pixels (a decompression bomb's header)."""
    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b"")


def bad_uploads() -> dict[str, tuple[bytes, str]]:
    photo = _photo()
    png = _save(photo, "PNG")
    exif = Image.Exif()
    exif[0x0112] = 6
    frames = [Image.new("RGB", (32, 32), c) for c in ((255, 0, 0), (0, 255, 0))]
    gif = io.BytesIO()
    frames[0].save(gif, format="GIF", save_all=True, append_images=frames[1:], duration=80, loop=0)
    pal = photo.convert("P", palette=Image.Palette.ADAPTIVE)
    rgba = photo.convert("RGBA")
    rgba.putalpha(128)
    big = Image.fromarray(np.random.default_rng(0).integers(0, 255, (3000, 4000, 3), dtype=np.uint8))
    return {
        "empty.png": (b"", "error"),
        "notes.png": (b"this is a text file, not a picture\n" * 4, "error"),
        "truncated.png": (png[: len(png) // 2], "error"),
        "bomb.png": (bomb_png(), "error"),
        "cmyk.jpg": (_save(photo.convert("CMYK"), "JPEG", quality=90), "ok"),
        "deep16.png": (_save(Image.fromarray(np.asarray(photo.convert("L"), np.uint16) * 257), "PNG"), "ok"),
        "palette.png": (_save(pal, "PNG"), "ok"),
        "rgba.png": (_save(rgba, "PNG"), "ok"),
        "animated.gif": (gif.getvalue(), "ok"),
        "rotated.jpg": (_save(photo, "JPEG", exif=exif.tobytes(), quality=90), "ok"),
        "tiny.png": (_save(Image.new("RGB", (1, 1), (200, 10, 10)), "PNG"), "ok"),
        "huge_valid.jpg": (_save(big, "JPEG", quality=80), "ok"),  # 12 MP: under the 40 MP limit, resized by pages
    }
