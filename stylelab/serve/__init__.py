"""The classroom server: one scheduler runs every student's runs on a fixed pool of workers.

- :mod:`stylelab.serve.scheduler`: :class:`Scheduler` (deficit round robin on measured compute
  seconds, one active heavy run per session, priorities, the fast lane) and :class:`RunHandle`
  (what a page reads on each redraw);
- :mod:`stylelab.serve.sessions`: sessions reachable only through unguessable tokens;
- :mod:`stylelab.serve.limits`: :class:`Limits` from ``STYLELAB_*`` variables and the errors
  (:class:`ServerFull`, :class:`MemoryBudgetExceeded`, ...);
- :mod:`stylelab.serve.backends`: in-process threads (default) or Ray actors.

No Streamlit in here; see docs/classroom.md.
"""

from .backends import Backend, RayBackend, ThreadBackend, make_backend
from .limits import (
    FastLaneTimeout,
    Limits,
    MemoryBudgetExceeded,
    RunNotFound,
    ServeError,
    ServerFull,
    SessionNotFound,
    pool_shape,
)
from .scheduler import STATUSES, RunHandle, Scheduler, eta_text

__all__ = [
    "Backend", "FastLaneTimeout", "Limits", "MemoryBudgetExceeded", "RayBackend", "RunHandle", "RunNotFound",
    "STATUSES", "Scheduler", "ServeError", "ServerFull", "SessionNotFound", "ThreadBackend", "eta_text",
    "make_backend", "pool_shape",
]
