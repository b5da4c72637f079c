"""Safe checkpoint loading, written once for every lab.

Checkpoints are plain dicts of tensors and JSON-like values saved with ``torch.save``. They are
read ONLY with ``torch.load(..., weights_only=True)`` (no arbitrary code runs on load), and every
way a file can be wrong (missing, empty, not a torch file, pickled objects, another lab's
checkpoint) becomes one :class:`~stylelab.errors.CheckpointError` with a readable message.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import IO, Any

from .errors import CheckpointError


def load_checkpoint(
    source: str | Path | bytes | bytearray | IO[bytes],
    what: str = "checkpoint",
    map_location: Any = "cpu",
    format_key: str | None = None,
    format_value: str | None = None,
) -> Any:
    """Load a checkpoint with ``weights_only=True``; check its format tag if asked.

    Args:
        source: a path, the file's bytes, or a binary file object.
        what: how to name the file in messages ("GAN Lab checkpoint").
        map_location: where tensors go (``"cpu"`` by default).
        format_key, format_value: when given, the checkpoint must be a dict whose ``format_key``
            equals ``format_value`` (so a checkpoint from another lab or project is refused).

    Raises:
        CheckpointError: missing/empty/unreadable/unsafe file, or the wrong format.
    """
    import torch

    name = what
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise CheckpointError(f"No {what} at {path}.")
        name = path.name
        if path.stat().st_size == 0:
            raise CheckpointError(f"{name} is empty (0 bytes).")
    elif isinstance(source, (bytes, bytearray)):
        if not source:
            raise CheckpointError(f"The {what} is empty (0 bytes).")
        source = io.BytesIO(bytes(source))
    try:
        blob = torch.load(source, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises pickle/zip/struct/runtime errors of many kinds on foreign files
        raise CheckpointError(f"{name} is not a readable {what} ({type(exc).__name__}: {exc}).") from exc
    if format_key is not None:
        if not isinstance(blob, dict) or blob.get(format_key) != format_value:
            raise CheckpointError(f"{name} is not a {what} (expected {format_key} {format_value!r}).")
    return blob


def to_bytes(blob: Any) -> bytes:
    """``torch.save(blob)`` as bytes (for a download button); the blob must hold tensors and plain values."""
    import torch

    buf = io.BytesIO()
    torch.save(blob, buf)
    return buf.getvalue()


def save_checkpoint(blob: Any, path: str | Path) -> Path:
    """Write ``blob`` with ``torch.save`` atomically: a temporary file in the same folder, then a rename.

    A crash or a full disk mid-write leaves the previous checkpoint intact, never half a file.
    The folder is created if needed. Every lab saves through this one function; the blob's
    ``format`` key (e.g. ``"stylelab.run/1"``) says what it is and which layout version.
    """
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(blob, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
