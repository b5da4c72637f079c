"""The classroom scheduler: every student's runs step on one fixed pool of workers, fairly.

No Streamlit here: a page opens a session (a token), submits runs, and on each redraw reads its
:class:`RunHandle` (status, rows since N, latest preview, ETA, error). Training never runs in the
page's script; interactive work (a render, a thumbnail, a score card, one feed-forward
stylisation) goes through the *fast lane* (:meth:`Scheduler.call`), which never waits behind
training::

    sched = Scheduler()                                    # Limits.from_env(), thread or Ray backend
    token = sched.open_session()                           # keep it across reloads
    handle = sched.submit(token, "gatys", seed=0)          # a factory name / callable + its args
    handle.rows(since=n); handle.preview(); handle.eta_text()      # "about 20 s"
    handle.pause(); handle.resume(); handle.cancel()
    picture = sched.call(token, stylise, image, timeout=5)

The scheduling rule: deficit round robin on measured compute seconds
-------------------------------------------------------------------
Sessions with work sit on a ring. Session :math:`i` has a weight :math:`w_i` (1 by default) and
a deficit :math:`D_i` (seconds of compute it is owed). When a worker is free, it serves the
first session on the ring, from the last one served, whose deficit is positive; a serving is one
*slice*: steps of that session's chosen run until ``slice_s`` seconds pass (at least one step),
and the slice's measured wall seconds :math:`c` are charged afterwards:

.. math::

    D_i \\leftarrow D_i - c, \\qquad \\text{and when no backlogged session has } D_j > 0:\\quad
    D_j \\leftarrow D_j + k\\,Q\\,w_j \\ \\ \\text{for every backlogged } j,

with :math:`Q` = ``quantum_s`` and :math:`k \\ge 1` the fewest rounds that make some
:math:`D_j > 0` (the same as running :math:`k` rounds in which only the quantum is added). A
session whose work ends gets :math:`D_i = 0` (an idle flow keeps no credit). Over a window
:math:`T` in which sessions stay backlogged, session :math:`i` gets compute
:math:`\\approx T\\,w_i / \\sum_j w_j` *whatever its step cost*: a 2-D GAN's 2 ms steps and a
Gatys 0.5 s step both pay in seconds, so a long step simply waits more rounds for its next turn
(plain round robin would give the expensive run ``0.5 / (0.5 + slice_s)`` of the worker).

Within a session: at most one *heavy* run is active (others wait in the server's queue, in order
of priority, then arrival; a paused run frees its slot, and Continue puts it back in the
queue, so a student who pauses Gatys can play the GAN in another lab); light runs
(``heavy=False``, at most ``max_light_runs`` going per session) skip the queue. Priorities order
the queue and a session's choice of run; they never preempt an active run. The session serves its
runnable run with the highest priority, the least recently served among equals. Server-wide, at
most ``max_heavy_runs`` heavy runs are active; beyond ``max_queued`` waiting runs, a new one is
refused with :class:`~stylelab.serve.limits.ServerFull`.

Memory: a run's size is the bytes of its ``state_dict`` tensors (measured after it is built and
after its first slice). A session may hold ``session_memory_mb``, the server
``memory_budget_mb``. A session not seen for ``idle_s`` has its runs checkpointed to a temp
folder (:func:`stylelab.checkpoint.save_checkpoint`) and freed; they are rebuilt from their
factory + ``load_state_dict`` when the student returns (so their rows continue bit for bit).
After ``grace_s`` without a visit, the session is closed and its runs cancelled.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import itertools
import math
import secrets
import shutil
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..checkpoint import load_checkpoint, save_checkpoint
from ..errors import ConfigError, StylelabError
from ..run import STATE_FORMAT, Run
from .backends import WORKER_THREAD_PREFIX, Backend, make_backend, rebuild_run, resolve_factory
from .limits import FastLaneTimeout, Limits, MemoryBudgetExceeded, RunNotFound, ServerFull
from .sessions import Session, SessionStore

QUEUED, RUNNING, PAUSED, DONE, CANCELLED, FAILED = "queued", "running", "paused", "done", "cancelled", "failed"
STATUSES = (QUEUED, RUNNING, PAUSED, DONE, CANCELLED, FAILED)
TERMINAL = (DONE, CANCELLED, FAILED)
MB = 2**20


def eta_text(seconds: float | None) -> str:
    """A human ETA: ``"under a second"``, ``"about 20 s"``, ``"about 3 min"``, ``"about 2 h"`` or ``""``."""
    if seconds is None or not math.isfinite(seconds):
        return ""
    if seconds < 1:
        return "under a second"
    if seconds < 10:
        return f"about {round(seconds)} s"
    if seconds < 90:
        return f"about {int(round(seconds / 5) * 5)} s"
    if seconds < 90 * 60:
        return f"about {round(seconds / 60)} min"
    return f"about {seconds / 3600:.1f} h".replace(".0 h", " h")


def _mb(n: float) -> str:
    return f"{n / MB:.0f} MB" if n >= MB else f"{n / MB:.1f} MB"


class RunHandle:
    """A thread-safe view of one run, for the page: read on every redraw, never blocks on the run.

    ``status`` is one of ``queued``, ``running``, ``paused``, ``done``, ``cancelled``, ``failed``.
    ``position`` is the place in the server's queue (1 = next), 0 once active. ``rows(since)``
    gives the rows after the first ``since``; ``preview()`` the latest picture ``(3, H, W)``;
    ``error`` the exception of a failed run. ``pause`` / ``resume`` / ``cancel`` take effect
    within one step. ``evicted`` is True while the run sits on disk (its session was idle).
    """

    def __init__(self, scheduler: "Scheduler", session: Session, run_id: str, name: str, factory: Any,
                 args: tuple, kwargs: dict, heavy: bool, priority: int, seq: int,
                 instance: Run | None = None) -> None:
        self._sched = scheduler
        self._session = session
        self.id = run_id
        self.name = name
        self.heavy = heavy
        self.priority = priority
        self._seq = seq
        self._factory, self._args, self._kwargs = factory, args, kwargs
        self._instance = instance
        #: the Run object given to submit (kept for :meth:`borrow`; the thread backend steps it)
        self._submitted = instance if (not scheduler.backend.pinned or scheduler.backend.ships_instances) else None
        self._cond = threading.Condition()
        self._status = QUEUED
        self._rows: list[dict[str, Any]] = []
        self._preview = None
        self._error: BaseException | None = None
        self.kind = getattr(instance, "kind", None)
        self.total_steps: int | None = getattr(instance, "total_steps", None)
        self._step_count = 0
        self.compute_s = 0.0
        self._rate: deque[tuple[float, int]] = deque(maxlen=16)
        # scheduler-owned (guarded by the scheduler's lock)
        self._active = False
        self._built = False
        self._in_slice = False
        self._evicted = False
        self._path: Path | None = None
        self._worker: int | None = None
        self._memory = 0
        self._epoch = 0
        self._slices = 0
        self._served = 0
        self._last_preview = -math.inf
        #: why :meth:`snapshot` cannot copy this run ('' while it can)
        self.snapshot_note = ""

    # -- reading -------------------------------------------------------------------------
    @property
    def status(self) -> str:
        with self._cond:
            return self._status

    @property
    def step_count(self) -> int:
        with self._cond:
            return self._step_count

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    @property
    def position(self) -> int:
        """1-based place in the server's queue while queued, else 0."""
        return self._sched._position(self)

    @property
    def evicted(self) -> bool:
        return self._evicted

    @property
    def memory_bytes(self) -> int:
        """The run's estimated memory (its state tensors) while it is in memory, else 0."""
        return self._memory if self._built else 0

    @property
    def error(self) -> BaseException | None:
        with self._cond:
            return self._error

    @property
    def error_text(self) -> str:
        err = self.error
        return "" if err is None else str(err) or type(err).__name__

    def rows(self, since: int = 0) -> list[dict[str, Any]]:
        """The rows after the first ``since`` (copies; ``rows()`` is the whole history)."""
        with self._cond:
            return [dict(r) for r in self._rows[max(0, since):]]

    def latest(self) -> dict[str, Any] | None:
        with self._cond:
            return dict(self._rows[-1]) if self._rows else None

    def preview(self):
        """The latest picture ``(3, H, W)`` float32 on the CPU, or None (not yet, or the run has none)."""
        with self._cond:
            return self._preview

    def eta_seconds(self) -> float | None:
        """Seconds to the end, from the measured step rate while running (None when unknown).

        ``remaining_steps / rate``, where ``rate`` is steps per wall second over the last slices
        (it includes the share of the worker the run actually gets); before two slices, the mean
        compute seconds per step.
        """
        with self._cond:
            if self.total_steps is None or self._status not in (RUNNING, QUEUED, PAUSED):
                return None
            remaining = max(0, self.total_steps - self._step_count)
            if remaining == 0:
                return 0.0
            if len(self._rate) >= 2:
                (t0, s0), (t1, s1) = self._rate[0], self._rate[-1]
                if t1 > t0 and s1 > s0:
                    return remaining * (t1 - t0) / (s1 - s0)
            if self._step_count > 0 and self.compute_s > 0:
                return remaining * self.compute_s / self._step_count
            return None

    def eta_text(self) -> str:
        """``"about 20 s"`` (empty when unknown or finished)."""
        return eta_text(self.eta_seconds())

    def info(self) -> dict[str, Any]:
        """Everything a page shows about the run, in one consistent read."""
        with self._cond:
            out = {"id": self.id, "name": self.name, "kind": self.kind, "status": self._status,
                   "steps": self._step_count, "total_steps": self.total_steps,
                   "compute_s": self.compute_s, "error": self.error_text if self._error else ""}
        out.update(position=self.position, eta=self.eta_text(), evicted=self._evicted,
                   memory_mb=self.memory_bytes / MB)
        return out

    def wait(self, timeout: float | None = None) -> str:
        """Block until the run is done, cancelled or failed (or ``timeout``); returns the status."""
        with self._cond:
            self._cond.wait_for(lambda: self._status in TERMINAL, timeout)
            return self._status

    def wait_steps(self, n: int, timeout: float | None = None) -> int:
        """Block until at least ``n`` steps are done, the run ends, or ``timeout``; returns the step count."""
        with self._cond:
            self._cond.wait_for(lambda: self._step_count >= n or self._status in TERMINAL, timeout)
            return self._step_count

    # -- control -------------------------------------------------------------------------
    def pause(self) -> None:
        """Stop after the current step; the run keeps its place and can be continued."""
        self._sched._pause(self)

    def resume(self) -> None:
        """Continue a paused run (a paused queued run goes back to its place in the queue)."""
        self._sched._resume(self)

    def cancel(self) -> None:
        """Stop after the current step and free the run's memory; its rows and preview stay readable."""
        self._sched._cancel(self)

    @property
    def local(self) -> bool:
        """Whether the live Run object is in this process (thread backend)."""
        return self._sched.backend.local_runs

    def holds(self, run: Any) -> bool:
        """Whether ``run`` is this handle's run: the object itself, or a copy the backend handed out."""
        return run is not None and (self._sched.backend.issued(self.id, run) or run is self.instance())

    def instance(self) -> Run | None:
        """The live Run object without taking its step lock (read plain attributes only; use
        :meth:`borrow` to draw it): the one in memory, else the submitted one, else None."""
        run = self._sched.backend.instance(self.id)
        return run if run is not None else self._submitted

    @contextlib.contextmanager
    def borrow(self, timeout: float = 30.0):
        """``with handle.borrow() as run:`` the live Run object between two of its steps (the
        worker waits for the block to end), for a page that draws it.

        Thread backend only: ``run`` is the object stepped in this process (after an eviction,
        the rebuilt one); before it is built, or once freed, the Run that was submitted (nobody
        steps it then). None with the Ray backend (the run lives in another process: read
        :meth:`rows` and :meth:`preview`) or when a factory-built run is not in memory.
        """
        with self._sched.backend.borrow(self.id, timeout, fallback=self._submitted) as run:
            yield run

    def snapshot(self, timeout: float = 30.0) -> Run | None:
        """A copy of the live Run to draw from (:func:`stylelab.serve.snapshot.snapshot`), taken
        between two steps: the step lock is held only while it is copied (milliseconds), so the
        worker goes on stepping while the page draws the copy.

        None when there is no Run in this process to copy (Ray, not built, freed) or when this
        run cannot be copied (the reason is kept in :attr:`snapshot_note`; :meth:`borrow` is the
        way to draw it then).
        """
        from .courier import ShippingError
        from .snapshot import SnapshotUnavailable, snapshot

        if self.snapshot_note:
            return None
        backend = self._sched.backend
        if backend.ships_instances:  # the run lives in a worker process: its copy is the snapshot
            try:
                copied = backend.copy(self.id, timeout)
            except ShippingError as exc:
                self.snapshot_note = str(exc)
                return None
            except StylelabError:  # freed or evicted meanwhile: the page draws the latest preview
                return None
            if copied is not None:
                return copied
        with self.borrow(timeout) as run:
            if run is None:
                return None
            try:
                return snapshot(run)
            except SnapshotUnavailable as exc:
                self.snapshot_note = str(exc)
                return None

    def restore(self) -> None:
        """Bring the run back into memory now if it sits on disk (its session was idle).

        Blocks while it is rebuilt (its factory + ``load_state_dict``, so it continues bit for
        bit). If the server has no memory for it, it stays on disk, paused, and
        :class:`~stylelab.serve.limits.ServerFull` or :class:`MemoryBudgetExceeded` says why.
        """
        try:
            self._sched._ensure_built(self)
        except _Parked:
            raise self.error from None

    def state_dict(self) -> dict[str, Any]:
        """The run's ``state_dict()`` (read from disk while evicted)."""
        return self._sched._state_of(self)

    def record(self, notes: str = ""):
        """The run's :class:`~stylelab.record.ExperimentRecord`."""
        return self._sched._record_of(self, notes)

    def to_bytes(self) -> bytes:
        """``state_dict()`` as ``torch.save`` bytes (for a download button)."""
        from ..checkpoint import to_bytes

        return to_bytes(self.state_dict())

    # -- scheduler side ------------------------------------------------------------------
    def _set(self, **kw: Any) -> None:
        with self._cond:
            for k, v in kw.items():
                setattr(self, k, v)
            self._cond.notify_all()

    def __repr__(self) -> str:
        return f"<RunHandle {self.name} {self.status} step {self.step_count}/{self.total_steps or '?'}>"


class Scheduler:
    """One pool of workers for every session's runs; see the module docstring for the rules.

    Args:
        limits: the knobs (default :meth:`Limits.from_env`).
        backend: a :class:`~stylelab.serve.backends.Backend` (default: the one ``limits.backend`` names).
        clock: monotonic seconds (tests pass a fake one to move time for idle/grace).
        housekeeping: run :meth:`maintain` every ``limits.maintain_s`` seconds in a thread.
    """

    def __init__(self, limits: Limits | None = None, backend: Backend | None = None,
                 clock: Callable[[], float] = time.monotonic, housekeeping: bool = True) -> None:
        self.limits = limits if limits is not None else Limits.from_env()
        self.clock = clock
        self.backend = backend if backend is not None else make_backend(self.limits)
        self.workers = self.backend.workers
        self.max_heavy = self.limits.heavy_cap(self.workers)
        self.sessions = SessionStore(self.limits.max_sessions, clock)
        self._registry: dict[str, Any] = {}
        self._lock = threading.RLock()
        self._cv = threading.Condition(self._lock)
        self._ring: list[Session] = []
        self._cursor = 0
        self._pending: list[RunHandle] = []
        self._active_heavy = 0
        self._seq = itertools.count()
        self._closing = False
        base = Path(self.limits.serve_dir) if self.limits.serve_dir else None
        if base is not None:
            base.mkdir(parents=True, exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix="stylelab-serve-", dir=base))
        self._fast_inflight = 0
        self._fast = concurrent.futures.ThreadPoolExecutor(
            max_workers=self.limits.fast_workers, thread_name_prefix="stylelab-fast",
            initializer=self._fast_init)
        self._threads = [threading.Thread(target=self._worker_loop, args=(w,), daemon=True,
                                          name=f"{WORKER_THREAD_PREFIX}{w}") for w in range(self.workers)]
        for t in self._threads:
            t.start()
        self._stop_housekeeping = threading.Event()
        self._housekeeper = None
        if housekeeping:
            self._housekeeper = threading.Thread(target=self._housekeeping, daemon=True, name="stylelab-housekeeping")
            self._housekeeper.start()

    # -- sessions ------------------------------------------------------------------------
    def open_session(self, weight: float = 1.0) -> str:
        """A new session's token (:class:`ServerFull` when ``max_sessions`` are open)."""
        session = self.sessions.open(weight)
        with self._lock:
            self._ring.append(session)
        return session.token

    def _session(self, token: str) -> Session:
        session = self.sessions.get(token)
        with self._cv:
            self._cv.notify_all()  # a returning session's evicted runs may step again
        return session

    def touch(self, token: str) -> None:
        """A visit (every page redraw): keeps the session from going idle, brings evicted runs back."""
        self._session(token)

    def runs(self, token: str) -> list[RunHandle]:
        """This session's runs, oldest first."""
        session = self._session(token)
        with self._lock:
            return list(session.runs.values())

    def get_run(self, token: str, run_id: str) -> RunHandle:
        """One of this session's runs by id (:class:`RunNotFound` for another session's id)."""
        session = self._session(token)
        with self._lock:
            handle = session.runs.get(run_id)
        if handle is None:
            raise RunNotFound("This session has no such run (it may belong to another session, or was removed).")
        return handle

    def remove(self, token: str, run_id: str) -> None:
        """Cancel one of this session's runs (if it is still going) and forget it, rows and all."""
        handle = self.get_run(token, run_id)
        self._cancel(handle)
        with self._lock:
            handle._session.runs.pop(run_id, None)

    def all_runs(self) -> list[tuple[str, dict[str, Any], RunHandle]]:
        """Every session's runs, for the teacher's page: ``(session label, info, handle)``.

        A snapshot taken under the scheduler's lock (a run submitted meanwhile cannot break the
        listing). The label is a prefix of the token's hash, never the token; ``info`` is
        :meth:`RunHandle.info`.
        """
        with self._lock:
            pairs = [(s.label, h) for s in self.sessions.all() for h in list(s.runs.values())]
        return [(label, h.info(), h) for label, h in pairs]

    def all_sessions(self) -> list[dict[str, Any]]:
        """Every open session, for the teacher's page (no tokens): label, idle, seconds since its
        last visit, compute seconds used, runs held."""
        now = self.clock()
        with self._lock:
            return [{"session": s.label, "idle": s.idle, "last seen s ago": round(now - s.last_seen, 1),
                     "compute s": round(s.compute_s, 1), "runs": len(s.runs)} for s in self.sessions.all()]

    def session_info(self, token: str) -> dict[str, Any]:
        """This session's compute seconds, runs and memory."""
        session = self._session(token)
        with self._lock:
            runs = list(session.runs.values())
            return {"compute_s": session.compute_s, "weight": session.weight, "runs": len(runs),
                    "active": sum(1 for h in runs if h._active), "memory_mb": self._session_bytes(session) / MB,
                    "memory_budget_mb": self.limits.session_memory_mb}

    def close_session(self, token: str) -> None:
        """Cancel every run of the session and forget its token."""
        self._close(self._session(token))

    def _close(self, session: Session) -> None:
        with self._lock:
            handles = list(session.runs.values())
        for h in handles:
            self._cancel(h)
        self.sessions.remove(session)
        with self._cv:
            if session in self._ring:
                idx = self._ring.index(session)
                self._ring.remove(session)
                if idx < self._cursor:
                    self._cursor -= 1
                self._cursor = self._cursor % len(self._ring) if self._ring else 0
            self._cv.notify_all()

    # -- submitting ----------------------------------------------------------------------
    def register(self, name: str, factory: Callable[..., Run]) -> None:
        """Name a run factory (``factory(*args, **kwargs) -> Run``) for :meth:`submit`."""
        if not isinstance(name, str) or not name or not callable(factory):
            raise ConfigError("register(name, factory) needs a non-empty name and a callable.")
        with self._lock:
            self._registry[name] = factory

    def submit(self, token: str, factory: Any, /, *args: Any, heavy: bool = True, priority: int = 0,
               name: str | None = None, paused: bool = False, **kwargs: Any) -> RunHandle:
        """Queue a run of this session; returns its handle at once (the run is built by a worker).

        ``factory`` is a registered name, a catalogue kind (``"gatys"``), ``"module:function"``,
        a callable ``factory(*args, **kwargs) -> Run``, or a Run itself (rebuilt after an
        eviction from its class, record and inputs). ``priority``: higher first in the queue and
        within the session. ``paused``: the run starts paused (it takes no step, and no place in
        the queue, until :meth:`RunHandle.resume`), e.g. a run loaded from a checkpoint.
        """
        if not isinstance(priority, int) or isinstance(priority, bool):
            raise ConfigError(f"A run priority must be a whole number, got {priority!r}.")
        session = self._session(token)
        instance = None
        if isinstance(factory, Run):
            instance = factory
            factory = functools.partial(rebuild_run, type(instance), instance.record().to_dict(),
                                        instance.inputs(), str(instance.device))
            if instance.step_count and self.backend.pinned and not self.backend.ships_instances:
                raise ConfigError("Submit a fresh Run (or a factory) to the Ray backend; this one has "
                                  f"already made {instance.step_count} steps in this process.")
        else:
            with self._lock:
                factory = self._registry.get(factory, factory) if isinstance(factory, str) else factory
            factory = resolve_factory(factory)
        label = name or getattr(instance, "kind", None) or getattr(factory, "__name__", "run")
        with self._cv:
            if self._closing:
                raise ServerFull("The server is shutting down.")
            if heavy and len(self._pending) >= self.limits.max_queued:
                raise ServerFull(f"{len(self._pending)} runs are already waiting for a worker "
                                 "(STYLELAB_MAX_QUEUED); please try again in a minute.")
            light = sum(1 for h in session.runs.values() if not h.heavy and h._status not in TERMINAL)
            if not heavy and light >= self.limits.max_light_runs:
                raise ServerFull(f"You already have {light} short runs going (at most "
                                 f"{self.limits.max_light_runs}); wait for one to finish or cancel one.")
            used = self._session_bytes(session)
            if used >= self.limits.session_memory_mb * MB:
                raise MemoryBudgetExceeded(
                    f"Your runs already hold {_mb(used)} of your session's {self.limits.session_memory_mb:g} MB "
                    "(STYLELAB_SESSION_MEMORY_MB); cancel a run you no longer need (its rows stay readable).")
            run_id = secrets.token_hex(8)
            handle = RunHandle(self, session, run_id, str(label), factory, tuple(args), dict(kwargs),
                               bool(heavy), priority, next(self._seq), instance)
            session.runs[run_id] = handle
            if paused:
                handle._set(_status=PAUSED)
            elif heavy:
                self._pending.append(handle)
                self._pending.sort(key=lambda h: (-h.priority, h._seq))
                self._promote()
            else:
                self._activate(handle)
            self._cv.notify_all()
        return handle

    def _activate(self, h: RunHandle) -> None:
        h._active = True
        if h.heavy:
            self._active_heavy += 1
        h._set(_status=RUNNING)

    def _release(self, h: RunHandle) -> None:
        if h._active:
            h._active = False
            if h.heavy:
                self._active_heavy -= 1
        if h in self._pending:
            self._pending.remove(h)
        self._promote()

    def _promote(self) -> None:
        """Start queued heavy runs while the server has room (one active heavy run per session)."""
        for h in list(self._pending):
            if self._active_heavy >= self.max_heavy:
                return
            if h._status != QUEUED:
                continue
            if any(o._active and o.heavy for o in h._session.runs.values()):
                continue
            self._pending.remove(h)
            self._activate(h)

    def queue_wait(self, h: RunHandle) -> tuple[int, float | None]:
        """``(ahead, seconds)`` for a queued heavy run: the runs queued before it, and about how
        long until a worker slot is its own (None when some run's length is unknown).

        The estimate replays the queue: each of the ``max_heavy_runs`` slots frees when its
        active run ends (its :meth:`RunHandle.eta_seconds`; unknown for a run of unknown length), and each run ahead takes the first free slot for its own estimated length (its
        ETA, else the median length of the active runs). ``(0, 0.0)`` when ``h`` is not queued.
        """
        with self._lock:
            if h not in self._pending:
                return 0, 0.0
            ahead = self._pending[:self._pending.index(h)]
            active = [o for s in self._ring for o in s.runs.values() if o._active and o.heavy]
        ends = [o.eta_seconds() if o.status == RUNNING else None for o in active]
        free = max(0, self.max_heavy - len(active))
        lengths = [o.compute_s / o.step_count * o.total_steps for o in active
                   if o.step_count and o.total_steps and o.compute_s > 0]
        typical = sorted(lengths)[len(lengths) // 2] if lengths else None
        if len(ahead) < free:
            return len(ahead), 0.0
        if any(e is None for e in ends):
            return len(ahead), None
        slots = sorted([0.0] * free + [float(e) for e in ends])
        for o in ahead:
            length = o.eta_seconds() if o.total_steps else None
            length = typical if length is None else length
            if length is None or not slots:
                return len(ahead), None
            start = slots.pop(0)
            slots.append(start + length)
            slots.sort()
        return len(ahead), (slots[0] if slots else None)

    def _position(self, h: RunHandle) -> int:
        with self._lock:
            return self._pending.index(h) + 1 if h in self._pending else 0

    # -- control -------------------------------------------------------------------------
    def _pause(self, h: RunHandle) -> None:
        with self._cv:
            if h._status not in (RUNNING, QUEUED):
                return
            if h._status == QUEUED:
                self._pending.remove(h)
            h._epoch += 1
            epoch = h._epoch
            h._rate.clear()
            h._set(_status=PAUSED)
            self._release(h)  # a paused run frees its slot: the session's next heavy run may go
            built = h._built
        if built:
            self.backend.request_stop(h.id, epoch)

    def _resume(self, h: RunHandle) -> None:
        with self._cv:
            if h._status != PAUSED:
                return
            h._set(_error=None)
            if h._active or not h.heavy:
                h._active = True
                h._set(_status=RUNNING)
            else:
                h._set(_status=QUEUED)
                self._pending.append(h)
                self._pending.sort(key=lambda x: (-x.priority, x._seq))
                self._promote()
            self._cv.notify_all()

    def _cancel(self, h: RunHandle) -> None:
        with self._cv:
            if h._status not in TERMINAL:
                h._epoch += 1
                h._set(_status=CANCELLED)
            h._submitted = None  # its memory is freed (a page keeps its own reference if it wants)
            self._release(h)
            epoch, busy, built, path = h._epoch, h._in_slice, h._built, h._path
            if not busy:
                h._built = False
                h._evicted = False
                h._path = None
            self._cv.notify_all()
        if busy:  # the worker frees it when its slice ends
            self.backend.request_stop(h.id, epoch)
            return
        if built:
            self.backend.drop(h.id)
        if path is not None:
            path.unlink(missing_ok=True)

    # -- DRR -----------------------------------------------------------------------------
    def _runnable(self, h: RunHandle, w: int) -> bool:
        if h._status != RUNNING or h._in_slice or h._session.idle:
            return False
        if h._worker is not None:
            return h._worker == w
        # a pinned backend keeps a run on the worker that builds it: build it where the fewest
        # running runs live, or the first workers to be free collect most of the class's runs and
        # their students get a smaller share than those on a quieter worker
        return not self.backend.pinned or h._built or self._load(w) <= min(self._load(x) for x in range(self.workers))

    def _load(self, w: int) -> int:
        """Running runs pinned to worker ``w`` (under the lock)."""
        return sum(1 for s in self._ring for o in s.runs.values()
                   if o._worker == w and o._built and o._status == RUNNING and not s.idle)

    def _backlogged(self, s: Session) -> bool:
        return not s.idle and any(h._status == RUNNING for h in s.runs.values())

    def _pick(self, w: int) -> RunHandle | None:
        """The next run for worker ``w`` by deficit round robin (see the module docstring)."""
        ring = self._ring
        if not ring:
            return None
        ready = {id(s): [h for h in s.runs.values() if self._runnable(h, w)] for s in ring}
        if not any(ready.values()):
            return None
        backlogged = [s for s in ring if self._backlogged(s)]
        q = self.limits.quantum_s
        candidates = [s for s in ring if ready[id(s)]]
        if all(s.deficit <= 0 for s in candidates):
            k = min(math.floor(-s.deficit / (q * s.weight)) + 1 for s in candidates)
            for s in backlogged:
                s.deficit += k * q * s.weight
        n = len(ring)
        self._cursor %= n
        for i in range(n):
            s = ring[(self._cursor + i) % n]
            if ready[id(s)] and s.deficit > 0:
                self._cursor = (self._cursor + i) % n
                return max(ready[id(s)], key=lambda h: (h.priority, -h._served))
        return None  # pragma: no cover - the top-up above makes some candidate positive

    def _charge(self, h: RunHandle, seconds: float) -> None:
        s = h._session
        s.deficit -= seconds
        s.compute_s += seconds
        h._served = next(self._seq)
        if not self._backlogged(s):
            s.deficit = 0.0
        if s.deficit <= 0 and self._ring and self._ring[self._cursor % len(self._ring)] is s:
            self._cursor = (self._cursor + 1) % len(self._ring)

    # -- the workers ---------------------------------------------------------------------
    def _worker_loop(self, w: int) -> None:
        self.backend.worker_init(w)
        while True:
            with self._cv:
                while True:
                    if self._closing:
                        return
                    h = self._pick(w)
                    if h is not None:
                        break
                    self._cv.wait(timeout=1.0)
                h._in_slice = True
                epoch, path, need_build = h._epoch, h._path, not h._built
            self._serve(w, h, epoch, path, need_build)

    def _serve(self, w: int, h: RunHandle, epoch: int, path: Path | None, need_build: bool) -> None:
        seconds = 0.0
        try:
            if need_build:
                seconds += self._build(w, h, path)
            want_preview = self.clock() - h._last_preview >= self.limits.preview_s
            res = self.backend.slice(w, h.id, self.limits.slice_s, epoch, want_preview, h._slices == 0)
            seconds += res.seconds
        except BaseException as exc:  # a failed run must never take its worker down
            with self._cv:
                h._in_slice = False
                self._charge(h, seconds)
                drop = self._fail(h, exc)
                self._cv.notify_all()
            if drop:
                self.backend.drop(h.id)
            if not isinstance(exc, Exception):
                raise
            return
        now = self.clock()
        with self._cv:
            h._in_slice = False
            h._slices += 1
            self._charge(h, seconds)
            if res.memory_bytes is not None:
                h._memory = res.memory_bytes
            with h._cond:
                h._rows.extend(res.rows)
                h._step_count = res.step_count
                if res.total_steps is not None:
                    h.total_steps = res.total_steps
                h.compute_s += seconds
                if res.preview is not None:
                    h._preview = res.preview
                    h._last_preview = now
                if h._status == RUNNING:
                    h._rate.append((now, res.step_count))
                if res.done and h._status == RUNNING:
                    h._status = DONE
                h._cond.notify_all()
            if h._status in TERMINAL and h._active:
                self._release(h)
            cancelled = h._status == CANCELLED
            evict = h._session.idle and not cancelled
            if cancelled:
                h._built = False
            else:
                h._in_slice = evict  # keep it from being picked while it goes to disk
            self._cv.notify_all()
        if cancelled:
            self.backend.drop(h.id)
        elif evict:
            self._evict(h, claimed=True)

    def _build(self, w: int, h: RunHandle, path: Path | None) -> float:
        """Build (or rebuild from disk) ``h`` on worker ``w``; check the memory budgets."""
        state = load_checkpoint(path, "evicted run", format_key="format", format_value=STATE_FORMAT) \
            if path is not None else None
        instance, h._instance = h._instance, None
        if (self.backend.pinned and not self.backend.ships_instances) or state is not None:
            instance = None  # another process (or a checkpoint) rebuilds it from its recipe
        info = self.backend.build(w, h.id, h._factory, h._args, h._kwargs, state, instance)
        with self._cv:
            session_used = self._session_bytes(h._session, without=h)
            server_used = self._server_bytes(without=h)
            problem = None
            if session_used + info.memory_bytes > self.limits.session_memory_mb * MB:
                problem = MemoryBudgetExceeded(
                    f"This run needs about {_mb(info.memory_bytes)} and your other runs hold {_mb(session_used)} "
                    f"of your session's {self.limits.session_memory_mb:g} MB (STYLELAB_SESSION_MEMORY_MB); cancel "
                    "a run you no longer need (its rows stay readable) and start again.")
            elif server_used + info.memory_bytes > self.limits.memory_budget_mb * MB:
                problem = ServerFull(
                    f"The server's memory for runs is full ({_mb(server_used)} of "
                    f"{self.limits.memory_budget_mb:g} MB, STYLELAB_MEMORY_BUDGET_MB); please try again in a "
                    "few minutes.")
        if problem is not None:
            self.backend.drop(h.id)
            if path is not None:  # the run is safe on disk: keep it there, paused, with the reason
                with self._cv:
                    h._epoch += 1
                    h._set(_status=PAUSED, _error=problem)
                raise _Parked()
            raise problem
        with self._cv:
            h._built = True
            h._evicted = False
            h._path = None
            if self.backend.ships_instances:
                h._submitted = None  # the worker holds the run now; the page reads copies of it
            h._worker = w if self.backend.pinned else None
            h._memory = info.memory_bytes
            with h._cond:
                h.kind, h.total_steps = info.kind, info.total_steps
                h._step_count = info.step_count
                if len(h._rows) < len(info.history):
                    h._rows = [dict(r) for r in info.history]
                if info.preview is not None and h._preview is None:
                    h._preview = info.preview
        if path is not None:
            path.unlink(missing_ok=True)
        return info.seconds

    def _fail(self, h: RunHandle, exc: BaseException) -> bool:
        """Record a failed slice or build (under the lock); True if the caller must drop the run."""
        if isinstance(exc, _Parked):
            return False
        was_built = h._built
        h._built = False
        if h._status not in (CANCELLED, DONE):
            if not isinstance(exc, StylelabError):
                exc = StylelabError(f"The run stopped with an error: {type(exc).__name__}: {exc}")
            h._set(_status=FAILED, _error=exc)
        self._release(h)
        return was_built

    # -- memory and eviction -------------------------------------------------------------
    def _session_bytes(self, s: Session, without: RunHandle | None = None) -> int:
        return sum(h._memory for h in s.runs.values() if h._built and h is not without)

    def _server_bytes(self, without: RunHandle | None = None) -> int:
        return sum(self._session_bytes(s, without) for s in self._ring)

    def _evict(self, h: RunHandle, claimed: bool = False) -> bool:
        """Checkpoint ``h`` to disk and free it (its session is idle). True if it was evicted."""
        with self._cv:
            if not claimed:
                if not h._built or h._in_slice:
                    return False
                h._in_slice = True
        try:
            state = self.backend.state_dict(h.id)
            path = save_checkpoint(state, self.dir / f"{h._session.label}-{h.id}.pt")
            self.backend.drop(h.id)
        except Exception as exc:
            with self._cv:
                h._in_slice = False
                drop = self._fail(h, exc)
                self._cv.notify_all()
            if drop:
                self.backend.drop(h.id)
            return False
        with self._cv:
            h._in_slice = False
            h._built = False
            h._memory = 0
            h._worker = None
            h._submitted = None  # free it: it comes back rebuilt from the checkpoint
            if h._status == CANCELLED:  # cancelled while going to disk
                path.unlink(missing_ok=True)
            else:
                h._evicted = True
                h._path = path
            self._cv.notify_all()
        return True

    def maintain(self) -> dict[str, int]:
        """Evict idle sessions' runs to disk and close abandoned sessions (the housekeeping thread
        calls it every ``maintain_s``; tests call it after moving their clock)."""
        _, abandoned = self.sessions.expired(self.limits.idle_s, self.limits.grace_s)
        for s in abandoned:
            self._close(s)
        evicted = 0
        for s in self.sessions.all():
            if not s.idle:
                continue
            with self._lock:
                handles = [h for h in s.runs.values() if h._built]
            evicted += sum(self._evict(h) for h in handles)
        return {"closed": len(abandoned), "evicted": evicted}

    def _housekeeping(self) -> None:
        while not self._stop_housekeeping.wait(self.limits.maintain_s):
            try:
                self.maintain()
            except Exception:  # pragma: no cover - keep the housekeeper alive; the next round retries
                continue

    def _ensure_built(self, h: RunHandle) -> None:
        """Bring an evicted (paused or finished) run back so it can be read."""
        with self._cv:
            if h._built or h._path is None:
                return
            self._cv.wait_for(lambda: not h._in_slice, timeout=60)
            if h._built or h._path is None:
                return
            h._in_slice = True
            path = h._path
            counts: dict[int, int] = {w: 0 for w in range(self.workers)}
            for s in self._ring:
                for o in s.runs.values():
                    if o._built and o._worker is not None:
                        counts[o._worker] = counts.get(o._worker, 0) + 1
            w = min(counts, key=counts.get)
        try:
            self._build(w, h, path)
        finally:
            with self._cv:
                h._in_slice = False
                orphan = h._built and h._status == CANCELLED  # cancelled while it came back
                if orphan:
                    h._built = False
                self._cv.notify_all()
            if orphan:
                self.backend.drop(h.id)

    def _state_of(self, h: RunHandle) -> dict[str, Any]:
        with self._lock:
            path, built = h._path, h._built
        if not built and path is not None:
            return load_checkpoint(path, "evicted run", format_key="format", format_value=STATE_FORMAT)
        if not built:
            raise StylelabError(f"The run {h.name!r} is no longer in memory ({h.status}); its rows stay readable.")
        return self.backend.state_dict(h.id)

    def _record_of(self, h: RunHandle, notes: str):
        try:
            self._ensure_built(h)
        except _Parked:
            raise h.error from None
        if not h._built:
            raise StylelabError(f"The run {h.name!r} is no longer in memory ({h.status}); its rows stay readable.")
        return self.backend.record(h.id, notes)

    # -- the fast lane -------------------------------------------------------------------
    def _fast_init(self) -> None:
        from .backends import tune_thread

        tune_thread(self.backend.threads, 0)

    def call_async(self, token: str, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future:
        """Run ``fn(*args, **kwargs)`` in the fast lane; a Future of its result.

        The fast lane has its own ``fast_workers`` threads at normal OS priority (training runs
        at ``worker_nice``), so it never waits behind training; at most ``fast_queue`` calls may
        wait at once, beyond that :class:`ServerFull`.
        """
        self._session(token)
        with self._lock:
            if self._fast_inflight >= self.limits.fast_workers + self.limits.fast_queue:
                raise ServerFull("The server's quick lane is busy right now; please try again in a moment.")
            self._fast_inflight += 1
        try:
            future = self._fast.submit(fn, *args, **kwargs)
        except RuntimeError as exc:  # the executor is shut down
            with self._lock:
                self._fast_inflight -= 1
            raise ServerFull(f"The server is shutting down ({exc}).") from exc

        def done(_f: concurrent.futures.Future) -> None:
            with self._lock:
                self._fast_inflight -= 1

        future.add_done_callback(done)
        return future

    def call(self, token: str, fn: Callable[..., Any], /, *args: Any, timeout: float | None = None,
             **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` through the fast lane, waiting at most ``timeout`` seconds
        (default ``fast_timeout_s``); :class:`FastLaneTimeout` past that."""
        limit = self.limits.fast_timeout_s if timeout is None else timeout
        future = self.call_async(token, fn, *args, **kwargs)
        try:
            return future.result(timeout=limit)
        except concurrent.futures.TimeoutError:
            raise FastLaneTimeout(f"The server did not answer within {limit:g} s (it is very busy); "
                                  "please try again.") from None

    # -- the server ----------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        """Server-wide numbers (no tokens): sessions, queue, active runs, memory, backend."""
        with self._lock:
            return {"sessions": len(self.sessions), "queued": len(self._pending),
                    "active_heavy": self._active_heavy, "max_heavy_runs": self.max_heavy,
                    "memory_mb": self._server_bytes() / MB, "memory_budget_mb": self.limits.memory_budget_mb,
                    "workers": self.workers, "threads_per_worker": self.backend.threads,
                    "backend": self.backend.describe(), "fast_inflight": self._fast_inflight}

    def shutdown(self) -> None:
        """Stop every run after its current step, stop the workers, free the backend and the temp folder."""
        with self._cv:
            if self._closing:
                return
            self._closing = True
            handles = [h for s in self._ring for h in s.runs.values()]
            for h in handles:
                h._epoch += 1
                if h._built:
                    self.backend.request_stop(h.id, h._epoch)
                if h._status not in TERMINAL:  # wake anyone waiting on it
                    h._set(_status=CANCELLED, _error=ServerFull("The server shut down; this run was stopped."))
            self._cv.notify_all()
        self._stop_housekeeping.set()
        for t in self._threads:
            t.join(timeout=30)
        self._fast.shutdown(wait=False, cancel_futures=True)
        self.backend.shutdown()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "Scheduler":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()


class _Parked(Exception):
    """Internal: a run could not come back from disk for lack of memory; it stays there, paused."""

