"""The Run contract: one shape for every long computation in stylelab.

A *run* is anything that improves step by step: a GAN being trained, a Gatys image being
optimised, the mixing desk, an aesthetic adjustment, a Deep Image Prior fit, a network being
trained. Every one of them follows this contract, so the app, the CLI, the benchmarks, the
scheduler and the tests drive them all the same way::

    run = catalog()["gatys"](seed=0)        # or GatysRun(content, style, config, seed=0)
    while not run.done:
        row = run.step()                    # one row of named numbers, e.g. {"step": 1, "loss": 3.2}
    run.preview()                           # the current picture (3, H, W) in [0, 1], or None
    blob = run.state_dict()                 # torch.save-able; torch.load(weights_only=True) reads it
    run.record()                            # ExperimentRecord: config, seed, metrics

What every run has:

==================  ==========================================================================
``kind``            its catalogue name (``"gan"``, ``"gatys"``, ...), also stored in records
``config``          its dataclass config
``seed``            the integer its own ``torch.Generator`` (s) were seeded from
``device``          a ``torch.device``; the default everywhere is :func:`stylelab.device.get_device`
``step_count``      steps done so far
``history``         the rows returned by :meth:`Run.step`, in order
``seconds``         wall time spent inside ``step()`` (never part of a row: rows are reproducible)
``done``            True once the configured number of steps is reached (never for open-ended runs)
``step()``          one step -> row (a dict of ints/floats/strings, ``row["step"] == step_count``)
``preview()``       the current picture, ``(3, H, W)`` float on the CPU in [0, 1], or None
``state_dict()``    everything needed to continue: weights, optimiser, generator states, counters
``load_state_dict`` continue from it: resume equals continuous running, bit for bit on the CPU
``record()``        an :class:`~stylelab.record.ExperimentRecord` of config, seed and metrics
``from_record``     (classmethod) rebuild the run from a record (+ the pictures it does not carry);
                    a value out of range is a :class:`~stylelab.errors.RecordError`, never clamped
``inputs()``        the tensors the run was built from that a record does not carry (pictures)
==================  ==========================================================================

Randomness: each run owns its generators (``torch.Generator`` on its device, seeded from
``seed``). Nothing here seeds or draws from torch's global RNG, which every Streamlit session
of a server shares.

Drivers: :func:`advance` (run for a time budget), :func:`run_to_end` (with a callback and a stop
signal). :func:`catalog` names a small configuration of every run kind (each step well under a
second on a 2-core CPU), for the protocol tests and the benchmarks.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import math
import threading
import time
import types
import typing
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Union

from .errors import CheckpointError, ConfigError, RecordError, StopRequested

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from .record import ExperimentRecord

#: The ``format`` key of every run's ``state_dict`` (bump when the layout changes).
STATE_FORMAT = "stylelab.run/1"

#: A stop signal: a callable returning True to stop, a ``threading.Event``, or None.
StopSignal = Callable[[], bool] | threading.Event | None


def should_stop(stop: StopSignal) -> bool:
    """True if ``stop`` (a callable, an Event or None) asks to stop now."""
    if stop is None:
        return False
    if isinstance(stop, threading.Event):
        return stop.is_set()
    return bool(stop())


def resolve_device(device: Any = None) -> "torch.device":
    """``device`` as a ``torch.device``; None means :func:`~stylelab.device.get_device` (CUDA, MPS, CPU)."""
    import torch

    from .device import get_device

    if device is None:
        return get_device()
    if isinstance(device, torch.device):
        return device
    return get_device(str(device))


def check_seed(seed: Any) -> int:
    """A run's seed: an integer in [0, 2**63)."""
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**63:
        raise ConfigError(f"A seed must be an integer in [0, 2**63), got {seed!r}.")
    return seed


def make_generator(seed: int, device: Any, stream: int = 0) -> "torch.Generator":
    """A ``torch.Generator`` on ``device`` owned by one run, seeded from ``(seed, stream)``.

    ``stream`` separates independent random streams of one run (data order, noise, jitter), so
    drawing more from one never shifts another.
    """
    import torch

    dev = torch.device(device)
    gen = torch.Generator(device=dev) if dev.type in ("cuda", "mps") else torch.Generator()
    gen.manual_seed((check_seed(seed) * 1_000_003 + 7919 * stream) % 2**63)
    return gen


# ----------------------------------------------------------------------------- the contract
class Run:
    """Base class of every run: the bookkeeping of the contract (see the module docstring).

    Subclasses set ``kind`` and ``lab`` (the lab name written into records), call
    ``super().__init__(config, seed=..., device=...)`` and implement:

    - ``_step() -> dict``: do one step, return its numbers (no ``"step"`` key, no wall times);
    - ``total_steps`` (property or attribute): the configured length, or None for open-ended runs;
    - ``_state() -> dict`` / ``_load_state(state)``: weights, optimisers, generator states
      (tensors and plain values only, so ``weights_only=True`` loads them);
    - optionally ``preview()``, ``summary()``, ``inputs()`` and ``from_record()``.
    """

    kind: ClassVar[str] = "run"
    lab: ClassVar[str] = "run"
    #: the dataclass of ``config`` (used by the default :meth:`from_record`)
    config_class: ClassVar[type | None] = None

    def __init__(self, config: Any, *, seed: int = 0, device: Any = None) -> None:
        self.config = config
        self.seed = check_seed(seed)
        self.device = resolve_device(device)
        self.step_count = 0
        self.history: list[dict[str, Any]] = []
        self.seconds = 0.0

    # -- to implement -----------------------------------------------------------------
    total_steps: int | None = None

    def _step(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _state(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _load_state(self, state: dict[str, Any]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- the contract -----------------------------------------------------------------
    @property
    def done(self) -> bool:
        total = self.total_steps
        return total is not None and self.step_count >= total

    def step(self) -> dict[str, Any]:
        """One step; returns its row (also appended to ``history``)."""
        if self.done:
            raise StopRequested(f"This {self.kind} run is finished ({self.step_count} steps).")
        t0 = time.perf_counter()
        values = self._step()
        self.seconds += time.perf_counter() - t0
        self.step_count += 1
        row = {"step": self.step_count, **values}
        self.history.append(row)
        return row

    def extend(self, steps: int) -> None:
        """Make the run ``steps`` steps longer (Continue after it finished), for runs whose config
        has a ``steps`` length; others raise :class:`ConfigError`."""
        if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
            raise ConfigError(f"extend takes a positive number of steps; got {steps!r}.")
        if not isinstance(getattr(self.config, "steps", None), int):
            raise ConfigError(f"A {self.kind} run has no configurable length to extend.")
        self.config.steps = max(self.config.steps, self.step_count) + steps

    def running(self) -> contextlib.AbstractContextManager[None]:
        """A context the drivers enter ONCE around a batch of steps (default: nothing).

        A run whose steps need a process setting (the GAN's torch thread count) sets it here, so
        it is set and restored once per batch, not once per step.
        """
        return contextlib.nullcontext()

    def preview(self) -> "torch.Tensor | None":
        """The current picture ``(3, H, W)`` on the CPU in [0, 1], or None if the run has none."""
        return None

    def inputs(self) -> dict[str, Any]:
        """The tensors this run was built from that its record does not carry (pictures)."""
        return {}

    def summary(self) -> dict[str, Any]:
        """Final numbers for the record (by default the last row and the step count)."""
        out: dict[str, Any] = {"steps": self.step_count}
        if self.history:
            out.update({k: v for k, v in self.history[-1].items() if k != "step"})
        return out

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue this run; ``torch.load(weights_only=True)`` reads it back."""
        from .record import _jsonable

        return {
            "format": STATE_FORMAT,
            "kind": self.kind,
            "seed": self.seed,
            "config": config_to_dict(self.config),
            "step_count": self.step_count,
            "seconds": float(self.seconds),
            "history": _jsonable(self.history),
            "state": self._state(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from :meth:`state_dict` of a run of the same kind and config."""
        check_state(state, self.kind)
        if state.get("config") != config_to_dict(self.config):
            raise CheckpointError(
                f"This {self.kind} state was saved with other settings; build the run from its config first "
                "(see stylelab.run.from_state)."
            )
        if state.get("seed") != self.seed:
            raise CheckpointError(f"This {self.kind} state was saved with seed {state.get('seed')!r}, not {self.seed}.")
        self._load_state(state["state"])
        self.step_count = int(state["step_count"])
        self.seconds = float(state.get("seconds", 0.0))
        self.history = [dict(r) for r in state["history"]]

    def record(self, notes: str = "") -> "ExperimentRecord":
        """Config + seed + metrics as an :class:`~stylelab.record.ExperimentRecord`."""
        from .record import ExperimentRecord

        return ExperimentRecord(
            lab=self.lab,
            config={"kind": self.kind, **config_to_dict(self.config)},
            seed=self.seed,
            metrics=list(self.history),
            summary=self.summary(),
            device=str(self.device),
            notes=notes,
        )

    @classmethod
    def from_record(cls, record: "ExperimentRecord | Mapping[str, Any]", *, device: Any = None,
                    **inputs: Any) -> "Run":
        """Rebuild the run (before its first step) from a record and the pictures it names.

        The default builds ``cls(**inputs, config=config_from_record(record, cls.config_class),
        seed=record.seed, device=device)``; runs with other constructors override it.
        """
        rec = as_record(record, cls.lab)
        if cls.config_class is None:  # pragma: no cover - a subclass forgot to say
            raise RecordError(f"{cls.__name__} cannot be rebuilt from a record.")
        config = config_from_record(rec, cls.config_class, kind=cls.kind)
        return cls(**inputs, config=config, seed=rec.seed, device=device)

    def to_bytes(self) -> bytes:
        """``state_dict()`` as ``torch.save`` bytes (for a download button)."""
        from .checkpoint import to_bytes

        return to_bytes(self.state_dict())

    def __repr__(self) -> str:
        total = "?" if self.total_steps is None else self.total_steps
        return f"<{type(self).__name__} {self.kind} step {self.step_count}/{total} on {self.device}>"


def check_state(state: Any, kind: str | None = None) -> None:
    """Refuse a blob that is not a run state (of ``kind``, if given) with a :class:`CheckpointError`."""
    if not isinstance(state, Mapping) or state.get("format") != STATE_FORMAT:
        found = state.get("format") if isinstance(state, Mapping) else type(state).__name__
        raise CheckpointError(f"Not a stylelab run state (format {found!r}, expected {STATE_FORMAT!r}).")
    if kind is not None and state.get("kind") != kind:
        raise CheckpointError(f"This is the state of a {state.get('kind')!r} run, not a {kind!r} run.")
    for key, typ in (("step_count", int), ("history", list), ("state", Mapping)):
        if not isinstance(state.get(key), typ):
            raise CheckpointError(f"Run state field {key!r} is missing or has the wrong type.")


# ----------------------------------------------------------------------------- drivers
def advance(run: Run, seconds: float, max_steps: int | None = None, stop: StopSignal = None) -> list[dict[str, Any]]:
    """Step ``run`` for about ``seconds`` of wall time (at least one step unless done or stopped).

    Returns the rows made. Stops early when the run is done, ``max_steps`` is reached or ``stop``
    asks (checked between steps, so a stop takes effect within one step).
    """
    if not math.isfinite(seconds) or seconds < 0:
        raise ConfigError(f"A time budget must be a finite number of seconds >= 0, got {seconds!r}.")
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    with run.running():
        while not run.done and not should_stop(stop):
            if max_steps is not None and len(rows) >= max_steps:
                break
            rows.append(run.step())
            if time.perf_counter() - t0 >= seconds:
                break
    return rows


def run_to_end(run: Run, callback: Callable[[Run, dict[str, Any]], bool | None] | None = None,
               stop: StopSignal = None, max_steps: int | None = None) -> bool:
    """Step until done; ``callback(run, row)`` after each step (returning False stops).

    Returns True if the run finished, False if it was stopped (by ``stop``, the callback or
    ``max_steps`` for an open-ended run). A stopped run can simply be continued later.
    """
    made = 0
    with run.running():
        while not run.done:
            if should_stop(stop) or (max_steps is not None and made >= max_steps):
                return False
            row = run.step()
            made += 1
            if callback is not None and callback(run, row) is False:
                return run.done
    return True


# ----------------------------------------------------------------------------- configs and records
def config_to_dict(config: Any) -> dict[str, Any]:
    """A dataclass config (or a dict) as plain JSON values."""
    from .record import _jsonable

    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return _jsonable(config)
    if isinstance(config, Mapping):
        return _jsonable(dict(config))
    raise ConfigError(f"A run config must be a dataclass or a dict, got {type(config).__name__}.")


def as_record(record: Any, lab: str | None = None) -> "ExperimentRecord":
    """An :class:`ExperimentRecord` from a record, its dict or its JSON; checks the lab."""
    from .record import ExperimentRecord

    if isinstance(record, ExperimentRecord):
        if lab is not None and record.lab != lab:
            raise RecordError(f"This record was made by the {record.lab!r} lab, not the {lab!r} lab.")
        return record
    if isinstance(record, Mapping):
        return ExperimentRecord.from_dict(dict(record), lab=lab)
    if isinstance(record, (str, bytes)):
        return ExperimentRecord.from_json(record, lab=lab)
    raise RecordError(f"Cannot read an experiment record from a {type(record).__name__}.")


def _type_ok(value: Any, annotation: Any) -> bool:
    """Whether a JSON value fits a dataclass field annotation (int, float, str, bool, tuples, Optional, Literal)."""
    origin = typing.get_origin(annotation)
    if annotation is Any:
        return True
    if origin in (Union, types.UnionType):
        return any(_type_ok(value, a) for a in typing.get_args(annotation))
    if origin is typing.Literal:
        return value in typing.get_args(annotation)
    if annotation is type(None):
        return value is None
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if annotation is str:
        return isinstance(value, str)
    if origin in (tuple, list) or annotation in (tuple, list):
        if not isinstance(value, (list, tuple)):
            return False
        args = typing.get_args(annotation)
        if not args:
            return True
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_type_ok(v, args[0]) for v in value)
        if origin is tuple:
            return len(args) == len(value) and all(_type_ok(v, a) for v, a in zip(value, args))
        return all(_type_ok(v, args[0]) for v in value)
    if origin is dict or annotation is dict:
        return isinstance(value, dict)
    return True  # an annotation we do not check (the config's own validate() will)


def config_from_record(record: "ExperimentRecord", config_class: type, kind: str | None = None) -> Any:
    """Rebuild ``config_class`` from a record's config: unknown fields, wrong types and values the
    config's own validation refuses are all :class:`RecordError` (never clamped into range)."""
    cfg = dict(record.config)
    found = cfg.pop("kind", kind)
    if kind is not None and found != kind:
        raise RecordError(f"This record holds a {found!r} run, not a {kind!r} run.")
    fields = {f.name: f for f in dataclasses.fields(config_class)}
    unknown = sorted(set(cfg) - set(fields))
    if unknown:
        raise RecordError(f"Record config has fields {unknown} that {config_class.__name__} does not know.")
    hints = typing.get_type_hints(config_class)
    values = {}
    for name, value in cfg.items():
        if not _type_ok(value, hints.get(name, Any)):
            raise RecordError(f"Record config {name!r} = {value!r} does not fit {config_class.__name__} "
                              f"(expected {getattr(hints.get(name), '__name__', hints.get(name))}).")
        values[name] = tuple(value) if isinstance(value, list) else value
    try:
        config = config_class(**values)
        validate = getattr(config, "validate", None)
        if callable(validate):
            validate()
    except (ConfigError, TypeError, ValueError) as exc:
        raise RecordError(f"Record config is not a valid {kind or config_class.__name__} run: {exc}") from exc
    return config


# ----------------------------------------------------------------------------- the catalogue
#: name -> "module:function" of a factory ``(seed: int, device=None) -> Run`` building a SMALL run
#: (each step well under a second on a 2-core CPU). Lazy, so importing this module stays cheap.
CATALOG: dict[str, str] = {
    "gan-2d": "stylelab.gan.train:small_run_2d",
    "gan-image": "stylelab.gan.train:small_run_image",
    "gan-stylegan": "stylelab.gan.train:small_run_stylegan",
    "gan-compare": "stylelab.gan.compare:small_run",
    "gan-custom": "stylelab.gan.custom:small_run",
    "gan-steps": "stylelab.gan.stepper:small_run",
    "gatys": "stylelab.style.gatys:small_run",
    "fast-style": "stylelab.style.train_fast:small_run",
    "mixing": "stylelab.losses.mixing:small_run",
    "adjust": "stylelab.aesthetics.adjustment:small_run",
    "dip": "stylelab.inpaint.dip:small_run",
    "inpaint-train": "stylelab.inpaint.train:small_run",
    "loss-study": "stylelab.inpaint.study:small_run",
    "inpaint-gated": "stylelab.inpaint.gated_train:small_run",
    "cycle-2d": "stylelab.translate.run:small_run_2d",
    "cycle-image": "stylelab.translate.run:small_run_image",
    "learned-style": "stylelab.style.learned_train:small_run",
}

_catalog_lock = threading.Lock()


def catalog() -> dict[str, Callable[..., Run]]:
    """Every run kind's small-configuration factory: ``catalog()["gatys"](seed=0, device=None)``."""
    out: dict[str, Callable[..., Run]] = {}
    with _catalog_lock:
        for name, target in CATALOG.items():
            module, _, attr = target.partition(":")
            out[name] = getattr(importlib.import_module(module), attr)
    return out


def from_state(state: Mapping[str, Any], factory: Callable[..., Run]) -> Run:
    """Build a run with ``factory(config, seed)`` from a saved state's config, then load the state."""
    check_state(state)
    run = factory(state["config"], state["seed"])
    run.load_state_dict(state)
    return run
