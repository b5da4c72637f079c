"""Admission limits of the classroom server (read from the environment) and the serve errors.

Every limit has an environment variable, so a teacher sizes the server without touching code:

===============================  ========================================================  ===========
variable                         meaning                                                   default
===============================  ========================================================  ===========
``STYLELAB_MAX_SESSIONS``        students (browser sessions) at once                       64
``STYLELAB_MAX_HEAVY_RUNS``      training runs active at once, server-wide                 max sessions
``STYLELAB_MAX_QUEUED``          runs waiting in the queue before new ones are refused     64
``STYLELAB_MEMORY_BUDGET_MB``    run memory (state tensors) of the whole server            4096
``STYLELAB_SESSION_MEMORY_MB``   run memory of one session                                 1024
``STYLELAB_WORKERS``             training workers (default: CPU cores, or one per GPU)     auto
``STYLELAB_FAST_WORKERS``        threads of the fast lane (renders, thumbnails, scores)    1
``STYLELAB_BACKEND``             ``thread`` (in-process), ``process`` (worker processes)   thread
                                 or ``ray``
``STYLELAB_RAY_ADDRESS``         a Ray cluster to join (``ray://host:10001``, ``auto``)    local Ray
``STYLELAB_IDLE_S``              seconds without a visit before a session's runs go to     300
                                 disk (they come back when the student returns)
``STYLELAB_GRACE_S``             seconds without a visit before a session is closed and    1800
                                 its runs cancelled
``STYLELAB_SERVE_DIR``           folder for evicted runs (a fresh temp folder inside)      system temp
``STYLELAB_WORKER_NICE``         how much lower the training workers' OS priority is       5
                                 (0-19; 0: as high as the pages' own threads)
===============================  ========================================================  ===========
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import ConfigError, StylelabError


# ----------------------------------------------------------------------------- errors
class ServeError(StylelabError):
    """Base class of the classroom server's errors (each message is for the student)."""


class ServerFull(ServeError):
    """The server has no room for another session, run or call right now (try again later)."""


class SessionNotFound(ServeError):
    """No session has this token (it never existed, was closed, or ended after a long absence)."""


class RunNotFound(ServeError):
    """This session has no run with that id."""


class MemoryBudgetExceeded(ServeError):
    """A run would take the session over its memory budget."""


class FastLaneTimeout(ServeError, TimeoutError):
    """A fast-lane call did not answer within its time bound."""


# ----------------------------------------------------------------------------- machine
def positive_number_env(name: str, default: float, env: Mapping[str, str] | None = None,
                         what: str = "a positive number") -> float:
    """The environment variable ``name`` as a finite number > 0 (``default`` when unset or empty);
    anything else is a :class:`ConfigError` naming the variable and ``what`` it must be."""
    raw = (env if env is not None else os.environ).get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number ({what}).") from None
    if not (0 < value < float("inf")):
        raise ConfigError(f"{name}={raw!r}: it must be {what}.")
    return value


def cpu_cores() -> int:
    """CPU cores this process may use (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS / Windows have no affinity masks
        return max(1, os.cpu_count() or 1)


def gpu_count() -> int:
    """CUDA devices visible to this process (0 without CUDA)."""
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def pool_shape(workers: int | None = None, cores: int | None = None, gpus: int | None = None) -> tuple[int, int]:
    """``(workers, torch threads per worker)`` for this machine.

    With GPUs: one worker per GPU; without: one per core. Threads per worker
    ``t = max(1, cores // workers)``, so ``workers * t <= cores`` whenever ``workers <= cores``:
    the pool never oversubscribes the cores.
    """
    cores = cpu_cores() if cores is None else cores
    gpus = gpu_count() if gpus is None else gpus
    if workers is None:
        workers = gpus if gpus > 0 else cores
    if workers < 1:
        raise ConfigError(f"The server needs at least one worker, got {workers}.")
    return workers, max(1, cores // workers)


# ----------------------------------------------------------------------------- limits
_ENV = {
    "max_sessions": ("STYLELAB_MAX_SESSIONS", int),
    "max_heavy_runs": ("STYLELAB_MAX_HEAVY_RUNS", int),
    "max_queued": ("STYLELAB_MAX_QUEUED", int),
    "memory_budget_mb": ("STYLELAB_MEMORY_BUDGET_MB", float),
    "session_memory_mb": ("STYLELAB_SESSION_MEMORY_MB", float),
    "workers": ("STYLELAB_WORKERS", int),
    "fast_workers": ("STYLELAB_FAST_WORKERS", int),
    "backend": ("STYLELAB_BACKEND", str),
    "ray_address": ("STYLELAB_RAY_ADDRESS", str),
    "idle_s": ("STYLELAB_IDLE_S", float),
    "grace_s": ("STYLELAB_GRACE_S", float),
    "serve_dir": ("STYLELAB_SERVE_DIR", str),
    "worker_nice": ("STYLELAB_WORKER_NICE", int),
}

BACKENDS = ("thread", "process", "ray")


@dataclass(frozen=True)
class Limits:
    """Every knob of the scheduler. ``Limits.from_env()`` reads the ``STYLELAB_*`` variables.

    Scheduling knobs (no variable; tests and benchmarks set them): ``slice_s`` is the compute a
    worker spends on one run before it picks again (at least one step), ``quantum_s`` the
    deficit-round-robin quantum :math:`Q` (see :mod:`stylelab.serve.scheduler`), ``preview_s``
    the least time between two previews of a run, ``fast_timeout_s`` the default bound of a
    fast-lane call, ``max_light_runs`` the ``heavy=False`` runs one session may have going,
    ``maintain_s`` how often idle and abandoned sessions are looked for.
    ``worker_nice`` lowers the training threads' OS priority (Linux) so page renders and the
    fast lane get the cores first when both want them.
    """

    max_sessions: int = 64
    max_heavy_runs: int | None = None
    max_queued: int = 64
    memory_budget_mb: float = 4096.0
    session_memory_mb: float = 1024.0
    workers: int | None = None
    fast_workers: int = 1
    backend: str = "thread"
    ray_address: str | None = None
    idle_s: float = 300.0
    grace_s: float = 1800.0
    serve_dir: str | None = None
    slice_s: float = 0.25
    quantum_s: float = 0.25
    preview_s: float = 0.5
    fast_timeout_s: float = 10.0
    fast_queue: int = 8
    max_light_runs: int = 4
    maintain_s: float = 5.0
    worker_nice: int | None = None

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Refuse values out of range with a :class:`ConfigError` naming the variable."""
        def name(field: str) -> str:
            env = _ENV.get(field)
            return f"{field} ({env[0]})" if env else field

        for field in ("max_sessions", "max_queued", "fast_workers", "fast_queue", "max_light_runs"):
            value = getattr(self, field)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{name(field)} must be a whole number >= 1, got {value!r}.")
        for field in ("max_heavy_runs", "workers"):
            value = getattr(self, field)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise ConfigError(f"{name(field)} must be a whole number >= 1 (or unset), got {value!r}.")
        for field in ("memory_budget_mb", "session_memory_mb", "slice_s", "quantum_s", "fast_timeout_s",
                      "idle_s", "grace_s", "maintain_s"):
            value = getattr(self, field)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) \
                    or value <= 0:
                raise ConfigError(f"{name(field)} must be a finite number > 0, got {value!r}.")
        if not isinstance(self.preview_s, (int, float)) or not math.isfinite(self.preview_s) or self.preview_s < 0:
            raise ConfigError(f"preview_s must be a finite number >= 0, got {self.preview_s!r}.")
        if self.session_memory_mb > self.memory_budget_mb:
            raise ConfigError(
                f"{name('session_memory_mb')} = {self.session_memory_mb:g} is larger than the whole server's "
                f"{name('memory_budget_mb')} = {self.memory_budget_mb:g}.")
        if self.grace_s < self.idle_s:
            raise ConfigError(f"{name('grace_s')} = {self.grace_s:g} must be at least {name('idle_s')} = "
                              f"{self.idle_s:g} (a session is evicted before it is closed).")
        if self.backend not in BACKENDS:
            raise ConfigError(f"{name('backend')} must be one of {BACKENDS}, got {self.backend!r}.")
        if self.worker_nice is not None and (not isinstance(self.worker_nice, int) or not 0 <= self.worker_nice <= 19):
            raise ConfigError(f"worker_nice must be a whole number in [0, 19], got {self.worker_nice!r}.")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> "Limits":
        """Limits from ``environ`` (default ``os.environ``); keyword ``overrides`` win over both.

        An unreadable value (``STYLELAB_WORKERS=two``) is a :class:`ConfigError`, never ignored.
        """
        environ = os.environ if environ is None else environ
        values: dict = {}
        for field, (var, typ) in _ENV.items():
            raw = environ.get(var)
            if raw is None or raw.strip() == "":
                continue
            raw = raw.strip()
            try:
                values[field] = raw if typ is str else typ(raw)
            except ValueError:
                kind = "a whole number" if typ is int else "a number"
                raise ConfigError(f"{var}={raw!r} is not {kind}.") from None
        unknown = set(overrides) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ConfigError(f"Unknown scheduler limits {sorted(unknown)}.")
        values.update(overrides)
        return cls(**values)

    def nice(self) -> int:
        """The workers' OS priority offset (``STYLELAB_WORKER_NICE``, default 5), for threads and
        worker processes alike. Not 19 for processes: measured in the 30-session load test, a worker
        process at 19 answered the pages' copy and borrow requests so late under load (its reader
        threads share its priority, and its training thread holds its lock) that two GAN runs
        stalled for the whole test; at 5 none did."""
        return 5 if self.worker_nice is None else self.worker_nice

    def pool(self) -> tuple[int, int]:
        """``(workers, threads per worker)`` of the training pool on this machine."""
        return pool_shape(self.workers)

    def heavy_cap(self, workers: int) -> int:
        """Server-wide active heavy runs: ``STYLELAB_MAX_HEAVY_RUNS``, or one per admitted session.

        By default every session's heavy run is active and the workers time-share all of them by
        the deficit round-robin. A smaller cap queues the rest until an active run ends, and an
        open-ended run (a GAN on Play) never ends: measured in the 30-session load test, with a cap
        of 4 per worker the sessions that pressed Start later never made a step."""
        return self.max_heavy_runs if self.max_heavy_runs is not None else self.max_sessions
