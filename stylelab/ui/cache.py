"""Per-session caches for pages: one content hash for tensors, one bounded LRU in session state.

Streamlit reruns a page top to bottom on every click, so pages remember results (a decoded
upload, a report, a stylised preview) for the inputs they were made from. Two helpers, so every
page does it the same way and no cache grows without bound:

- :func:`tensor_digest` -- a content hash of tensors (values, dtype, shape) plus any settings;
- :class:`SessionLRU` -- a dictionary of at most ``max_entries`` items that lives in
  ``st.session_state`` (one per browser session, so one student never sees another's pictures)
  and drops the least recently used item when full.

    memo = SessionLRU("aes_reports", max_entries=48)
    report = memo.get_or_compute(tensor_digest(img, extra=quality), lambda: aes.report(img, quality=quality))

- :class:`SharedLRU` -- the same for results that depend only on *content* every student may
  hold (the default picture and mask, a shipped model's scores on them): one bounded LRU for the
  whole server, keyed by content digests, computed once even when a class asks for it at the same
  moment (the others wait for the first and reuse its result). A session finds an entry only by
  the digest of inputs it already has, so nothing of another student's is reachable through it.

Nothing here imports Streamlit until a :class:`SessionLRU` is made without its own ``state``.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, MutableMapping
from typing import Any, TypeVar

V = TypeVar("V")

__all__ = ["SessionLRU", "SharedLRU", "bytes_digest", "shared", "tensor_digest"]


def bytes_digest(data: bytes) -> str:
    """SHA-1 of raw bytes (an uploaded file), as hex."""
    return hashlib.sha1(data).hexdigest()


def tensor_digest(*tensors: Any, extra: Any = None) -> str:
    """A content hash of ``tensors`` and ``extra`` (settings), as hex.

    Two calls give the same digest exactly when every tensor has the same dtype, shape and values
    (on any device; values are read on the CPU) and ``repr(extra)`` is the same. ``None`` entries
    are allowed (an optional picture). NumPy arrays hash like tensors.
    """
    import numpy as np
    import torch

    h = hashlib.sha1()
    for t in tensors:
        if t is None:
            h.update(b"none;")
            continue
        if isinstance(t, np.ndarray):
            t = torch.from_numpy(np.ascontiguousarray(t))
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"tensor_digest hashes tensors and arrays, not {type(t).__name__}.")
        t = t.detach().to("cpu").contiguous()
        h.update(f"{t.dtype}{tuple(t.shape)};".encode())
        raw = t.reshape(-1).view(torch.uint8) if t.numel() else t.reshape(-1)  # bf16 has no NumPy dtype: hash bytes
        h.update(raw.numpy().tobytes())
    h.update(repr(extra).encode())
    return h.hexdigest()


class SessionLRU:
    """A least-recently-used dictionary of at most ``max_entries`` items, kept in session state.

    Args:
        key: the session-state key that holds it (one cache per key and browser session).
        max_entries: the most items kept; putting one more drops the least recently used.
        state: the mapping to live in (default ``st.session_state``; a plain dict in tests).
    """

    def __init__(self, key: str, max_entries: int, state: MutableMapping[str, Any] | None = None) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ValueError(f"max_entries must be an integer >= 1, got {max_entries!r}.")
        if state is None:
            import streamlit as st

            state = st.session_state
        self.key = key
        self.max_entries = max_entries
        self._state = state
        if not isinstance(state.get(key), OrderedDict):
            state[key] = OrderedDict()

    @property
    def _items(self) -> OrderedDict:
        items = self._state.get(self.key)
        if not isinstance(items, OrderedDict):  # cleared from outside (a "reset" button): start again
            items = self._state[self.key] = OrderedDict()
        return items

    def __contains__(self, k: Any) -> bool:
        return k in self._items

    def __len__(self) -> int:
        return len(self._items)

    def get(self, k: Any, default: Any = None) -> Any:
        """The item for ``k`` (now the most recently used), or ``default``."""
        items = self._items
        if k not in items:
            return default
        items.move_to_end(k)
        return items[k]

    def put(self, k: Any, value: Any) -> Any:
        """Store ``value`` under ``k`` (most recently used); drop the oldest items beyond ``max_entries``."""
        items = self._items
        items[k] = value
        items.move_to_end(k)
        while len(items) > self.max_entries:
            items.popitem(last=False)
        return value

    def get_or_compute(self, k: Any, compute: Callable[[], V]) -> V:
        """The item for ``k``, computing and storing it first if absent (an exception stores nothing)."""
        items = self._items
        if k in items:
            items.move_to_end(k)
            return items[k]
        return self.put(k, compute())

    def clear(self) -> None:
        self._items.clear()


class SharedLRU:
    """A thread-safe least-recently-used dictionary for the whole server, computed once per key.

    :meth:`get_or_compute` runs ``compute`` in the first caller's thread; callers that ask for the
    same key meanwhile wait for it and get the same object (treat it as read-only). An exception is
    raised to the caller that computed and stores nothing (the next caller tries again).
    """

    def __init__(self, max_entries: int) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ValueError(f"max_entries must be an integer >= 1, got {max_entries!r}.")
        self.max_entries = max_entries
        self._items: OrderedDict = OrderedDict()
        self._busy: dict[Any, threading.Event] = {}
        self._lock = threading.Lock()
        self.computed = 0  #: how many times ``compute`` ran (hits do not count)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __contains__(self, k: Any) -> bool:
        with self._lock:
            return k in self._items

    def get_or_compute(self, k: Any, compute: Callable[[], V]) -> V:
        while True:
            with self._lock:
                if k in self._items:
                    self._items.move_to_end(k)
                    return self._items[k]
                event = self._busy.get(k)
                if event is None:  # nobody computes it: this caller does
                    event = self._busy[k] = threading.Event()
                    break
            event.wait()  # another caller computes it; then look again (it may have failed)
        try:
            value = compute()
            with self._lock:
                self.computed += 1
                self._items[k] = value
                self._items.move_to_end(k)
                while len(self._items) > self.max_entries:
                    self._items.popitem(last=False)
            return value
        finally:
            with self._lock:
                self._busy.pop(k, None)
            event.set()

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_shared: dict[str, SharedLRU] = {}
_shared_lock = threading.Lock()


def shared(name: str, max_entries: int) -> SharedLRU:
    """The server's one :class:`SharedLRU` called ``name`` (made on the first call)."""
    with _shared_lock:
        cache = _shared.get(name)
        if cache is None:
            cache = _shared[name] = SharedLRU(max_entries)
        return cache
