"""How often live pages redraw when a class shares one server: a server-wide budget for drawing.

Every student whose run plays has a page that redraws it (the run's picture, curves, numbers),
and every redraw costs the server CPU under Python's lock. One student alone redraws twice a
second; twenty at that rate would spend the cores on drawing that the runs and the other
students' page loads need. The pacer gives all live redraws together a fixed share of the
machine, ``cores`` CPU-seconds per second (``STYLELAB_DRAW_CORES``, default 0.3), and spreads it
evenly over the sessions drawing now. The default does not grow with the machine: a redraw is
mostly Python, and every session's Python runs under the server's one interpreter lock, next to
the event loop that carries every page to its browser (measured under a 30-student load: the lock
was held 62 % of the time, most of it by redraws), so the budget is a share of that one lock.

Each session reports the CPU seconds of its last redraw, :math:`c_i` (the redrawing thread's own
CPU time: what it took from the machine, not the wall time it waited). If every live session
:math:`i` redraws once per period :math:`P`, drawing takes :math:`\\sum_i c_i / P` cores, so

.. math::  P = \\max\\Big(t,\\ \\frac{\\sum_i c_i}{B}\\Big), \\qquad \\text{at most } P_{max}

for the tick :math:`t` (the page's own redraw period), the budget :math:`B` in cores and the sum
over the sessions that redrew within the last ``window_s`` seconds. One student alone gets the tick
(a 0.05 s redraw against a 0.3-core budget asks for 0.17 s); twenty students whose redraws cost
0.05 s each share a period of 3.3 s. The run itself does not slow down: it trains in a worker
between redraws. No Streamlit here; :mod:`stylelab.ui.live` asks it after every redraw.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from ..errors import ConfigError

#: the environment variable of the budget (cores, > 0)
ENV = "STYLELAB_DRAW_CORES"
#: the default budget (cores): a share of the one interpreter lock every redraw needs, whatever the cores
DEFAULT_CORES = 0.3
#: the longest period the pacer asks for (a page still moves four times a minute)
MAX_PERIOD_S = 15.0


def budget_from_env(env: Mapping[str, str] | None = None) -> float:
    """``STYLELAB_DRAW_CORES`` (cores' worth of CPU for all live redraws), default :data:`DEFAULT_CORES`."""
    from .limits import positive_number_env

    return positive_number_env(ENV, DEFAULT_CORES, env, "a positive number of cores for the redraws")


class RedrawPacer:
    """The server-wide redraw budget (see the module docstring); thread-safe."""

    def __init__(self, cores: float, window_s: float = 30.0, max_period_s: float = MAX_PERIOD_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not (cores > 0):
            raise ConfigError(f"The drawing budget must be a positive number of cores, got {cores!r}.")
        if not (window_s > 0 and max_period_s > 0):
            raise ConfigError("The pacer's window and longest period must be positive.")
        self.cores = float(cores)
        self.window_s = float(window_s)
        self.max_period_s = float(max_period_s)
        self._clock = clock
        self._last: dict[str, tuple[float, float]] = {}  # session -> (time, CPU seconds of its last redraw)
        self._lock = threading.Lock()

    def note(self, session: str, cpu_s: float) -> None:
        """Session ``session`` just redrew, at a cost of ``cpu_s`` CPU seconds."""
        if not (cpu_s >= 0 and cpu_s < float("inf")):
            raise ConfigError(f"A redraw's CPU time must be a finite number >= 0, got {cpu_s!r}.")
        now = self._clock()
        with self._lock:
            self._last[session] = (now, float(cpu_s))
            self._forget(now)

    def forget(self, session: str) -> None:
        """Session ``session`` stopped redrawing (its run paused, ended or its tab closed)."""
        with self._lock:
            self._last.pop(session, None)

    def _forget(self, now: float) -> None:
        old = [s for s, (t, _) in self._last.items() if now - t > self.window_s]
        for s in old:
            del self._last[s]

    def demand(self) -> tuple[int, float]:
        """(sessions redrawing now, the CPU seconds of one round of their redraws)."""
        now = self._clock()
        with self._lock:
            self._forget(now)
            return len(self._last), sum(c for _, c in self._last.values())

    def period(self, tick_s: float) -> float:
        """Seconds between two redraws of every live page: :math:`\\min(P_{max}, \\max(t, \\sum c_i / B))`."""
        _, total = self.demand()
        return min(self.max_period_s, max(tick_s, total / self.cores))

    def stats(self) -> dict[str, float | int]:
        n, total = self.demand()
        return {"cores": self.cores, "sessions": n, "round_cpu_s": round(total, 4),
                "period_s": round(self.period(0.0), 3)}


_lock = threading.Lock()
_pacer: RedrawPacer | None = None


def pacer() -> RedrawPacer:
    """The process's one pacer (its budget from ``STYLELAB_DRAW_CORES``, read on the first call)."""
    global _pacer
    with _lock:
        if _pacer is None:
            _pacer = RedrawPacer(budget_from_env())
        return _pacer


def pacer_or_default() -> tuple[RedrawPacer, ConfigError | None]:
    """:func:`pacer`, or, when ``STYLELAB_DRAW_CORES`` cannot be read, the process's one pacer with
    the default budget and the error that says why (for the page to show)."""
    global _pacer
    try:
        return pacer(), None
    except ConfigError as exc:
        with _lock:
            if _pacer is None:
                _pacer = RedrawPacer(DEFAULT_CORES)
            return _pacer, exc
