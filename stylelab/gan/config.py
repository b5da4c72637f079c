"""The GAN Lab's config and its names, importable without torch (the CLI builds its flags from them).

:class:`GANConfig` is re-exported by :mod:`stylelab.gan.train`; the data set names and labels by
:mod:`stylelab.gan.data`; the loss names come from the one loss table in :mod:`stylelab.gan.objectives`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import ConfigError
from .objectives import LOSSES, check_smoothing, loss_spec

TOY_DATASETS: tuple[str, ...] = ("ring", "grid", "spiral", "moons", "line", "gaussian")
IMAGE_DATASETS: tuple[str, ...] = ("digits8", "mnist5k", "fashion")
DATASETS: tuple[str, ...] = TOY_DATASETS + IMAGE_DATASETS

TOY_LABELS = {
    "ring": "Ring of 8 Gaussians",
    "grid": "Grid of 25 Gaussians",
    "spiral": "Spiral",
    "moons": "Two moons",
    "line": "A line segment",
    "gaussian": "A single Gaussian",
}
IMAGE_LABELS = {
    "digits8": "Digits 8x8 (scikit-learn, 1,797)",
    "mnist5k": "MNIST 28x28 (5,000)",
    "fashion": "Fashion-MNIST 28x28",
}
#: Default spread (standard deviation) of each toy distribution.
DEFAULT_NOISE = {"ring": 0.05, "grid": 0.05, "spiral": 0.05, "moons": 0.05, "line": 0.02, "gaussian": 1.0}
def is_toy(name: str) -> bool:
    """True for a 2-D toy distribution, False for an image set (ConfigError if unknown)."""
    check_dataset(name)
    return name in TOY_DATASETS


def check_dataset(name: str) -> str:
    if name not in DATASETS:
        raise ConfigError(f"Unknown dataset {name!r}; choose one of {', '.join(DATASETS)}.")
    return name



#: the adversarial losses a GAN run can train with (the rows of :data:`stylelab.gan.objectives.LOSSES`)
LOSS_NAMES: tuple[str, ...] = tuple(LOSSES)
OPTIMIZERS = ("adam", "rmsprop", "sgd")
#: image generators: the DCGAN (stylelab.gan.models) or StyleGAN-lite (stylelab.gan.stylegan); same D for both
MODELS: tuple[str, ...] = ("dcgan", "stylegan")
MODEL_LABELS = {"dcgan": "DCGAN", "stylegan": "StyleGAN-lite (mapping, styles, noise)"}
#: Fields that can change while a run is going (the page's live controls); others need a new run.
LIVE_FIELDS = ("loss", "lr_g", "lr_d", "beta1", "beta2", "d_steps", "label_smoothing", "instance_noise",
               "instance_noise_decay", "gp_weight", "r1_weight", "metrics_every")
#: The default learning rate of G and D: 1e-3 for the 2-D MLPs, 2e-4 for DCGAN images (Radford et al.).
DEFAULT_LR = {"points": 1e-3, "images": 2e-4}
#: How often a run is evaluated by default: every 100 steps for points, 200 for images.
DEFAULT_METRICS_EVERY = {"points": 100, "images": 200}


def default_lr(data: str) -> float:
    """The default G and D learning rate for data set ``data`` (see :data:`DEFAULT_LR`)."""
    return DEFAULT_LR["points" if is_toy(data) else "images"]


def default_metrics_every(data: str) -> int:
    """The default evaluation interval for data set ``data`` (see :data:`DEFAULT_METRICS_EVERY`)."""
    return DEFAULT_METRICS_EVERY["points" if is_toy(data) else "images"]


#: Generated samples per evaluation in the app: 512 points, 500 images (FID/KID on 500 digits).
DEFAULT_EVAL_SAMPLES = {"points": 512, "images": 500}
#: The "Train N" default of the app: 200 steps for points, 50 for images.
DEFAULT_TRAIN_N = {"points": 200, "images": 50}


def world(data: str) -> str:
    """``"points"`` for a 2-D toy distribution, ``"images"`` for an image set."""
    return "points" if is_toy(data) else "images"


@dataclass
class GANConfig:
    """Everything that defines a GAN run (with the seed, enough to reproduce it).

    Attributes:
        data: a toy distribution (``ring``, ``grid``, ``spiral``, ``moons``, ``line``, ``gaussian``)
            or an image set (``digits8``, ``mnist5k``, ``fashion``).
        loss: ``minimax``, ``ns`` (non-saturating), ``lsgan``, ``hinge`` or ``wgan-gp``.
        classes: image classes to keep (empty: all).
        conditional: class-conditional G and D (images only).
        n_points: size of the toy training set; data_noise: its spread (None: the default).
        latent_dim: size of z (0: 2 for points, 64 for images).
        hidden, depth: MLP width and hidden layers (points).
        base_channels: DCGAN width (images).
        model: the image generator, ``dcgan`` or ``stylegan`` (StyleGAN-lite; not class-conditional);
            D is the DCGAN discriminator for both.
        batch_size: samples per step (split across processes under DDP).
        optimizer: ``adam``, ``rmsprop`` or ``sgd``; lr_g / lr_d (None: 1e-3 points, 2e-4 images);
            beta1, beta2: Adam's betas (beta1 is SGD's momentum).
        d_steps: discriminator updates per generator update.
        label_smoothing: one-sided: real label 1 - s (minimax, ns, lsgan only).
        instance_noise: std of Gaussian noise added to every D input (Sønderby et al. 2017),
            decayed linearly to 0 over ``instance_noise_decay`` steps (0: constant).
        gp_weight: lambda of the WGAN-GP gradient penalty.
        r1_weight: gamma of the R1 penalty on D's gradient at real samples (Mescheder et al. 2018; StyleGAN's
            companion of the non-saturating loss), 0: off. Not with wgan-gp, which has its own penalty.
        metrics_every: evaluate (energy distance / coverage or FID / KID) every k steps (0: never).
        eval_samples: generated samples per evaluation.
        num_fixed: size of the fixed-noise sample grid.
        steps: the run's length in generator steps (0: open-ended, it runs until stopped).
        seed: the run's seed; device: ``cpu``, ``cuda``... (None: :func:`stylelab.device.get_device`);
            amp: bf16 autocast for image models.
        threads: CPU threads while training and evaluating (0: one thread on CPU, see
            ``GANTrainer._threads``; more can pay on an idle many-core machine).
    """

    data: Literal[DATASETS] = "ring"
    loss: Literal[LOSS_NAMES] = "ns"
    classes: tuple[int, ...] = ()
    conditional: bool = False
    n_points: int = 2000
    data_noise: float | None = None
    latent_dim: int = 0
    hidden: int = 64
    depth: int = 2
    base_channels: int = 32
    model: Literal[MODELS] = "dcgan"
    batch_size: int = 64
    optimizer: Literal[OPTIMIZERS] = "adam"
    lr_g: float | None = None
    lr_d: float | None = None
    beta1: float = 0.5
    beta2: float = 0.999
    d_steps: int = 1
    label_smoothing: float = 0.0
    instance_noise: float = 0.0
    instance_noise_decay: int = 0
    gp_weight: float = 10.0
    r1_weight: float = 0.0
    metrics_every: int = 100
    eval_samples: int = 512
    num_fixed: int = 64
    steps: int = 0
    seed: int = 0
    device: str | None = None
    amp: bool = False
    threads: int = 0

    def __post_init__(self) -> None:
        self.classes = tuple(int(c) for c in self.classes)
        self.validate()

    @classmethod
    def for_data(cls, data: str, **fields: object) -> "GANConfig":
        """A config for ``data`` with the app's per-world defaults (evaluation interval and sample
        count: :data:`DEFAULT_METRICS_EVERY`, :data:`DEFAULT_EVAL_SAMPLES`) unless ``fields`` set them."""
        w = world(data)
        fields.setdefault("metrics_every", DEFAULT_METRICS_EVERY[w])
        fields.setdefault("eval_samples", DEFAULT_EVAL_SAMPLES[w])
        return cls(data=data, **fields)  # type: ignore[arg-type]

    @property
    def is_toy(self) -> bool:
        return self.data in TOY_DATASETS

    @property
    def z_dim(self) -> int:
        return self.latent_dim or (2 if self.is_toy else 64)

    @property
    def lr_g_value(self) -> float:
        return self.lr_g if self.lr_g is not None else default_lr(self.data)

    @property
    def lr_d_value(self) -> float:
        return self.lr_d if self.lr_d is not None else default_lr(self.data)

    def validate(self) -> None:
        """Raise :class:`ConfigError` with a readable message for any value out of range."""
        check_dataset(self.data)
        loss_spec(self.loss)
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"Unknown optimiser {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}.")
        ints = {"n_points": (16, 1_000_000), "latent_dim": (0, 512), "hidden": (4, 1024), "depth": (1, 8),
                "base_channels": (4, 512), "batch_size": (2, 4096), "d_steps": (1, 20), "metrics_every": (0, 10**9),
                "eval_samples": (16, 20_000), "num_fixed": (1, 1024), "instance_noise_decay": (0, 10**9), "threads": (0, 256),
                "steps": (0, 10**9), "seed": (0, 2**32 - 1)}
        for name, (lo, hi) in ints.items():
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
                raise ConfigError(f"{name} must be an integer in [{lo}, {hi}], got {v!r}.")
        for name, lo, hi in (("beta1", 0.0, 0.9999), ("beta2", 0.0, 0.99999), ("label_smoothing", 0.0, 0.5),
                             ("instance_noise", 0.0, 5.0), ("gp_weight", 0.0, 1000.0), ("r1_weight", 0.0, 1000.0)):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not (lo <= v <= hi):
                raise ConfigError(f"{name} must be a number in [{lo}, {hi}], got {v!r}.")
        for name in ("lr_g", "lr_d"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 < v <= 1):
                raise ConfigError(f"{name} must be in (0, 1], got {v!r}.")
        check_smoothing(self.loss, self.label_smoothing)
        if self.r1_weight and self.loss == "wgan-gp":
            raise ConfigError("The R1 penalty is for the other losses; WGAN-GP has its own gradient penalty (gp_weight).")
        if self.model not in MODELS:
            raise ConfigError(f"Unknown model {self.model!r}; choose one of {', '.join(MODELS)}.")
        if self.model == "stylegan" and (self.is_toy or self.conditional):
            raise ConfigError("StyleGAN-lite is for image sets and is not class-conditional "
                              "(choose the DCGAN for 2-D points or a conditional run).")
        if self.is_toy and (self.conditional or self.classes):
            raise ConfigError("Classes and class-conditional models are for image sets, not 2-D points.")
        if self.data_noise is not None and (not isinstance(self.data_noise, (int, float)) or isinstance(self.data_noise, bool)
                                            or not 0 <= self.data_noise <= 2):
            raise ConfigError(f"data_noise must be in [0, 2], got {self.data_noise!r}.")
        if self.device is not None and (not isinstance(self.device, str) or not self.device.strip()):
            raise ConfigError(f"device must be a device name such as 'cpu' or 'cuda' (or None), got {self.device!r}.")


