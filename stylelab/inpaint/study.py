"""The loss study: the same U-Net trained with each loss choice on the same crops and masks.

:class:`LossStudy` owns one :class:`~stylelab.inpaint.train.Trainer` per loss choice. Every
trainer starts from the same initial weights (same seed) and sees the very same sequence of
crops and masks (each gets a fork of one sampler with the same seed), so the only difference
between the resulting inpainters is the loss. :meth:`LossStudy.advance` runs steps round-robin
for a time budget, so a UI can call it a little at a time and redraw the curves in between.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

import torch

from ..errors import ConfigError
from .data import InpaintData
from .losses import get_loss_choice
from .train import TrainConfig, Trainer

__all__ = ["LossStudy"]


class LossStudy:
    """Train one small U-Net per loss choice, in lock-step.

    Args:
        losses: names from :data:`~stylelab.inpaint.losses.LOSS_CHOICES`.
        config: shared settings (its ``loss`` field is ignored); small defaults for a live demo.
    """

    def __init__(self, losses: Sequence[str], config: TrainConfig | None = None) -> None:
        if not losses:
            raise ConfigError("Choose at least one loss for the study.")
        for name in losses:
            get_loss_choice(name)
        self.config = config or TrainConfig(size=32, batch=8, steps=60, base=8, depth=3)
        data = InpaintData(self.config.data, self.config.size, seed=self.config.seed)
        self.trainers = {
            name: Trainer(replace(self.config, loss=name), data=data.fork(self.config.seed)) for name in losses
        }

    @property
    def steps_done(self) -> int:
        return min(t.step_count for t in self.trainers.values())

    @property
    def done(self) -> bool:
        return self.steps_done >= self.config.steps

    def advance(self, budget_s: float = 1.0) -> int:
        """Run whole rounds (one step of every trainer) until ``budget_s`` is spent; returns rounds run."""
        rounds = 0
        t0 = time.perf_counter()
        while not self.done and (rounds == 0 or time.perf_counter() - t0 < budget_s):
            for trainer in self.trainers.values():
                trainer.step()
            rounds += 1
        return rounds

    def curves(self, key: str = "mse_raw") -> dict[str, list[tuple[int, float]]]:
        """``{loss: [(step, value), ...]}`` of one logged value (default: MSE in the hole)."""
        return {name: [(int(r["step"]), float(r[key])) for r in t.history if key in r] for name, t in self.trainers.items()}

    @torch.no_grad()
    def inpaint(self, image: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
        """Each loss's inpainter applied to the same image and mask."""
        out = {}
        for name, trainer in self.trainers.items():
            trainer.finish()
            out[name] = trainer.inpainter()(image, mask)
        return out
