"""How long a thread of the server may keep Python's interpreter lock while another one waits.

Every student's page script, every live redraw and the event loop that carries every message to
every browser run in the server's one process, under one interpreter lock. A thread that computes
keeps the lock until another asks for it and then for up to the *switch interval* (CPython's
default: 5 ms). The event loop asks for the lock again after every socket read and write, so with
many computing threads it waits up to one interval per message it handles: the convoy effect, and
a page load of a few dozen messages queues for seconds. A shorter interval shortens that wait,
paid for with more lock hand-overs for the computing threads.

``STYLELAB_SWITCH_MS`` sets it for the app's process (milliseconds, > 0); :func:`apply_switch_interval`
is called once when the server starts. No Streamlit here.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

#: the environment variable (milliseconds)
ENV = "STYLELAB_SWITCH_MS"
#: the app's default (milliseconds; Python's own is 5 ms): measured under a 30-student load in docs/classroom.md
DEFAULT_MS = 1.0


def switch_ms_from_env(env: Mapping[str, str] | None = None) -> float:
    """``STYLELAB_SWITCH_MS`` (milliseconds, finite and > 0), :data:`DEFAULT_MS` when unset."""
    from .limits import positive_number_env

    return positive_number_env(ENV, DEFAULT_MS, env, "a positive number of milliseconds")


def apply_switch_interval(ms: float | None = None) -> float:
    """Set the process's switch interval to ``ms`` (default: :func:`switch_ms_from_env`); returns it in ms."""
    value = switch_ms_from_env() if ms is None else float(ms)
    sys.setswitchinterval(value / 1000.0)
    return sys.getswitchinterval() * 1000.0
