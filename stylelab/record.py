"""The experiment record: config + seed + metrics as JSON.

Every lab exports one (download button / ``--out`` in the CLI) and can re-import it to
reproduce a run. A record is deliberately small and boring::

    {
      "schema": "stylelab.record/1",
      "lab": "style",                 # which lab made it
      "config": {...},                # the dataclass config, as plain JSON values
      "seed": 0,
      "metrics": [{"step": 0, ...}],  # one dict per logged step (may be empty)
      "summary": {...},               # final numbers
      "created": "2026-11-21T07:00:00Z",
      "versions": {"stylelab": "0.1.0", "torch": "2.14.1"},
      "device": "cpu",
      "notes": ""
    }
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import RecordError

SCHEMA = "stylelab.record/1"
MAX_RECORD_BYTES = 20 * 2**20  # a record is config + curves; 20 MiB is far beyond any honest one


def _jsonable(value: Any) -> Any:
    """Convert configs/metrics to plain JSON (dataclasses, tuples, numpy/torch scalars, paths)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None  # JSON has no NaN/inf
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalar
        try:
            return _jsonable(value.item())
        except (ValueError, RuntimeError) as exc:
            raise RecordError(f"Cannot store a non-scalar array in a record: {type(value).__name__}") from exc
    if hasattr(value, "tolist"):
        return _jsonable(value.tolist())
    raise RecordError(f"Cannot store a value of type {type(value).__name__} in an experiment record.")


@dataclass
class ExperimentRecord:
    """Config + seed + metrics of one run of one lab."""

    lab: str
    config: dict[str, Any]
    seed: int = 0
    metrics: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"
    notes: str = ""
    created: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    versions: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if dataclasses.is_dataclass(self.config) and not isinstance(self.config, type):
            self.config = _jsonable(self.config)
        if not self.versions:
            self.versions = _versions()

    def log(self, **values: Any) -> None:
        """Append one metrics row (e.g. ``record.log(step=3, loss=0.2)``)."""
        self.metrics.append(_jsonable(values))

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "lab": self.lab,
            "config": _jsonable(self.config),
            "seed": self.seed,
            "metrics": _jsonable(self.metrics),
            "summary": _jsonable(self.summary),
            "created": self.created,
            "versions": dict(self.versions),
            "device": str(self.device),
            "notes": self.notes,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.to_json(), encoding="utf-8")
        return path

    @classmethod
    def from_dict(cls, data: Any, lab: str | None = None) -> "ExperimentRecord":
        """Validate and build a record; ``lab`` (if given) must match the record's lab."""
        if not isinstance(data, dict):
            raise RecordError("An experiment record must be a JSON object.")
        if data.get("schema") != SCHEMA:
            raise RecordError(
                f"Not a stylelab experiment record (schema {data.get('schema')!r}, expected {SCHEMA!r})."
            )
        for key, typ in (("lab", str), ("config", dict)):
            if not isinstance(data.get(key), typ):
                raise RecordError(f"Experiment record field {key!r} is missing or has the wrong type.")
        if lab is not None and data["lab"] != lab:
            raise RecordError(f"This record was made by the {data['lab']!r} lab, not the {lab!r} lab.")
        seed = data.get("seed", 0)
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise RecordError(f"Record seed must be an integer, got {seed!r}.")
        metrics = data.get("metrics", [])
        if not isinstance(metrics, list) or not all(isinstance(m, dict) for m in metrics):
            raise RecordError("Record metrics must be a list of objects.")
        summary = data.get("summary", {})
        if not isinstance(summary, dict):
            raise RecordError("Record summary must be an object.")
        return cls(
            lab=data["lab"],
            config=data["config"],
            seed=seed,
            metrics=metrics,
            summary=summary,
            device=str(data.get("device", "cpu")),
            notes=str(data.get("notes", "")),
            created=str(data.get("created", "")),
            versions={str(k): str(v) for k, v in dict(data.get("versions") or {}).items()},
        )

    @classmethod
    def from_json(cls, text: str | bytes, lab: str | None = None) -> "ExperimentRecord":
        if isinstance(text, bytes):
            if len(text) > MAX_RECORD_BYTES:
                raise RecordError("This file is too large to be an experiment record.")
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise RecordError("An experiment record must be UTF-8 JSON text.") from exc
        if not text.strip():
            raise RecordError("The experiment record is empty.")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RecordError(f"The experiment record is not valid JSON ({exc.msg}, line {exc.lineno}).") from exc
        return cls.from_dict(data, lab=lab)

    @classmethod
    def load(cls, path: str | Path, lab: str | None = None) -> "ExperimentRecord":
        return cls.from_json(Path(path).read_bytes(), lab=lab)

    def config_as(self, config_cls: type) -> Any:
        """Rebuild a dataclass config, rejecting unknown fields with a clear message."""
        names = {f.name for f in dataclasses.fields(config_cls)}
        unknown = sorted(set(self.config) - names)
        if unknown:
            raise RecordError(f"Record config has fields {unknown} that {config_cls.__name__} does not know.")
        try:
            return config_cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in self.config.items()})
        except (TypeError, ValueError) as exc:
            raise RecordError(f"Record config does not fit {config_cls.__name__}: {exc}") from exc


def _versions() -> dict[str, str]:
    import sys

    from . import __version__

    out = {"stylelab": __version__, "python": sys.version.split()[0]}
    torch = sys.modules.get("torch")  # only report torch if it is already loaded (keep this cheap)
    if torch is not None:
        out["torch"] = torch.__version__
    return out
