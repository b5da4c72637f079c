"""Widget values that survive a page switch.

Streamlit forgets a widget's value as soon as a script run does not draw it, which is what
happens on every other page. :func:`keep` is the standard cure: each widget's value is mirrored
into a plain session-state key (which Streamlit never cleans up) and put back before the widget
is drawn again. A widget that uses it takes its default from here, never from ``value=`` or
``index=``, so Streamlit never sees a value set twice (its "created with a default value but
also had its value set via the Session State API" warning).

    size = st.select_slider("Working size", SIZES, key=keep("style_size", 256, SIZES))
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import streamlit as st

SHADOW_PREFIX = "_kept_"


def shadow_key(key: str) -> str:
    """The plain session-state key that remembers widget ``key`` across pages."""
    return SHADOW_PREFIX + key


def _valid(value: Any, options: Iterable[Any] | None) -> bool:
    if options is None:
        return True
    opts = list(options)
    if isinstance(value, (list, tuple)) and not any(isinstance(o, (list, tuple)) for o in opts):
        return all(v in opts for v in value)  # a multiselect value, or a range slider's pair
    return value in opts


def keep(key: str, default: Any, options: Iterable[Any] | None = None) -> str:
    """Seed widget ``key`` with its remembered value (else ``default``), remember it; return ``key``.

    Call it as the widget's ``key=`` argument and give the widget no ``value=``/``index=``/``default=``.
    ``options``: the widget's choices; a remembered value no longer among them falls back to
    ``default`` (e.g. a session result that has gone).
    """
    state = st.session_state
    shadow = shadow_key(key)
    if key in state and _valid(state[key], options):
        value = state[key]
    else:
        value = state.get(shadow, default)
        if not _valid(value, options):
            value = default
        state[key] = value
    state[shadow] = value
    return key


def remember(key: str, value: Any) -> None:
    """Set what widget ``key`` shows next time it is drawn, on this page or another one.

    For hand-overs between pages (Inpainting -> Style Studio picks the repaired image) and for
    loading a record's settings into widgets before they are drawn.
    """
    st.session_state[shadow_key(key)] = value
    st.session_state[key] = value


def forget(key: str) -> None:
    """Drop widget ``key``'s remembered value: it shows its default next time."""
    st.session_state.pop(shadow_key(key), None)
    st.session_state.pop(key, None)


def _refill(key: str) -> None:
    """A segmented control clicked on its own choice empties itself: put the remembered choice back."""
    if st.session_state.get(key) is None:
        st.session_state[key] = st.session_state.get(shadow_key(key))


def view_picker(label: str, views: Mapping[str, str], key: str, default: str) -> str:
    """The views of a page as a segmented control (not ``st.tabs``): the choice survives a page switch,
    only the chosen view is computed, and clicking the open view keeps it open. Returns the view's key."""
    choice = st.segmented_control(label, list(views), format_func=views.get, key=keep(key, default, views),
                                  on_change=_refill, args=(key,), label_visibility="collapsed")
    return choice or default
