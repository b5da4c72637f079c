"""The loss study: the same U-Net trained with each loss choice on the same crops and masks.

:class:`LossStudy` (a :class:`~stylelab.run.Run`, kind ``"loss-study"``) owns one
:class:`~stylelab.inpaint.train.InpaintTrainer` per loss choice. Every trainer starts from the
same initial weights (same seed) and sees the very same sequence of crops and masks (each gets
a fork of one sampler with the same seed), so the only difference between the resulting
inpainters is the loss. One :meth:`~stylelab.run.Run.step` is one *round*: one training step of
every model, in order; a UI drives it with :func:`stylelab.run.advance` a little at a time and
redraws the curves in between.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

import torch

from ..errors import ConfigError
from ..run import Run
from .data import InpaintData
from .losses import get_loss_choice
from .train import InpaintTrainConfig, InpaintTrainer

__all__ = ["LossStudy", "LossStudyConfig", "small_run"]


@dataclass
class LossStudyConfig:
    """The losses to compare and the training settings they share (small: a live demo on a CPU)."""

    losses: tuple[str, ...] = ("mse", "mse+ssim")
    data: str = "photos"
    size: int = 32
    batch: int = 8
    steps: int = 60
    lr: float = 2e-3
    base: int = 8
    depth: int = 3
    seed: int = 0
    bf16: bool = True

    def train_config(self, loss: str) -> InpaintTrainConfig:
        """The training config of the model trained with ``loss``."""
        return InpaintTrainConfig(loss=loss, data=self.data, size=self.size, batch=self.batch, steps=self.steps,
                                  lr=self.lr, base=self.base, depth=self.depth, seed=self.seed, bf16=self.bf16)

    def validate(self) -> None:
        if not self.losses:
            raise ConfigError("Choose at least one loss for the study.")
        if len(set(self.losses)) != len(self.losses):
            raise ConfigError(f"Each loss is studied once; got {list(self.losses)}.")
        for name in self.losses:
            get_loss_choice(name)
            self.train_config(name).validate()


class LossStudy(Run):
    """Train one small U-Net per loss choice, in lock-step (one round of steps per :meth:`step`).

    Args:
        config: :class:`LossStudyConfig` (or a list of loss names, with the default settings).
        seed: the run's seed (default ``config.seed``).
        device: where to train (None: :func:`~stylelab.device.get_device`).

    Rows: ``{"step", "<loss>/<value>": ...}`` for every model, e.g. ``"mse+ssim/mse_raw"`` (the MSE
    in the hole on that round's batch).
    """

    kind: ClassVar[str] = "loss-study"
    lab: ClassVar[str] = "inpaint"
    config_class: ClassVar[type] = LossStudyConfig

    def __init__(self, config: LossStudyConfig | tuple[str, ...] | list[str] | None = None, *,
                 seed: int | None = None, device: Any = None) -> None:
        cfg = config if isinstance(config, LossStudyConfig) else (
            LossStudyConfig() if config is None else LossStudyConfig(losses=tuple(config)))
        if seed is not None and seed != cfg.seed:
            cfg = replace(cfg, seed=seed)
        cfg.validate()
        super().__init__(cfg, seed=cfg.seed, device=device)
        data = InpaintData(cfg.data, cfg.size, seed=cfg.seed)
        self.trainers = {
            name: InpaintTrainer(cfg.train_config(name), device=self.device, data=data.fork(cfg.seed))
            for name in cfg.losses
        }

    @property
    def total_steps(self) -> int:  # type: ignore[override]
        return self.config.steps

    @property
    def steps_done(self) -> int:
        """Rounds done (every model has made this many steps)."""
        return self.step_count

    def _step(self) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for name, trainer in self.trainers.items():
            values = trainer.step()
            row.update({f"{name}/{k}": v for k, v in values.items() if k != "step"})
        return row

    def curves(self, key: str = "mse_raw") -> dict[str, list[tuple[int, float]]]:
        """``{loss: [(step, value), ...]}`` of one logged value (default: MSE in the hole)."""
        return {name: [(int(r["step"]), float(r[key])) for r in t.history if key in r] for name, t in self.trainers.items()}

    @torch.no_grad()
    def inpaint(self, image: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
        """Each loss's inpainter applied to the same image and mask (same shape as ``image``)."""
        out = {}
        for name, trainer in self.trainers.items():
            trainer.finish()
            out[name] = trainer.inpainter()(image, mask)
        return out

    def _state(self) -> dict[str, Any]:
        return {"trainers": {name: t.state_dict() for name, t in self.trainers.items()}}

    def _load_state(self, state: dict[str, Any]) -> None:
        saved = state["trainers"]
        if set(saved) != set(self.trainers):
            raise ConfigError(f"This study state holds the losses {sorted(saved)}, not {sorted(self.trainers)}.")
        for name, trainer in self.trainers.items():
            trainer.load_state_dict(saved[name])


def small_run(seed: int = 0, device: Any = None) -> LossStudy:
    """The catalogue's small study: MSE vs MSE + SSIM, 4-8-16 channel U-Nets on 32 px face crops, batch 2."""
    return LossStudy(LossStudyConfig(losses=("mse", "mse+ssim"), data="faces", size=32, batch=2, steps=20, base=4,
                                     depth=3, seed=seed), device=device)
