"""The live driver on the classroom scheduler (AppTest over a tiny page that uses live_run).

The default path (``STYLELAB_LIVE`` unset): Start submits the page's Run to the scheduler, a worker steps it, the page only
reads; Stop pauses within one step, Continue resumes, Start again replaces the run; the token in
the URL reattaches a reload to the same run; another session never sees it; a full server says so.
"""

from __future__ import annotations

import threading
import time

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from stylelab.errors import ConfigError  # noqa: E402
from stylelab.serve import Limits, Scheduler  # noqa: E402
from stylelab.ui import live, session  # noqa: E402

PAGE = '''
import dataclasses
import threading
import time

import streamlit as st

from stylelab.gan.train import GANTrainer, small_run_2d
from stylelab.ui import live

STEPS = int(st.session_state.get("steps", 20000))


def make():
    cfg = dataclasses.replace(small_run_2d(seed=int(st.session_state.get("seed", 0))).config, steps=STEPS)
    return GANTrainer(cfg)


def draw(run):
    h = live.handle("t")
    before, live_before = run.step_count, h.step_count if h is not None else 0
    time.sleep(float(st.session_state.get("draw_sleep", 0.0)))
    st.session_state["draw_steps"] = (before, run.step_count)
    st.session_state["live_steps"] = (live_before, h.step_count if h is not None else 0)
    st.session_state["draw_is_live"] = h is not None and run is h.instance()
    st.markdown(f"drawn at step {run.step_count}")


if st.button("more", key="t_more"):  # like the GAN page's "Train N": a done run made longer
    run = live.current_run("t")
    run.play_until(run.step_count + 10)
    live.set_run("t", run, running=True)
if st.button("longer", key="t_longer"):  # a change made while the worker may be stepping
    with live.locked("t") as run:
        run.play_until(run.step_count + 5)
        st.session_state["longer_at"] = run.step_count
if st.button("load", key="t_load"):  # like a page loading a checkpoint: put in paused
    live.set_run("t", make(), running=False)
live.live_run("t", make, draw)
'''


@pytest.fixture
def sched(monkeypatch):
    """A small scheduler of its own per test, used by the page through stylelab.ui.session."""
    monkeypatch.setenv(live.MODE_ENV, "scheduler")
    s = Scheduler(Limits(workers=1, max_sessions=4, max_heavy_runs=1, slice_s=0.05, quantum_s=0.05))
    monkeypatch.setattr(session, "scheduler", lambda: s)
    yield s
    s.shutdown()


def _page(token: str | None = None, **state) -> AppTest:
    at = AppTest.from_string(PAGE, default_timeout=60)
    for k, v in state.items():
        at.session_state[k] = v
    if token is not None:
        at.query_params[session.token_param()] = token
    return at.run()


def _handle(at, sched):
    return sched.get_run(at.session_state[session._STATE], at.session_state["t_handle"])


def _drawn(at) -> int:
    texts = [m.value for m in at.markdown if m.value.startswith("drawn at step ")]
    assert texts, "the page did not draw the run"
    return int(texts[-1].split()[-1])


def test_start_steps_in_a_worker_and_the_page_only_reads(sched):
    at = _page()
    assert not at.exception
    tok = at.query_params[session.token_param()]
    tok = tok[0] if isinstance(tok, list) else tok
    assert session.valid_token(tok) and at.session_state[session._STATE] == tok
    assert sched.runs(tok) == []  # nothing submitted before Start
    at.button(key="t_start").click().run()
    h = _handle(at, sched)
    assert h.name == "live:t" and h.status in ("queued", "running")
    assert live.wait_for("t", 30, timeout=60, state=at.session_state) >= 30
    n = h.step_count
    at.run()
    assert not at.exception and _drawn(at) >= n  # the page shows what the worker made
    assert any("step" in p.text for p in at.get("progress")) if at.get("progress") else True
    # the page's session state holds the handle's id, never the Run (an evicted run must be freed)
    assert _runs_in_state(at) == [] and at.session_state["t_handle"] == h.id


def test_stop_pauses_within_one_step_and_continue_resumes(sched):
    at = _page()
    at.button(key="t_start").click().run()
    live.wait_for("t", 10, timeout=60, state=at.session_state)
    at.button(key="t_stop").click().run()
    h = _handle(at, sched)
    assert h.status == "paused"
    time.sleep(0.2)  # the step in flight (if any) ends
    n = h.step_count
    time.sleep(0.5)
    assert h.step_count == n, "the run kept stepping after Stop"
    assert not at.button(key="t_continue").disabled
    at.button(key="t_continue").click().run()
    assert h.status in ("queued", "running") and _handle(at, sched).id == h.id  # the same run goes on
    assert live.wait_for("t", n + 10, timeout=60, state=at.session_state) >= n + 10


def test_locked_changes_the_run_between_two_steps(sched):
    at = _page()
    at.button(key="t_start").click().run()
    h = _handle(at, sched)
    live.wait_for("t", 5, timeout=60, state=at.session_state)
    at.button(key="t_longer").click().run()
    target = at.session_state["longer_at"] + 5
    assert h.wait(timeout=60) == "done" and h.step_count == target  # it stopped where the change said


def test_start_again_replaces_the_run(sched):
    at = _page()
    at.button(key="t_start").click().run()
    first = _handle(at, sched)
    at.button(key="t_start").click().run()
    second = _handle(at, sched)
    assert second.id != first.id and first.status == "cancelled"
    tok = at.session_state[session._STATE]
    assert [h.id for h in sched.runs(tok)] == [second.id]  # the old one is forgotten


def test_a_reload_reattaches_and_another_session_sees_nothing(sched):
    at = _page()
    at.button(key="t_start").click().run()
    h = _handle(at, sched)
    live.wait_for("t", 20, timeout=60, state=at.session_state)
    tok = at.session_state[session._STATE]
    reloaded = _page(token=tok)  # a fresh script session: nothing in its session state but the URL
    assert not reloaded.exception
    assert reloaded.session_state["t_handle"] == h.id and _drawn(reloaded) >= 20
    assert not reloaded.button(key="t_stop").disabled  # it is still running: Stop is offered
    other = _page()  # another browser without the token
    other_tok = other.session_state[session._STATE]
    assert other_tok != tok and sched.runs(other_tok) == []
    assert not [m for m in other.markdown if m.value.startswith("drawn at step")]
    forged = _page(token="A" * 43)  # a well-formed but unknown token opens a new session
    assert forged.session_state[session._STATE] not in (tok, "A" * 43)
    assert any("earlier session has ended" in i.value for i in forged.info)


def test_drawing_never_races_the_worker_and_never_holds_it_up(sched):
    at = _page(draw_sleep=0.5)
    at.button(key="t_start").click().run()
    h = _handle(at, sched)
    live.wait_for("t", 5, timeout=60, state=at.session_state)
    at.run()
    before, after = at.session_state["draw_steps"]
    assert before == after  # draw saw one consistent run (a copy made between two steps)...
    live_before, live_after = at.session_state["live_steps"]
    assert live_after > live_before, "the worker waited while the page drew"  # ...while the worker stepped on
    assert h.status in ("running", "done") and h.snapshot_note == ""


def test_a_paused_run_is_drawn_live_and_stop_needs_no_extra_rerun(sched):
    at = _page()
    at.button(key="t_start").click().run()
    h = _handle(at, sched)
    live.wait_for("t", 5, timeout=60, state=at.session_state)
    at.button(key="t_stop").click().run()  # the callback pauses it before the page runs
    assert h.status == "paused"
    assert at.button(key="t_stop").disabled and not at.button(key="t_continue").disabled  # in the same run
    assert at.session_state["t_shown"] is False  # so the fragment no longer re-runs by itself
    assert at.session_state["draw_is_live"]  # paused: drawn on the live run (under its lock)


def test_an_evicted_run_is_freed_and_comes_back(monkeypatch):
    """The session state keeps no Run alive: after eviction the Run object is gone (weakref), and
    the page brings it back, at the same step, when the student returns."""
    import gc
    import weakref

    now = [0.0]
    monkeypatch.setenv(live.MODE_ENV, "scheduler")
    s = Scheduler(Limits(workers=1, max_sessions=4, slice_s=0.05, quantum_s=0.05, idle_s=60, grace_s=600),
                  clock=lambda: now[0], housekeeping=False)
    monkeypatch.setattr(session, "scheduler", lambda: s)
    try:
        at = _page(steps=200)
        at.button(key="t_start").click().run()
        h = _handle(at, s)
        live.wait_for("t", 20, timeout=60, state=at.session_state)
        at.button(key="t_stop").click().run()
        time.sleep(0.2)  # the step in flight ends
        steps = h.step_count
        ref = weakref.ref(h.instance())
        now[0] += 120  # the student is away: the session goes idle
        assert s.maintain()["evicted"] == 1 and h.evicted and h.instance() is None
        gc.collect()
        assert ref() is None, "something still holds the evicted Run: " + repr(gc.get_referrers(ref())[:3])
        assert _runs_in_state(at) == []
        at.run()  # the student comes back
        assert not at.exception and not h.evicted
        back = h.instance()
        assert back is not None and back.step_count == steps and _drawn(at) == steps
        at.button(key="t_continue").click().run()
        assert live.wait_for("t", steps + 10, timeout=60, state=at.session_state) >= steps + 10
    finally:
        s.shutdown()


def test_fast_runs_in_the_fast_lane_or_here(sched, monkeypatch):
    at = AppTest.from_string(
        "import threading\nimport streamlit as st\nfrom stylelab.ui import live\n"
        "st.session_state['where'] = live.fast(lambda x: (threading.current_thread().name, x * 2), 21)\n",
        default_timeout=60).run()
    assert not at.exception
    name, value = at.session_state["where"]
    assert value == 42 and name.startswith("stylelab-fast")
    monkeypatch.setenv(live.MODE_ENV, "inline")
    at.run()
    name, value = at.session_state["where"]
    assert value == 42 and not name.startswith("stylelab-fast")  # inline: called in the script's own thread


@pytest.mark.parametrize("draw_s, tick_s", [(0.05, 0.4), (0.1, 0.4), (0.2, 0.4), (0.3, 0.4), (0.5, 0.4), (2.0, 0.4)])
def test_redraw_period_keeps_the_pages_share_of_the_time(draw_s, tick_s):
    """Redraws take at most DRAW_SHARE of the wall time unless that would mean waiting longer than
    MAX_PAUSE_S after one; and no longer a period than that needs."""
    period = live.redraw_period(draw_s, tick_s)
    assert period >= tick_s
    assert period <= max(tick_s, draw_s) + live.MAX_PAUSE_S + 1e-9
    if period < max(tick_s, draw_s) + live.MAX_PAUSE_S - 1e-9:
        assert draw_s / period <= live.DRAW_SHARE + 1e-9
        assert period == tick_s or abs(draw_s / period - live.DRAW_SHARE) < 1e-9
    if draw_s <= tick_s * live.DRAW_SHARE:
        assert period == tick_s  # a quiet machine: redraw every tick
    assert live.redraw_period(0.3, 0.4) == pytest.approx(1.0)  # hand-computed: P = 0.3 / 0.3 = 1 s
    assert live.redraw_period(2.0, 0.4) == pytest.approx(3.0)  # 2 / 0.3 = 6.7 s, but at most 2 + 1 s


def test_paced_period_spreads_the_class_budget_over_the_live_pages(monkeypatch):
    """With 20 other pages redrawing at 0.05 s of CPU each and a 0.5-core budget, a page redraws
    every (21 x 0.05) / 0.5 = 2.1 s (hand-computed); alone it redraws every tick."""
    from stylelab.serve import pacing

    pacer = pacing.RedrawPacer(cores=0.5)
    monkeypatch.setattr(pacing, "_pacer", pacer)
    assert live.paced_period(0.05, 0.4, 0.05, who="me") == (0.4, 1)
    for i in range(20):
        pacer.note(f"other{i}", 0.05)
    period, n = live.paced_period(0.05, 0.4, 0.05, who="me")
    assert n == 21 and period == pytest.approx(2.1)
    # a costly page alone still keeps its share of a core (0.3 s of CPU / 0.3 = 1 s); one that only
    # waited (0.3 s of wall time, 0.01 s of CPU: the cores were busy) redraws every tick
    monkeypatch.setattr(pacing, "_pacer", pacing.RedrawPacer(cores=0.5))
    assert live.paced_period(0.3, 0.4, 0.3, who="me")[0] == pytest.approx(1.0)
    monkeypatch.setattr(pacing, "_pacer", pacing.RedrawPacer(cores=0.5))
    assert live.paced_period(0.3, 0.4, 0.01, who="me")[0] == pytest.approx(0.4)
    # never longer than a third of the idle period (each redraw keeps the session's runs in memory)
    crowd = pacing.RedrawPacer(cores=0.01)
    monkeypatch.setattr(pacing, "_pacer", crowd)
    for i in range(50):
        crowd.note(f"c{i}", 1.0)
    idle = live.session.scheduler().limits.idle_s
    assert live.paced_period(0.05, 0.4, 0.05, who="me")[0] == pytest.approx(min(pacing.MAX_PERIOD_S, idle / 3))


def test_a_live_page_sends_its_paced_period_to_the_browser(monkeypatch):
    """The fragment's redraw sends Streamlit's auto_rerun message with the paced period (the
    browser's timer changes), and sends nothing more while the period stays put."""
    from stylelab.serve import pacing

    crowd = pacing.RedrawPacer(cores=0.1)
    for i in range(10):
        crowd.note(f"c{i}", 0.1)  # 10 x 0.1 s over 0.1 cores: 10 s (capped by idle_s / 3)
    monkeypatch.setattr(pacing, "_pacer", crowd)
    sent = []
    from streamlit.runtime.scriptrunner_utils import script_run_context as src

    real = src.ScriptRunContext.enqueue

    def spy(self, msg):
        if msg.WhichOneof("type") == "auto_rerun":
            sent.append(msg.auto_rerun.interval)
        return real(self, msg)

    monkeypatch.setattr(src.ScriptRunContext, "enqueue", spy)
    script = (
        "import streamlit as st\nfrom stylelab.ui import live\n"
        "@st.fragment\n"
        "def f():\n"
        "    live._pace('k', 0.01, 0.4, 0.1)\n"
        "f()\n")
    at = AppTest.from_string(script, default_timeout=60).run()
    assert not at.exception
    idle = live.session.scheduler().limits.idle_s
    want = round(min(pacing.MAX_PERIOD_S, idle / 3, (10 * 0.1 + 0.1) / 0.1), 2)
    assert sent == [want]
    assert any("live pages redraw every" in c.value for c in at.caption)
    at.run()
    assert sent == [want]  # the same period: nothing sent again


def _runs_in_state(at) -> list[str]:
    """The session-state keys that hold a Run object."""
    from stylelab.run import Run

    return [k for k, v in at.session_state.items() if isinstance(v, Run)]


def test_the_queue_line_and_a_full_server(sched):
    first = _page()
    first.button(key="t_start").click().run()
    live.wait_for("t", 20, timeout=60, state=first.session_state)
    second = _page()
    second.button(key="t_start").click().run()  # max_heavy_runs=1: it waits behind the first
    h = _handle(second, sched)
    assert h.status == "queued"
    lines = [i.value for i in second.info if i.value.startswith("waiting:")]
    assert lines and "yours is next" in lines[0], lines
    ahead, seconds = sched.queue_wait(h)
    assert ahead == 0 and seconds is not None and seconds > 0
    assert live.queue_text(h).startswith("waiting: yours is next, ")
    _page(), _page()  # four sessions: the server's limit
    full = _page()
    assert any("class server is full (4 students" in e.value for e in full.error)
    assert not [m for m in full.markdown if m.value.startswith("drawn")]


def test_set_run_submits_paused_and_a_done_run_can_be_extended(sched):
    at = _page(steps=30)
    at.button(key="t_load").click().run()
    h = _handle(at, sched)
    assert h.status == "paused" and at.button(key="t_stop").disabled and not at.button(key="t_continue").disabled
    time.sleep(0.3)
    assert h.step_count == 0  # loaded paused: no step until Continue
    at.button(key="t_continue").click().run()
    assert h.wait(timeout=60) == "done"
    at.run()
    assert at.button(key="t_stop").disabled and at.button(key="t_continue").disabled
    assert _drawn(at) == 30
    run = h.instance()
    assert run.step_count == 30 and run.done and _runs_in_state(at) == []
    at.button(key="t_more").click().run()  # the done handle cannot resume: the same run is resubmitted
    h2 = _handle(at, sched)
    assert h2.id != h.id and h2.instance() is run
    assert live.wait_for("t", 40, timeout=60, state=at.session_state) == 40
    assert h2.wait(timeout=60) == "done" and run.step_count == 40
    at.run()
    assert _drawn(at) == 40


def test_the_app_scheduler_is_one_and_refuses_ray_but_takes_processes(monkeypatch):
    monkeypatch.setenv("STYLELAB_BACKEND", "ray")
    session._scheduler.clear()
    try:
        with pytest.raises(ConfigError, match="thread or process backend"):
            session._scheduler()
    finally:
        session._scheduler.clear()
    monkeypatch.delenv("STYLELAB_BACKEND")
    monkeypatch.setenv("STYLELAB_WORKERS", "1")
    try:
        s = session.scheduler()
        assert session.scheduler() is s and s.workers == 1
    finally:
        session._scheduler().shutdown()
        session._scheduler.clear()


def test_mode_and_token_shape(monkeypatch):
    monkeypatch.delenv(live.MODE_ENV, raising=False)
    assert live.mode() == live.DEFAULT_MODE == "scheduler"  # the app a teacher starts uses the scheduler
    monkeypatch.setenv(live.MODE_ENV, "sideways")
    with pytest.raises(ConfigError, match="STYLELAB_LIVE"):
        live.mode()
    assert session.token_param() == "sid"
    assert not session.valid_token("short") and not session.valid_token(None)
    assert not session.valid_token("A" * 42 + "!") and session.valid_token("A" * 43)


def test_borrow_holds_the_step_lock():
    with Scheduler(Limits(workers=1, slice_s=0.05)) as s:
        tok = s.open_session()
        from stylelab.run import catalog

        run = catalog()["gan-2d"](seed=0)
        h = s.submit(tok, run, paused=True)
        assert h.status == "paused" and h.position == 0
        time.sleep(0.2)
        assert run.step_count == 0  # submitted paused: no step, no place in the queue
        h.resume()
        seen: list[tuple[int, int]] = []
        stop = threading.Event()

        def reader():
            while not stop.is_set():
                with h.borrow() as r:
                    a = r.step_count
                    time.sleep(0.01)
                    seen.append((a, r.step_count))

        t = threading.Thread(target=reader)
        t.start()
        h.wait(timeout=60)
        stop.set()
        t.join()
        assert seen and all(a == b for a, b in seen)
        assert h.status == "done" and run.step_count == run.total_steps


def test_the_gan_page_plays_on_the_scheduler(sched):
    """A real page on the default path: Play submits the run, a worker steps it, Pause stops it."""
    from pathlib import Path

    page = str(Path(__file__).resolve().parents[1] / "pages" / "3_GAN_Lab.py")
    at = AppTest.from_file(page, default_timeout=180).run()
    assert not at.exception
    h = _handle_of(at, sched, "gan")
    assert h.status == "paused" and h.step_count == 0  # the page's first run is put in paused
    at.button(key="gan_play").click().run()
    assert at.button(key="gan_play").label == "⏸ Pause" and h.status in ("queued", "running")
    assert live.wait_for("gan", 50, timeout=120, state=at.session_state) >= 50
    at.run()
    assert not at.exception and any(c.value.startswith("Step ") and "playing" in c.value for c in at.caption)
    shown = int(next(c.value for c in at.caption if c.value.startswith("Step ")).split()[1])
    assert shown >= 50 and _runs_in_state(at) == []  # the page holds the handle, not the Run
    at.button(key="gan_play").click().run()
    assert at.button(key="gan_play").label == "▶ Play" and h.status == "paused"
    assert at.session_state["gan_shown"] is False  # the live view stops re-running by itself
    time.sleep(0.2)
    steps = h.step_count
    time.sleep(0.5)
    at.run()
    assert h.step_count == steps and h.instance().step_count == steps  # paused: no more steps
    assert int(next(c.value for c in at.caption if c.value.startswith("Step ")).split()[1]) == steps
    reloaded = AppTest.from_file(page, default_timeout=180)
    reloaded.query_params[session.token_param()] = at.session_state[session._STATE]
    reloaded.run()
    assert not reloaded.exception and reloaded.session_state["gan_handle"] == h.id  # the same run after a reload
    assert len(sched.runs(at.session_state[session._STATE])) == 1


def _handle_of(at, sched, key: str):
    return sched.get_run(at.session_state[session._STATE], at.session_state[f"{key}_handle"])
