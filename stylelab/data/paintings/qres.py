"""Qt binary resource files (``.rcc``, versions 1 to 3): :func:`read_qres` returns every file in one.

Entries may be stored plain, zlib-compressed (``qCompress``: a 4-byte big-endian size, then zlib) or, in
Qt 6, as one zstd frame (needs the optional ``zstandard`` package).
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

from ...errors import AssetError

_QRES_MAGIC = b"qres"
_FLAG_COMPRESSED = 0x01  # qCompress: 4-byte big-endian size + zlib stream
_FLAG_DIRECTORY = 0x02
_FLAG_COMPRESSED_ZSTD = 0x04  # Qt 6: one zstd frame
_MAX_DEPTH = 64


class _Reader:
    """Bounds-checked big-endian reads from a byte string; any overrun is an AssetError."""

    def __init__(self, data: bytes, origin: str) -> None:
        self.data = data
        self.origin = origin

    def fail(self, what: str) -> AssetError:
        """Build the error raised for a malformed file."""
        return AssetError(f"{self.origin} is not a valid Qt resource (.rcc) file: {what}.")

    def unpack(self, fmt: str, offset: int) -> tuple[int, ...]:
        """``struct.unpack_from`` with the big-endian format ``fmt`` at ``offset``."""
        size = struct.calcsize(">" + fmt)
        if offset < 0 or offset + size > len(self.data):
            raise self.fail(f"offset {offset} points outside the file ({len(self.data)} bytes)")
        return struct.unpack_from(">" + fmt, self.data, offset)

    def take(self, offset: int, size: int) -> bytes:
        """``size`` bytes at ``offset``."""
        if offset < 0 or size < 0 or offset + size > len(self.data):
            raise self.fail(f"a block of {size} bytes at offset {offset} runs past the end")
        return self.data[offset : offset + size]


def _zstd_decompress(payload: bytes, name: str) -> bytes:
    """Decompress one zstd frame with the optional ``zstandard`` package."""
    try:
        import zstandard  # noqa: PLC0415 - optional, only Qt 6 files with zstd entries need it
    except ImportError as err:
        raise AssetError(
            f"{name} is zstd-compressed inside the resource file; install the 'zstandard' "
            "package (pip install zstandard) to read it."
        ) from err
    try:
        return zstandard.ZstdDecompressor().decompressobj().decompress(payload)
    except zstandard.ZstdError as err:
        raise AssetError(f"{name}: corrupt zstd data in the resource file ({err}).") from err


def _parse_qres(data: bytes, origin: str = "data") -> dict[str, bytes]:
    """Parse the bytes of an ``.rcc`` file; see :func:`read_qres`."""
    reader = _Reader(data, origin)
    if len(data) < 20 or data[:4] != _QRES_MAGIC:
        raise reader.fail("missing 'qres' magic header")
    version, tree, payload, names = reader.unpack("IIII", 4)
    if version not in (1, 2, 3):
        raise reader.fail(f"unsupported format version {version}")
    # Version 1 tree nodes are 14 bytes; version 2 added an 8-byte last-modified time.
    # Version 3 only adds a 4-byte "overall flags" word to the header, which we do not need.
    node_size = 14 if version == 1 else 22
    if version >= 3 and len(data) < 24:
        raise reader.fail("header truncated")
    node_count = (len(data) - tree) // node_size if 0 < tree < len(data) else 0
    if node_count < 1:
        raise reader.fail(f"tree offset {tree} lies outside the file")

    def name_of(offset: int) -> str:
        (length,) = reader.unpack("H", names + offset)
        raw = reader.take(names + offset + 6, 2 * length)  # skip the 4-byte name hash
        try:
            return raw.decode("utf-16-be")
        except UnicodeDecodeError as err:
            raise reader.fail(f"undecodable entry name ({err})") from err

    entries: dict[str, bytes] = {}
    seen: set[int] = set()

    def walk(index: int, prefix: str, depth: int) -> None:
        if index >= node_count or index in seen or depth > _MAX_DEPTH:
            raise reader.fail(f"broken directory tree at node {index}")
        seen.add(index)
        node = tree + index * node_size
        name_offset, flags = reader.unpack("IH", node)
        name = "" if index == 0 else name_of(name_offset)
        if flags & _FLAG_DIRECTORY:
            count, first = reader.unpack("II", node + 6)
            if first + count > node_count:
                raise reader.fail(f"directory {prefix + name!r} lists children past the tree")
            child_prefix = f"{prefix}{name}/" if index else ""
            for child in range(first, first + count):
                walk(child, child_prefix, depth + 1)
            return
        if index == 0:
            raise reader.fail("the root node is not a directory")
        path = prefix + name
        (data_offset,) = reader.unpack("I", node + 10)  # after the u16 country and u16 language
        (size,) = reader.unpack("I", payload + data_offset)
        blob = reader.take(payload + data_offset + 4, size)
        if flags & _FLAG_COMPRESSED_ZSTD:
            blob = _zstd_decompress(blob, path)
        elif flags & _FLAG_COMPRESSED:
            if len(blob) < 4:
                raise reader.fail(f"compressed entry {path!r} is too short")
            (expected,) = struct.unpack_from(">I", blob)
            stream = zlib.decompressobj()
            try:  # never inflate past the declared size (a hostile file could be a zip bomb)
                blob = stream.decompress(blob[4:], expected + 1)
            except zlib.error as err:
                raise reader.fail(f"corrupt zlib data in {path!r} ({err})") from err
            if len(blob) != expected or stream.unconsumed_tail or not stream.eof:
                raise reader.fail(f"{path!r} does not decompress to the {expected} bytes it declares")
        entries[path] = blob

    walk(0, "", 0)
    return entries


def read_qres(path: str | os.PathLike[str]) -> dict[str, bytes]:
    """Read every file stored in a Qt binary resource (``.rcc``) file.

    Supports format versions 1 to 3 (Qt 5 and Qt 6), uncompressed entries, zlib-compressed
    entries (flag 1; stored as a 4-byte big-endian uncompressed size followed by a zlib stream)
    and zstd-compressed entries (flag 4, Qt 6; needs the optional ``zstandard`` package).

    Args:
        path: The ``.rcc`` file.

    Returns:
        A mapping from the resource path (``"dir/sub/file.ext"``, no leading ``:/``) to the
        decompressed bytes of that file.

    Raises:
        AssetError: If the file cannot be read, is not a Qt resource file, is truncated or
            corrupt, or holds zstd entries while ``zstandard`` is not installed.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise AssetError(f"Cannot read the resource file {path}: {err.strerror or err}.") from err
    return _parse_qres(data, origin=str(path))


