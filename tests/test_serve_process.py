"""The process backend: runs train in worker processes; pages read copies and borrow the run.

The same core scheduler tests as the thread and Ray backends (fair share, queue, cancel, pause,
eviction bit for bit), plus what only this backend does: a Run object travels to the worker and
back (:mod:`stylelab.serve.courier`), a borrowed run's changes reach the worker, a copy is a
copy, frozen feature nets cross once, and a worker that dies fails its runs with a clear error.
"""

from __future__ import annotations

import os
import pickle
import signal
import time
from pathlib import Path

import pytest
import serve_contract as contract
import torch
from test_serve_scheduler import FakeClock, _until, alone, sleep_run

from stylelab.errors import StylelabError
from stylelab.serve import Limits, Scheduler, make_backend
from stylelab.serve.courier import SHARE_MIN_BYTES, Courier, ShippingError, fingerprint
from stylelab.serve.procs import ProcessBackend

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module", autouse=True)
def tests_on_path():
    """The worker processes import the fake runs from this tests folder."""
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT / "tests")] + ([old] if old else []))
    yield
    if old is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = old


def proc_sched(workers: int = 2, clock=time.monotonic, **limits) -> Scheduler:
    limits.setdefault("slice_s", 0.02)
    limits.setdefault("quantum_s", 0.02)
    backend = ProcessBackend(workers, 1, nice=0)
    return Scheduler(Limits(workers=workers, backend="process", **limits), backend=backend, clock=clock,
                     housekeeping=False)


@pytest.fixture(scope="module")
def psched():
    s = proc_sched()
    yield s
    s.shutdown()


# ----------------------------------------------------------------------------- the courier alone
class _Holder:
    def __init__(self) -> None:
        self.frozen = torch.nn.Linear(128, 128).requires_grad_(False)
        self.net = torch.nn.Linear(4, 4)
        self.opt = torch.optim.LBFGS(self.net.parameters())
        self.data = torch.randn(64, 1024)  # 256 KB, no grad: shared
        self.small = torch.randn(3)


def test_fingerprint_says_what_is_shared_and_changes_in_place():
    big = torch.zeros(SHARE_MIN_BYTES // 4)
    assert fingerprint(big) is not None and fingerprint(torch.zeros(8)) is None
    assert fingerprint(big.clone().requires_grad_(True)) is None
    before = fingerprint(big)
    big.add_(1)
    assert fingerprint(big) != before  # changed in place: sent again, never by a stale key
    frozen = torch.nn.Linear(2, 2).requires_grad_(False)
    assert fingerprint(frozen) is not None and fingerprint(torch.nn.Linear(2, 2)) is None
    assert fingerprint([torch.zeros(2)] * 16) is not None and fingerprint([torch.zeros(2)] * 3) is None


def test_courier_ships_shared_objects_once_and_back_by_key():
    a, b = Courier(), Courier()  # the two ends of one channel
    obj = _Holder()
    first = a.dumps("r", obj)
    got = b.loads("r", first)
    assert torch.equal(got.data, obj.data) and torch.equal(got.frozen.weight, obj.frozen.weight)
    assert got.opt._params[0] is got.net.weight  # an optimiser arrives whole, tied to its parameters
    second = a.dumps("r", obj)
    assert len(second) < len(first) / 4  # the frozen net and the data set went by key
    again = b.loads("r", second)
    assert again.frozen is got.frozen and again.data is got.data
    back = b.dumps("r", again)  # the other way: the peer's own objects go back as ("y", key)
    home = a.loads("r", back)
    assert home.frozen is obj.frozen and home.data is obj.data and home.net is not obj.net
    obj.data.mul_(2)  # changed in place: it travels again
    third = b.loads("r", a.dumps("r", obj))
    assert torch.equal(third.data, obj.data) and third.data is not got.data
    a.forget("r"), b.forget("r")
    assert a.held() == (0, 0) and b.held() == (0, 0)


def test_courier_sends_again_what_only_another_run_referred_to():
    a, b = Courier(), Courier()
    shared = torch.randn(64, 1024)
    b.loads("r1", a.dumps("r1", {"x": shared}))
    blob = a.dumps("r2", {"x": shared})  # r2 never carried it: its payload comes along
    _, payloads = pickle.loads(blob)
    assert len(payloads) == 1
    b.forget("r1")
    assert torch.equal(b.loads("r2", blob)["x"], shared)


def test_courier_names_what_cannot_be_pickled():
    import threading

    with pytest.raises(ShippingError, match="cannot pickle"):
        Courier().dumps("r", {"lock": threading.Lock()})


# ----------------------------------------------------------------------------- the scheduler on processes
def test_rows_previews_records_and_failures_from_worker_processes(psched):
    assert psched.workers == 2 and len(set(psched.backend.pids)) == 2 and os.getpid() not in psched.backend.pids
    contract.rows_previews_records_and_failures(psched)


def test_fair_share_between_cheap_and_expensive_steps_on_one_process():
    s = proc_sched(workers=1)
    try:
        contract.fair_share_cheap_vs_dear(s)
    finally:
        s.shutdown()


def test_queue_priorities_cancel_pause_on_processes():
    s = proc_sched(workers=1, max_heavy_runs=1)
    try:
        contract.queue_priorities_cancel_pause(s)
    finally:
        s.shutdown()


def test_eviction_to_disk_comes_back_bit_for_bit_on_processes():
    clock = FakeClock()
    s = proc_sched(workers=1, clock=clock, idle_s=60, grace_s=600)
    try:
        contract.eviction_comes_back_bit_for_bit(s, clock, instance=True)  # a Run object: it travels
    finally:
        s.shutdown()


def test_a_run_that_already_stepped_travels_and_goes_on_bit_for_bit(psched):
    run = sleep_run(3, steps=40, cost_s=0.0)
    for _ in range(15):  # e.g. a run loaded from a checkpoint: it continues where it was
        run.step()
    h = psched.submit(psched.open_session(), run)
    assert h.wait(timeout=60) == "done", h.error_text
    assert h.rows() == alone(3, 40)


def test_borrow_sends_the_change_to_the_worker_and_a_copy_is_a_copy(psched):
    token = psched.open_session()
    h = psched.submit(token, sleep_run(5, steps=30, cost_s=0.01))
    h.wait_steps(3, timeout=60)
    with h.borrow() as run:
        assert run is not None and run.step_count >= 3
        run.config.steps = 60  # a live setting, changed between two steps
    assert h.holds(run)
    assert h.wait(timeout=60) == "done" and h.step_count == 60 and h.total_steps == 60
    assert h.rows() == alone(5, 60)
    view = h.snapshot()
    before = view.w.clone()
    assert view.step_count == 60
    view.w.add_(100.0)  # drawing code that changes its copy never touches the live run
    assert torch.equal(h.snapshot().w, before)


def test_stop_reaches_a_running_slice_within_one_step():
    s = proc_sched(workers=1, slice_s=5.0)  # one long slice: only the stop request can end it early
    try:
        h = s.submit(s.open_session(), sleep_run, 0, steps=None, cost_s=0.05)
        h.wait_steps(3, timeout=60)
        t0 = time.perf_counter()
        h.pause()
        _until(lambda: not h._in_slice, timeout=10, what="the slice to end")
        assert time.perf_counter() - t0 < 1.0
    finally:
        s.shutdown()


def test_a_dead_worker_fails_its_run_clearly_and_is_replaced():
    s = proc_sched(workers=1)
    try:
        token = s.open_session()
        h = s.submit(token, sleep_run, 0, steps=None, cost_s=0.02)
        h.wait_steps(2, timeout=60)
        os.kill(s.backend._peers[0].pid, signal.SIGKILL)
        assert h.wait(timeout=30) == "failed"
        assert "worker process" in h.error_text and "start the run again" in h.error_text
        again = s.submit(token, sleep_run, 1, steps=10, cost_s=0.0)
        assert again.wait(timeout=60) == "done" and again.rows() == alone(1, 10)
    finally:
        s.shutdown()


def test_backend_is_chosen_by_environment(monkeypatch):
    monkeypatch.setenv("STYLELAB_BACKEND", "process")
    monkeypatch.setenv("STYLELAB_WORKERS", "1")
    backend = make_backend(Limits.from_env())
    try:
        assert isinstance(backend, ProcessBackend) and backend.workers == 1
        assert backend.pids[0] != os.getpid()
    finally:
        backend.shutdown()


def test_a_catalogue_gan_run_on_a_worker_process_equals_it_alone(psched):
    from stylelab.run import catalog

    ref = catalog()["gan-2d"](seed=2, device="cpu")
    for _ in range(12):
        ref.step()
    run = catalog()["gan-2d"](seed=2, device="cpu")
    h = psched.submit(psched.open_session(), run)
    h.wait_steps(6, timeout=120)
    with h.borrow() as live:  # a GAN run (LeanAdam, generators, data) travels there and back mid-run
        assert live.step_count >= 6
    h.wait_steps(12, timeout=120)
    h.pause()
    _until(lambda: not h._in_slice, timeout=60, what="the slice to end")
    assert h.error is None and h.rows()[:12] == ref.history


def test_history_rows_travel_once_and_the_workers_list_goes_on():
    from stylelab.serve.courier import Courier

    worker, server = Courier(live_rows=True), Courier()
    run = sleep_run(0, steps=None, cost_s=0.0)
    for _ in range(400):
        run.step()
    first = worker.dumps("r", run)
    copy1 = server.loads("r", first)
    for _ in range(5):
        run.step()
    second = worker.dumps("r", run)  # only the 5 new rows travel, not all 405
    copy2 = server.loads("r", second)
    assert copy2.history == run.history and copy1.history == run.history[:400]  # each copy its own list
    rows_bytes = len(pickle.dumps(run.history[:400]))
    assert len(first) - len(second) > 0.8 * rows_bytes  # the 400 old rows did not travel again
    back = worker.loads("r", server.dumps("r", copy2))  # a borrowed run comes back
    assert back.history is run.history  # the worker's run goes on appending to its own list
    assert back.history[-1] is run.history[-1]


def test_an_unknown_backend_is_refused_by_name():
    with pytest.raises(Exception, match="STYLELAB_BACKEND"):
        Limits.from_env({"STYLELAB_BACKEND": "cluster"})


def test_an_unpicklable_run_is_named_when_a_page_borrows_it(psched):
    import threading

    run = sleep_run(0, steps=None, cost_s=0.01)
    h = psched.submit(psched.open_session(), run)
    h.wait_steps(2, timeout=60)
    with pytest.raises(StylelabError, match="cannot pickle"):
        with h.borrow() as live:
            live.lock = threading.Lock()  # something a worker process cannot receive
    h.wait_steps(h.step_count + 3, timeout=30)  # the run went on, unchanged
    assert h.status == "running"
    h.cancel()


def test_runs_are_built_on_the_least_loaded_worker(psched):
    tokens = [psched.open_session() for _ in range(4)]
    hs = [psched.submit(t, sleep_run, i, steps=None, cost_s=0.01) for i, t in enumerate(tokens)]
    for h in hs:
        h.wait_steps(2, timeout=60)
    where = sorted(h._worker for h in hs)
    assert where == [0, 0, 1, 1], where  # pinned runs spread over the two worker processes
    for h in hs:
        h.cancel()
