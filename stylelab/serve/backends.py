"""Where runs live and step: in-process threads (default) or Ray actors, behind one small interface.

The scheduler (:mod:`stylelab.serve.scheduler`) decides *which* run steps next; a backend does
the stepping. Both backends hold their runs in a :class:`RunHost` (a dict of runs plus the
stop flags) and expose the same calls:

=======================================================  ========================================
``build(w, run_id, factory, args, kwargs, state)``        build the run on worker ``w`` (and load
                                                          ``state``, a ``Run.state_dict()``)
``slice(w, run_id, budget_s, epoch, preview, measure)``   step it for about ``budget_s`` seconds
``request_stop(run_id, epoch)``                           stop that run's slice after its current
                                                          step (Stop within one step)
``state_dict(run_id)`` / ``record(run_id)`` / ``drop``    read it back, free it
=======================================================  ========================================

Why runs are built *from a factory* (a callable, a registered name, ``"module:function"``, or a
Run's class + record + inputs): a Ray worker is another process, so the driver never pickles a
live Run (models, optimisers, open caches); it ships the recipe and, after eviction, the
``state_dict`` (tensors and plain values), and reads back only rows and previews.

Threads per worker: each worker thread (or actor) sets ``torch.set_num_threads(t)`` for itself
with ``workers * t <= cores`` (:func:`stylelab.serve.limits.pool_shape`), and lowers its OS
priority by ``nice`` so the page's own thread and the fast lane win the cores when both want them.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError, StylelabError
from ..run import CATALOG, Run

# ----------------------------------------------------------------------------- helpers
_tuned = threading.local()
#: the name prefix of the scheduler's worker threads
WORKER_THREAD_PREFIX = "stylelab-worker-"


def tune_thread(threads: int, nice: int = 0, cuda_index: int | None = None) -> None:
    """Set this thread's torch threads, OS priority (Linux: per thread) and current CUDA device, once."""
    import torch

    key = (threads, nice, cuda_index)
    if getattr(_tuned, "key", None) == key:
        return
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    if nice > 0 and hasattr(os, "setpriority") and hasattr(threading, "get_native_id"):
        # Lowering one's own priority is always allowed on Linux; other systems lack per-thread nice.
        with contextlib.suppress(OSError):
            now = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
            if now < nice:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    if cuda_index is not None:
        torch.cuda.set_device(cuda_index)
    _tuned.key = key


def resolve_factory(factory: Any) -> Callable[..., Run]:
    """A run factory from a callable, a catalogue kind (``"gatys"``) or ``"module:function"``."""
    if callable(factory):
        return factory
    if isinstance(factory, str):
        target = CATALOG.get(factory, factory)
        module, sep, attr = target.partition(":")
        if sep and module and attr:
            try:
                return getattr(importlib.import_module(module), attr)
            except (ImportError, AttributeError) as exc:
                raise ConfigError(f"Cannot find the run factory {target!r} ({exc}).") from exc
        raise ConfigError(f"Unknown run factory {factory!r}: give a callable, a catalogue kind "
                          f"({', '.join(sorted(CATALOG))}) or 'module:function'.")
    raise ConfigError(f"A run factory must be a callable or a name, got {type(factory).__name__}.")


def rebuild_run(cls: type, record: Mapping[str, Any], inputs: Mapping[str, Any], device: str | None) -> Run:
    """The generic factory of a Run instance: ``cls.from_record(record, device=device, **inputs)``."""
    return cls.from_record(dict(record), device=device, **dict(inputs))


def state_bytes(obj: Any) -> int:
    """Bytes of the distinct tensor storages in a (nested) state dict: the run's memory estimate."""
    import torch

    seen: set[tuple[str, int]] = set()
    total = 0
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, torch.Tensor):
            storage = item.untyped_storage()
            key = (str(item.device), storage.data_ptr())
            if key not in seen:
                seen.add(key)
                total += storage.nbytes()
        elif isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return total


@dataclass
class BuildInfo:
    """What a backend reports after building a run."""

    kind: str
    total_steps: int | None
    step_count: int
    history: list[dict[str, Any]]
    memory_bytes: int
    seconds: float
    preview: Any = None


@dataclass
class SliceResult:
    """What one slice did: its rows, maybe a preview, whether the run is done, its wall seconds."""

    rows: list[dict[str, Any]]
    done: bool
    seconds: float
    step_count: int
    preview: Any = None
    memory_bytes: int | None = None
    stopped: bool = False
    total_steps: int | None = None


def _cpu_preview(run: Run) -> Any:
    pic = run.preview()
    if pic is None:
        return None
    return pic.detach().to("cpu").float().contiguous()


class RunHost:
    """The runs of one worker process (the driver for threads, an actor for Ray) and their stop flags."""

    def __init__(self, threads: int = 1, nice: int = 0) -> None:
        self.threads = threads
        self.nice = nice
        self._runs: dict[str, Run] = {}
        self._stop_epoch: dict[str, int] = {}
        #: one lock per run, held around each step and preview: a page that draws the live Run
        #: object holds it too (:meth:`borrow`), so drawing never sees half a step
        self._step_locks: dict[str, threading.RLock] = {}
        self._lock = threading.Lock()
        #: runs a page of another process has borrowed (process backend): run_id -> (lease, deadline)
        self._leases: dict[str, tuple[str, float]] = {}
        self._lease_cv = threading.Condition(self._lock)

    def _run(self, run_id: str) -> Run:
        with self._lock:
            run = self._runs.get(run_id)
        if run is None:
            raise StylelabError(f"Run {run_id} is not on this worker (it was freed or evicted).")
        return run

    def build(self, run_id: str, factory: Any, args: tuple, kwargs: dict, state: Mapping | None = None,
              instance: Run | None = None, tune: bool = True) -> BuildInfo:
        """Build the run (and load ``state``); ``tune``: set this thread's torch threads and
        priority first (False when a page's thread brings an evicted run back)."""
        if tune:
            tune_thread(self.threads, self.nice)
        t0 = time.perf_counter()
        run = instance if instance is not None else resolve_factory(factory)(*args, **kwargs)
        if not isinstance(run, Run):
            raise ConfigError(f"The run factory returned a {type(run).__name__}, not a stylelab.run.Run.")
        if state is not None:
            run.load_state_dict(state)
        memory = state_bytes(run.state_dict())
        seconds = time.perf_counter() - t0
        with self._lock:
            self._runs[run_id] = run
            self._stop_epoch.setdefault(run_id, -1)
            self._step_locks.setdefault(run_id, threading.RLock())
        return BuildInfo(kind=run.kind, total_steps=run.total_steps, step_count=run.step_count,
                         history=[dict(r) for r in run.history], memory_bytes=memory, seconds=seconds,
                         preview=_cpu_preview(run) if run.step_count else None)

    def request_stop(self, run_id: str, epoch: int) -> None:
        with self._lock:
            self._stop_epoch[run_id] = max(epoch, self._stop_epoch.get(run_id, -1))

    def _stopped(self, run_id: str, epoch: int) -> bool:
        with self._lock:
            return self._stop_epoch.get(run_id, -1) > epoch

    def slice(self, run_id: str, budget_s: float, epoch: int, want_preview: bool = True,
              measure: bool = False) -> SliceResult:
        """Step ``run_id`` until ``budget_s`` seconds pass (at least one step), it is done, or a stop
        request newer than ``epoch`` arrives (checked before every step)."""
        tune_thread(self.threads, self.nice)
        run = self._run(run_id)
        lock = self._step_lock(run_id)
        rows: list[dict[str, Any]] = []
        stopped = False
        t0 = time.perf_counter()
        while not run.done:
            if self._stopped(run_id, epoch) or not self._wait_lease(run_id, epoch):
                stopped = True
                break
            with lock:
                if self._leased(run_id):  # borrowed while this slice waited for the lock
                    continue
                run = self._run(run_id)  # a borrowed run comes back as a new object (process backend)
                if run.done:
                    break
                rows.append(run.step())
            if time.perf_counter() - t0 >= budget_s:
                break
        with lock:
            run = self._run(run_id)
            preview = _cpu_preview(run) if (want_preview or run.done) and rows else None
        memory = state_bytes(run.state_dict()) if measure else None
        return SliceResult(rows=rows, done=run.done, seconds=time.perf_counter() - t0, step_count=run.step_count,
                           preview=preview, memory_bytes=memory, stopped=stopped, total_steps=run.total_steps)

    # -- leases: a page in another process borrows the run between two steps ---------------
    def lease(self, run_id: str, lease: str, seconds: float) -> None:
        """Hold the run's steps until :meth:`release` (or ``seconds`` pass: a lost page cannot stall it)."""
        with self._lease_cv:
            self._leases[run_id] = (lease, time.monotonic() + seconds)

    def release(self, run_id: str, lease: str, replace: Run | None = None) -> bool:
        """End ``lease``; ``replace``: the borrowed run as it came back, which takes the old one's
        place. False when the lease had expired (the change is not applied)."""
        with self._lease_cv:
            held = self._leases.get(run_id)
            if held is None or held[0] != lease:
                return False
            if replace is not None:
                if not isinstance(replace, Run):
                    del self._leases[run_id]
                    self._lease_cv.notify_all()
                    raise ConfigError(f"A borrowed run came back as a {type(replace).__name__}, not a Run.")
                if run_id in self._runs:  # no step runs now: the lease holds them (see slice)
                    self._runs[run_id] = replace
            del self._leases[run_id]
            self._lease_cv.notify_all()
            return True

    def _leased(self, run_id: str) -> bool:
        with self._lease_cv:
            held = self._leases.get(run_id)
            if held is not None and time.monotonic() >= held[1]:
                del self._leases[run_id]
                return False
            return held is not None

    def _wait_lease(self, run_id: str, epoch: int) -> bool:
        """Wait while the run is borrowed; False if a stop request arrived meanwhile."""
        with self._lease_cv:
            while True:
                held = self._leases.get(run_id)
                if held is None:
                    return True
                if time.monotonic() >= held[1]:
                    del self._leases[run_id]  # the page never came back: the run goes on unchanged
                    return True
                if self._stop_epoch.get(run_id, -1) > epoch:
                    return False
                self._lease_cv.wait(timeout=0.05)

    def _step_lock(self, run_id: str) -> threading.RLock:
        with self._lock:
            return self._step_locks.setdefault(run_id, threading.RLock())

    def instance(self, run_id: str) -> Run | None:
        """The live Run object of ``run_id`` (None when it is not in memory here)."""
        with self._lock:
            return self._runs.get(run_id)

    @contextlib.contextmanager
    def borrow(self, run_id: str, timeout: float = 30.0, fallback: Run | None = None):
        """``with host.borrow(run_id) as run:`` the live Run, between two of its steps (the worker
        waits until the block ends). ``run`` is ``fallback`` when the run is not in memory here
        (not built yet, freed, evicted); the lock is held either way, so a run being built from
        ``fallback`` right now waits before its first step."""
        lock = self._step_lock(run_id) if fallback is not None or self.instance(run_id) is not None else None
        if lock is None:
            yield None
            return
        if not lock.acquire(timeout=timeout):
            raise StylelabError(f"The run {run_id} stayed busy for {timeout:g} s; please try again.")
        try:
            run = self.instance(run_id)
            yield run if run is not None else fallback
        finally:
            lock.release()

    def state_dict(self, run_id: str) -> dict[str, Any]:
        with self.borrow(run_id) as run:
            if run is None:
                raise StylelabError(f"Run {run_id} is not on this worker (it was freed or evicted).")
            return run.state_dict()

    def record(self, run_id: str, notes: str = "") -> Any:
        with self.borrow(run_id) as run:
            if run is None:
                raise StylelabError(f"Run {run_id} is not on this worker (it was freed or evicted).")
            return run.record(notes)

    def drop(self, run_id: str) -> None:
        with self._lock:
            self._runs.pop(run_id, None)
            self._stop_epoch.pop(run_id, None)
            self._step_locks.pop(run_id, None)
            self._leases.pop(run_id, None)
            self._lease_cv.notify_all()

    def count(self) -> int:
        with self._lock:
            return len(self._runs)


# ----------------------------------------------------------------------------- the interface
class Backend:
    """The worker pool behind the scheduler. ``workers`` scheduler threads call it, one per worker.

    ``pinned``: a run stays on the worker that built it (Ray actors, several GPUs); otherwise any
    worker may step any run.
    """

    name = "backend"
    workers: int = 1
    threads: int = 1
    pinned: bool = False

    def worker_init(self, w: int) -> None:
        """Called once in scheduler thread ``w`` before it steps anything."""

    def build(self, w: int, run_id: str, factory: Any, args: tuple, kwargs: dict,
              state: Mapping | None = None, instance: Run | None = None) -> BuildInfo:  # pragma: no cover
        raise NotImplementedError

    def slice(self, w: int, run_id: str, budget_s: float, epoch: int, want_preview: bool,
              measure: bool) -> SliceResult:  # pragma: no cover
        raise NotImplementedError

    def request_stop(self, run_id: str, epoch: int) -> None:  # pragma: no cover
        raise NotImplementedError

    def state_dict(self, run_id: str) -> dict[str, Any]:  # pragma: no cover
        raise NotImplementedError

    def record(self, run_id: str, notes: str = "") -> Any:  # pragma: no cover
        raise NotImplementedError

    def drop(self, run_id: str) -> None:  # pragma: no cover
        raise NotImplementedError

    def describe(self) -> str:
        return f"{self.name}: {self.workers} worker(s) x {self.threads} torch thread(s)"

    #: whether the live Run objects are in this process (:meth:`borrow` can lend them)
    local_runs: bool = False
    #: whether a submitted Run object itself travels to the worker (process backend), so a run
    #: that has already made steps (a loaded checkpoint) can be submitted to a pinned backend
    ships_instances: bool = False

    def copy(self, run_id: str, timeout: float = 30.0) -> Run | None:
        """A copy of the live run to draw (backends whose runs live elsewhere); None: no such copy."""
        return None

    def issued(self, run_id: str, run: Any) -> bool:
        """Whether ``run`` is a copy of ``run_id`` that this backend handed to a page."""
        return False

    @contextlib.contextmanager
    def borrow(self, run_id: str, timeout: float = 30.0, fallback: Run | None = None):
        """``with backend.borrow(run_id) as run:`` the live Run between two steps; None when the
        runs live in another process (Ray: read the handle's rows and preview instead)."""
        yield None

    def instance(self, run_id: str) -> Run | None:
        """The live Run object (no lock: read plain attributes only), or None (another process)."""
        return None

    def shutdown(self) -> None:
        """Free the workers (the scheduler calls it last)."""


class ThreadBackend(Backend):
    """Runs live in this process; the scheduler's own worker threads step them."""

    name = "thread"

    def __init__(self, workers: int, threads: int, nice: int = 5, gpus: int = 0) -> None:
        self.workers = workers
        self.threads = threads
        self.nice = nice
        self.gpus = gpus
        # With several GPUs, worker w drives cuda:w (the thread's current device), so a run stays there.
        self.pinned = gpus > 1
        self._host = RunHost(threads, nice)

    def worker_init(self, w: int) -> None:
        tune_thread(self.threads, self.nice, (w % self.gpus) if self.gpus > 1 else None)

    def build(self, w, run_id, factory, args, kwargs, state=None, instance=None):
        # only the scheduler's own worker threads take the workers' thread count and priority: a
        # page's thread that brings an evicted run back (RunHandle.restore) keeps its own
        in_worker = threading.current_thread().name.startswith(WORKER_THREAD_PREFIX)
        return self._host.build(run_id, factory, args, kwargs, state, instance, tune=in_worker)

    def slice(self, w, run_id, budget_s, epoch, want_preview, measure):
        return self._host.slice(run_id, budget_s, epoch, want_preview, measure)

    def request_stop(self, run_id, epoch):
        self._host.request_stop(run_id, epoch)

    def state_dict(self, run_id):
        return self._host.state_dict(run_id)

    def record(self, run_id, notes=""):
        return self._host.record(run_id, notes)

    def drop(self, run_id):
        self._host.drop(run_id)

    local_runs = True

    def borrow(self, run_id, timeout=30.0, fallback=None):
        return self._host.borrow(run_id, timeout, fallback)

    def instance(self, run_id):
        return self._host.instance(run_id)

    def resident(self) -> int:
        """Runs held in memory now (for tests and stats)."""
        return self._host.count()


# ----------------------------------------------------------------------------- Ray
class _RayWorker:
    """A Ray actor: one :class:`RunHost` in its own process (made remote lazily, with two threads
    so that ``request_stop`` reaches a running ``slice``)."""

    def __init__(self, threads: int, nice: int) -> None:
        self.host = RunHost(threads, nice)
        tune_thread(threads, nice)

    def ping(self) -> int:
        return os.getpid()

    def build(self, run_id, factory, args, kwargs, state=None):
        return self.host.build(run_id, factory, args, kwargs, state)

    def slice(self, run_id, budget_s, epoch, want_preview, measure):
        return self.host.slice(run_id, budget_s, epoch, want_preview, measure)

    def request_stop(self, run_id, epoch):
        self.host.request_stop(run_id, epoch)

    def state_dict(self, run_id):
        return self.host.state_dict(run_id)

    def record(self, run_id, notes=""):
        return self.host.record(run_id, notes)

    def drop(self, run_id):
        self.host.drop(run_id)


class RayBackend(Backend):
    """Workers are Ray actors: one per GPU of the cluster, or one per group of ``threads`` CPU cores.

    ``address`` (``STYLELAB_RAY_ADDRESS``) joins a running cluster; None starts a local Ray
    (``ray.init(num_cpus=..., include_dashboard=False)``). Each run is pinned to the actor that
    built it; the driver reads back rows, previews, states and records. The cluster's Python
    must have ``stylelab`` (and whatever the factories import) installed.
    """

    name = "ray"
    pinned = True

    def __init__(self, workers: int | None = None, threads: int = 1, address: str | None = None,
                 nice: int = 5, init_kwargs: Mapping[str, Any] | None = None) -> None:
        try:
            import ray
        except ImportError as exc:  # pragma: no cover - ray is in requirements.txt
            raise ConfigError("STYLELAB_BACKEND=ray needs the 'ray' package (pip install ray).") from exc
        self._ray = ray
        self._owns_ray = False
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if address:
                kwargs["address"] = address
            kwargs.update(init_kwargs or {})
            try:
                ray.init(**kwargs)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise ConfigError(f"Cannot start or reach Ray at {address or 'a local cluster'}: {exc}") from exc
            self._owns_ray = True
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        cpus = max(1, int(resources.get("CPU", 1)))
        if gpus > 0:
            n = workers or gpus
            per = {"num_gpus": 1, "num_cpus": max(1, min(threads, cpus // n))}
        else:
            n = workers or max(1, cpus // threads)
            per = {"num_cpus": max(1, min(threads, cpus // n))}
        self.workers = n
        self.threads = int(per["num_cpus"])
        actor_cls = ray.remote(max_concurrency=2)(_RayWorker)
        self._actors = [actor_cls.options(**per).remote(self.threads, nice) for _ in range(n)]
        # wait until every actor is up (a cluster without room would otherwise hang at the first step)
        self.pids = self._get([a.ping.remote() for a in self._actors], timeout=120)
        self._where: dict[str, int] = {}
        self._lock = threading.Lock()

    def _get(self, ref, timeout: float | None = None):
        ray = self._ray
        try:
            return ray.get(ref, timeout=timeout)
        except ray.exceptions.RayTaskError as exc:
            cause = getattr(exc, "cause", None)
            if isinstance(cause, BaseException):
                raise cause from None
            raise StylelabError(f"A Ray worker failed: {exc}") from None
        except ray.exceptions.GetTimeoutError as exc:
            raise StylelabError(f"Ray workers did not answer within {timeout} s ({exc}).") from None
        except ray.exceptions.RayActorError as exc:
            raise StylelabError(f"A Ray worker died ({exc}); start the run again.") from None

    def _actor(self, run_id: str):
        with self._lock:
            w = self._where.get(run_id)
        if w is None:
            raise StylelabError(f"Run {run_id} is not on any Ray worker (it was freed or evicted).")
        return self._actors[w]

    def build(self, w, run_id, factory, args, kwargs, state=None, instance=None):
        # ``instance`` (a live Run) never crosses processes: the scheduler gives its recipe instead
        info = self._get(self._actors[w].build.remote(run_id, factory, tuple(args), dict(kwargs), state))
        with self._lock:
            self._where[run_id] = w
        return info

    def slice(self, w, run_id, budget_s, epoch, want_preview, measure):
        return self._get(self._actors[w].slice.remote(run_id, budget_s, epoch, want_preview, measure))

    def request_stop(self, run_id, epoch):
        with self._lock:
            w = self._where.get(run_id)
        if w is not None:
            self._actors[w].request_stop.remote(run_id, epoch)

    def state_dict(self, run_id):
        return self._get(self._actor(run_id).state_dict.remote(run_id))

    def record(self, run_id, notes=""):
        return self._get(self._actor(run_id).record.remote(run_id, notes))

    def drop(self, run_id):
        with self._lock:
            w = self._where.pop(run_id, None)
        if w is None or w >= len(self._actors):
            return  # never built here, or the backend is shut down (its actors and runs are gone)
        try:
            self._ray.get(self._actors[w].drop.remote(run_id))
        except self._ray.exceptions.RayActorError:
            return  # the actor died: its runs' memory went with it

    def shutdown(self) -> None:
        for actor in self._actors:
            with contextlib.suppress(Exception):  # an actor already gone needs no killing
                self._ray.kill(actor)
        self._actors = []
        if self._owns_ray:
            self._ray.shutdown()


def make_backend(limits: Any) -> Backend:
    """The backend ``limits.backend`` names, sized by ``limits.pool()``."""
    from .limits import gpu_count

    workers, threads = limits.pool()
    if limits.backend == "process":
        from .procs import ProcessBackend

        return ProcessBackend(workers, threads, nice=limits.nice())
    if limits.backend == "ray":
        return RayBackend(workers=limits.workers, threads=threads, address=limits.ray_address,
                          nice=limits.nice())
    return ThreadBackend(workers, threads, nice=limits.nice(), gpus=gpu_count())
