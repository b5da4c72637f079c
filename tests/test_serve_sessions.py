"""Sessions of the classroom server: unguessable tokens, lookup by token only, admission, expiry."""

from __future__ import annotations

import hashlib

import pytest

from stylelab.errors import ConfigError, StylelabError
from stylelab.serve import ServerFull, SessionNotFound
from stylelab.serve.sessions import TOKEN_BYTES, SessionStore


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_tokens_are_long_random_and_never_stored_as_keys():
    store = SessionStore(100, Clock())
    sessions = [store.open() for _ in range(50)]
    tokens = {s.token for s in sessions}
    assert len(tokens) == 50
    assert all(len(t) >= 4 * TOKEN_BYTES // 3 for t in tokens)  # 32 random bytes, url-safe base64
    for s in sessions:
        assert s.key == hashlib.sha256(s.token.encode()).hexdigest()
        assert s.token not in repr(s) and s.label == s.key[:8]
        assert store.get(s.token) is s
    assert not any(s.token in store._by_key for s in sessions)  # the index holds hashes only


def test_wrong_tokens_find_nothing():
    store = SessionStore(10, Clock())
    s = store.open()
    near = [s.token[:-1], s.token + "A", s.token[1:], " " + s.token, s.key, s.label, "", "\udcff"]
    for bad in near + [None, 42, b"bytes"]:
        with pytest.raises(SessionNotFound) as err:
            store.get(bad)
        assert isinstance(err.value, StylelabError) and "reload the page" in str(err.value)


def test_admission_and_weights():
    store = SessionStore(2, Clock())
    a = store.open()
    store.open(weight=2.5)
    with pytest.raises(ServerFull, match="STYLELAB_MAX_SESSIONS"):
        store.open()
    store.remove(a)
    assert a.closed and len(store) == 1
    with pytest.raises(SessionNotFound):
        store.get(a.token)
    store.open()
    for bad in (0, -1, float("nan"), 1000, True, "2"):
        with pytest.raises(ConfigError):
            SessionStore(5, Clock()).open(weight=bad)


def test_idle_then_abandoned_and_a_visit_resets():
    clock = Clock()
    store = SessionStore(10, clock)
    stay, leave = store.open(), store.open()
    clock.t = 100
    store.get(stay.token)
    clock.t = 150
    idle, abandoned = store.expired(idle_s=60, grace_s=600)
    assert idle == [leave] and leave.idle and not stay.idle and abandoned == []
    assert store.expired(idle_s=60, grace_s=600) == ([], [])  # reported once
    store.get(leave.token)  # the student came back
    assert not leave.idle and leave.last_seen == 150
    clock.t = 800
    idle, abandoned = store.expired(idle_s=60, grace_s=600)
    assert set(abandoned) == {stay, leave} and idle == []
    assert store.get(stay.token, touch=False).last_seen == 100
