"""The same core scheduler tests against the Ray backend, in a local Ray (2 CPUs, no dashboard).

Runs live in Ray actors (other processes): the driver ships a factory + args (and, after an
eviction, the state_dict) and reads back rows and previews. Ray workers import the fake runs
from this tests folder, so PYTHONPATH names it before Ray starts.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow  # Ray starts in ~8-12 s; the module takes ~40 s on a 2-core CPU

import serve_contract as contract  # noqa: E402
from test_serve_scheduler import FakeClock, _until, sleep_run  # noqa: E402

from stylelab.serve import Limits, RayBackend, Scheduler, make_backend  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def local_ray():
    if ray.is_initialized():  # pragma: no cover - another module left Ray running
        ray.shutdown()
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "tests")] + ([old] if old else []))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()
    if old is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = old


def ray_sched(workers: int = 2, clock=time.monotonic, **limits) -> Scheduler:
    limits.setdefault("slice_s", 0.02)
    limits.setdefault("quantum_s", 0.02)
    backend = RayBackend(workers=workers, threads=1, nice=0)
    return Scheduler(Limits(workers=workers, backend="ray", **limits), backend=backend, clock=clock,
                     housekeeping=False)


@pytest.fixture
def rsched(local_ray):
    s = ray_sched()
    yield s
    s.shutdown()


def test_ray_backend_rows_previews_records(rsched):
    assert rsched.workers == 2 and len(set(rsched.backend.pids)) == 2 and os.getpid() not in rsched.backend.pids
    contract.rows_previews_records_and_failures(rsched)


def test_ray_fair_share_between_cheap_and_expensive_steps(local_ray):
    s = ray_sched(workers=1)
    try:
        contract.fair_share_cheap_vs_dear(s)
    finally:
        s.shutdown()


def test_ray_queue_priorities_cancel_pause(local_ray):
    s = ray_sched(workers=1, max_heavy_runs=1)
    try:
        contract.queue_priorities_cancel_pause(s)
    finally:
        s.shutdown()


def test_ray_fast_lane_answers_while_actors_are_busy(local_ray):
    s = ray_sched(workers=2)
    try:
        a, b = s.open_session(), s.open_session()
        for i, tok in enumerate((a, b)):
            s.submit(tok, sleep_run, i, steps=None, cost_s=0.5, burn=True).wait_steps(1, timeout=60)
        t0 = time.perf_counter()
        assert s.call(a, lambda: 1 + 1) == 2
        assert time.perf_counter() - t0 < 0.5
    finally:
        s.shutdown()


def test_ray_eviction_comes_back_bit_for_bit(local_ray):
    clock = FakeClock()
    s = ray_sched(workers=2, clock=clock, idle_s=60, grace_s=600)
    try:
        contract.eviction_comes_back_bit_for_bit(s, clock)
    finally:
        s.shutdown()


def test_backend_is_chosen_by_environment(local_ray, monkeypatch):
    monkeypatch.setenv("STYLELAB_BACKEND", "ray")
    monkeypatch.setenv("STYLELAB_WORKERS", "1")
    backend = make_backend(Limits.from_env())
    try:
        assert isinstance(backend, RayBackend) and backend.workers == 1
    finally:
        backend.shutdown()
    assert ray.is_initialized()  # it joined the running Ray and leaves it running


def test_a_catalogue_run_on_ray_equals_it_alone(rsched):
    from stylelab.run import catalog

    try:
        factory = catalog()["gan-2d"]
    except (ImportError, AttributeError) as exc:  # pragma: no cover - the GAN lab is not converted yet
        pytest.skip(f"gan-2d is not available yet: {exc}")
    ref = factory(seed=2, device="cpu")
    for _ in range(5):
        ref.step()
    h = rsched.submit(rsched.open_session(), "gan-2d", seed=2, device="cpu")
    h.wait_steps(5, timeout=120)
    h.pause()
    _until(lambda: not h._in_slice, timeout=60, what="the slice to end")
    assert h.error is None and h.rows()[:5] == ref.history
