"""The settings of a gated-inpainter training run and its ``inpaint-gated-train`` flags (no torch import here).

:class:`GatedTrainConfig` is what :class:`~stylelab.inpaint.gated_train.GatedTrainer` depends on;
:func:`register` adds ``python -m stylelab inpaint-gated-train`` (flags from the dataclass through
:func:`stylelab.entry.add_config_arguments`, so ``--help`` shows its defaults and stays fast).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from .gated import GatedConfig

__all__ = ["GatedTrainConfig", "register"]


@dataclass
class GatedTrainConfig:
    """Everything a gated-inpainter training run depends on (stored in checkpoints and records)."""

    width: int = 24
    dilations: tuple[int, ...] = (2, 4, 8, 16)
    spectral: bool = True
    size: int = 64  #: the small crop size
    large: int = 128  #: the large crop size (0: only ``size``)
    every_large: int = 2  #: every n-th step uses ``large`` crops
    batch: int = 6
    batch_large: int = 3
    steps: int = 6000
    lr: float = 1e-3
    l1: float = 1.0
    ssim: float = 0.2
    perceptual: float = 0.05
    adv: float = 0.01
    d_base: int = 32
    d_lr: float = 2e-4
    bf16: bool = True
    seed: int = 0
    data: str = "photos"
    scale_small: tuple[int, int] = (64, 176)  #: longer side of the pictures before 64 px crops
    scale_large: tuple[int, int] = (128, 256)

    def validate(self) -> None:
        if self.width < 1 or self.batch < 1 or self.batch_large < 1 or self.steps < 0:
            raise ConfigError("width, batch and batch_large must be >= 1 and steps >= 0.")
        for s in (self.size, self.large):
            if s and (s < 16 or s % 4):
                raise ConfigError(f"Crop sizes must be >= 16 and multiples of 4, got {s}.")
        if self.every_large < 1:
            raise ConfigError("every_large must be >= 1.")
        if not 0 < self.lr < 1 or not 0 < self.d_lr < 1:
            raise ConfigError("Learning rates must be in (0, 1).")
        if min(self.l1, self.ssim, self.perceptual, self.adv) < 0:
            raise ConfigError("Loss weights must be >= 0.")
        if not self.dilations or min(self.dilations) < 1:
            raise ConfigError(f"dilations must be >= 1, got {self.dilations}.")

    def net_config(self) -> "GatedConfig":
        """The network's :class:`~stylelab.inpaint.gated.GatedConfig`."""
        from .gated import GatedConfig

        return GatedConfig(self.width, tuple(self.dilations), self.spectral)


def register(sub: argparse._SubParsersAction) -> None:
    from ..entry import add_config_arguments, add_dry_run

    p = sub.add_parser("inpaint-gated-train", help="train the gated inpainter (checkpoints, resumes, early stopping)",
                       description="Train the gated, Telea-refining inpainter; resumes from --state if it exists.")
    add_config_arguments(p, GatedTrainConfig)
    p.add_argument("--state", default=None, help="resumable run state (written every --save-minutes; resumed from)")
    p.add_argument("--init", default=None, help="start a new run from these gated weights (a shipped-format "
                   "checkpoint, e.g. an earlier --best); ignored when --state exists")
    p.add_argument("--best", default=None, help="where the best weights on the held-out bench go (early stopping)")
    p.add_argument("--minutes", type=float, default=0.0, help="stop after this many minutes of this process (0: no limit)")
    p.add_argument("--save-minutes", type=float, default=3.0)
    p.add_argument("--eval-every", type=int, default=400, help="score on the held-out bench every N steps (0: never)")
    p.add_argument("--log-every", type=int, default=25)
    add_dry_run(p)
    p.set_defaults(func=_train)


def _train(args: argparse.Namespace) -> int:
    from .gated_train import train_command

    return train_command(args)
