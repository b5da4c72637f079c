"""The class gallery: every student's published result, in one SQLite file the whole class shares.

"Publish to the class gallery" on a lab's result stores its picture (a thumbnail, longer side at
most :data:`THUMB_SIDE` px), its experiment record (so anyone can reproduce it) and a short
caption. The database is embedded (``sqlite3``, no server): its path comes from the argument, else
``$STYLELAB_GALLERY_DB``, else ``~/.cache/stylelab/gallery.sqlite3``.

Many students publish at once, from the threads of one Streamlit server or from several
processes: the file is in WAL mode (readers never block the writer), every call opens its own
connection (nothing is shared between threads), waits up to :data:`BUSY_TIMEOUT_S` for the write
lock (``busy_timeout``) and takes it up front (``BEGIN IMMEDIATE``), so no publish fails with
"database is locked". Every write is a committed transaction: nothing is lost when the process
restarts.

    gallery = Gallery()
    entry_id = gallery.publish(run.preview(), run.record(), caption="beta = 1e7")
    for entry in gallery.list(limit=12, lab="style"):
        st.image(entry.png, caption=entry.caption)   # st.caption/markdown: entry.caption_html

Limits (each refused with a typed error, never cut down silently): a picture of more than
:data:`MAX_INPUT_PIXELS` pixels or :data:`MAX_INPUT_BYTES` bytes (``ImageTooLargeError``), a
record of more than :data:`MAX_RECORD_BYTES` of JSON (``RecordError``), a caption longer than
:data:`MAX_CAPTION` characters (``GalleryError``).
"""

from __future__ import annotations

import html
import json
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ImageError, ImageTooLargeError, RecordError, StylelabError
from ..record import ExperimentRecord

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from PIL import Image

#: The schema of the database, kept in its ``meta`` table (a newer one is refused, not guessed at).
FORMAT = "stylelab.gallery/1"
DB_ENV = "STYLELAB_GALLERY_DB"
DEFAULT_NAME = "gallery.sqlite3"
#: Longest caption (characters) and session name.
MAX_CAPTION = 280
MAX_SESSION = 64
#: Largest picture accepted (pixels, and bytes for an encoded one): 16.8 MP, 20 MiB.
MAX_INPUT_PIXELS = 4096 * 4096
MAX_INPUT_BYTES = 20 * 2**20
#: Longer side of the stored thumbnail (px); smaller pictures are stored at their own size.
THUMB_SIDE = 512
#: Largest experiment record (bytes of compact JSON).
MAX_RECORD_BYTES = 2 * 2**20
#: Longest settings summary kept with an entry (characters).
MAX_SETTINGS = 300
#: Most entries one :meth:`Gallery.list` call returns.
MAX_LIST = 100
#: How long a call waits for another writer before giving up (seconds).
BUSY_TIMEOUT_S = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    created  TEXT    NOT NULL,
    lab      TEXT    NOT NULL,
    caption  TEXT    NOT NULL,
    session  TEXT    NOT NULL,
    settings TEXT    NOT NULL,
    width    INTEGER NOT NULL,
    height   INTEGER NOT NULL,
    png      BLOB    NOT NULL,
    record   TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_by_lab ON entries (lab, id);
"""
_COLUMNS = "id, created, lab, caption, session, settings, width, height, png, record"


class GalleryError(StylelabError):
    """The class gallery cannot do this (unreadable database, bad caption, no such entry, ...)."""


@dataclass(frozen=True)
class GalleryEntry:
    """One published result.

    Attributes:
        id: the entry's number (increasing with publication).
        lab: the lab of its record (``style``, ``gan``, ...).
        created: when it was published, UTC (``2026-12-01T13:05:00.123Z``).
        caption: the caption as the student typed it; ``caption_html``: the same, HTML-escaped, for
            ``st.markdown(..., unsafe_allow_html=True)`` or any HTML page.
        session: who published it (a session name the page chose, may be empty).
        settings: a one-line summary of the record's settings (``style · seed 0 · size=256, ...``).
        width, height: the stored picture's size (px); png: its PNG bytes.
        record_json: the experiment record as stored; :attr:`record` parses it.
    """

    id: int
    lab: str
    created: str
    caption: str
    session: str
    settings: str
    width: int
    height: int
    png: bytes
    record_json: str

    @property
    def caption_html(self) -> str:
        return html.escape(self.caption)

    @property
    def record(self) -> ExperimentRecord:
        """The experiment record (``Cls.from_record(entry.record, ...)`` reproduces the run)."""
        return ExperimentRecord.from_json(self.record_json)


def default_path() -> Path:
    """``$STYLELAB_GALLERY_DB`` if set, else ``gallery.sqlite3`` in stylelab's cache folder."""
    env = os.environ.get(DB_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    from ..assets import cache_root

    return cache_root() / DEFAULT_NAME


def settings_summary(record: ExperimentRecord) -> str:
    """One line naming what made a result: lab, method, seed and the record's plain config values.

    ``style · gatys · seed 0 · size=256, steps=60, content_weight=1, style_weight=1e+06``
    """
    parts = [record.lab]
    method = record.config.get("method") or record.config.get("kind")
    if isinstance(method, str) and method:
        parts.append(method)
    parts.append(f"seed {record.seed}")
    items = []
    for key, value in record.config.items():
        if key in ("method", "kind", "seed") or value is None or isinstance(value, (dict, list)):
            continue
        text = f"{value:.3g}" if isinstance(value, float) else str(value)
        items.append(f"{key}={text}")
    line = " · ".join(parts) + (" · " + ", ".join(items) if items else "")
    return line if len(line) <= MAX_SETTINGS else line[: MAX_SETTINGS - 1] + "…"  # a display line, not data


def _now() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


def _text(value: Any, name: str, limit: int) -> str:
    if not isinstance(value, str):
        raise GalleryError(f"The {name} must be text, not {type(value).__name__}.")
    if len(value) > limit:
        raise GalleryError(f"A {name} may have at most {limit} characters; this one has {len(value)}.")
    return value


def _entry_id(entry_id: Any) -> int:
    if isinstance(entry_id, bool) or not isinstance(entry_id, int) or entry_id < 1:
        raise GalleryError(f"A gallery entry id is a whole number from 1, not {entry_id!r}.")
    return entry_id


def _picture(image: Any) -> Image.Image:
    """A ``(3, H, W)`` tensor in [0, 1] (or ``(1, 3, H, W)``, or grey) or encoded image bytes -> RGB PIL."""
    from ..imageio import open_pil, pil_to_rgb, to_pil

    if isinstance(image, (bytes, bytearray, memoryview)):
        data = bytes(image)
        if len(data) > MAX_INPUT_BYTES:
            raise ImageTooLargeError(f"The picture is {len(data) / 2**20:.1f} MiB; the gallery takes at most "
                                     f"{MAX_INPUT_BYTES // 2**20} MiB.")
        return pil_to_rgb(open_pil(data, max_pixels=MAX_INPUT_PIXELS, max_bytes=MAX_INPUT_BYTES))
    import torch

    if not isinstance(image, torch.Tensor):
        raise ImageError(f"The gallery takes a picture as a (3, H, W) tensor in [0, 1] or PNG bytes, "
                         f"not {type(image).__name__}.")
    from ..validate import as_image_batch

    batch, _ = as_image_batch(image, name="gallery picture", max_batch=1)  # (1, 3, H, W)
    h, w = batch.shape[-2:]
    if h * w > MAX_INPUT_PIXELS:
        raise ImageTooLargeError(f"The picture is {w}x{h} px; the gallery takes at most {MAX_INPUT_PIXELS:,} pixels.")
    return to_pil(batch[0])


def _thumbnail(im: Image.Image) -> Image.Image:
    """Longer side at most :data:`THUMB_SIDE` (LANCZOS, aspect kept); a smaller picture is kept as is."""
    from ..imageio import resize_pil

    return resize_pil(im, THUMB_SIDE) if max(im.size) > THUMB_SIDE else im


def _record(record: Any) -> tuple[ExperimentRecord, str]:
    from .urlstate import SCHEMAS

    if isinstance(record, ExperimentRecord):
        rec = ExperimentRecord.from_dict(record.to_dict())
    elif isinstance(record, Mapping):
        rec = ExperimentRecord.from_dict(dict(record))
    else:
        raise RecordError(f"The gallery takes an ExperimentRecord or its dict, not {type(record).__name__}.")
    if rec.lab not in SCHEMAS:
        raise RecordError(f"No stylelab lab is called {rec.lab!r}; the labs are {', '.join(SCHEMAS)}.")
    text = rec.to_json(indent=None)
    size = len(text.encode("utf-8"))
    if size > MAX_RECORD_BYTES:
        raise RecordError(f"This experiment record is {size / 2**20:.1f} MiB; the gallery keeps records of at most "
                          f"{MAX_RECORD_BYTES // 2**20} MiB (log fewer rows).")
    return rec, text


class Gallery:
    """The class gallery in the SQLite file ``path`` (see :func:`default_path`); created if missing.

    Safe to share between threads and processes: each call uses its own connection.

    Raises:
        GalleryError: the file is not a SQLite database, was made by a newer stylelab, or cannot be
            created.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        if path is not None and str(path) in ("", ":memory:"):
            raise GalleryError("The class gallery needs a file (every call opens its own connection), "
                               "not an in-memory database.")
        self.path = Path(path).expanduser() if path is not None else default_path()
        self._closed = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise GalleryError(f"Cannot create the gallery folder {self.path.parent}: {exc}") from exc
        with self._db() as con:
            mode = con.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise GalleryError(f"The gallery file {self.path} cannot use write-ahead logging (journal mode "
                                   f"{mode!r}): put it on a local disk ({DB_ENV}).")
            with self._write(con):
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        con.execute(statement)  # one by one: executescript() would commit early
                row = con.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
                if row is None:
                    con.execute("INSERT INTO meta (key, value) VALUES ('format', ?)", (FORMAT,))
                elif row[0] != FORMAT:
                    raise GalleryError(f"{self.path} holds a gallery of format {row[0]!r}; this stylelab reads "
                                       f"{FORMAT!r} (a newer stylelab made it, or it is another program's file).")

    # ------------------------------------------------------------------ connections
    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        if self._closed:
            raise GalleryError("This gallery was closed; open it again with Gallery(path).")
        try:
            con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as exc:
            raise GalleryError(f"Cannot open the gallery {self.path}: {exc}") from exc
        try:
            con.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            con.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: a commit survives a process crash
            yield con
        except sqlite3.DatabaseError as exc:
            raise GalleryError(f"The gallery {self.path} could not be used: {exc}") from exc
        finally:
            con.close()

    @staticmethod
    @contextmanager
    def _write(con: sqlite3.Connection) -> Iterator[None]:
        """One write transaction, the lock taken up front (a deferred one could fail to upgrade)."""
        con.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")

    def close(self) -> None:
        """Stop using this gallery object (nothing stays open between calls; the data is on disk)."""
        self._closed = True

    def __enter__(self) -> Gallery:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ the API
    def publish(self, image: torch.Tensor | bytes, record: ExperimentRecord | Mapping[str, Any],
                caption: str = "", session: str = "") -> int:
        """Add a result to the gallery; returns its entry id.

        Args:
            image: the result, a ``(3, H, W)`` float tensor in [0, 1] (``(1, 3, H, W)`` and grey
                ``(1, H, W)`` are accepted too) or encoded image bytes (PNG; JPEG/WebP also read).
                Stored as a PNG thumbnail, longer side at most :data:`THUMB_SIDE` px.
            record: the run's :class:`~stylelab.record.ExperimentRecord` (or its ``to_dict()``).
            caption: a short text (at most :data:`MAX_CAPTION` characters), stored as given.
            session: who publishes (at most :data:`MAX_SESSION` characters).

        Raises:
            ImageError (and its subclasses: too large, corrupt, wrong shape), ShapeError,
            NonFiniteError, RecordError (not a record, unknown lab, too large), GalleryError.
        """
        caption = _text(caption, "caption", MAX_CAPTION)
        session = _text(session, "session name", MAX_SESSION)
        rec, record_json = _record(record)
        from ..imageio import to_png_bytes

        thumb = _thumbnail(_picture(image))
        png = to_png_bytes(thumb)
        row = (_now(), rec.lab, caption, session, settings_summary(rec), thumb.width, thumb.height,
               sqlite3.Binary(png), record_json)
        with self._db() as con, self._write(con):
            cur = con.execute("INSERT INTO entries (created, lab, caption, session, settings, width, height, png, record)"
                              " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
            return int(cur.lastrowid)

    def get(self, entry_id: int) -> GalleryEntry:
        """The entry ``entry_id`` (GalleryError if there is none, e.g. deleted)."""
        entry_id = _entry_id(entry_id)
        with self._db() as con:
            row = con.execute(f"SELECT {_COLUMNS} FROM entries WHERE id = ?", (entry_id,)).fetchone()
        if row is None:
            raise GalleryError(f"The class gallery has no entry #{entry_id} (deleted, or never published).")
        return _entry(row)

    def list(self, limit: int = 20, offset: int = 0, lab: str | None = None) -> list[GalleryEntry]:
        """Entries, newest first: ``limit`` (1-:data:`MAX_LIST`) of them after skipping ``offset``;
        only ``lab``'s if given."""
        for name, value, lo, hi in (("limit", limit, 1, MAX_LIST), ("offset", offset, 0, None)):
            if isinstance(value, bool) or not isinstance(value, int) or value < lo or (hi is not None and value > hi):
                raise GalleryError(f"Gallery {name} must be a whole number in [{lo}, {hi if hi else '∞'}], not {value!r}.")
        where, args = self._lab_filter(lab)
        with self._db() as con:
            rows = con.execute(f"SELECT {_COLUMNS} FROM entries{where} ORDER BY id DESC LIMIT ? OFFSET ?",
                               (*args, limit, offset)).fetchall()
        return [_entry(r) for r in rows]

    def count(self, lab: str | None = None) -> int:
        """How many entries the gallery holds (only ``lab``'s if given)."""
        where, args = self._lab_filter(lab)
        with self._db() as con:
            return int(con.execute(f"SELECT COUNT(*) FROM entries{where}", args).fetchone()[0])

    def delete(self, entry_id: int) -> bool:
        """Remove entry ``entry_id`` (the teacher's button); True if it was there."""
        entry_id = _entry_id(entry_id)
        with self._db() as con, self._write(con):
            return con.execute("DELETE FROM entries WHERE id = ?", (entry_id,)).rowcount > 0

    @staticmethod
    def _lab_filter(lab: str | None) -> tuple[str, tuple[Any, ...]]:
        if lab is None:
            return "", ()
        from .urlstate import SCHEMAS

        if lab not in SCHEMAS:
            raise GalleryError(f"No stylelab lab is called {lab!r}; the labs are {', '.join(SCHEMAS)}.")
        return " WHERE lab = ?", (lab,)


def _entry(row: tuple[Any, ...]) -> GalleryEntry:
    eid, created, lab, caption, session, settings, width, height, png, record = row
    return GalleryEntry(int(eid), lab, created, caption, session, settings, int(width), int(height), bytes(png), record)


def entry_json(entry: GalleryEntry) -> str:
    """An entry's metadata as JSON (no picture): for a download next to the PNG."""
    return json.dumps({"id": entry.id, "lab": entry.lab, "created": entry.created, "caption": entry.caption,
                       "session": entry.session, "settings": entry.settings, "width": entry.width,
                       "height": entry.height, "record": json.loads(entry.record_json)}, ensure_ascii=False)
