"""A copy of a live Run to draw from, taken between two of its steps in a few milliseconds.

Why: a page that drew the live Run held the run's step lock for the whole drawing (figures,
plotly JSON, images: 50-300 ms, a couple of times a second), and the worker waited all that time.
With a snapshot the lock is held only while the copy is made; the page then draws the copy while
the worker goes on stepping the original.

What is copied and what is shared (:func:`snapshot`)::

    snapshot(run) = copy.deepcopy(run, memo)      # memo: the objects below are shared, not copied

- **copied** (a step changes them): every *trainable* ``nn.Module`` (one with a parameter that
  requires grad) with its parameters and buffers, every optimiser and its state, every tensor
  that requires grad, the run's generators, counters and config, and every small tensor
  (under :data:`SHARE_MIN_BYTES`);
- **shared** (a step only reads them): *frozen* modules (no parameter requires grad, e.g. a VGG
  feature net or the FID classifier) and large tensors (at least :data:`SHARE_MIN_BYTES`) that
  are neither trainable, nor held by a trainable module or an optimiser (data sets, pictures);
- **lists of rows** (a list whose items are all dicts, e.g. ``history``): a new list of the same
  row dicts (the Run contract appends a new row per step and never edits an old one).

The copy is a drawing view: stepping it, or a draw that changes it, never touches the live run.
Its limit: a run that changes a large shared tensor *in place* (neither trainable nor in an
optimiser) may show that picture half-updated for one redraw; the next redraw shows it whole.

A run that cannot be copied this way raises :class:`SnapshotUnavailable` (something deepcopy
refuses, such as a lock or an open file; more than :data:`MAX_COPY_BYTES` to copy; an object
graph over :data:`MAX_NODES`); the page then draws the live run under its step lock instead.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ..errors import StylelabError

#: tensors at least this large, outside trainable modules and optimisers, are shared, not copied
SHARE_MIN_BYTES = 2**20
#: the most tensor bytes one snapshot may copy (beyond: SnapshotUnavailable, draw under the lock)
MAX_COPY_BYTES = 256 * 2**20
#: the most objects the walk that finds modules, optimisers and tensors may visit
MAX_NODES = 20_000


class SnapshotUnavailable(StylelabError):
    """This run cannot be copied for drawing (the page draws it under its step lock instead)."""


def _nbytes(t: Any) -> int:
    return t.element_size() * t.nelement()


def plan(run: Any) -> tuple[dict[int, Any], int]:
    """``(memo, copy_bytes)``: the deepcopy memo that shares what :func:`snapshot` shares, and the
    bytes of the tensors it will copy.

    Walks the run's attributes (objects with ``__dict__``, dicts, lists, tuples, sets), modules
    through ``modules()`` / ``parameters()`` / ``buffers()`` and optimisers through their
    ``param_groups`` and ``state``.
    """
    import torch

    mutable: set[int] = set()  # ids of tensors a step may change in place
    tensors: dict[int, Any] = {}
    frozen: dict[int, Any] = {}
    rows: dict[int, list] = {}
    seen: set[int] = set()
    stack: list[Any] = [run]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or obj is None or isinstance(obj, (str, bytes, int, float, bool, complex)):
            continue
        seen.add(id(obj))
        if len(seen) > MAX_NODES:
            raise SnapshotUnavailable(f"The run holds more than {MAX_NODES} objects to look through.")
        if isinstance(obj, torch.Tensor):
            tensors[id(obj)] = obj
            if obj.requires_grad:
                mutable.add(id(obj))
        elif isinstance(obj, torch.nn.Module):
            params = list(obj.parameters())
            if params and not any(p.requires_grad for p in params):
                frozen[id(obj)] = obj
                continue
            for t in (*params, *obj.buffers()):
                mutable.add(id(t))
                tensors[id(t)] = t
            stack.extend(obj.children())  # a frozen part of a trainable model is shared too
        elif isinstance(obj, torch.optim.Optimizer):
            for group in obj.param_groups:
                mutable.update(id(p) for p in group["params"])
            for state in obj.state.values():
                for v in state.values():
                    if isinstance(v, torch.Tensor):
                        mutable.add(id(v))
                        tensors[id(v)] = v
        elif isinstance(obj, list) and obj and all(type(x) is dict for x in obj):
            rows[id(obj)] = obj  # rows: shared dicts, a list of its own
        elif isinstance(obj, Mapping):
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend(obj)
        elif hasattr(obj, "__dict__") and not isinstance(obj, type):
            stack.extend(vars(obj).values())
    memo: dict[int, Any] = {i: m for i, m in frozen.items()}
    memo.update({i: list(r) for i, r in rows.items()})
    copy_bytes = 0
    for i, t in tensors.items():
        if i not in mutable and _nbytes(t) >= SHARE_MIN_BYTES:
            memo[i] = t
        else:
            copy_bytes += _nbytes(t)
    return memo, copy_bytes


def snapshot(run: Any) -> Any:
    """A drawing copy of ``run`` (see the module docstring); call it between two steps (under
    the run's step lock). Raises :class:`SnapshotUnavailable` when the run cannot be copied."""
    memo, copy_bytes = plan(run)
    if copy_bytes > MAX_COPY_BYTES:
        raise SnapshotUnavailable(f"Copying this run would copy {copy_bytes / 2**20:.0f} MB of tensors "
                                  f"(at most {MAX_COPY_BYTES / 2**20:.0f} MB).")
    try:
        return copy.deepcopy(run, memo)
    except Exception as exc:  # deepcopy refuses locks, files, some C objects: draw under the lock instead
        raise SnapshotUnavailable(f"This run cannot be copied for drawing ({type(exc).__name__}: {exc}).") from exc
