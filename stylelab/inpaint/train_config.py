"""The settings of an inpainting training run and their command-line flags (no torch import here).

:class:`InpaintTrainConfig` is what :class:`~stylelab.inpaint.train.InpaintTrainer` depends on;
:func:`add_train_arguments` turns its fields into flags (through :func:`stylelab.entry.add_config_arguments`,
so the defaults shown in ``--help`` are the dataclass's), for both ``python -m stylelab inpaint-train``
and ``python -m stylelab.inpaint.train`` (torchrun). Kept free of torch so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from ..errors import ConfigError

__all__ = ["SOURCES", "InpaintTrainConfig", "TrainConfig", "add_train_arguments"]

#: The training data sources (see :class:`stylelab.inpaint.data.InpaintData`).
SOURCES = ("photos", "photos+gcompris", "faces", "fashion")


@dataclass
class InpaintTrainConfig:
    """Everything a training run depends on (stored in every checkpoint and record).

    Defaults are small and CPU-friendly: ~0.1-0.3 s per step on 2 cores for ``loss="mse"``.
    """

    loss: str = "mse"
    data: str = "photos"
    size: int = 64
    batch: int = 8
    steps: int = 300
    lr: float = 2e-3
    base: int = 16
    depth: int = 4
    seed: int = 0
    bf16: bool = True
    d_lr: float = 2e-4
    d_base: int = 32
    adv_kind: str = "hinge"
    gp_weight: float = 10.0  #: lambda of the gradient penalty, used when adv_kind == "wgan-gp"
    boundary: float = 0.0
    boundary_width: int = 2

    def validate(self) -> None:
        from .losses import get_loss_choice

        get_loss_choice(self.loss)
        if self.data not in SOURCES:
            raise ConfigError(f"Unknown training data {self.data!r}; choose one of {SOURCES}.")
        if self.base < 1 or self.depth < 1 or self.d_base < 1:
            raise ConfigError("base, depth and d_base must be >= 1.")
        if self.size < 16 or self.size % (2 ** (self.depth - 1)):
            raise ConfigError(f"Crop size {self.size} must be >= 16 and a multiple of {2 ** (self.depth - 1)}.")
        if self.batch < 1 or self.steps < 0:
            raise ConfigError("batch must be >= 1 and steps >= 0.")
        if not 0 < self.lr < 1 or not 0 < self.d_lr < 1:
            raise ConfigError("Learning rates must be in (0, 1).")
        if self.boundary < 0 or self.boundary_width < 1:
            raise ConfigError("boundary weight must be >= 0 and boundary_width >= 1.")
        if not 0 <= self.seed < 2**63:
            raise ConfigError(f"The seed must be an integer in [0, 2**63), got {self.seed}.")
        from ..losses.adversarial import ADVERSARIAL_LOSSES

        if self.adv_kind not in ADVERSARIAL_LOSSES:
            raise ConfigError(f"Unknown adversarial loss {self.adv_kind!r}; choose one of {ADVERSARIAL_LOSSES}.")
        if self.adv_kind == "wgan-gp" and not self.gp_weight > 0:
            raise ConfigError(f"adv_kind='wgan-gp' needs a gradient penalty: gp_weight must be > 0 (got {self.gp_weight}); "
                              "without it the critic is not Lipschitz and the Wasserstein loss is meaningless.")


#: the former name (kept for scripts and notebooks)
TrainConfig = InpaintTrainConfig


_HELP = {
    "loss": "mse | mse+ssim | mse+ssim+perceptual | mse+ssim+perceptual+adv",
    "data": "training crops: " + " | ".join(SOURCES),
    "bf16": "bfloat16 autocast (--no-bf16: train in float32)",
    "boundary": "weight of the known-ring term against seams (0: off)",
    "adv_kind": "GAN loss of the adversarial term: ns | lsgan | hinge | wgan-gp | minimax",
    "gp_weight": "gradient penalty weight (adv-kind wgan-gp)",
}


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """The training flags: one per :class:`InpaintTrainConfig` field, plus files, logging and ``--dry-run``."""
    from ..entry import add_config_arguments, add_dry_run

    add_config_arguments(parser, InpaintTrainConfig, help=_HELP)
    parser.add_argument("--init", default=None, help="checkpoint to start from (warm start / resume)")
    parser.add_argument("--out", default=None, help="where rank 0 writes the checkpoint")
    parser.add_argument("--half", action="store_true", help="store fp16 weights and no optimiser state (shipping)")
    parser.add_argument("--log-every", type=int, default=25)
    parser.add_argument("--save-every", type=int, default=0, help="rank 0 also saves --out every N steps (0: only at the end)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads per process")
    parser.add_argument("--checksum-dir", default=None, help="each rank writes its final weight checksum here (DDP check)")
    add_dry_run(parser)
