"""The server-wide redraw budget (stylelab.serve.pacing) and the clocked collector (stylelab.serve.collector)."""

import gc
import threading
import time

import pytest

from stylelab.errors import ConfigError
from stylelab.serve import collector as coll
from stylelab.serve.pacing import MAX_PERIOD_S, RedrawPacer, budget_from_env


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_one_session_gets_the_tick_and_a_class_shares_the_budget():
    clock = Clock()
    p = RedrawPacer(cores=0.5, clock=clock)
    p.note("a", 0.05)
    assert p.period(0.4) == 0.4  # 0.05 / 0.5 = 0.1 s < the tick
    for i in range(20):
        p.note(f"s{i}", 0.05)
    # hand-computed: 21 sessions x 0.05 s of CPU per round, over a budget of 0.5 cores = 2.1 s
    assert p.period(0.4) == pytest.approx(21 * 0.05 / 0.5)
    n, total = p.demand()
    assert n == 21 and total == pytest.approx(1.05)
    # drawing at that period costs exactly the budget: sum(c_i) / P = B
    assert total / p.period(0.4) == pytest.approx(0.5)


def test_a_session_counts_its_latest_redraw_only_and_leaves_the_sum_when_it_stops_or_goes_quiet():
    clock = Clock()
    p = RedrawPacer(cores=1.0, window_s=30.0, clock=clock)
    p.note("a", 0.9)
    p.note("a", 0.3)  # the same page redrew again: its newer cost replaces the older one
    p.note("b", 0.5)
    assert p.demand() == (2, pytest.approx(0.8))
    p.forget("b")
    assert p.demand() == (1, pytest.approx(0.3))
    clock.t += 31.0  # nothing from "a" for longer than the window: its tab is gone
    assert p.demand() == (0, 0.0)
    assert p.period(0.4) == 0.4


def test_the_period_is_capped():
    p = RedrawPacer(cores=0.1, clock=Clock())
    for i in range(100):
        p.note(str(i), 1.0)
    assert p.period(0.4) == MAX_PERIOD_S


@pytest.mark.parametrize("bad", [0, -1, float("nan")])
def test_bad_budgets_and_costs_are_typed_errors(bad):
    with pytest.raises(ConfigError):
        RedrawPacer(cores=bad)
    with pytest.raises(ConfigError):
        RedrawPacer(cores=1).note("a", -1.0 if bad == 0 else bad)


def test_budget_from_env():
    from stylelab.serve.pacing import DEFAULT_CORES

    assert budget_from_env(env={}) == DEFAULT_CORES == 0.3
    assert budget_from_env(env={"STYLELAB_DRAW_CORES": "1.5"}) == 1.5
    for raw in ("lots", "0", "-2", "inf"):
        with pytest.raises(ConfigError, match="STYLELAB_DRAW_CORES"):
            budget_from_env(env={"STYLELAB_DRAW_CORES": raw})


def test_the_pacer_is_thread_safe():
    p = RedrawPacer(cores=1.0)

    def work(i):
        for j in range(500):
            p.note(f"{i}-{j % 7}", 0.01)
            p.period(0.4)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert p.demand()[0] == 28


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_the_collector_frees_cyclic_garbage_on_its_clock():
    import weakref

    was = gc.isenabled()
    gc.disable()  # only the collector may find the cycle
    try:
        obj = _Cycle()
        ref = weakref.ref(obj)
        del obj
        assert ref() is not None  # a cycle: reference counting alone never frees it
        c = coll.Collector(interval_s=0.05).start()
        deadline = time.monotonic() + 5
        while ref() is not None and time.monotonic() < deadline:
            time.sleep(0.02)
        c.stop()
        assert ref() is None
        assert c.collections >= 1 and c.freed >= 1 and not c.running
        assert c.stats()["collections"] == c.collections
    finally:
        if was:
            gc.enable()


def test_the_collector_interval_from_the_environment():
    assert coll.interval_from_env({}) == coll.DEFAULT_INTERVAL_S
    assert coll.interval_from_env({"STYLELAB_GC_S": "2.5"}) == 2.5
    for raw in ("soon", "0", "-1", "inf", "nan"):
        with pytest.raises(ConfigError, match="STYLELAB_GC_S"):
            coll.interval_from_env({"STYLELAB_GC_S": raw})
    with pytest.raises(ConfigError):
        coll.Collector(interval_s=0)


def test_the_app_turns_off_streamlits_collection_after_every_run():
    from pathlib import Path

    import tomllib

    cfg = tomllib.loads((Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml").read_text())
    assert cfg["runner"]["postScriptGC"] is False
    app = (Path(__file__).resolve().parents[1] / "app.py").read_text()
    assert "start_collector(" in app


def test_a_bad_budget_falls_back_to_the_default_and_says_why(monkeypatch):
    from stylelab.serve import pacing

    monkeypatch.setattr(pacing, "_pacer", None)
    monkeypatch.setenv("STYLELAB_DRAW_CORES", "lots")
    found, problem = pacing.pacer_or_default()
    assert isinstance(problem, ConfigError) and "STYLELAB_DRAW_CORES" in str(problem)
    assert found.cores == pacing.DEFAULT_CORES
    assert pacing.pacer() is found  # the one pacer of the process from now on


# ----------------------------------------------------------------------------- the switch interval
def test_switch_interval_from_the_environment_and_applied():
    import sys

    from stylelab.serve import switching

    assert switching.switch_ms_from_env({}) == switching.DEFAULT_MS
    assert switching.switch_ms_from_env({"STYLELAB_SWITCH_MS": " 0.5 "}) == 0.5
    for bad in ("0", "-1", "fast", "inf", "nan"):
        with pytest.raises(ConfigError, match="STYLELAB_SWITCH_MS"):
            switching.switch_ms_from_env({"STYLELAB_SWITCH_MS": bad})
    before = sys.getswitchinterval()
    try:
        assert switching.apply_switch_interval(1.0) == pytest.approx(1.0)
        assert sys.getswitchinterval() == pytest.approx(0.001)
    finally:
        sys.setswitchinterval(before)
