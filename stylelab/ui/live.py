"""The one live driver of the app: Start / Stop / Continue, progress and a redrawn picture, over any Run.

Every page that runs something long (a GAN, Gatys, the mixing desk, an adjustment, Deep Image
Prior, a training run) calls :func:`live_run`; none writes its own loop. The run is stepped a
little at a time inside a Streamlit fragment, so the rest of the page never freezes and Stop
takes effect within one step::

    run = live_run("style_gatys", make=lambda: GatysRun(content, style, config), draw=draw_gatys)

One time budget rule for every lab: each tick of :data:`TICK_S` seconds spends at most
:data:`WORK_FRACTION` of it stepping the run (at least one step), the rest redrawing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import streamlit as st

from ..errors import StylelabError

if TYPE_CHECKING:  # pragma: no cover
    from ..run import Run

#: seconds between two redraws of a live run
TICK_S = 0.4
#: share of each tick spent stepping the run (the rest draws the page)
WORK_FRACTION = 0.7


def _state_keys(key: str) -> tuple[str, str, str]:
    return f"{key}_run", f"{key}_running", f"{key}_error"


def current_run(key: str) -> "Run | None":
    """The run a :func:`live_run` with this ``key`` holds in this session (or None)."""
    return st.session_state.get(_state_keys(key)[0])


def is_running(key: str) -> bool:
    """Whether the run under ``key`` is being stepped now."""
    return bool(st.session_state.get(_state_keys(key)[1]))


def set_run(key: str, run: "Run | None", running: bool = False) -> None:
    """Put a run (e.g. one loaded from a checkpoint) under ``key``, playing or paused."""
    run_key, running_key, error_key = _state_keys(key)
    st.session_state[run_key] = run
    st.session_state[running_key] = bool(running and run is not None and not run.done)
    st.session_state.pop(error_key, None)


def stop(key: str) -> None:
    """Pause the run under ``key`` (it can be continued)."""
    st.session_state[_state_keys(key)[1]] = False


def live_run(key: str, make: Callable[[], "Run"] | None, draw: Callable[["Run"], None], *,
             controls: Any = None, start_label: str = "▶ Start", show_progress: bool = True,
             tick_s: float = TICK_S, on_start: Callable[["Run"], None] | None = None,
             on_step: Callable[["Run", list[dict[str, Any]]], None] | None = None) -> "Run | None":
    """Buttons and a live view for the run stored under ``key`` in this session.

    Args:
        key: a session-state prefix unique on the page (``"gan"``, ``"style_gatys"``).
        make: builds a new run from the current widgets when Start is pressed (None hides Start:
            the page puts runs in with :func:`set_run`). A typed error it raises is shown, and the
            run already on screen is kept.
        draw: draws the run (its preview, curves, numbers); called on every tick while it plays
            and once per page run otherwise.
        controls: a container for the buttons (default: here).
        start_label: the Start button's text.
        show_progress: draw a progress bar (step / total) for runs with a known length.
        tick_s: seconds between redraws.
        on_start: called with the new run once it is built (e.g. to remember its inputs).
        on_step: called after each tick's steps with the rows made (e.g. to publish a result).

    Returns:
        the run shown (or None before the first Start).
    """
    from ..run import advance

    run_key, running_key, error_key = _state_keys(key)
    box = controls if controls is not None else st.container()
    cols = box.columns([1, 1, 1, 3], vertical_alignment="center")
    if make is not None and cols[0].button(start_label, type="primary", key=f"{key}_start"):
        try:
            new = make()
        except StylelabError as exc:
            st.session_state[error_key] = f"Could not start: {exc}"
        else:
            set_run(key, new, running=True)
            if on_start is not None:
                on_start(new)
    run: Run | None = st.session_state.get(run_key)
    if cols[1].button("■ Stop", key=f"{key}_stop", disabled=not is_running(key)):
        stop(key)
    can_continue = run is not None and not run.done and not is_running(key)
    if cols[2].button("⏵ Continue", key=f"{key}_continue", disabled=not can_continue):
        st.session_state[running_key] = True
        st.session_state.pop(error_key, None)
    if st.session_state.get(error_key):
        box.error(st.session_state[error_key])

    @st.fragment(run_every=tick_s if is_running(key) else None)
    def _live() -> None:
        run = st.session_state.get(run_key)
        if run is None:
            return
        if is_running(key):
            try:
                rows = advance(run, tick_s * WORK_FRACTION)
            except StylelabError as exc:  # e.g. the loss became NaN: stop, keep what was computed
                st.session_state[running_key] = False
                st.session_state[error_key] = f"Stopped at step {run.step_count}: {exc}"
                st.rerun(scope="app")
            if on_step is not None and rows:
                on_step(run, rows)
            if run.done:
                st.session_state[running_key] = False
                st.rerun(scope="app")  # the buttons change: redraw the whole page once
        if show_progress and run.total_steps:
            st.progress(min(1.0, run.step_count / run.total_steps),
                        text=f"step {run.step_count} / {run.total_steps} · {run.seconds:.1f} s"
                        + (" · running" if is_running(key) else " · paused" if not run.done else " · done"))
        elif show_progress:
            st.caption(f"step {run.step_count} · {run.seconds:.1f} s" + (" · running" if is_running(key) else ""))
        draw(run)

    _live()
    return st.session_state.get(run_key)
