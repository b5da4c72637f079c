r"""Measures of a translation: did G(x) land in Y, and did F(G(x)) come back to x?

Points (ring -> grid): ``in_target`` (share of G(x) within a quarter of the grid spacing of a grid
centre), ``target_modes`` (grid centres G reaches, of 25), ``target_distance`` (energy distance of
G(x) to held-out grid points; :func:`start_distance` is that of the ring itself), ``mode_kept`` (share of x whose round trip
F(G(x)) lands at the SAME ring centre as x) and ``cycle_error`` (:func:`stylelab.translate.losses.cycle_loss`).

Images (MNIST -> Fashion-MNIST), judged by small classifiers (:mod:`stylelab.gan.classifier`):

=======================  ==========================================================================
``clothing_rate``        share of G(x) a digit-vs-clothing classifier calls clothing
``fashion_confidence``   mean top-class probability of the Fashion-MNIST classifier on G(x)
``digit_kept``           share of x whose F(G(x)) the MNIST classifier reads as x's own digit
``digit_rate``           share of F(y) the digit-vs-clothing classifier calls a digit
``clothes_kept``         share of y whose G(F(y)) the Fashion classifier gives y's own class
``cycle_error_x``        :math:`\frac1D\|F(G(x)) - x\|_1` on held-out digits (pixels in [-1, 1])
=======================  ==========================================================================

``digit_kept`` is at most the MNIST classifier's own accuracy on real held-out digits
(:func:`judge_baselines`) and about 0.1 for a round trip that forgets the digit (chance).

The digit-vs-clothing classifier is :class:`stylelab.gan.classifier.FeatureClassifier` trained the
same way as the others (:func:`stylelab.gan.classifier.train_classifier`) on the TRAINING images of
both sets (the held-out ones, :func:`held_out_mask`, excluded), cached under ``cache_root()/translate/domain.pt``.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, Any

import torch

from ..errors import CheckpointError
from .losses import cycle_loss

if TYPE_CHECKING:  # pragma: no cover
    from .run import CycleRun

DOMAIN_FORMAT = "stylelab.translate.domain_classifier/2"
#: "near a grid centre": within this share of the grid spacing (0.25 * 2 = 0.5; clusters have sigma 0.05)
NEAR = 0.25
#: images per domain kept out of the translators' (and the domain judge's) training: the last HELD_OUT / 10
#: images of each of the 10 classes (MNIST-5k is stored sorted by digit: "the last 500" would be all nines)
HELD_OUT = 500


def held_out_index(labels: torch.Tensor, n: int = HELD_OUT) -> torch.Tensor:
    """``(n,)`` indices of the held-out images: the last ``n / 10`` of each of the 10 classes, interleaved
    (one of each class, then the next of each class, ...), so any first ``10 k`` of them hold ``k`` per class.

    Raises:
        ConfigError: ``n`` is not a positive multiple of 10, or a class has fewer than ``n / 10`` images.
    """
    from ..errors import ConfigError

    if n <= 0 or n % 10:
        raise ConfigError(f"The held-out set takes the same number of images from each of 10 classes: n must be a "
                          f"positive multiple of 10, got {n}.")
    per_class = []
    for c in range(10):
        idx = (labels == c).nonzero().flatten()
        if idx.numel() < n // 10:
            raise ConfigError(f"Class {c} has only {idx.numel()} images; cannot hold out {n // 10}.")
        per_class.append(idx[-(n // 10):])
    return torch.stack(per_class).T.reshape(-1)  # (n/10, 10) -> (n,): interleaved classes


def held_out_mask(labels: torch.Tensor, n: int = HELD_OUT) -> torch.Tensor:
    """``(N,)`` bool, True for the images of :func:`held_out_index` (the training images are the others)."""
    mask = torch.zeros(labels.shape[0], dtype=torch.bool)
    mask[held_out_index(labels, n)] = True
    return mask


@torch.no_grad()
def evaluate_points(run: "CycleRun") -> dict[str, float]:
    """The 2-D measures on the run's held-out points (see the module docstring)."""
    from ..gan.data import GRID_SPACING, toy_modes
    from ..gan.metrics import energy_distance, mode_coverage

    x, y = run.x_test, run.y_test  # (n, 2) fresh ring and grid points
    gx, fgx = run.round_trip(x)
    grid, ring = toy_modes("grid"), toy_modes("ring")
    cov = mode_coverage(gx.cpu(), grid, radius=NEAR * GRID_SPACING)
    start = torch.cdist(x.cpu(), ring).argmin(1)  # (n,) the ring centre x came from
    back = torch.cdist(fgx.cpu(), ring).argmin(1)  # (n,) the ring centre its round trip lands nearest to
    return {"in_target": cov.high_quality, "target_modes": cov.covered,
            "target_distance": float(energy_distance(y.float(), gx.float())),
            "mode_kept": float((start == back).float().mean()), "cycle_error": float(cycle_loss(x, fgx))}


@torch.no_grad()
def start_distance(run: "CycleRun") -> float:
    """The energy distance of the held-out ring points themselves to the grid: what ``target_distance`` starts from."""
    from ..gan.metrics import energy_distance

    return float(energy_distance(run.y_test.float(), run.x_test.float()))


def _domain_path() -> Any:
    from ..assets import cache_root

    return cache_root() / "translate" / "domain.pt"


@functools.lru_cache(maxsize=1)
def domain_classifier() -> Any:
    """The digit (0) vs clothing (1) classifier, from the cache or trained now (about a minute) and cached."""
    from ..checkpoint import load_checkpoint
    from ..gan.classifier import FeatureClassifier, train_classifier
    from ..gan.data import ImageSet, load_image_set
    from ..gan.models import build_seeded

    path = _domain_path()
    if path.is_file():
        try:
            blob = load_checkpoint(path, "digit-vs-clothing classifier", format_key="format", format_value=DOMAIN_FORMAT)
            model = build_seeded(lambda: FeatureClassifier(28, 10), torch.Generator())  # overwritten below
            model.load_state_dict(blob["state"])
            return model.eval().requires_grad_(False)
        except (CheckpointError, RuntimeError, KeyError):
            path.unlink(missing_ok=True)  # a stale cache entry: train again below
    xs, ys = load_image_set("mnist5k"), load_image_set("fashion")
    digits = xs.images[~held_out_mask(xs.labels)]
    clothes = ys.images[~held_out_mask(ys.labels)][: len(digits)]  # as many clothes as digits
    images = torch.cat([digits, clothes])
    labels = torch.cat([torch.zeros(len(digits), dtype=torch.int64), torch.ones(len(clothes), dtype=torch.int64)])
    data = ImageSet("domain", images, labels, ["digit", "clothing"], [0, 1])
    model, acc = train_classifier(data, epochs=1, seed=0)
    model.requires_grad_(False)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    torch.save({"format": DOMAIN_FORMAT, "accuracy": acc, "state": model.state_dict()}, tmp)
    os.replace(tmp, path)
    return model


@torch.no_grad()
def _predict(model: Any, images: torch.Tensor) -> torch.Tensor:
    """``(N, 1, 28, 28)`` -> class probabilities ``(N, 10)``, in chunks of 500."""
    return torch.cat([torch.softmax(model(images[i : i + 500].float().cpu()), 1) for i in range(0, len(images), 500)])


def _judges() -> tuple[Any, Any, Any]:
    """The three classifiers (trained on first use, so gradients are switched on for that)."""
    from ..gan.classifier import get_classifier

    with torch.enable_grad():
        return domain_classifier(), get_classifier("mnist5k").model, get_classifier("fashion").model


def evaluate_images(run: "CycleRun") -> dict[str, float]:
    """The image measures of a run on its first ``eval_samples`` held-out digits and clothes."""
    n = run.config.eval_samples
    return measure_translator(run, run.x_test[:n], run.x_test_labels[:n], run.y_test[:n], run.y_test_labels[:n])


def held_out(n: int = HELD_OUT) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The held-out digits and clothes (:func:`held_out_index` order: the ``i``-th of each class is
    ``images[10 i : 10 i + 10]``) and their labels: ``(n, 1, 28, 28)``, ``(n,)``, ``(n, 1, 28, 28)``, ``(n,)``."""
    from ..gan.data import load_image_set

    out = []
    for data in (load_image_set("mnist5k"), load_image_set("fashion")):
        idx = held_out_index(data.labels, n)
        out += [data.images[idx], data.labels[idx]]
    return out[0], out[1], out[2], out[3]


def measure_translator(model: Any, x: torch.Tensor, x_labels: torch.Tensor, y: torch.Tensor,
                       y_labels: torch.Tensor) -> dict[str, float]:
    """The image measures (module docstring) of anything with ``round_trip(x, "G" | "F")``: a
    :class:`~stylelab.translate.run.CycleRun` or a :class:`~stylelab.translate.translator.Translator`.

    Args:
        x, x_labels: ``(n, 1, 28, 28)`` digits in [-1, 1] and their digits ``(n,)``.
        y, y_labels: ``(m, 1, 28, 28)`` clothes and their Fashion-MNIST classes ``(m,)``.
    """
    domain, digit, fashion = _judges()
    with torch.no_grad():
        gx, fgx = model.round_trip(x, "G")
        fy, gfy = model.round_trip(y, "F")
        p_gx = _predict(fashion, gx)  # (n, 10)
        return {
            "clothing_rate": float((_predict(domain, gx)[:, :2].argmax(1) == 1).float().mean()),
            "fashion_confidence": float(p_gx.max(1).values.mean()),
            "digit_kept": float((_predict(digit, fgx).argmax(1) == x_labels.cpu()).float().mean()),
            "digit_rate": float((_predict(domain, fy)[:, :2].argmax(1) == 0).float().mean()),
            "clothes_kept": float((_predict(fashion, gfy).argmax(1) == y_labels.cpu()).float().mean()),
            "cycle_error_x": float(cycle_loss(x.to(fgx.device), fgx)),
        }


@torch.no_grad()
def judge_baselines(n: int = HELD_OUT) -> dict[str, float]:
    """What the judges say about REAL held-out images: the ceilings and floors of the measures.

    ``digit_accuracy`` / ``fashion_accuracy``: the classifiers on real held-out digits / clothes
    (the most ``digit_kept`` / ``clothes_kept`` can be); ``clothing_rate_of_digits`` and
    ``clothing_rate_of_clothes``: the domain classifier on real digits (a do-nothing G scores this)
    and real clothes; ``fashion_confidence_of_digits`` / ``_of_clothes``: the Fashion classifier's
    mean top probability on real digits / clothes.
    """
    x, xl, y, yl = held_out(n)
    domain, digit, fashion = _judges()
    return {
        "digit_accuracy": float((_predict(digit, x).argmax(1) == xl).float().mean()),
        "fashion_accuracy": float((_predict(fashion, y).argmax(1) == yl).float().mean()),
        "clothing_rate_of_digits": float((_predict(domain, x)[:, :2].argmax(1) == 1).float().mean()),
        "clothing_rate_of_clothes": float((_predict(domain, y)[:, :2].argmax(1) == 1).float().mean()),
        "fashion_confidence_of_digits": float(_predict(fashion, x).max(1).values.mean()),
        "fashion_confidence_of_clothes": float(_predict(fashion, y).max(1).values.mean()),
    }


__all__ = ["DOMAIN_FORMAT", "HELD_OUT", "held_out_index", "held_out_mask", "domain_classifier", "evaluate_images", "evaluate_points", "held_out", "judge_baselines",
           "measure_translator", "start_distance"]
