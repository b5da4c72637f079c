"""A trained translator (G and F of a cycle run) as a small file: export, load (``weights_only``), use.

The shipped models live in ``stylelab/translate/checkpoints/`` (each with a model card beside it):

=========================  ====================================================================
``mnist2fashion``          MNIST digits <-> Fashion-MNIST clothes, lambda_cyc = 10
``mnist2fashion-nocycle``  the same training with lambda_cyc = 0 (shorter): what breaks without it
=========================  ====================================================================

A translator file holds only the two generators (not the discriminators or the optimiser state:
those are in the resumable run checkpoint, :meth:`stylelab.translate.run.CycleRun.save`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import torch
from torch import Tensor, nn

from ..errors import CheckpointError, ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from .run import CycleRun

FORMAT = "stylelab.translate.translator/1"
CHECKPOINT_DIR = Path(__file__).resolve().parent / "checkpoints"
#: shipped model name -> file in :data:`CHECKPOINT_DIR`
SHIPPED: dict[str, str] = {"mnist2fashion": "mnist2fashion.pt", "mnist2fashion-nocycle": "mnist2fashion_nocycle.pt"}


@dataclass
class Translator:
    """G: X -> Y and F: Y -> X in eval mode, with what the file says about them.

    Attributes:
        G, F: the generators (``(N, 1, 28, 28)`` in [-1, 1] -> the same shape).
        pair: the domain pair (``"mnist2fashion"``); ``config``: the run's config as a dict.
        steps, seconds: training steps and wall time; ``measures``: the last held-out measures.
    """

    G: nn.Module
    F: nn.Module
    pair: str
    config: dict[str, Any]
    steps: int
    seconds: float
    measures: dict[str, float]

    @torch.no_grad()
    def translate(self, x: Tensor, direction: Literal["G", "F"] = "G") -> Tensor:
        """``G(x)`` (digit -> clothing) or ``F(y)`` (clothing -> digit): ``(N, 1, 28, 28)`` in [-1, 1]."""
        if direction not in ("G", "F"):
            raise ConfigError(f"direction must be 'G' (X -> Y) or 'F' (Y -> X), got {direction!r}.")
        return (self.G if direction == "G" else self.F)(x.float())

    @torch.no_grad()
    def round_trip(self, x: Tensor, direction: Literal["G", "F"] = "G") -> tuple[Tensor, Tensor]:
        """``(G(x), F(G(x)))`` (or ``(F(y), G(F(y)))``)."""
        there = self.translate(x, direction)
        return there, self.translate(there, "F" if direction == "G" else "G")


def export_translator(run: "CycleRun", path: str | Path) -> Path:
    """Write the generators of an image ``run`` (float32) with its config, steps and last measures."""
    from ..checkpoint import save_checkpoint
    from ..run import config_to_dict

    if run.config.is_points:
        raise ConfigError("Only image translators are exported (a 2-D run trains in seconds on the page).")
    last = next((r for r in reversed(run.history) if "digit_kept" in r), {})
    blob = {"format": FORMAT, "pair": run.config.pair, "config": config_to_dict(run.config), "seed": run.seed,
            "steps": run.step_count, "seconds": float(run.seconds),
            "measures": {k: float(v) for k, v in last.items() if k != "step"},
            "G": {k: v.detach().cpu() for k, v in run.G.state_dict().items()},
            "F": {k: v.detach().cpu() for k, v in run.F.state_dict().items()}}
    return save_checkpoint(blob, path)


def shipped_path(name: str) -> Path:
    """The file of a shipped model (:data:`SHIPPED`); a :class:`ConfigError` lists the names otherwise."""
    if name not in SHIPPED:
        raise ConfigError(f"No shipped translator called {name!r}; choose one of {', '.join(SHIPPED)}.")
    return CHECKPOINT_DIR / SHIPPED[name]


def load_translator(source: str | Path | bytes) -> Translator:
    """A translator from a shipped name (``"mnist2fashion"``), a path or bytes, read with ``weights_only=True``."""
    from ..checkpoint import load_checkpoint
    from ..gan.models import build_seeded
    from .models import TranslationGenerator

    if isinstance(source, str) and source in SHIPPED:
        source = shipped_path(source)
    elif isinstance(source, str) and not Path(source).expanduser().is_file():
        raise ConfigError(f"No shipped translator or translator file called {source!r}; "
                          f"the shipped ones are {', '.join(SHIPPED)}.")
    blob = load_checkpoint(source, "translator", format_key="format", format_value=FORMAT)
    try:
        cfg = dict(blob["config"])
        nets = []
        for name in ("G", "F"):
            net = build_seeded(lambda: TranslationGenerator(1, int(cfg["base_channels"]), int(cfg["res_blocks"])),
                               torch.Generator())  # weights overwritten just below
            net.load_state_dict(blob[name])
            nets.append(net.eval().requires_grad_(False))
        return Translator(nets[0], nets[1], str(blob["pair"]), cfg, int(blob["steps"]), float(blob["seconds"]),
                          {k: float(v) for k, v in dict(blob.get("measures", {})).items()})
    except (KeyError, RuntimeError, TypeError, ValueError, ConfigError) as exc:
        raise CheckpointError(f"This translator file does not fit the translation generator: {exc}") from exc


__all__ = ["CHECKPOINT_DIR", "FORMAT", "SHIPPED", "Translator", "export_translator", "load_translator", "shipped_path"]
