"""Garbage collection for a server that many students share: on a clock, not after every page run.

Streamlit's default (``runner.postScriptGC = true``) runs a full collection, ``gc.collect(2)``,
at the end of *every* script run: every page load and every redraw of a live fragment. In a
process that holds torch, VGG and a few hundred thousand other objects one full collection costs
about 0.2 s of CPU (measured: the home page's server cost fell from 0.28 s to 0.02 s of CPU, the
GAN Lab's from 0.30 s to 0.06 s, when it was turned off), and it holds Python's lock for all of
it. Twenty students whose live pages redraw twice a second would ask for eight cores of
collections alone.

The app turns it off (``.streamlit/config.toml``) and keeps memory bounded with this module
instead: one daemon thread per server process runs ``gc.collect()`` every ``interval_s``
seconds (``STYLELAB_GC_S``, default 60 s), so cyclic garbage (a dropped matplotlib figure, a
cancelled run's modules) lives at most that long, and Python's own generational thresholds go on
collecting young garbage as always. Its cost is one collection per interval for the whole
server, not one per page run (under a 30-student load one took up to ~0.8 s of wall time, all of it
under the lock: hence a minute, not seconds).
"""

from __future__ import annotations

import gc
import threading
import time
from dataclasses import dataclass, field

from ..errors import ConfigError

#: the environment variable for the interval (seconds, > 0)
ENV = "STYLELAB_GC_S"
DEFAULT_INTERVAL_S = 60.0


def interval_from_env(env: dict[str, str] | None = None) -> float:
    """``STYLELAB_GC_S`` as seconds (default 60); a value that is not a positive number is a ConfigError."""
    from .limits import positive_number_env

    return positive_number_env(ENV, DEFAULT_INTERVAL_S, env, "a positive number of seconds between collections")


@dataclass
class Collector:
    """A thread that runs a full collection every ``interval_s`` seconds (see the module docstring)."""

    interval_s: float = DEFAULT_INTERVAL_S
    collections: int = 0
    freed: int = 0  #: objects the collections found unreachable, in all
    last_s: float = 0.0  #: seconds the last collection took
    total_s: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not (self.interval_s > 0):
            raise ConfigError(f"The collection interval must be positive, got {self.interval_s!r}.")

    def collect(self) -> int:
        """One full collection now; returns the unreachable objects it found."""
        t0 = time.perf_counter()
        n = gc.collect()
        self.last_s = time.perf_counter() - t0
        self.total_s += self.last_s
        self.collections += 1
        self.freed += n
        return n

    def start(self) -> "Collector":
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="stylelab-gc", daemon=True)
            self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.collect()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stats(self) -> dict[str, float | int]:
        return {"interval_s": self.interval_s, "collections": self.collections, "freed": self.freed,
                "last_s": round(self.last_s, 4), "total_s": round(self.total_s, 3)}


_lock = threading.Lock()
_collector: Collector | None = None


def start_collector(interval_s: float | None = None) -> Collector:
    """The process's one collector, started on the first call (later calls return it)."""
    global _collector
    with _lock:
        if _collector is None:
            _collector = Collector(interval_from_env() if interval_s is None else interval_s)
        return _collector.start()


def collector() -> Collector | None:
    """The process's collector, or None before :func:`start_collector`."""
    return _collector
