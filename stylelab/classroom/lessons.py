"""Lesson presets: a title, a prompt for the class ("predict, then press Run") and a link's set-up.

The lessons are data (``lessons.json`` next to this file), not code: a teacher can add one
without touching Python. Each lesson's ``params`` are exactly what a shared link carries
(:func:`stylelab.classroom.urlstate.encode`'s output), so ``lesson.values()`` decodes them with
the lab's schema and ``lesson.url(base)`` is the link to put on the projector::

    for lesson in lessons("gan"):
        st.markdown(f"**{lesson.title}**  {lesson.prompt}")
        st.link_button("Open", lesson.url("http://10.0.0.5:8501"))
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from . import urlstate

FORMAT = "stylelab.lessons/1"
LESSONS_FILE = Path(__file__).with_name("lessons.json")
MAX_TITLE = 80
MAX_PROMPT = 800
_ID = re.compile(r"[a-z0-9][a-z0-9\-]{1,60}")


@dataclass(frozen=True)
class Lesson:
    """One preset: ``lab`` (a key of :data:`~stylelab.classroom.urlstate.SCHEMAS`), a short ``title``,
    a one-paragraph ``prompt`` for the class (Markdown) and the link's query ``params``."""

    id: str
    lab: str
    title: str
    prompt: str
    params: dict[str, str]

    def values(self) -> dict[str, Any]:
        """The set-up as ``{widget key: value}`` (every control; the ones the lesson leaves out at their
        defaults). Raises :class:`~stylelab.classroom.urlstate.UrlStateError` if the preset is broken."""
        return urlstate.decode(self.lab, self.params)

    def url(self, base: str) -> str:
        """The link that opens the lab with this set-up, e.g. ``lesson.url("http://localhost:8501")``."""
        return urlstate.share_url(base, self.lab, self.params)


def _lesson(raw: Any, where: str) -> Lesson:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be an object.")
    missing = sorted({"id", "lab", "title", "prompt", "params"} - set(raw))
    unknown = sorted(set(raw) - {"id", "lab", "title", "prompt", "params"})
    if missing or unknown:
        raise ConfigError(f"{where}: missing fields {missing}, unknown fields {unknown}.")
    for name in ("id", "lab", "title", "prompt"):
        if not isinstance(raw[name], str) or not raw[name].strip():
            raise ConfigError(f"{where}: {name!r} must be non-empty text.")
    if not _ID.fullmatch(raw["id"]):
        raise ConfigError(f"{where}: id {raw['id']!r} must be lower-case letters, digits and hyphens.")
    if raw["lab"] not in urlstate.SCHEMAS:
        raise ConfigError(f"{where}: no lab is called {raw['lab']!r} (the labs are {', '.join(urlstate.SCHEMAS)}).")
    if len(raw["title"]) > MAX_TITLE or len(raw["prompt"]) > MAX_PROMPT:
        raise ConfigError(f"{where}: the title may have {MAX_TITLE} characters and the prompt {MAX_PROMPT}.")
    params = raw["params"]
    if not isinstance(params, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in params.items()):
        raise ConfigError(f"{where}: params must map query keys to text, as in a link.")
    return Lesson(raw["id"], raw["lab"], raw["title"].strip(), raw["prompt"].strip(), dict(params))


def load_lessons(path: str | Path | None = None) -> tuple[Lesson, ...]:
    """Read and check a lessons file (default: the shipped ``lessons.json``).

    Checks the structure only (ids unique, labs known, text present): the params are checked
    against the lab's schema by :meth:`Lesson.values` (and for every shipped lesson by the tests).

    Raises:
        ConfigError: unreadable, not JSON, the wrong format, or a malformed lesson.
    """
    path = Path(path) if path is not None else LESSONS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"Cannot read the lessons file {path}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"The lessons file {path.name} is not valid JSON ({exc.msg}, line {exc.lineno}).") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("lessons"), list):
        raise ConfigError(f"{path.name} is not a stylelab lessons file (format {FORMAT!r} with a 'lessons' list).")
    out = tuple(_lesson(raw, f"{path.name} lesson {i + 1}") for i, raw in enumerate(data["lessons"]))
    ids = [lesson.id for lesson in out]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ConfigError(f"{path.name}: lesson ids {dupes} appear twice.")
    return out


@functools.cache
def _shipped() -> tuple[Lesson, ...]:
    return load_lessons()


def lessons(lab: str | None = None) -> list[Lesson]:
    """The shipped lessons, in file order; only ``lab``'s if given."""
    if lab is not None and lab not in urlstate.SCHEMAS:
        raise ConfigError(f"No lab is called {lab!r}; the labs are {', '.join(urlstate.SCHEMAS)}.")
    return [lesson for lesson in _shipped() if lab is None or lesson.lab == lab]


def get(lesson_id: str) -> Lesson:
    """The shipped lesson called ``lesson_id`` (ConfigError naming the ids if there is none)."""
    for lesson in _shipped():
        if lesson.id == lesson_id:
            return lesson
    raise ConfigError(f"No lesson is called {lesson_id!r}; the lessons are {', '.join(x.id for x in _shipped())}.")
