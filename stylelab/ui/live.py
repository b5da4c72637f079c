"""The one live driver of the app: Start / Stop / Continue, the queue, progress and a redrawn picture.

Every page that runs something long (a GAN, Gatys, the mixing desk, an adjustment, Deep Image
Prior, a training run) calls :func:`live_run`; none writes its own loop::

    run = live_run("style_gatys", make=lambda: GatysRun(content, style, config), draw=draw_gatys)

Where the run steps (``STYLELAB_LIVE``)
---------------------------------------
``scheduler`` (the default): Start submits the Run that ``make()`` returns to the app's one
:class:`~stylelab.serve.Scheduler` (:func:`stylelab.ui.session.scheduler`), under the student's
session token (:func:`stylelab.ui.session.token`, kept in the URL). A worker thread steps it; the
page's fragment only *reads*, every ``tick_s`` seconds (at least twice a second): the queue line
(``waiting: 3 runs ahead of yours, about 20 s``), the progress, the handle's error, and then calls
``draw``. Stop pauses the run (within one step), Continue resumes it, Start again cancels the old
run and submits the new one. The run's handle is found again after a reload through the token:
it is the newest of the session's runs named ``live:<key>``.

Drawing never holds up the worker, and never sees half a step: while the run plays, ``draw`` gets
a *snapshot* (:meth:`~stylelab.serve.RunHandle.snapshot`, :mod:`stylelab.serve.snapshot`): a copy
of the Run made between two steps under the run's step lock (a few ms: its trainable models,
optimisers, counters and a new list of its rows; frozen models and large data shared), which the
page then draws without the lock while the worker steps the original. A paused or finished run,
or one that cannot be copied (the handle's ``snapshot_note`` says why), is drawn live inside
:meth:`~stylelab.serve.RunHandle.borrow` (the step lock held while ``draw`` runs). So ``draw(run)``
reads whatever it needs (pictures, history, models) from the object it is given, as before; what
it changes on a snapshot is thrown away (change the live run with :func:`locked`).

The session state holds the handle's id, never the Run: a run whose session went idle is
checkpointed to disk and freed (nothing here keeps it alive), and :func:`current_run` brings it
back (:meth:`~stylelab.serve.RunHandle.restore`) when the student returns.

Redraws: the fragment re-runs every ``tick_s`` while the buttons show a playing run. When a run
stops elsewhere (done, failed, paused from another tab), a *fragment* redraw notices and reruns the
page once, so the buttons change. A change this session makes (:func:`stop`, :func:`set_run`,
Start, Continue) records at once what the buttons must show, so it never causes that rerun, and a
full page run never calls ``st.rerun`` itself: a rerun issued while a click was being handled made
Streamlit call the click's callback a second time (the GAN Lab's Pause toggled the run back to
playing, and the page kept re-running).

A class on one server: after each redraw the page sets its next redraw period (:func:`paced_period`,
sent to the browser as the fragment's new ``run_every``) so that its own redraws take at most
:data:`DRAW_SHARE` of its wall time *and* all the live pages of the server together stay within
one drawing budget (:mod:`stylelab.serve.pacing`, ``STYLELAB_DRAW_CORES``): one student alone
redraws every tick, twenty share a longer period, and the page says so. The script never sleeps,
so a click or Stop is handled at once.

``inline`` (``STYLELAB_LIVE=inline``; the page tests that count steps exactly use it): each tick of
``tick_s`` seconds steps the run for :data:`WORK_FRACTION` of it (at least one step) in the script
thread, then draws; a page switch pauses the run.

The Ray backend is refused for the app (:func:`stylelab.ui.session.scheduler` says why): its runs
live in other processes, and ``draw`` needs a Run object. :func:`fast` runs one short interactive
call (a stylisation, a score card) in the scheduler's fast lane, which never waits behind training.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import streamlit as st

from ..errors import ConfigError, StylelabError
from . import session

if TYPE_CHECKING:  # pragma: no cover
    from ..run import Run
    from ..serve import RunHandle

#: seconds between two redraws of a live run (at least twice a second)
TICK_S = 0.4
#: inline mode: share of each tick spent stepping the run (the rest draws the page)
WORK_FRACTION = 0.7
#: the environment variable that picks where runs step
MODE_ENV = "STYLELAB_LIVE"
MODES = ("scheduler", "inline")
#: used when the variable is unset
DEFAULT_MODE = "scheduler"
#: the longest redraw period while a run plays under the scheduler (twice a second)
MAX_REDRAW_S = 0.5
#: while a run plays under the scheduler, the page's redraws take at most this share of wall time
DRAW_SHARE = 0.3
#: ... but a page waits at most this long after one of its redraws for that (the class budget may ask for more)
MAX_PAUSE_S = 1.0
#: the driver's buttons (glyphs that DejaVu Sans, the fonts the app's set-up installs, draws)
STOP_LABEL = "■ Stop"
CONTINUE_LABEL = "▶ Continue"


def mode() -> str:
    """``"scheduler"`` (default: a worker steps the run) or ``"inline"`` (the page's script does)."""
    value = os.environ.get(MODE_ENV, DEFAULT_MODE).strip().lower() or DEFAULT_MODE
    if value not in MODES:
        raise ConfigError(f"{MODE_ENV} must be one of {', '.join(MODES)}, got {value!r}.")
    return value


def away_note() -> str:
    """What happens to a playing run when the student opens another page (the caption pages show)."""
    if mode() == "inline":
        return ("A run advances only while this page is open: switching page pauses it, coming back resumes it "
                "with the settings shown.")
    from ..serve.limits import Limits

    idle_min = Limits.from_env().idle_s / 60
    return (f"A run keeps going on the class server while you visit other pages (Stop pauses it); after "
            f"{idle_min:g} min away it is saved to disk, and it comes back when you return, even after a reload.")


def _keys(key: str) -> dict[str, str]:
    return {k: f"{key}_{k}" for k in ("run", "running", "error", "handle", "seen", "shown", "interval")}


def _name(key: str) -> str:
    return f"live:{key}"


# ----------------------------------------------------------------------------- the handle of a key
def _handle(key: str, state: Any = None) -> "RunHandle | None":
    """The scheduler's handle of the run under ``key`` in this session (None if there is none)."""
    from ..serve import RunNotFound, SessionNotFound

    state = st.session_state if state is None else state
    tok = session.token(create=False)
    if tok is None:
        return None
    sched = session.scheduler()
    k = _keys(key)
    rid = state.get(k["handle"])
    if rid:
        try:
            return sched.get_run(tok, rid)
        except (RunNotFound, SessionNotFound):
            state[k["handle"]] = None
            return None
    if k["handle"] in state:  # this tab knows there is none (removed or never made)
        return None
    mine = [h for h in sched.runs(tok) if h.name == _name(key)]  # after a reload: the newest one
    if not mine:
        return None
    h = mine[-1]
    state[k["handle"]] = h.id
    state[k["seen"]] = len(h.rows())
    return h


def handle(key: str) -> "RunHandle | None":
    """The :class:`~stylelab.serve.RunHandle` of the run under ``key`` (None inline or when there is none)."""
    return None if mode() == "inline" else _handle(key)


# ----------------------------------------------------------------------------- the functions pages use
def current_run(key: str) -> "Run | None":
    """The run a :func:`live_run` with this ``key`` holds in this session (or None).

    With the scheduler this is the live object a worker may be stepping: read plain attributes
    (config, step_count) freely; change it inside :func:`locked`; ``draw`` gets a snapshot.
    A run that went to disk while the student was away is brought back first (the page waits).
    A run the server refused (it was full) is kept in the session state, not stepped.
    """
    run_key = _keys(key)["run"]
    if mode() == "inline":
        return st.session_state.get(run_key)
    h = _handle(key)
    if h is None:
        return st.session_state.get(run_key)
    if h.evicted:
        from ..serve import ServeError

        try:
            with st.spinner("Bringing your run back from disk…"):
                h.restore()
        except ServeError as exc:
            st.session_state[_keys(key)["error"]] = f"Your run is saved on the server but cannot come back yet: {exc}"
            return None
    return h.instance()


def is_running(key: str) -> bool:
    """Whether the run under ``key`` is being stepped now (or waits in the queue to be)."""
    if mode() == "inline":
        return bool(st.session_state.get(_keys(key)["running"]))
    h = _handle(key)
    return h is not None and h.status in ("queued", "running")


def set_run(key: str, run: "Run | None", running: bool = False) -> None:
    """Put a run (e.g. one loaded from a checkpoint) under ``key``, playing or paused.

    With the scheduler: the run already under ``key`` is resumed or paused; any other run
    replaces it (the old one is cancelled and forgotten) and is submitted, paused or playing. A
    refusal (the server is full, the session's memory is used up) is shown by ``live_run``.
    """
    k = _keys(key)
    st.session_state.pop(k["error"], None)
    if mode() == "inline":
        st.session_state[k["run"]] = run
        st.session_state[k["running"]] = bool(running and run is not None and not run.done)
        return
    from ..serve import ServeError

    sched = session.scheduler()
    old = _handle(key)
    play = bool(running and run is not None and not run.done)
    # what the buttons should show from now on: the fragment reruns the page only for a change made
    # elsewhere (done, failed, another tab), never for this one (see the module docstring)
    st.session_state[k["shown"]] = play
    if old is not None and run is not None and old.holds(run) and not old.done:
        if play:
            old.resume()
        else:
            old.pause()
        return
    tok = session.token()
    if old is not None:
        sched.remove(tok, old.id)  # cancelled after its current step; rows dropped
    st.session_state.pop(k["run"], None)  # a run the server refused earlier
    st.session_state[k["handle"]] = None
    if run is None:
        return
    try:
        h = sched.submit(tok, run, name=_name(key), paused=not play)
    except ServeError as exc:
        st.session_state[k["error"]] = f"Could not start: {exc}"
        st.session_state[k["run"]] = run  # shown, not stepped
        st.session_state[k["shown"]] = False
        return
    st.session_state[k["handle"]] = h.id
    st.session_state[k["seen"]] = len(run.history)


def stop(key: str) -> None:
    """Pause the run under ``key`` (within one step; it can be continued)."""
    if mode() == "inline":
        st.session_state[_keys(key)["running"]] = False
        return
    h = _handle(key)
    st.session_state[_keys(key)["shown"]] = False  # this change needs no rerun from the fragment
    if h is not None:
        h.pause()


@contextlib.contextmanager
def locked(key: str):
    """``with locked(key) as run:`` the run under ``key`` between two of its steps, to change it
    safely while a worker may be stepping it (``run.extend(100)``, a live hyper-parameter);
    ``run`` is None when there is none. Inline, nothing else steps it: the run itself."""
    h = None if mode() == "inline" else _handle(key)
    if h is None:
        yield current_run(key)
        return
    with h.borrow() as run:
        yield run if run is not None else current_run(key)


def wait_for(key: str, steps: int, timeout: float = 60.0, state: Mapping[str, Any] | None = None) -> int:
    """Block until the run under ``key`` has made ``steps`` steps (or ends, or ``timeout``); its step count.

    For tests: pass an AppTest's ``at.session_state`` as ``state`` (the script is not running
    then), then ``at.run()`` again to redraw. Inline, nothing steps between script runs: the
    run's step count now.
    """
    from ..serve import RunNotFound, SessionNotFound

    state = st.session_state if state is None else state
    k = _keys(key)
    run = _get(state, k["run"])
    if mode() == "inline":
        return 0 if run is None else run.step_count
    tok, rid = _get(state, session._STATE), _get(state, k["handle"])
    if not tok or not rid:
        raise StylelabError(f"There is no run under {key!r} in this session to wait for.")
    try:
        h = session.scheduler().get_run(tok, rid)
    except (RunNotFound, SessionNotFound) as exc:
        raise StylelabError(f"The run under {key!r} is gone: {exc}") from exc
    return h.wait_steps(steps, timeout)


def _get(state: Any, name: str) -> Any:
    try:
        return state[name]
    except (KeyError, AttributeError):
        return None


def queue_text(h: "RunHandle") -> str:
    """``"waiting: 3 runs ahead of yours, about 20 s"`` for a queued run ('' once it runs)."""
    from ..serve import eta_text

    if h.status != "queued":
        return ""
    ahead, seconds = session.scheduler().queue_wait(h)
    runs = "1 run" if ahead == 1 else f"{ahead} runs"
    wait = eta_text(seconds) if seconds is not None else "the wait is not known yet"
    if ahead == 0:
        return f"waiting: yours is next, {wait}" if seconds else "waiting: yours is next"
    return f"waiting: {runs} ahead of yours, {wait}"


# ----------------------------------------------------------------------------- the driver
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
        draw: draws the run (its preview, curves, numbers); called on every redraw while it plays
            and once per page run otherwise (with the scheduler: between two of its steps).
        controls: a container for the buttons (default: here).
        start_label: the Start button's text.
        show_progress: draw a progress bar (step / total) for runs with a known length.
        tick_s: seconds between redraws while the run plays; with the scheduler at most
            :data:`MAX_REDRAW_S` (a longer one redraws every :data:`MAX_REDRAW_S`: the page
            only reads, and a student sees the run move at least twice a second).
        on_start: called with the new run once it is built (e.g. to remember its inputs).
        on_step: called on a redraw with the rows made since the last one (e.g. to publish a result).

    Returns:
        the run shown (or None before the first Start).
    """
    if not (isinstance(tick_s, (int, float)) and tick_s > 0):
        raise ConfigError(f"live_run's tick_s must be a positive number of seconds, got {tick_s!r}.")
    inline = mode() == "inline"
    if not inline:
        session.token()  # opens the session (and puts it into the URL) before anything is submitted
    k = _keys(key)
    box = controls if controls is not None else st.container()
    row = box.container(horizontal=True, vertical_alignment="center", gap="small")  # buttons at their natural width
    if make is not None and row.button(start_label, type="primary", key=f"{key}_start"):
        try:
            new = make()
        except StylelabError as exc:
            st.session_state[k["error"]] = f"Could not start: {exc}"
        else:
            set_run(key, new, running=True)
            if on_start is not None:
                on_start(new)
    run = current_run(key)
    playing = is_running(key)
    # Stop and Continue act in their callbacks, before the page runs: the buttons drawn below
    # already show the new state, and no st.rerun is needed for them
    row.button(STOP_LABEL, key=f"{key}_stop", disabled=not playing, on_click=stop, args=(key,))
    row.button(CONTINUE_LABEL, key=f"{key}_continue", disabled=run is None or run.done or playing,
               on_click=_continue, args=(key,))
    st.session_state[k["shown"]] = playing  # what the buttons show: the fragment reruns the page when it changes
    if st.session_state.get(k["error"]):
        box.error(st.session_state[k["error"]])

    if inline:
        _fragment_inline(key, draw, show_progress, tick_s, on_step)
    else:
        _fragment_scheduled(key, draw, show_progress, min(tick_s, MAX_REDRAW_S), on_step)
    return current_run(key)


def _continue(key: str) -> None:
    """The Continue button's callback: play the run under ``key`` on from where it stopped."""
    run = current_run(key)
    if run is not None and not run.done:
        set_run(key, run, running=True)


def _progress(run: "Run | None", steps: int, total: int | None, seconds: float, status: str) -> None:
    if total:
        st.progress(min(1.0, steps / total), text=f"step {steps} / {total} · {seconds:.1f} s · {status}")
    else:
        st.caption(f"step {steps} · {seconds:.1f} s · {status}")


def _fragment_run() -> bool:
    """Whether this script run is a fragment's own redraw (not a full page run)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


def _fragment_scheduled(key: str, draw: Callable[["Run"], None], show_progress: bool, tick_s: float,
                        on_step: Callable[["Run", list[dict[str, Any]]], None] | None) -> None:
    k = _keys(key)
    st.session_state[k["interval"]] = tick_s  # a full run sends the tick to the browser again

    @st.fragment(run_every=tick_s if st.session_state.get(k["shown"]) else None)
    def _live() -> None:
        c0 = time.thread_time()  # this redraw's CPU seconds: what it takes from the class's shared server
        h = _handle(key)
        if h is None:
            run = st.session_state.get(k["run"])
            if run is not None:  # a run the server refused: shown, not stepped
                if show_progress:
                    _progress(run, run.step_count, run.total_steps, run.seconds, "not started")
                draw(run)
            return
        status = h.status
        playing = status in ("queued", "running")
        if playing != bool(st.session_state.get(k["shown"])) and _fragment_run():
            # done, failed or paused elsewhere: the buttons change (only from a fragment redraw: a
            # full page run that reran itself could replay the click that started it)
            st.session_state[k["shown"]] = playing
            st.rerun(scope="app")
        if status == "queued":
            st.info(queue_text(h))
        seen = int(st.session_state.get(k["seen"]) or 0)
        rows = h.rows(since=seen)
        st.session_state[k["seen"]] = seen + len(rows)
        if status == "failed" and not st.session_state.get(k["error"]):
            st.session_state[k["error"]] = f"Stopped at step {h.step_count}: {h.error_text}"
        if not playing:
            _forget_redraws(key)
        t0 = time.perf_counter()
        # a copy made between two steps, drawn without the lock (from a worker process: always a copy)
        view = h.snapshot() if playing or not h.local else None
        if show_progress:  # read from the picture's own run, so the line and the picture agree
            label = {"running": "running", "queued": "queued", "paused": "paused", "done": "done",
                     "cancelled": "stopped", "failed": "failed"}[status]
            run = view if view is not None else (h.instance() if h.local else None)
            steps = run.step_count if run is not None else h.step_count
            total = run.total_steps if run is not None else h.total_steps
            seconds = run.seconds if run is not None else h.compute_s
            _progress(run, steps, total, seconds, label + (" · on disk" if h.evicted else ""))
        if view is not None:
            if on_step is not None and rows:
                on_step(view, rows)
            draw(view)
            _pace(key, time.perf_counter() - t0, tick_s, time.thread_time() - c0)
            return
        live = None
        if h.local:  # paused, finished, or not copyable: the live run, between two steps
            with h.borrow() as live:
                if live is not None:
                    if on_step is not None and rows:
                        on_step(live, rows)
                    draw(live)
        if live is not None:
            if playing:
                _pace(key, time.perf_counter() - t0, tick_s, time.thread_time() - c0)
            return
        if h.snapshot_note:
            st.caption(f"The full view of this run cannot be drawn here ({h.snapshot_note}); its latest picture:")
        pic = h.preview()
        if pic is not None:  # the run is not in memory here: its latest picture
            st.image(pic.permute(1, 2, 0).clamp(0, 1).numpy(), caption=f"step {h.step_count}", width=384)

    _live()


def redraw_period(draw_s: float, tick_s: float) -> float:
    """Seconds between two redraws of a page whose redraw cost ``draw_s`` CPU seconds, so that its
    redraws take at most :data:`DRAW_SHARE` of a core while a worker trains, but wait at most
    :data:`MAX_PAUSE_S` after a redraw: :math:`P = \\min(\\max(t, d / s), \\max(t, d) + p_{max})` for tick
    :math:`t`, redraw cost :math:`d` and share :math:`s` (the tick on a quiet machine: a 0.1 s
    redraw every 0.4 s is a share of 0.25). CPU seconds, not wall seconds: a redraw that waited for
    the cores (the worker, the browser) or for a copy of the run did not cost the server that wait,
    and counting it made the period, and the browser's timer, jump from redraw to redraw."""
    return min(max(tick_s, draw_s / DRAW_SHARE), max(tick_s, draw_s) + MAX_PAUSE_S)


def _pacer():
    """The server's redraw budget (:mod:`stylelab.serve.pacing`); a bad ``STYLELAB_DRAW_CORES`` says so once."""
    from ..serve import pacing

    found, problem = pacing.pacer_or_default()
    if problem is not None and not st.session_state.get("_live_pacer_warned"):
        st.session_state["_live_pacer_warned"] = True
        st.warning(f"{problem} Using the default drawing budget.")
    return found


def _who(key: str) -> str:
    """This tab's live view under ``key`` (a student's two tabs are two pages that redraw)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return f"{ctx.session_id if ctx is not None else '?'}:{key}"


def _forget_redraws(key: str) -> None:
    _pacer().forget(_who(key))


def paced_period(draw_s: float, tick_s: float, cpu_s: float, who: str = "?") -> tuple[float, int]:
    """(seconds between this page's redraws, live pages on the server) after a redraw that took
    ``draw_s`` wall seconds and ``cpu_s`` CPU seconds: the longer of this page's own share
    (:func:`redraw_period`) and the server-wide budget's period (:mod:`stylelab.serve.pacing`),
    and at most a third of the server's idle period (a redraw is a visit: it keeps the runs in memory)."""
    pacer = _pacer()
    pacer.note(who, max(0.0, cpu_s))
    sessions, _ = pacer.demand()
    period = max(redraw_period(cpu_s, tick_s), pacer.period(tick_s))
    return min(period, max(tick_s, session.scheduler().limits.idle_s / 3)), sessions


def _retime(key: str, period_s: float) -> bool:
    """Ask the browser to rerun this fragment every ``period_s`` from now on: Streamlit's own
    ``auto_rerun`` message, the one ``st.fragment(run_every=...)`` sends (its frontend replaces the
    fragment's timer). Sent only when the period changes by more than 15 %; the page's next full
    run sets the tick again. False outside a fragment (nothing sent)."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from streamlit.runtime.scriptrunner_utils.script_run_context import ThreadState, get_script_run_ctx

    ctx = get_script_run_ctx()
    fragment_id = ThreadState.get().fragment_id if ctx is not None else None
    if not fragment_id:
        return False
    k = _keys(key)
    now = st.session_state.get(k["interval"])
    if isinstance(now, (int, float)) and abs(period_s - now) <= 0.15 * now:
        return True
    msg = ForwardMsg()
    msg.auto_rerun.interval = round(period_s, 2)
    msg.auto_rerun.fragment_id = fragment_id
    ctx.enqueue(msg)
    st.session_state[k["interval"]] = round(period_s, 2)
    return True


def _pace(key: str, draw_s: float, tick_s: float, cpu_s: float) -> None:
    """After a redraw: set this page's redraw period (:func:`paced_period`) and say why when the
    class makes it long. The script ends at once: the page does not sleep, the browser's timer
    waits, so a click or Stop is handled straight away and the tab is idle in between."""
    period, sessions = paced_period(draw_s, tick_s, cpu_s, _who(key))
    if period > 2 * tick_s and sessions > 1:
        st.caption(f"The class shares this server: {sessions} live pages redraw every {period:.1f} s "
                   "between them; your run goes on training in between.")
    _retime(key, period)


def _fragment_inline(key: str, draw: Callable[["Run"], None], show_progress: bool, tick_s: float,
                     on_step: Callable[["Run", list[dict[str, Any]]], None] | None) -> None:
    from ..run import advance

    k = _keys(key)

    @st.fragment(run_every=tick_s if is_running(key) else None)
    def _live() -> None:
        run = st.session_state.get(k["run"])
        if run is None:
            return
        if is_running(key):
            try:
                rows = advance(run, tick_s * WORK_FRACTION)
            except StylelabError as exc:  # e.g. the loss became NaN: stop, keep what was computed
                st.session_state[k["running"]] = False
                st.session_state[k["error"]] = f"Stopped at step {run.step_count}: {exc}"
                st.rerun(scope="app")
            if on_step is not None and rows:
                on_step(run, rows)
            if run.done:
                st.session_state[k["running"]] = False
                st.rerun(scope="app")  # the buttons change: redraw the whole page once
        if show_progress:
            status = "running" if is_running(key) else "paused" if not run.done else "done"
            _progress(run, run.step_count, run.total_steps, run.seconds, status)
        draw(run)

    _live()


def more_steps(key: str, container: Any, steps: int, label: str | None = None) -> None:
    """A button that makes the run under ``key`` ``steps`` steps longer (:meth:`Run.extend`) and plays it."""
    run = current_run(key)
    if container.button(label or f"⏩ {steps} more steps", key=f"{key}_more", disabled=run is None):
        with locked(key) as live:  # between two steps, if a worker is stepping it
            live.extend(steps)
        set_run(key, run, running=True)


def fast(fn: Callable[..., Any], /, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` for one short interactive computation (a feed-forward stylisation,
    a score card, thumbnails), so that it never waits behind the class's training.

    With the scheduler it runs in the fast lane (:meth:`~stylelab.serve.Scheduler.call`: its own
    threads at normal priority, at most ``timeout`` seconds, default ``fast_timeout_s``; a busy
    lane or a timeout raises :class:`~stylelab.serve.ServerFull` /
    :class:`~stylelab.serve.FastLaneTimeout`, both :class:`~stylelab.errors.StylelabError` that
    pages show). Inline it is simply called here. Its result is returned either way.
    """
    if mode() == "inline":
        return fn(*args, **kwargs)
    return session.scheduler().call(session.token(), fn, *args, timeout=timeout, **kwargs)
