"""Ship live Run objects between the server and a worker process, each large shared object once.

Why: with the process backend (:mod:`stylelab.serve.procs`) a run trains in a worker process,
outside the server's interpreter lock, but a page still draws and changes a Run object. So the
Run travels: the server sends it to be built, asks for a copy to draw, borrows it to change a
setting and sends it back. Pickling a whole Gatys run each time would ship the VGG feature net
(80 MB) with it; a GAN run would ship its data set. A :class:`Courier` (one per peer, on each
side) ships every *shareable* object once and refers to it by a key afterwards:

- **shareable** (:func:`fingerprint` is not None): a frozen ``nn.Module`` (it has parameters and
  none requires grad: a feature net, a classifier), a tensor of at least :data:`SHARE_MIN_BYTES`
  that does not require grad (a data set, a picture), and a list or tuple of at least
  :data:`SHARE_MIN_ITEMS` such tensors (a pool of training crops);
- the **fingerprint** of a shareable object changes when it is changed in place (the tensors'
  version counters, a module's ``training`` flag, the list's items), so a changed object is sent
  again under a new key, never referred to by a stale one;
- **keys** are of two kinds in a message: ``("m", k)``, the sender's own object ``k`` (its payload is
  in the message the first time), and ``("y", k)``, the receiver's own object ``k`` that the sender
  received from it earlier and has not changed since.

Tables are pruned after every transfer: an object stays in a table while the last transfer of some
run referred to it (:meth:`Courier.forget` drops a run's references). Transfers of one run must be
sequential (the backend holds a per-run lock around each); different runs may interleave.

Both ends are this project's own processes (a worker started by the server), so plain pickle is
the format here; checkpoints and uploads from elsewhere never go through it (they are loaded with
``weights_only=True``, :mod:`stylelab.checkpoint`).
"""

from __future__ import annotations

import io
import itertools
import os
import pickle
import threading
from typing import Any

from ..errors import StylelabError

#: tensors at least this large (bytes) that do not require grad are shipped once, then by key
SHARE_MIN_BYTES = 64 * 1024
#: lists/tuples of at least this many tensors without grad are shipped once, then by key
SHARE_MIN_ITEMS = 16


_ATOMIC = frozenset({int, float, str, bytes, bool, type(None), complex})


def fingerprint(obj: Any) -> tuple | None:
    """What identifies the *content* of a shareable object (None: not shareable, pickle it whole)."""
    import torch

    if isinstance(obj, torch.Tensor):
        if obj.requires_grad or obj.element_size() * obj.nelement() < SHARE_MIN_BYTES:
            return None
        return ("t", obj._version, obj.data_ptr(), tuple(obj.shape), str(obj.dtype), str(obj.device))
    if isinstance(obj, torch.nn.Module):
        params = list(obj.parameters())
        if not params or any(p.requires_grad for p in params):
            return None
        versions = sum(t._version for t in itertools.chain(params, obj.buffers()))
        return ("M", versions, len(params), obj.training)
    if isinstance(obj, (list, tuple)) and len(obj) >= SHARE_MIN_ITEMS:
        if not all(isinstance(x, torch.Tensor) and not x.requires_grad for x in obj):
            return None
        return ("L", type(obj).__name__, len(obj), sum(x._version for x in obj), hash(tuple(id(x) for x in obj)))
    return None


def _rebuild_optimizer(cls: type, attrs: dict[str, Any]) -> Any:
    opt = cls.__new__(cls)
    opt.__dict__.update(attrs)
    patch = getattr(opt, "_patch_step_function", None)
    if patch is not None:  # torch wraps the class's step for its profiler hooks once
        patch()
    return opt


def _rebuild_storage(dtype: Any, data: bytes) -> Any:
    import torch

    raw = torch.UntypedStorage.from_buffer(data, dtype=torch.uint8) if data else torch.UntypedStorage(0)
    return torch.storage.TypedStorage(wrap_storage=raw, dtype=dtype, _internal=True)


def _reduce(obj: Any) -> Any:
    """Two things plain pickle does poorly here.

    - An optimiser whole: torch's ``Optimizer.__getstate__`` keeps only defaults, state and
      param_groups, and drops what subclasses set (L-BFGS's ``_params``), which a worker that goes
      on stepping needs.
    - A CPU tensor's storage as its raw bytes: torch pickles each storage through ``torch.save``
      (about 0.1 ms and 1 KB of headers each; a GAN run has ~50 of them).
    """
    import torch

    if isinstance(obj, torch.storage.TypedStorage) and obj._untyped_storage.device.type == "cpu":
        raw = obj._untyped_storage
        data = torch.empty(0, dtype=torch.uint8).set_(raw, 0, (raw.nbytes(),)).numpy().tobytes()
        return _rebuild_storage, (obj.dtype, data)
    if isinstance(obj, torch.optim.Optimizer):
        return _rebuild_optimizer, (type(obj), dict(obj.__dict__))
    return NotImplemented


class ShippingError(StylelabError):
    """A run could not be shipped (something in it cannot be pickled, or a key is unknown)."""


class Courier:
    """One end of a channel that ships objects to one peer (see the module docstring)."""

    def __init__(self, live_rows: bool = False) -> None:
        #: the worker's side: a run's history arrives as the list the run goes on appending to;
        #: the server's side (False): every copy gets its own list (of the same row dicts)
        self.live_rows = live_rows
        self._lock = threading.Lock()
        self._prefix = f"{os.getpid()}.{id(self):x}."
        self._seq = itertools.count()
        #: my objects the peer holds: key -> (obj, fingerprint when sent)
        self._mine: dict[str, tuple[Any, tuple]] = {}
        #: the peer's objects I hold: key -> (obj, fingerprint when received)
        self._theirs: dict[str, tuple[Any, tuple]] = {}
        #: per run: the keys its last transfer referred to, ("m"|"t", key)
        self._refs: dict[str, set[tuple[str, str]]] = {}
        #: per run: (my list holding its history rows, n): both ends agree on the first n rows
        self._rows: dict[str, tuple[list, int]] = {}

    # -- sending ------------------------------------------------------------------------
    def dumps(self, run_id: str, obj: Any) -> bytes:
        """``obj`` as bytes for the peer; shareable objects go by key when this run's last
        transfer already carried them, else with their payload (see :meth:`loads`)."""
        with self._lock:
            prev = set(self._refs.get(run_id, ()))
            by_id_mine = {id(o): (k, o, fp) for k, (o, fp) in self._mine.items()}
            by_id_theirs = {id(o): (k, o, fp) for k, (o, fp) in self._theirs.items()}
        payloads: dict[str, bytes] = {}
        used: set[tuple[str, str]] = set()
        new_mine: dict[str, tuple[Any, tuple]] = {}
        courier = self
        history = getattr(obj, "history", None)
        history = history if isinstance(history, list) else None
        rows_sent: list[tuple[list, int]] = []
        with self._lock:
            rows_ent = self._rows.get(run_id)

        def rows_pid(o: list) -> tuple:
            # the Run contract: a step appends a new row and never edits an old one, so only the
            # rows the peer lacks travel (the C pickler, no callback per row)
            n = 0
            if rows_ent is not None:
                held, m = rows_ent
                if m <= len(o) and (m == 0 or o is held or (m <= len(held) and o[m - 1] is held[m - 1])):
                    n = m
            rows_sent.append((o, len(o)))
            return ("R", n, pickle.dumps(o[n:], protocol=pickle.HIGHEST_PROTOCOL))

        def payload(key: str, o: Any) -> None:
            try:
                payloads[key] = pickle.dumps(o, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:
                raise ShippingError(f"cannot pickle a {type(o).__name__}: {exc}") from exc

        class _Pickler(pickle.Pickler):
            def reducer_override(self, o: Any) -> Any:
                return _reduce(o)

            def persistent_id(self, o: Any) -> Any:
                if type(o) in _ATOMIC:  # most objects of a run: no table to look in
                    return None
                if history is not None and o is history:
                    return rows_pid(o)
                fp = fingerprint(o)
                if fp is None:
                    return None
                hit = by_id_theirs.get(id(o))
                if hit is not None and hit[1] is o and hit[2] == fp and ("t", hit[0]) in prev:
                    used.add(("t", hit[0]))
                    return ("y", hit[0])  # the peer's own object, which it keeps for this run
                hit = by_id_mine.get(id(o))
                if hit is not None and hit[1] is o and hit[2] == fp:
                    key = hit[0]
                    if ("m", key) not in prev and key not in payloads:
                        payload(key, o)  # the peer may hold it for another run only: send it again
                else:
                    key = courier._prefix + str(next(courier._seq))
                    payload(key, o)
                    by_id_mine[id(o)] = (key, o, fp)
                    new_mine[key] = (o, fp)
                used.add(("m", key))
                return ("m", key)

        buf = io.BytesIO()
        try:
            _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
        except ShippingError:
            raise
        except Exception as exc:  # a lock, an open file, a lambda somewhere in the run
            raise ShippingError(f"cannot pickle this {type(obj).__name__}: {type(exc).__name__}: {exc}") from exc
        with self._lock:
            self._mine.update(new_mine)
            self._refs[run_id] = used
            if rows_sent:
                self._rows[run_id] = rows_sent[-1]
            self._prune()
        return pickle.dumps((buf.getvalue(), payloads), protocol=pickle.HIGHEST_PROTOCOL)

    # -- receiving ----------------------------------------------------------------------
    def loads(self, run_id: str, blob: bytes) -> Any:
        """The object the peer's :meth:`dumps` made, its shared objects resolved here: a key
        without a payload is one this run's last transfer carried (so both sides still hold
        it); a payload for an object this side already holds is not unpickled again."""
        main, payloads = pickle.loads(blob)
        with self._lock:
            mine = dict(self._mine)
            theirs = dict(self._theirs)
        used: set[tuple[str, str]] = set()
        received: dict[str, tuple[Any, tuple]] = {}
        with self._lock:
            rows_ent = self._rows.get(run_id)
        rows_got: list[tuple[list, int]] = []
        live_rows = self.live_rows

        def rows_load(start: int, blob: bytes) -> list:
            tail = pickle.loads(blob)
            if start == 0:
                rows = tail
            else:
                if rows_ent is None or rows_ent[1] != start:
                    raise ShippingError(f"the peer sent history rows from {start}, this side holds "
                                        f"{'none' if rows_ent is None else rows_ent[1]}")
                held = rows_ent[0]
                if live_rows and len(held) == start:
                    held.extend(tail)  # the run's own list goes on
                    rows = held
                else:
                    rows = held[:start] + tail
            rows_got.append((rows, len(rows)))
            return rows

        class _Unpickler(pickle.Unpickler):
            def persistent_load(self, pid: Any) -> Any:
                if pid[0] == "R":
                    return rows_load(pid[1], pid[2])
                tag, key = pid
                if tag == "y":  # my own object, unchanged at the peer
                    if key not in mine:
                        raise ShippingError(f"the peer referred to an object {key} this side no longer holds")
                    used.add(("m", key))
                    return mine[key][0]
                used.add(("t", key))
                if key in received:
                    return received[key][0]
                if key in theirs:
                    return theirs[key][0]
                if key not in payloads:
                    raise ShippingError(f"the peer referred to an object {key} it never sent")
                obj = pickle.loads(payloads[key])
                received[key] = (obj, fingerprint(obj))
                return obj

        obj = _Unpickler(io.BytesIO(main)).load()
        with self._lock:
            self._theirs.update(received)
            self._refs[run_id] = used
            if rows_got:
                self._rows[run_id] = rows_got[-1]
            self._prune()
        return obj

    # -- tables --------------------------------------------------------------------------
    def forget(self, run_id: str) -> None:
        """Drop a run's references (it was freed); objects no other run refers to go."""
        with self._lock:
            self._refs.pop(run_id, None)
            self._rows.pop(run_id, None)
            self._prune()

    def _prune(self) -> None:
        live = set().union(*self._refs.values()) if self._refs else set()
        for side, table in (("m", self._mine), ("t", self._theirs)):
            for key in [k for k in table if (side, k) not in live]:
                del table[key]

    def held(self) -> tuple[int, int]:
        """``(mine, theirs)``: how many shared objects each table holds (for tests and stats)."""
        with self._lock:
            return len(self._mine), len(self._theirs)
