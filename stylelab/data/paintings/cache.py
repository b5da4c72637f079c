"""The cache of reassembled paintings: PNGs plus ``index.json`` under ``$STYLELAB_CACHE/paintings``.

:func:`extract_paintings` builds it (idempotent, atomic writes), :func:`list_paintings` and
:func:`load_painting` read it.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from ...errors import AssetError
from .boards import Painting, _boards, _slug
from .qres import read_qres
from .reassemble import _assemble

DEFAULT_RCC = Path("/usr/share/gcompris-qt/rcc/paintings.rcc")
INSTALL_HINT = "sudo apt-get install gcompris-qt-data"

_INDEX_NAME = "index.json"
# Bump when the reassembly changes so that old caches are rebuilt.
_INDEX_VERSION = 2


def cache_dir() -> Path:
    """Folder of the reassembled paintings: ``$STYLELAB_CACHE/paintings``.

    Returns:
        ``Path(os.environ.get("STYLELAB_CACHE", ~/.cache/stylelab)) / "paintings"`` (read at
        call time; not created).
    """
    root = os.environ.get("STYLELAB_CACHE") or str(Path.home() / ".cache" / "stylelab")
    return Path(root) / "paintings"


def _source_stamp(rcc: Path) -> dict[str, object]:
    """What identifies the resource file a cache was built from."""
    st = rcc.stat()
    return {"path": str(rcc), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _atomic_write(target: Path, write: Callable[[Path], None]) -> None:
    """Write ``target`` via a temporary file in the same folder and an atomic rename."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the cache is ordinary user data
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _read_index(cache: Path, rcc: Path | None) -> list[Painting] | None:
    """The cached paintings if the index is current and all its files exist, else None."""
    try:
        index = json.loads((cache / _INDEX_NAME).read_text(encoding="utf-8"))
        if index.get("version") != _INDEX_VERSION:
            return None
        if rcc is not None and rcc.is_file():
            stamp = _source_stamp(rcc)
            if {k: index["source"].get(k) for k in stamp} != stamp:
                return None
        paintings = [
            Painting(key=str(e["key"]), title=str(e["title"]), artist=str(e["artist"]),
                     year=None if e.get("year") is None else str(e["year"]), path=cache / e["file"])
            for e in index["paintings"]
            if Path(e["file"]).name == e["file"]  # a plain file name inside the cache
        ]
        if len(paintings) != len(index["paintings"]):
            return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if not paintings or not all(p.path.is_file() for p in paintings):
        return None
    return paintings


def _missing_package_error(rcc: Path) -> AssetError:
    return AssetError(
        f"The paintings are not installed: {rcc} is missing. They come from the Debian package "
        f"gcompris-qt-data (data only, about 75 MB); install it with `{INSTALL_HINT}`."
    )


def extract_paintings(rcc: str | os.PathLike[str] = DEFAULT_RCC, cache: str | os.PathLike[str] | None = None,
                      force: bool = False) -> list[Painting]:
    """Reassemble every painting of the resource file into PNGs in the cache.

    Idempotent: when ``cache/index.json`` matches the resource file (path, size, mtime) and all
    its PNGs exist, the index is returned without touching any image. Every file is written to
    a temporary name and renamed into place, so concurrent callers never see a half-written file.

    Args:
        rcc: The GCompris ``paintings.rcc`` resource file.
        cache: Output folder; defaults to :func:`cache_dir`.
        force: Rebuild even if the cache is current.

    Returns:
        The paintings, in the order of the GCompris levels.

    Raises:
        AssetError: If the resource file is missing or corrupt, holds no paintings, or the cache
            folder cannot be written.
    """
    rcc = Path(rcc)
    out = Path(cache) if cache is not None else cache_dir()
    if not force:
        cached = _read_index(out, rcc if rcc.is_file() else None)
        if cached is not None:
            return cached
    if not rcc.is_file():
        raise _missing_package_error(rcc)
    stamp = _source_stamp(rcc)
    entries = read_qres(rcc)
    boards = _boards(entries)
    if not boards:
        raise AssetError(f"{rcc} holds no GCompris painting boards.")
    try:
        out.mkdir(parents=True, exist_ok=True)
        paintings: list[Painting] = []
        records: list[dict[str, object]] = []
        for board in boards:
            assembly = _assemble(board, entries)
            file = f"{board.level:02d}-{board.key}.png"
            _atomic_write(out / file, lambda tmp, im=assembly.image: im.save(tmp, format="PNG", compress_level=3))
            paintings.append(Painting(board.key, board.title, board.artist, board.year, out / file))
            records.append({
                "key": board.key, "title": board.title, "artist": board.artist, "year": board.year,
                "file": file, "level": board.level, "width": assembly.image.width,
                "height": assembly.image.height, "pieces": assembly.pieces,
                "layout": assembly.layout, "holes_filled": assembly.holes_filled,
            })
        index = {
            "version": _INDEX_VERSION,
            "source": stamp,
            "license": "Paintings from the WebMuseum via GCompris (GPL-3.0-or-later packaging; "
                       "the works are in the public domain).",
            "paintings": records,
        }
        text = json.dumps(index, indent=2, ensure_ascii=False) + "\n"
        _atomic_write(out / _INDEX_NAME, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    except OSError as err:
        raise AssetError(f"Cannot write the paintings cache in {out}: {err.strerror or err}.") from err
    return paintings


def list_paintings() -> list[Painting]:
    """All paintings, reassembling them into the cache on first use.

    Returns:
        The paintings in GCompris level order.

    Raises:
        AssetError: If the paintings are neither cached nor installed (the message names
            ``apt-get install gcompris-qt-data``), or cannot be rebuilt.
    """
    return extract_paintings(DEFAULT_RCC, cache_dir())


def paintings_available() -> bool:
    """Whether :func:`list_paintings` can work: the cache is current or the package installed."""
    return DEFAULT_RCC.is_file() or _read_index(cache_dir(), None) is not None


def load_painting(key_or_title: str) -> Image.Image:
    """Load one painting as an RGB image.

    Args:
        key_or_title: A :attr:`Painting.key` (``"mona-lisa"``) or title (``"Mona Lisa"``,
            case-insensitive); a fragment that matches a single title also works (``"wave"``).

    Returns:
        The painting in mode ``"RGB"``; its longer side is 420-730 px.

    Raises:
        AssetError: If no painting (or more than one) matches, or the paintings are unavailable.
    """
    paintings = list_paintings()
    wanted = key_or_title.strip().casefold()
    slug = _slug(key_or_title)
    found = [p for p in paintings if p.key == slug or p.title.casefold() == wanted]
    if not found and slug:
        found = [p for p in paintings if slug in p.key]
    if len(found) != 1:
        keys = ", ".join(p.key for p in paintings)
        what = "matches several paintings" if found else "matches no painting"
        raise AssetError(f"{key_or_title!r} {what}; choose one of: {keys}.")
    try:
        with Image.open(found[0].path) as im:
            return im.convert("RGB")
    except OSError as err:
        raise AssetError(f"Cannot read the cached painting {found[0].path}: {err}.") from err
