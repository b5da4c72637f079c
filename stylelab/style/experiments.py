"""The Style Studio's experiments beyond one run: a space beside plain pixels, and the one-pass records.

- :class:`GatysPair` -- a Gatys run in some space (fourier, laplacian, decorrelated colour) and the
  same objective optimised over the plain pixels, stepped evaluation for evaluation (one
  :class:`~stylelab.run.Run`, so the app drives it like any other).
- :func:`pretrained_record`, :func:`arbitrary_record` -- the experiment records of the one-pass
  methods (the 26 pretrained styles, the arbitrary style code): no steps, the settings and the result.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch

from ..errors import CheckpointError
from ..run import Run, as_record
from .configs import GatysConfig
from .gatys import GatysStylizer, config_from_record


def pixels_config(config: GatysConfig) -> GatysConfig:
    """The same objective, weights and optimiser, optimised over the plain pixels (plain Gatys)."""
    return dataclasses.replace(config, param="pixels", param_colour="none")


def has_pixel_twin(config: GatysConfig) -> bool:
    """Whether ``config`` optimises something other than the plain pixels (so a twin shows a difference)."""
    return config.param != "pixels" or config.param_colour != "none"


class GatysPair(Run):
    """A Gatys run and its plain-pixels twin, stepped together: one step = one evaluation of each.

    The row is the main run's row plus ``pixels_total`` (the twin's total loss after the same
    number of evaluations). :meth:`record` is the MAIN run's record (the twin is its comparison;
    rebuild it with :func:`pixels_config`). ``main`` and ``twin`` are ordinary
    :class:`~stylelab.style.gatys.GatysStylizer` runs.

    Args:
        content, style: ``(3, H, W)`` in [0, 1].
        config: the main run's :class:`GatysConfig` (must not be plain pixels already).
        device: default None -> :func:`stylelab.device.get_device`.
        seed: overrides ``config.seed`` when given.
    """

    kind = "gatys-pair"
    lab = "style"
    config_class = GatysConfig

    def __init__(self, content: torch.Tensor, style: torch.Tensor, config: GatysConfig | None = None,
                 device: Any = None, *, seed: int | None = None) -> None:
        self.main = GatysStylizer(content, style, config, device, seed=seed)
        if not has_pixel_twin(self.main.config):
            from ..errors import ConfigError

            raise ConfigError("This run already optimises the plain pixels: there is no twin to compare with.")
        super().__init__(self.main.config, seed=self.main.seed, device=self.main.device)
        self.twin = GatysStylizer(content, style, pixels_config(self.main.config), self.main.device)

    @property
    def total_steps(self) -> int:  # type: ignore[override]
        return self.main.total_steps

    def _step(self) -> dict[str, Any]:
        row = {k: v for k, v in self.main.step().items() if k != "step"}
        twin_row = self.twin.step()
        return {**row, "pixels_total": twin_row["total"]}

    def preview(self) -> torch.Tensor:
        return self.main.preview()

    def inputs(self) -> dict[str, Any]:
        return self.main.inputs()

    def _state(self) -> dict[str, Any]:
        return {"main": self.main.state_dict(), "twin": self.twin.state_dict()}

    def _load_state(self, state: dict[str, Any]) -> None:
        if not {"main", "twin"} <= set(state):
            raise CheckpointError("This is not the state of a Gatys run beside its pixels twin.")
        self.main.load_state_dict(state["main"])
        self.twin.load_state_dict(state["twin"])

    def summary(self) -> dict[str, Any]:
        return self.main.summary()

    def record(self, notes: str = "", **summary: object):
        """The main run's record (kind ``"gatys"``), so it reloads into the Gatys settings."""
        return self.main.record(notes, **summary)

    @classmethod
    def from_record(cls, record: Any, *, device: Any = None, **inputs: Any) -> "GatysPair":
        rec = as_record(record, cls.lab)
        return cls(**inputs, config=config_from_record(rec), seed=rec.seed, device=device)


def _record(config: dict, summary: dict, notes: str, device: Any):
    from ..record import ExperimentRecord

    extra = {} if device is None else {"device": str(device)}
    return ExperimentRecord(lab="style", config=config, summary=summary, notes=notes, **extra)


def pretrained_record(spec: Any, size: int, milliseconds: float, notes: str = "", device: Any = None,
                      **summary: Any):
    """The record of one pass of the 26-style network: the style weights (a blend) and the size
    (the page and ``stylize --method fast`` write the same keys); ``summary`` adds entries."""
    from .multistyle import parse_style

    return _record({"method": "fast", "style_weights": parse_style(spec).tolist(), "size": int(size)},
                   {"method": "fast", "milliseconds": round(float(milliseconds), 1), **summary}, notes, device)


def trained_record(checkpoint: str, trained: Any, size: int, milliseconds: float, notes: str = "",
                   device: Any = None, **summary: Any):
    """The record of one pass of a network you trained (``train-style``): its checkpoint and config."""
    return _record({"method": "fast", "checkpoint": str(checkpoint), "trained": dataclasses.asdict(trained),
                    "size": int(size)}, {"method": "fast", "milliseconds": round(float(milliseconds), 1), **summary},
                   notes, device)


def arbitrary_record(code: torch.Tensor, strength: float, t: float, size: int, notes: str = "", device: Any = None,
                     **summary: Any):
    """The record of one pass of the arbitrary network: strength, interpolation ``t`` and the code used
    (the code makes it replayable without the style picture)."""
    return _record({"method": "arbitrary", "strength": float(strength), "t": float(t), "size": int(size)},
                   {"method": "arbitrary", "code": code.flatten().tolist(), **summary}, notes, device)


__all__ = ["GatysPair", "arbitrary_record", "has_pixel_twin", "pixels_config", "pretrained_record",
           "trained_record"]
