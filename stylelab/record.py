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
    #: where the run ran ("" when built: filled in with :func:`~stylelab.device.get_device`)
    device: str = ""
    notes: str = ""
    created: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    versions: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if dataclasses.is_dataclass(self.config) and not isinstance(self.config, type):
            self.config = _jsonable(self.config)
        if not self.versions:
            self.versions = _versions()
        if not self.device:
            from .device import get_device

            self.device = str(get_device())

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
            device=str(data.get("device") or "unknown"),  # an old record that did not say
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
            data = json.loads(text, parse_constant=_reject_constant)
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


def _reject_constant(name: str) -> Any:
    """``json.loads`` hook: NaN and Infinity are not JSON, and a record never holds them."""
    raise RecordError(f"The experiment record holds {name}, which is not a number a run can use.")


def _versions() -> dict[str, str]:
    import sys

    from . import __version__

    out = {"stylelab": __version__, "python": sys.version.split()[0]}
    torch = sys.modules.get("torch")  # only report torch if it is already loaded (keep this cheap)
    if torch is not None:
        out["torch"] = torch.__version__
    return out


# ----------------------------------------------------------------------------- open a run as a notebook
#: Every Run kind (``config["kind"]`` of a record written by :meth:`stylelab.run.Run.record`) and
#: the class whose ``from_record`` rebuilds it.
RUN_CLASSES: dict[str, str] = {
    "gan": "stylelab.gan.train:GANTrainer",
    "gan-compare": "stylelab.gan.compare:LossComparison",
    "gatys": "stylelab.style.gatys:GatysStylizer",
    "fast-style": "stylelab.style.train_fast:FastStyleTrainer",
    "mixing": "stylelab.losses.mixing:MixingDesk",
    "adjust": "stylelab.aesthetics.adjustment:Adjuster",
    "dip": "stylelab.inpaint.dip:DeepImagePrior",
    "inpaint-train": "stylelab.inpaint.train:InpaintTrainer",
    "loss-study": "stylelab.inpaint.study:LossStudy",
    "inpaint-gated": "stylelab.inpaint.gated_train:GatedTrainer",
    "gan-custom": "stylelab.gan.custom:CustomPointsGAN",
    "gan-steps": "stylelab.gan.stepper:GANStepper",
    "cycle": "stylelab.translate.run:CycleRun",
    "learned-style": "stylelab.style.learned_train:LearnedStyleRun",
}
#: Records written before the Run contract (no ``config["kind"]``): their old kind -> the run kind.
LEGACY_KINDS: dict[str, str] = {"gan": "gan", "style/gatys": "gatys", "loss/mixing": "mixing",
                                "aesthetics/adjust": "adjust"}
#: Every kind of record, and the inputs it does not carry (a record holds settings and numbers,
#: never pictures): pass them to :meth:`Replay.replay` by these names. ``style/fast``,
#: ``style/arbitrary`` and ``inpaint`` are one-pass results of a page (no Run: nothing to step).
KINDS: dict[str, tuple[str, ...]] = {
    "gan": (),
    "gan-compare": (),
    "gatys": ("content", "style"),
    "fast-style": ("style",),
    "mixing": ("content", "style"),
    "adjust": ("image",),
    "dip": ("image", "mask"),
    "inpaint-train": (),
    "loss-study": (),
    "inpaint-gated": (),
    "gan-custom": ("points",),
    "gan-steps": (),
    "cycle": (),
    "learned-style": (),
    "style/fast": ("content",),
    "style/arbitrary": ("content",),
    "inpaint": ("image",),  # and ``mask`` when the hole was drawn or uploaded
}
#: inputs a kind may take but does not need
OPTIONAL: dict[str, tuple[str, ...]] = {"inpaint": ("mask",), "inpaint-train": ("init",), "gan-steps": ("points",)}
#: kinds whose pictures were brought to ``config.size`` (longer side) by the lab's picker
_AT_CONFIG_SIZE = ("gatys", "mixing")
_LAB_KIND = {"gan": "gan", "loss": "loss/mixing", "inpaint": "inpaint", "aesthetics": "aesthetics/adjust"}
_REBUILT_MASKS = ("Rectangle", "Random strokes", "Centre hole")


def run_class(kind: str) -> type:
    """The :class:`~stylelab.run.Run` subclass of a run kind (a key of :data:`RUN_CLASSES`)."""
    import importlib

    if kind not in RUN_CLASSES:
        raise RecordError(f"No run kind is called {kind!r}; the kinds are {sorted(RUN_CLASSES)}.")
    module, _, name = RUN_CLASSES[kind].partition(":")
    return getattr(importlib.import_module(module), name)


def kind_of(record: ExperimentRecord) -> str:
    """Which kind of run (a key of :data:`KINDS`) a record holds.

    A record of a Run names it (``config["kind"]``); an older one is known by its lab (and, for the
    Style Studio, its ``method``): those of a Run kind read as that kind (``"gatys"``, ``"mixing"``...).
    """
    if "kind" in record.config:
        kind = record.config["kind"]
        if not isinstance(kind, str) or kind not in RUN_CLASSES:
            raise RecordError(f"Unknown run kind {kind!r} in this record; the kinds are {sorted(RUN_CLASSES)}.")
        lab = run_class(kind).lab
        if record.lab != lab:
            raise RecordError(f"This record says lab {record.lab!r}, but a {kind!r} run belongs to the {lab!r} lab.")
        return kind
    if record.lab == "style":
        method = record.config.get("method", record.summary.get("method", "gatys"))
        if method not in ("gatys", "fast", "arbitrary"):
            raise RecordError(f"Unknown Style Studio method {method!r} (gatys, fast or arbitrary).")
        old = f"style/{method}"
    elif record.lab in _LAB_KIND:
        old = _LAB_KIND[record.lab]
    else:
        raise RecordError(f"No stylelab lab is called {record.lab!r}; the labs are "
                          f"{sorted(['style', *_LAB_KIND])}.")
    return LEGACY_KINDS.get(old, old)


def _number(cfg: Mapping[str, Any], key: str, lo: float, hi: float, integer: bool = False) -> Any:
    """A config value that must be a number in [lo, hi]: out of range is an error, never clamped."""
    value = cfg.get(key)
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type:
        raise RecordError(f"Record config {key!r} must be {'an integer' if integer else 'a number'}, got {value!r}.")
    if not lo <= value <= hi:
        raise RecordError(f"Record config {key!r} = {value!r} is outside [{lo}, {hi}].")
    return value


def _config_of(record: ExperimentRecord, kind: str) -> Any:
    """The typed config of the run (the Run's dataclass; a dict for the one-pass kinds), validated."""
    from .errors import ConfigError

    if kind in RUN_CLASSES:
        cls = run_class(kind)
        try:
            if kind == "gatys":  # also reads the records from before the parameterisations
                from .style.gatys import config_from_record

                return config_from_record(record)
            from .run import config_from_record

            return config_from_record(record, cls.config_class, kind=kind)
        except ConfigError as exc:  # a value the lab itself refuses: say that it came from the record
            raise RecordError(f"Record config is not a valid {kind} run: {exc}") from exc
    cfg = dict(record.config)
    if kind == "style/fast":
        _number(cfg, "size", 16, 4096, integer=True)
        weights = cfg.get("style_weights")
        if (not isinstance(weights, list) or not weights
                or not all(isinstance(w, (int, float)) and not isinstance(w, bool) and w >= 0 for w in weights)):
            raise RecordError("Record config 'style_weights' must be a list of non-negative numbers.")
    elif kind == "style/arbitrary":
        _number(cfg, "size", 16, 4096, integer=True)
        _number(cfg, "strength", 0.0, 1.0)
        _number(cfg, "t", 0.0, 1.0)
        code = record.summary.get("code")
        if not isinstance(code, list) or not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in code):
            raise RecordError("An arbitrary-style record must carry its style code (summary 'code', a list of numbers).")
    elif kind == "inpaint":
        from .inpaint.methods import METHODS

        mask = cfg.get("mask")
        if not isinstance(mask, dict) or not isinstance(mask.get("tool"), str):
            raise RecordError("Record config 'mask' must be an object with a 'tool'.")
        size = mask.get("size")
        if (not isinstance(size, list) or len(size) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) and 8 <= v <= 4096 for v in size)):
            raise RecordError(f"Record mask 'size' must be [height, width] in pixels, got {size!r}.")
        _number(mask, "feather", 0, 64, integer=True)
        methods = cfg.get("methods")
        if not isinstance(methods, list) or not methods or not all(isinstance(m, str) for m in methods):
            raise RecordError("Record config 'methods' must be a non-empty list of method names.")
        unknown = [m for m in methods if m not in METHODS]
        if unknown:
            raise RecordError(f"Unknown inpainting method(s) {unknown}; the methods are {list(METHODS)}.")
        if "dip" in methods:
            _number(cfg, "dip_iterations", 1, 100_000, integer=True)
        if "unet" in methods and not isinstance(cfg.get("checkpoint"), str):
            raise RecordError("Record config 'checkpoint' must name the U-Net checkpoint.")
    return cfg


def _image(value: Any, name: str, size: int | None) -> Any:
    """An input picture: a ``(3, H, W)`` tensor, a bundled name (``photo:astronaut``) or a file path,
    brought to the run's working size (longer side ``size`` px, as the lab's picker did) if it has one."""
    import torch

    from .errors import ImageError, ShapeError

    if isinstance(value, torch.Tensor):
        x = value.detach()
        if x.ndim == 4 and x.shape[0] == 1:
            x = x[0]
        if x.ndim != 3 or x.shape[0] != 3:
            raise ShapeError(f"{name} must be an RGB image (3, H, W); got shape {tuple(value.shape)}.")
        x = x.float().cpu()
        if size is not None and max(x.shape[-2:]) != size:  # the lab worked at this size (longer side)
            from .imageio import resize_tensor

            x = resize_tensor(x, size)
        return x
    if isinstance(value, (str, Path)):
        text = str(value)
        if isinstance(value, str) and text.partition(":")[0] in ("photo", "painting", "texture"):
            from .assets import load_bundled

            return load_bundled(text, size=size)
        if not Path(text).is_file():
            raise ImageError(f"{name}: no image file at {text!r} (or use a bundled name like 'photo:astronaut').")
        from .imageio import load_image

        return load_image(text, size=size)
    raise ShapeError(f"{name} must be an image tensor, a bundled name or a file path; got {type(value).__name__}.")


@dataclass
class Replay:
    """A run rebuilt from an experiment record.

    ``replay(**inputs)`` runs it again in this process, with the record's config and seed, for as
    many steps as the record did; ``build(**inputs)`` returns the run object before its first step
    (to step it yourself). ``needs`` names the inputs the record does not carry (its pictures).
    Same config, seed and device give the same numbers; a run whose weights were moved while it
    ran (the mixing desk's live sliders) replays with the weights it ended with.

    Runs (every kind of :data:`RUN_CLASSES`) are rebuilt by their class's ``from_record`` and
    stepped; the one-pass kinds (``style/fast``, ``style/arbitrary``, ``inpaint``) compute their
    picture(s) again.
    """

    record: ExperimentRecord
    kind: str
    config: Any  #: the run's typed config (GANConfig, GatysConfig, ...) or, for a one-pass kind, a dict
    needs: tuple[str, ...]
    device: Any = None  #: where to run (None: the record's own device for a GAN, else ``get_device()``)

    @property
    def is_run(self) -> bool:
        """True if the record holds a :class:`~stylelab.run.Run` (replayed step by step)."""
        return self.kind in RUN_CLASSES

    @property
    def steps(self) -> int:
        """How many steps the recorded run made."""
        s = self.record.summary
        for key in ("steps", "steps_done"):
            if isinstance(s.get(key), int) and not isinstance(s.get(key), bool):
                return int(s[key])
        return len(self.record.metrics)

    def _inputs(self, inputs: dict[str, Any]) -> dict[str, Any]:
        allowed = set(self.needs) | set(OPTIONAL.get(self.kind, ()))
        unknown = sorted(set(inputs) - allowed)
        if unknown:
            raise RecordError(f"A {self.kind} run takes {sorted(allowed) or 'no inputs'}, not {unknown}.")
        missing = [n for n in self.needs if inputs.get(n) is None]
        if self.kind == "inpaint" and self.config["mask"]["tool"] not in _REBUILT_MASKS and inputs.get("mask") is None:
            missing.append("mask")
        if missing:
            raise RecordError(f"This {self.kind} record holds the settings, not the pictures: pass "
                              + ", ".join(f"{n}=..." for n in missing)
                              + " (a (3, H, W) tensor, a bundled name like 'photo:astronaut' or a file path).")
        if self.is_run:
            return self._run_inputs(inputs)
        size = max(self.config["mask"]["size"]) if self.kind == "inpaint" else self.config["size"]
        out = {n: _image(inputs[n], n, size) for n in self.needs}
        if self.kind == "inpaint":
            out.update(self._mask(out["image"], inputs.get("mask")))
        return out

    def _run_inputs(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """A Run's inputs: pictures as tensors (names and paths loaded; for the kinds whose page worked at
        ``config.size``, brought to it), anything else (a mask tensor, a checkpoint path) as given."""
        size = getattr(self.config, "size", None)
        size = size if isinstance(size, int) and not isinstance(size, bool) else None
        out: dict[str, Any] = {}
        for name, value in inputs.items():
            if value is None:
                continue
            if name in ("content", "style", "image"):
                out[name] = _image(value, name, size if self.kind in _AT_CONFIG_SIZE or not _is_tensor(value)
                                   else None)
            else:
                out[name] = value
        return out

    def _mask(self, image: Any, mask: Any) -> dict[str, Any]:
        import numpy as np

        from . import inpaint as ip
        from .errors import ShapeError

        settings = self.config["mask"]
        h, w = settings["size"]
        if tuple(image.shape[-2:]) != (h, w):
            raise ShapeError(f"The record's picture was {h}x{w} px; this one is "
                             f"{image.shape[-2]}x{image.shape[-1]} (resize it, same aspect).")
        tool = settings["tool"]
        if mask is not None:
            m = ip.validate_mask(mask, size=(h, w))[0]  # (1, H, W)
        elif tool == "Rectangle":
            m = ip.rect_mask(h, w, *(int(_number(settings, k, 0, 4096, integer=True)) for k in ("x", "y", "w", "h")))
        elif tool == "Random strokes":
            seed = _number(settings, "seed", 0, 2**63 - 1, integer=True)
            m = ip.random_strokes(h, w, max_width=float(_number(settings, "width", 0.0, 1.0)),
                                  rng=np.random.default_rng(seed))
        else:  # Centre hole
            m = ip.center_mask(h, w, float(_number(settings, "fraction", 0.0, 1.0)))
        if mask is None and settings["feather"]:
            m = ip.feather(m, settings["feather"])
        return {"mask": m}

    def _device(self) -> Any:
        from .device import get_device

        return get_device() if self.device is None else self.device

    def build(self, **inputs: Any) -> Any:
        """The run before its first step (``RunClass.from_record(record, device=..., **pictures)``), or
        for a one-pass kind the inputs it will use."""
        x = self._inputs(inputs)
        if self.is_run:
            return run_class(self.kind).from_record(self.record, device=self.device, **x)
        return x

    def replay(self, **inputs: Any) -> Any:
        """Run it again like the lab did.

        Returns the run (a :class:`~stylelab.run.Run`) after the recorded number of steps (a run
        stopped early replays as far); for ``style/fast`` and ``style/arbitrary`` the stylised image
        ``(3, H, W)``; for ``inpaint`` ``{method label: {"image", "scores"}}`` (the record's summary,
        recomputed).
        """
        if self.is_run:
            run = self.build(**inputs)
            for _ in range(self.steps):
                if run.done:
                    break
                run.step()
            return run
        x = self._inputs(inputs)
        if self.kind == "style/fast":
            from .style.multistyle import stylize_multistyle

            return stylize_multistyle(x["content"], self.config["style_weights"], device=self._device())
        if self.kind == "style/arbitrary":
            import torch

            from .style.arbitrary import transfer

            return transfer(x["content"], torch.tensor(self.record.summary["code"], dtype=torch.float32))
        from . import inpaint as ip  # inpaint: every method of the record on the same hole

        image, mask = x["image"], x["mask"]
        damaged = image * (1 - ip.hole(mask))
        out: dict[str, Any] = {}
        for name in self.config["methods"]:
            if name == "dip":
                fit = ip.DeepImagePrior(damaged, mask, ip.DIPConfig(iterations=self.config["dip_iterations"]),
                                        device=self._device())
                while not fit.done:
                    fit.step()
                filled = fit.current()
            else:
                opts = {"model": ip.load_inpainter(self.config["checkpoint"])} if name == "unet" else {}
                filled = ip.inpaint(damaged, mask, name, **opts)
            out[ip.METHODS[name].label] = {"image": filled, "scores": ip.hole_scores(filled, image, mask)}
        return out


def _is_tensor(value: Any) -> bool:
    import sys

    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def load(source: "str | Path | bytes | Mapping[str, Any] | ExperimentRecord", lab: str | None = None,
         device: Any = None) -> Replay:
    """Load an experiment record exported by any lab and rebuild its run.

    Args:
        source: a path to the JSON file, its text or bytes, the parsed dict, or an ExperimentRecord.
        lab: if given, the record must come from this lab (``gan``, ``style``, ``loss``, ``inpaint``,
            ``aesthetics``).
        device: where to run it again (default: the record's device for a GAN, else ``get_device()``).

    Returns:
        a :class:`Replay`: ``.kind`` (a run kind such as ``"gatys"``, also for records older than the
        Run contract), the typed ``.config``, ``.needs`` (pictures to pass) and ``.replay(**pictures)``,
        e.g. ``load("gan_lab_record.json").replay()``.

    Raises:
        RecordError: not a stylelab record, another lab's, an unknown kind, or a value the lab
            would refuse (values are never clamped into range).
    """
    if isinstance(source, ExperimentRecord):
        record = ExperimentRecord.from_dict(source.to_dict(), lab=lab)
    elif isinstance(source, Mapping):
        record = ExperimentRecord.from_dict(dict(source), lab=lab)
    elif isinstance(source, bytes):
        record = ExperimentRecord.from_json(source, lab=lab)
    elif isinstance(source, str) and source.lstrip().startswith("{"):
        record = ExperimentRecord.from_json(source, lab=lab)
    elif isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise RecordError(f"No experiment record at {str(path)!r}.")
        if path.stat().st_size > MAX_RECORD_BYTES:
            raise RecordError("This file is too large to be an experiment record.")
        record = ExperimentRecord.load(path, lab=lab)
    else:
        raise RecordError(f"Cannot read an experiment record from a {type(source).__name__}.")
    kind = kind_of(record)
    config = _config_of(record, kind)
    if kind == "gan" and device is None and config.device is not None:
        import torch

        if torch.device(config.device).type == "cuda" and not torch.cuda.is_available():
            raise RecordError(f"This GAN run was made on {config.device!r}, which this machine lacks: "
                              "pass device='cpu' (or another) to load().")
    return Replay(record=record, kind=kind, config=config, needs=KINDS[kind], device=device)
