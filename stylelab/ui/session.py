"""The student's session on the class server: one unguessable token in the page's URL.

The app has ONE process-wide :class:`~stylelab.serve.Scheduler` (:func:`scheduler`, a
``st.cache_resource`` sized by :meth:`~stylelab.serve.Limits.from_env`). A student's runs belong
to a session of that scheduler, reachable only through its token (256 random bits, see
:mod:`stylelab.serve.sessions`). The token lives in the URL as ``?sid=<token>`` (:func:`token_param`)
and in the Streamlit session state, so

- a reload, or a dropped Wi-Fi that reconnects, reads it back from the URL and reattaches to the
  same runs (:func:`token`);
- moving between pages keeps it (the session state puts it back into the URL);
- a URL without a token, or with a token the server no longer knows (it restarted, or the session
  was closed after ``STYLELAB_GRACE_S`` without a visit), opens a fresh session;
- a full server (``STYLELAB_MAX_SESSIONS``) shows a clear message and stops the page, instead of a
  slow crawl for everyone.

Share links and records must not carry the token: drop the :func:`token_param` query parameter.
"""

from __future__ import annotations

import atexit
import re
from typing import TYPE_CHECKING

import streamlit as st

from ..errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from ..serve import Scheduler

_PARAM = "sid"
_STATE = "_stylelab_session_token"
#: the shape of a token from :func:`secrets.token_urlsafe` (32 bytes -> 43 URL-safe characters)
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{43}")


def token_param() -> str:
    """The URL query parameter that carries the session token (drop it from any shared link)."""
    return _PARAM


def valid_token(value: object) -> bool:
    """Whether ``value`` has the shape of a session token (nothing about whether it is open)."""
    return isinstance(value, str) and TOKEN_RE.fullmatch(value) is not None


@st.cache_resource(show_spinner=False)
def _scheduler() -> "Scheduler":
    from ..serve import Limits, Scheduler

    limits = Limits.from_env()
    if limits.backend not in ("thread", "process"):
        raise ConfigError(
            f"The app's live runs need the thread or process backend (STYLELAB_BACKEND=thread|process), not "
            f"{limits.backend!r}: a page draws and changes the Run object its worker steps, which a Ray actor "
            "keeps to itself. Use Ray for batch runs through stylelab.serve.Scheduler directly.")
    sched = Scheduler(limits)
    # stop the workers before the interpreter goes away (a daemon thread inside a torch op at exit aborts)
    atexit.register(sched.shutdown)
    return sched


def scheduler() -> "Scheduler":
    """The app's one :class:`~stylelab.serve.Scheduler` (built on first use, shared by every session)."""
    return _scheduler()


def _remember(tok: str) -> None:
    st.session_state[_STATE] = tok
    if st.query_params.get(_PARAM) != tok:
        st.query_params[_PARAM] = tok


def token(create: bool = True) -> str | None:
    """This student's session token, reattached from the URL (or this tab's state) when it is open.

    With ``create`` (the default) a missing or unknown token opens a new session and writes it
    into the URL; when the server is full the page shows why and stops (:func:`st.stop`). Without
    ``create``, None when there is no open session yet (nothing is opened).
    """
    from ..serve import ServerFull, SessionNotFound

    sched = scheduler()
    candidates = [st.query_params.get(_PARAM), st.session_state.get(_STATE)]
    for tok in candidates:
        if not valid_token(tok):
            continue
        try:
            sched.touch(tok)
        except SessionNotFound:
            continue
        _remember(tok)
        return tok
    if not create:
        return None
    stale = any(isinstance(t, str) and t for t in candidates)
    try:
        tok = sched.open_session()
    except ServerFull:
        stats = sched.stats()
        st.error(f"The class server is full ({stats['sessions']} students are using it right now); ask your "
                 "teacher to raise STYLELAB_MAX_SESSIONS, or try again in a few minutes.")
        st.stop()
    _remember(tok)
    if stale:
        st.info("Your earlier session has ended (the server restarted, or it was unused for a long time); "
                "a new one has started.")
    return tok
