"""What every page test asserts after a run: no exception, no error box, no raw object on screen."""

from __future__ import annotations

import re

RAW_OBJECT = re.compile(r"object at 0x[0-9a-f]+|<class '|Docstring:|tensor\(\[")


def screen_text(at) -> str:
    """Every piece of text the run put on screen (markdown, captions, alerts, code, json)."""
    parts = []
    for kind in ("markdown", "caption", "text", "code", "json", "info", "warning", "success", "title", "subheader"):
        parts += [str(getattr(el, "value", "")) for el in at.get(kind)]
    return "\n".join(parts)


def image_captions(at) -> list[str]:
    """The captions of every st.image on screen."""
    return [img.caption for el in at.get("image") for img in el.proto.imgs]


def assert_clean(at, allow_errors: tuple[str, ...] = ()) -> None:
    """No exception, no st.error (except ones containing an allowed phrase), no printed internals."""
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error if not any(a in e.value for a in allow_errors)]
    assert not errors, errors
    raw = RAW_OBJECT.search(screen_text(at))
    assert raw is None, f"raw object text on screen: {raw.group(0)!r}"
