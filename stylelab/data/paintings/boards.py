"""The paintings' metadata: GCompris' QML "board" files (title, artist, year, where each piece goes)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from ...errors import AssetError

_RESOURCE_DIR = "gcompris/src/activities/paintings/resource/"
_BOARD_RE = re.compile(r"board/board(\d+)_0\.qml$")


@dataclass(frozen=True)
class Painting:
    """One reassembled painting in the cache.

    Attributes:
        key: Short ASCII id, e.g. ``"mona-lisa"`` (a slug of the title).
        title: Title of the work, e.g. ``"Mona Lisa"``.
        artist: The painter, e.g. ``"Leonardo da Vinci"`` (``"unknown"`` if the package says
            nothing).
        year: Year or range as the package gives it, e.g. ``"1503-19"``, or None.
        path: The cached RGB PNG file.
    """

    key: str
    title: str
    artist: str
    year: str | None
    path: Path


@dataclass(frozen=True)
class _Piece:
    """One jigsaw piece of a board: its resource path and the relative centre position."""

    file: str
    x: float
    y: float


@dataclass(frozen=True)
class _Board:
    """One painting as described by a ``boardN_0.qml`` file."""

    level: int
    key: str
    title: str
    artist: str
    year: str | None
    width: int
    height: int
    pieces: tuple[_Piece, ...]


# Small spelling slips in the package's captions (artist names and titles only).
_ARTIST_FIXES = {
    "Katsushika Hokusa": "Katsushika Hokusai",
    "Pieter Brugel": "Pieter Bruegel the Elder",
    "Bazille": "Frédéric Bazille",
}
_TITLE_FIXES = {"Pieta": "Pietà", "Kazusa sea Route": "Kazusa Sea Route"}

_INSTRUCTION_RE = re.compile(r'instruction\s*:\s*qsTr\(\s*"((?:[^"\\]|\\.)*)"\s*\)')
_OBJECT_RE = re.compile(r"\{[^{}]*\}")
_FIELD_RE = re.compile(r'"(\w+)"\s*:\s*(?:"((?:[^"\\]|\\.)*)"|(-?[\d.]+))')
_YEAR_RE = re.compile(r"\d{3,4}")


def _slug(text: str) -> str:
    """ASCII, lower-case, dash-separated form of ``text`` (``"Pietà"`` -> ``"pieta"``)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _title_from_file(file: str) -> str:
    """A readable title from a piece file name: ``image/GreatWave_a1.webp`` -> ``Great Wave``."""
    stem = Path(file).stem
    stem = re.sub(r"[_-]([a-z]?\d+)$", "", stem)
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", stem.replace("_", " ").replace("-", " ")).split()
    return " ".join(w[:1].upper() + w[1:] for w in words) or stem


def _split_caption(caption: str) -> tuple[str | None, str, str | None]:
    """Split ``"Artist, Title - Year"`` into its parts (artist and year may be missing)."""
    caption = caption.replace('\\"', '"').strip()
    artist: str | None = None
    year: str | None = None
    if ", " in caption:
        artist, caption = caption.split(", ", 1)
    if " - " in caption:
        head, tail = caption.rsplit(" - ", 1)
        if _YEAR_RE.search(tail):
            caption, year = head, tail.strip().rstrip(".")
    title = caption.strip().rstrip(".")
    return (artist.strip() if artist else None), title, year


def _parse_board(level: int, text: str) -> _Board:
    """Parse one ``boardN_0.qml`` file of the paintings activity."""
    width, height = 702, 515
    pieces: list[_Piece] = []
    for match in _OBJECT_RE.finditer(text):
        fields = {m.group(1): m.group(2) if m.group(2) is not None else m.group(3)
                  for m in _FIELD_RE.finditer(match.group(0))}
        if fields.get("type") == "SHAPE_BACKGROUND_IMAGE":
            width = int(float(fields.get("width", width)))
            height = int(float(fields.get("height", height)))
        elif str(fields.get("pixmapfile", "")).endswith(".webp") and "x" in fields and "y" in fields:
            try:
                pieces.append(_Piece(fields["pixmapfile"], float(fields["x"]), float(fields["y"])))
            except ValueError as err:
                raise AssetError(f"Board {level} of the paintings has a bad position: {err}.") from err
    if not pieces:
        raise AssetError(f"Board {level} of the paintings lists no puzzle pieces.")
    caption = _INSTRUCTION_RE.search(text)
    artist, title, year = _split_caption(caption.group(1)) if caption else (None, "", None)
    artist = _ARTIST_FIXES.get(artist or "", artist) or "unknown"
    title = _TITLE_FIXES.get(title, title) or _title_from_file(pieces[0].file)
    key = _slug(title) or _slug(_title_from_file(pieces[0].file)) or f"painting-{level}"
    return _Board(level, key, title, artist, year, width, height, tuple(pieces))


def _boards(entries: Mapping[str, bytes]) -> list[_Board]:
    """All boards of the paintings activity found in a resource file, in level order."""
    boards: list[_Board] = []
    for path, blob in entries.items():
        match = _BOARD_RE.search(path)
        if path.startswith(_RESOURCE_DIR) and match:
            boards.append(_parse_board(int(match.group(1)), blob.decode("utf-8", "replace")))
    boards.sort(key=lambda b: b.level)
    seen: dict[str, int] = {}
    unique: list[_Board] = []
    for board in boards:  # keys must be unique even if two captions were equal
        n = seen[board.key] = seen.get(board.key, 0) + 1
        unique.append(board if n == 1 else replace(board, key=f"{board.key}-{n}"))
    return unique


