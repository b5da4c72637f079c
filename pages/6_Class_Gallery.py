"""Class Gallery: every result the class published, newest first, refreshed every few seconds.

Layout only: the database is :class:`stylelab.classroom.gallery.Gallery` (SQLite, shared by the
whole server), the links back into a lab come from :func:`stylelab.ui.classroom.record_link`.
Big-screen friendly: a grid of large thumbnails for the projector.
"""

from __future__ import annotations

import html

import streamlit as st

from stylelab.classroom import urlstate
from stylelab.classroom.gallery import entry_json
from stylelab.errors import StylelabError
from stylelab.ui import classroom, keep, page_setup, show_error

page_setup("Class Gallery", "🖼️")

REFRESH_S = 5
LABS = {"all": "All", **{lab: title.split()[0] for lab, title in urlstate.LAB_TITLES.items()}}  # short: one line
PER_ROW = (2, 3, 4)
PER_PAGE = 12
CAPTION_CSS = "font-size:1.15rem;font-weight:600;margin:0.2rem 0;overflow-wrap:anywhere"
SMALL_CSS = "font-size:0.85rem;opacity:0.7;margin:0;overflow-wrap:anywhere"

st.title("🖼️ Class Gallery")
st.markdown("What the class made: press **Publish to the class gallery** under a result in any lab. "
            "Each entry keeps its experiment record, so **Open in the lab** sets the same controls again.")

left, mid, right = st.columns([3, 1, 1], vertical_alignment="bottom")
lab = left.segmented_control("Lab", list(LABS), format_func=LABS.get, key=keep("gal_lab", "all", LABS))
per_row = mid.select_slider("Per row", PER_ROW, key=keep("gal_per_row", 3, PER_ROW))
auto = right.toggle("Auto-refresh", key=keep("gal_auto", True), help=f"Look for new entries every {REFRESH_S} s.")
lab_filter = None if lab in (None, "all") else lab


def _text(text: str, css: str) -> None:
    """Text as typed (HTML-escaped, never read as Markdown: no links, no pictures, no autolinked URLs)."""
    st.html(f'<p style="{css}">{html.escape(text)}</p>')


def _card(entry, base_key: str) -> None:  # noqa: ANN001  (a GalleryEntry)
    with st.container(border=True):
        st.image(entry.png, width="stretch")
        if entry.caption:
            _text(entry.caption, CAPTION_CSS)
        st.caption(f"#{entry.id} · {urlstate.LAB_TITLES.get(entry.lab, entry.lab)} · {entry.created[:16].replace('T', ' ')} UTC")
        _text(entry.settings, SMALL_CSS)
        link_col, dl_col = st.columns(2)
        try:
            url, missing = classroom.record_link(entry.record)
        except StylelabError as exc:
            url, missing = None, [str(exc)]
        if url:
            link_col.link_button("Open in the lab", url, width="stretch")
        dl_col.download_button("Record (JSON)", entry_json(entry), file_name=f"gallery_{entry.id}.json",
                               mime="application/json", key=f"{base_key}_dl", width="stretch")
        if missing:
            _text(("The link leaves out: " if url else "No link: ") + "; ".join(missing), SMALL_CSS)


def grid() -> None:
    try:
        gallery = classroom.gallery()
        total = gallery.count(lab_filter)
    except StylelabError as exc:
        show_error(exc, "The class gallery cannot be read")
        return
    if total == 0:
        st.info("Nothing published yet" + (f" in the {urlstate.LAB_TITLES[lab_filter]}" if lab_filter else "") + ".")
        return
    pages = max(1, -(-total // PER_PAGE))
    page = st.session_state.get("gal_page", 1)
    page = min(max(1, page), pages)
    try:
        entries = gallery.list(limit=PER_PAGE, offset=(page - 1) * PER_PAGE, lab=lab_filter)
    except StylelabError as exc:
        show_error(exc, "The class gallery cannot be read")
        return
    st.caption(f"{total} entr{'y' if total == 1 else 'ies'} · page {page} of {pages} · newest first"
               + (f" · refreshed every {REFRESH_S} s" if auto else ""))
    for start in range(0, len(entries), per_row):
        cols = st.columns(per_row)
        for col, entry in zip(cols, entries[start:start + per_row]):
            with col:
                _card(entry, f"gal_{entry.id}")
    if pages > 1:
        prev, _, nxt = st.columns([1, 4, 1])
        prev.button("← Newer", key="gal_prev", disabled=page <= 1, on_click=_turn, args=(page - 1,), width="stretch")
        nxt.button("Older →", key="gal_next", disabled=page >= pages, on_click=_turn, args=(page + 1,), width="stretch")


def _turn(page: int) -> None:
    st.session_state["gal_page"] = page


classroom.refreshing(grid, REFRESH_S if auto else None)
