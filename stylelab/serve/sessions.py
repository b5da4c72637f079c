"""Sessions of the classroom server, each reachable only through its unguessable token.

A session is one student's browser tab. :meth:`SessionStore.open` makes a token with
:func:`secrets.token_urlsafe` (32 bytes, 256 bits); the page keeps it (in the URL or the
Streamlit session state) so a reload reattaches to the same runs. The store never lists tokens
and has no lookup by anything else: a session is found by ``sha256(token)`` and the stored
token is then compared with :func:`hmac.compare_digest` (constant time), so neither a wrong
guess's timing nor a run id gives access to another student's runs.

Life cycle (``now`` from the scheduler's clock)::

    seen  --(now - last_seen > idle_s)-->  idle: runs checkpointed to disk, memory freed
    idle  --(a visit: get(token))------->  seen: runs come back from disk when next needed
    idle  --(now - last_seen > grace_s)->  closed: runs cancelled, files deleted, token dead
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from .limits import ServerFull, SessionNotFound

#: bytes of randomness in a token (``token_urlsafe`` makes ~43 characters of them)
TOKEN_BYTES = 32


def _key(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(eq=False)
class Session:
    """One student's session: its fair-share account and its runs (by run id).

    ``deficit`` and ``compute_s`` belong to the scheduler's deficit round robin; ``weight``
    scales the session's share (a teacher's demo session might get 2).
    """

    token: str = field(repr=False)
    key: str = field(repr=False)
    created: float
    last_seen: float
    weight: float = 1.0
    deficit: float = 0.0
    compute_s: float = 0.0
    idle: bool = False
    closed: bool = False
    runs: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """A short name for logs: a prefix of the token's hash, never the token."""
        return self.key[:8]


class SessionStore:
    """The sessions of one server: open, find by token, expire. Thread-safe."""

    def __init__(self, max_sessions: int, clock: Callable[[], float]) -> None:
        self.max_sessions = max_sessions
        self.clock = clock
        self._by_key: dict[str, Session] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_key)

    def open(self, weight: float = 1.0) -> Session:
        """A new session with a fresh token; :class:`ServerFull` when ``max_sessions`` are open."""
        if not isinstance(weight, (int, float)) or isinstance(weight, bool) or not 0 < weight <= 100:
            raise ConfigError(f"A session weight must be a number in (0, 100], got {weight!r}.")
        with self._lock:
            if len(self._by_key) >= self.max_sessions:
                raise ServerFull(
                    f"The server already has {self.max_sessions} students connected (STYLELAB_MAX_SESSIONS); "
                    "please try again in a few minutes.")
            token = secrets.token_urlsafe(TOKEN_BYTES)
            now = self.clock()
            session = Session(token=token, key=_key(token), created=now, last_seen=now, weight=float(weight))
            self._by_key[session.key] = session
            return session

    def get(self, token: Any, touch: bool = True) -> Session:
        """The session of ``token`` (a visit: it is no longer idle), or :class:`SessionNotFound`."""
        if not isinstance(token, str) or not token:
            raise SessionNotFound("No session token was given; reload the page to start a new session.")
        with self._lock:
            session = self._by_key.get(_key(token))
            if session is None or not hmac.compare_digest(session.token.encode(), token.encode("utf-8",
                                                                                              "surrogatepass")):
                raise SessionNotFound(
                    "This session is unknown or has ended (closed, or away longer than the grace period); "
                    "reload the page to start a new one.")
            if touch:
                session.last_seen = self.clock()
                session.idle = False
            return session

    def remove(self, session: Session) -> None:
        with self._lock:
            self._by_key.pop(session.key, None)
            session.closed = True

    def all(self) -> list[Session]:
        """Every open session (for the scheduler's bookkeeping; never handed to a page)."""
        with self._lock:
            return list(self._by_key.values())

    def expired(self, idle_s: float, grace_s: float) -> tuple[list[Session], list[Session]]:
        """``(newly idle, abandoned)`` sessions at the clock's ``now``; marks the idle ones."""
        now = self.clock()
        newly_idle, abandoned = [], []
        with self._lock:
            for session in self._by_key.values():
                away = now - session.last_seen
                if away > grace_s:
                    abandoned.append(session)
                elif away > idle_s and not session.idle:
                    session.idle = True
                    newly_idle.append(session)
        return newly_idle, abandoned
