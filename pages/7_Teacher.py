"""Teacher: the class server at a glance, and the teacher's controls (behind ``STYLELAB_TEACHER_KEY``).

Listed in the navigation only when ``STYLELAB_TEACHER_KEY`` is set; asks for that key (compared in
constant time) before it shows anything. Then: sessions, queue, CPU and memory; cancel any run;
delete gallery entries; the lesson the class should open (lab pages show it as a banner).
Layout only: the numbers come from :meth:`stylelab.serve.Scheduler.stats`,
:meth:`~stylelab.serve.Scheduler.all_sessions`, :meth:`~stylelab.serve.Scheduler.all_runs` (public
snapshots of the server, no tokens) and :func:`stylelab.ui.classroom.machine_load`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time

import streamlit as st

from stylelab.classroom import lessons, urlstate
from stylelab.errors import StylelabError
from stylelab.ui import classroom, page_setup, show_error

page_setup("Teacher", "🧑‍🏫")
st.title("🧑‍🏫 Teacher")

AUTH = "_teacher_key_digest"
REFRESH_S = 3


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.strip().encode()).digest()


if not classroom.teacher_key_set():
    st.error(f"The Teacher page is off. Start the app with {classroom.TEACHER_KEY_ENV} set to a secret key.")
    st.stop()
current = _digest(os.environ[classroom.TEACHER_KEY_ENV])
if not hmac.compare_digest(st.session_state.get(AUTH, b""), current):
    st.session_state.pop(AUTH, None)
    with st.form("teacher_login"):
        given = st.text_input("Teacher key", type="password", key="teacher_key_input")
        sent = st.form_submit_button("Open the teacher's page", type="primary")
    if sent:
        if classroom.teacher_key_ok(given):
            st.session_state[AUTH] = current
            st.session_state.pop("teacher_key_input", None)
            st.rerun()
        time.sleep(1.0)  # a wrong key costs a second: guessing stays slow
        st.error("That is not the teacher key. Nothing is shown without it.")
    st.stop()

# ----------------------------------------------------------------------------- the lesson for the class
st.subheader("The lesson the class should open")
all_lessons = {x.id: x for x in lessons.lessons()}
try:
    now = classroom.suggested_lesson()
except StylelabError as exc:
    show_error(exc, "The current suggestion cannot be read")
    now = None
st.caption(f"Now suggested: **{now.title}** ({urlstate.LAB_TITLES[now.lab]})" if now else "Nothing suggested now.")
pick, set_col, clear_col = st.columns([4, 1, 1], vertical_alignment="bottom")
chosen = pick.selectbox("Lesson", list(all_lessons), key="teacher_lesson",
                        format_func=lambda i: f"{urlstate.LAB_TITLES[all_lessons[i].lab]} · {all_lessons[i].title}")
if set_col.button("Suggest", type="primary", key="teacher_suggest", width="stretch"):
    classroom.suggest_lesson(chosen)
    st.toast(f"Every lab page now suggests: {all_lessons[chosen].title}")
    st.rerun()
if clear_col.button("Clear", key="teacher_clear", disabled=now is None, width="stretch"):
    classroom.suggest_lesson(None)
    st.rerun()
st.code(all_lessons[chosen].url(classroom.app_base_url()), language=None, wrap_lines=True)


# ----------------------------------------------------------------------------- the server, live
def _gb(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1f} GB"


def server() -> None:
    st.subheader("The class server")
    try:
        from stylelab.ui.session import scheduler

        sched = scheduler()
        stats = sched.stats()
    except StylelabError as exc:
        show_error(exc, "The class server is not available")
        return
    load = classroom.machine_load()
    cols = st.columns(5)
    cols[0].metric("Sessions", stats["sessions"])
    cols[1].metric("Waiting runs", stats["queued"])
    cols[2].metric("Active heavy runs", f"{stats['active_heavy']} / {stats['max_heavy_runs']}")
    cols[3].metric("CPU", "n/a" if load["cpu_percent"] is None else f"{load['cpu_percent']:.0f} %",
                   help=f"{load['cores']:.0f} cores; 1-min load " + ("n/a" if load["load_1m"] is None else f"{load['load_1m']:.1f}"))
    cols[4].metric("Memory", f"{_gb(load['mem_used_gb'])} / {_gb(load['mem_total_gb'])}",
                   help=f"this server: {_gb(load['process_gb'])}; runs: {stats['memory_mb']:.0f} MB of "
                        f"{stats['memory_budget_mb']:.0f} MB")
    st.caption(f"{stats['workers']} workers × {stats['threads_per_worker']} threads · {stats['backend']}")
    draw, gc_stats = classroom.redraw_and_gc_stats()
    st.caption(f"Live pages: {draw['sessions']} redraw every {draw['period_s']:.1f} s or more (their redraws share "
               f"{draw['cores']:g} cores, STYLELAB_DRAW_CORES)"
               + ("" if gc_stats is None else f" · garbage collection every {gc_stats['interval_s']:g} s, "
                  f"the last took {gc_stats['last_s'] * 1000:.0f} ms"))
    sessions = sched.all_sessions()
    if sessions:
        with st.expander(f"Sessions ({len(sessions)})"):
            st.dataframe(sessions, hide_index=True, width="stretch")
    runs = sched.all_runs()
    if not runs:
        st.caption("No runs on the server.")
        return
    st.dataframe([{"session": label, "run": info["id"], "name": info["name"], "kind": info["kind"],
                   "status": info["status"], "steps": f"{info['steps']} / {info['total_steps'] or '?'}",
                   "queue": info["position"] or "", "compute s": round(info["compute_s"], 1),
                   "memory MB": round(info["memory_mb"], 1)} for label, info, _ in runs],
                 hide_index=True, width="stretch")
    going = {info["id"]: handle for _, info, handle in runs if not handle.done}
    if going:
        pick, act = st.columns([4, 1], vertical_alignment="bottom")
        run_id = pick.selectbox("Run", list(going), key="teacher_run")
        if act.button("Cancel run", key="teacher_cancel", width="stretch"):
            going[run_id].cancel()
            st.toast(f"Cancelled run {run_id}.")


classroom.refreshing(server, REFRESH_S)

# ----------------------------------------------------------------------------- the gallery
st.subheader("The class gallery")
try:
    gallery = classroom.gallery()
    entries = gallery.list(limit=50)
    total = gallery.count()
except StylelabError as exc:
    show_error(exc, "The class gallery cannot be read")
    entries, total = [], 0
if not entries:
    st.caption("Nothing published yet.")
else:
    st.caption(f"{total} entries; the newest {len(entries)} below.")
    by_id = {e.id: e for e in entries}
    pick, show, act = st.columns([3, 1, 1], vertical_alignment="bottom")
    entry_id = pick.selectbox("Entry", list(by_id), key="teacher_entry",
                              format_func=lambda i: f"#{i} · {urlstate.LAB_TITLES.get(by_id[i].lab, by_id[i].lab)} · "
                                                    f"{by_id[i].caption[:60] or '(no caption)'}")
    show.image(by_id[entry_id].png, width=96)
    if act.button("Delete entry", key="teacher_delete", width="stretch"):
        try:
            gone = gallery.delete(entry_id)
        except StylelabError as exc:
            show_error(exc, "Could not delete it")
        else:
            st.toast(f"Deleted entry #{entry_id}." if gone else f"Entry #{entry_id} was already gone.")
            st.rerun()
