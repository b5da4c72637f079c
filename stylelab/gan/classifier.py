"""The small classifier whose feature space GAN Lab measures FID and KID in.

FID as published uses Inception-v3 features of ImageNet; no such network is available offline
here, and it would be a poor judge of 8x8 or 28x28 greyscale digits anyway. Instead, a small CNN
(two 3x3 conv layers, a 64-unit feature layer, a 10-way softmax) is trained once per dataset on
that same dataset (seconds to a minute on a CPU), cached under
``stylelab.assets.cache_root()/gan_classifiers/<dataset>.pt`` and reloaded with
``torch.load(..., weights_only=True)``. Its 64-d penultimate activations are the features; its
predicted classes give the class histogram of generated samples. Features are divided by one
scalar, their standard deviation over the real reference images, so that KID's cubic kernel sees
values of order one and numbers read alike across datasets.

Numbers measured this way are comparable across runs on the same dataset, not with published
(Inception) FIDs.
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from ..checkpoint import load_checkpoint
from ..errors import CheckpointError, ConfigError
from .data import IMAGE_DATASETS, ImageSet, load_image_set
from .metrics import class_coverage, class_histogram, frechet_distance, kernel_distance
from .models import build_seeded

FEATURE_DIM = 64
FORMAT = "stylelab.gan.classifier/1"
#: One sentence the page and the CLI show next to FID/KID numbers.
DESCRIPTION = (
    "FID and KID here are measured in the 64-d feature layer of a small CNN (2 conv layers) trained "
    "on the same dataset and cached, not Inception-v3; features are divided by one scalar (their spread "
    "on real images). Compare numbers within one dataset only."
)


class FeatureClassifier(nn.Module):
    """conv3x3(32)-ReLU-[pool]-conv3x3(64)-ReLU-pool-linear(64)-ReLU-linear(10) on ``(N, 1, s, s)`` in [-1, 1]."""

    def __init__(self, image_size: int, num_classes: int = 10) -> None:
        super().__init__()
        pool_first = image_size >= 16
        s = image_size // (4 if pool_first else 2)
        self.image_size = image_size
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2) if pool_first else nn.Identity(),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),  # (64 * s * s,)
            nn.Linear(64 * s * s, FEATURE_DIM), nn.ReLU(),  # (64,) the feature space of FID/KID
        )
        self.head = nn.Linear(FEATURE_DIM, num_classes)

    def features(self, x: Tensor) -> Tensor:
        return self.body(x)  # (N, 64)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.body(x))  # (N, 10) logits


def _cache_path(dataset: str) -> Path:
    from ..assets import cache_root

    return cache_root() / "gan_classifiers" / f"{dataset}.pt"


def train_classifier(data: ImageSet, epochs: int = 3, seed: int = 0, batch_size: int = 128) -> tuple[FeatureClassifier, float]:
    """Train the feature classifier on 90% of ``data``; return it (eval mode) and held-out accuracy."""
    gen = torch.Generator().manual_seed(seed)
    n = len(data)
    order = torch.randperm(n, generator=gen)
    n_test = max(1, n // 10)
    test, train = order[:n_test], order[n_test:]
    # initial weights from this function's own generator (never the global RNG, see gan.models.build_seeded)
    model = build_seeded(lambda: FeatureClassifier(data.image_size, 10), torch.Generator().manual_seed(seed + 1))
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    # Small random shifts (1 px) make the features less brittle to GAN artefacts.
    for _ in range(epochs):
        perm = train[torch.randperm(len(train), generator=gen)]
        for i in range(0, len(perm), batch_size):
            idx = perm[i : i + batch_size]
            x = data.images[idx]  # (B, 1, s, s)
            dx, dy = (int(v) for v in torch.randint(-1, 2, (2,), generator=gen))
            x = torch.roll(x, shifts=(dy, dx), dims=(2, 3))
            loss = nn.functional.cross_entropy(model(x), torch.as_tensor(data.classes)[data.labels[idx]])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        pred = model(data.images[test]).argmax(1)
        acc = float((pred == torch.as_tensor(data.classes)[data.labels[test]]).float().mean())
    return model, acc


@dataclass
class CachedClassifier:
    model: FeatureClassifier
    accuracy: float
    dataset: str
    seconds: float  # time to train (0 when loaded from the cache)


def _load(path: Path, dataset: str, image_size: int) -> CachedClassifier:
    blob = load_checkpoint(path, "GAN Lab classifier checkpoint", format_key="format", format_value=FORMAT)
    if blob.get("dataset") != dataset:
        raise CheckpointError(f"{path} is not a GAN Lab classifier for {dataset!r}.")
    model = build_seeded(lambda: FeatureClassifier(image_size, 10), torch.Generator())  # overwritten just below
    try:
        model.load_state_dict(blob["state"])
    except (RuntimeError, KeyError) as exc:
        raise CheckpointError(f"{path} does not fit the feature classifier: {exc}") from exc
    model.eval().requires_grad_(False)
    return CachedClassifier(model, float(blob["accuracy"]), dataset, 0.0)


@functools.lru_cache(maxsize=4)
def get_classifier(dataset: str) -> CachedClassifier:
    """The feature classifier of ``dataset``: from the cache, else trained now (once) and cached."""
    if dataset not in IMAGE_DATASETS:
        raise ConfigError(f"No feature classifier for {dataset!r}; choose one of {', '.join(IMAGE_DATASETS)}.")
    data = load_image_set(dataset)
    path = _cache_path(dataset)
    if path.is_file():
        try:
            return _load(path, dataset, data.image_size)
        except CheckpointError:
            path.unlink(missing_ok=True)  # a stale or broken cache entry: retrain below
    t0 = time.perf_counter()
    model, acc = train_classifier(data, epochs=6 if dataset == "digits8" else 3)
    seconds = time.perf_counter() - t0
    model.requires_grad_(False)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    torch.save({"format": FORMAT, "dataset": dataset, "accuracy": acc, "state": model.state_dict()}, tmp)
    os.replace(tmp, path)  # atomic: a concurrent reader never sees half a file
    return CachedClassifier(model, acc, dataset, seconds)


class ImageEvaluator:
    """FID, KID, class histogram and confidence of generated images against one image set.

    Args:
        data: the real images (a class subset is respected: coverage counts only its classes).
        num_real: real images whose features are the reference (drawn once, seeded).
        seed: seed for the reference draw and KID subsets.
    """

    def __init__(self, data: ImageSet, num_real: int = 1000, seed: int = 0) -> None:
        self.data = data
        self.classifier = get_classifier(data.name)
        gen = torch.Generator().manual_seed(seed)
        idx = torch.randperm(len(data), generator=gen)[:num_real]
        raw = self.features(data.images[idx], scaled=False)  # (R, 64)
        # One scalar rescales the feature space to unit spread, so KID's cubic kernel sees values of
        # order 1 (as with Inception features) and FID reads on a stable scale across datasets.
        self.scale = float(raw.std().clamp_min(1e-6))
        self.real_features = raw / self.scale
        self.seed = seed

    @torch.no_grad()
    def features(self, images: Tensor, scaled: bool = True) -> Tensor:
        """``(N, 1, s, s)`` in [-1, 1] -> ``(N, 64)`` classifier features (divided by ``scale``)."""
        f = torch.cat([self.classifier.model.features(images[i : i + 500].float()) for i in range(0, len(images), 500)])
        return f / self.scale if scaled else f

    @torch.no_grad()
    def evaluate(self, fake: Tensor) -> dict[str, object]:
        """Measures of ``fake`` ``(N, 1, s, s)`` in [-1, 1] (N >= 2; 500+ for a stable FID)."""
        model = self.classifier.model
        feats = self.features(fake, scaled=False)  # (N, 64)
        probs = torch.softmax(model.head(feats), dim=1)  # (N, 10)
        feats = feats / self.scale
        conf, pred = probs.max(dim=1)
        hist = class_histogram(pred, 10)  # (10,) over the dataset's classes
        kept = hist[self.data.classes]
        gen = torch.Generator().manual_seed(self.seed)
        return {
            "fid": float(frechet_distance(self.real_features, feats)),
            "kid": float(kernel_distance(self.real_features, feats, subsets=10, subset_size=200, generator=gen)),
            "confidence": float(conf.mean()),
            "class_hist": [float(v) for v in hist],
            "coverage": class_coverage(kept / kept.sum().clamp_min(1e-12)),
            "off_subset": max(0.0, float(1 - kept.sum())),
        }
