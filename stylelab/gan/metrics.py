"""How good is a GAN? Distances between real and generated samples, mode coverage, FID and KID.

Every measure is a pure function over tensors:

- 2-D points: :func:`energy_distance`, :func:`mmd2_unbiased` (RBF kernel), :func:`mode_coverage`.
- Images, in the feature space of a small classifier (``stylelab.gan.classifier``):
  :func:`frechet_distance` (FID's formula) and :func:`kernel_distance` (KID's formula),
  :func:`class_histogram` of generated samples and :func:`mode_collapse_warning`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from ..errors import ConfigError, NonFiniteError, ShapeError


def _check_samples(x: Tensor, y: Tensor, min_n: int = 1) -> None:
    if not isinstance(x, Tensor) or not isinstance(y, Tensor):
        raise ShapeError("Samples must be torch tensors.")
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ShapeError(f"Samples must be (N, D) and (M, D) with the same D; got {tuple(x.shape)} and {tuple(y.shape)}.")
    if x.shape[0] < min_n or y.shape[0] < min_n:
        raise ShapeError(f"Need at least {min_n} samples on each side; got {x.shape[0]} and {y.shape[0]}.")
    if not (torch.isfinite(x).all() and torch.isfinite(y).all()):
        raise NonFiniteError("Samples contain NaN or infinity (has training diverged?).")


def energy_distance(x: Tensor, y: Tensor) -> Tensor:
    r"""Energy distance between two samples (Székely & Rizzo 2013).

    .. math::
        \mathcal{E}(P, Q) = 2\,\mathbb{E}\|X - Y\| - \mathbb{E}\|X - X'\| - \mathbb{E}\|Y - Y'\|,
        \quad X, X' \sim P,\; Y, Y' \sim Q

    It is zero exactly when P = Q and grows with any difference in location or shape. The
    within-sample means here include the zero diagonal (the V-statistic), so the estimate is >= 0.

    Args:
        x: ``(N, D)`` samples of P (e.g. real points).
        y: ``(M, D)`` samples of Q (e.g. generated points).

    Returns:
        Scalar tensor >= 0, in the units of the data.
    """
    _check_samples(x, y)
    xy = torch.cdist(x, y).mean()
    xx = torch.cdist(x, x).mean()
    yy = torch.cdist(y, y).mean()
    return (2 * xy - xx - yy).clamp_min(0.0)


def _kernel(a: Tensor, b: Tensor, kind: str, bandwidth: float) -> Tensor:
    if kind == "rbf":
        return torch.exp(-torch.cdist(a, b).square() / (2 * bandwidth**2))  # (N, M)
    return (a @ b.T / a.shape[1] + 1.0) ** 3  # (N, M) polynomial kernel of KID


def mmd2_unbiased(x: Tensor, y: Tensor, kernel: Literal["rbf", "poly"] = "rbf", bandwidth: float = 1.0) -> Tensor:
    r"""Unbiased squared maximum mean discrepancy (Gretton et al. 2012).

    .. math::
        \mathrm{MMD}^2_u = \frac{1}{n(n-1)}\sum_{i \ne j} k(x_i, x_j)
        + \frac{1}{m(m-1)}\sum_{i \ne j} k(y_i, y_j) - \frac{2}{nm}\sum_{i, j} k(x_i, y_j)

    with ``k`` an RBF kernel :math:`\exp(-\|a - b\|^2 / 2h^2)` or KID's cubic polynomial kernel
    :math:`(a^\top b / d + 1)^3`.

    Args:
        x: ``(N, D)``, y: ``(M, D)`` samples, N, M >= 2.
        kernel: ``"rbf"`` or ``"poly"``.
        bandwidth: ``h`` of the RBF kernel.

    Returns:
        Scalar tensor; unbiased, so it can be slightly negative when P = Q.
    """
    _check_samples(x, y, min_n=2)
    if kernel not in ("rbf", "poly"):
        raise ConfigError(f"Unknown MMD kernel {kernel!r}; choose 'rbf' or 'poly'.")
    if not bandwidth > 0:
        raise ConfigError(f"RBF bandwidth must be > 0, got {bandwidth!r}.")
    n, m = x.shape[0], y.shape[0]
    kxx, kyy, kxy = _kernel(x, x, kernel, bandwidth), _kernel(y, y, kernel, bandwidth), _kernel(x, y, kernel, bandwidth)
    sxx = (kxx.sum() - kxx.diagonal().sum()) / (n * (n - 1))
    syy = (kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
    return sxx + syy - 2 * kxy.mean()


@dataclass(frozen=True)
class ModeCoverage:
    """How many mixture components a generator reaches.

    Attributes:
        covered: number of modes with at least ``min_share`` of their fair share of samples nearby.
        total: number of modes.
        high_quality: fraction of samples within ``radius`` of some mode.
        counts: samples near each mode.
    """

    covered: int
    total: int
    high_quality: float
    counts: tuple[int, ...]

    @property
    def fraction(self) -> float:
        return self.covered / self.total


def mode_coverage(samples: Tensor, modes: Tensor, radius: float, min_share: float = 0.25) -> ModeCoverage:
    r"""Count the modes a generator covers (as in the unrolled-GAN and VEEGAN papers).

    A sample is *high quality* when it lies within ``radius`` (3 standard deviations is usual) of
    its nearest mode; a mode is *covered* when it receives at least ``min_share`` of the
    :math:`N / K` samples it would get under the real (uniform) mixture.

    Args:
        samples: ``(N, 2)`` generated points.
        modes: ``(K, 2)`` mode centres (``stylelab.gan.data.toy_modes``).
        radius: distance counted as "at the mode".
        min_share: in (0, 1].
    """
    _check_samples(samples, modes)
    if not radius > 0 or not 0 < min_share <= 1:
        raise ConfigError("mode_coverage needs radius > 0 and 0 < min_share <= 1.")
    dist = torch.cdist(samples.float(), modes.float())  # (N, K)
    near, nearest = dist.min(dim=1)
    good = near <= radius
    counts = torch.bincount(nearest[good], minlength=modes.shape[0])  # (K,)
    fair = samples.shape[0] / modes.shape[0]
    covered = int((counts >= min_share * fair).sum())
    return ModeCoverage(covered, int(modes.shape[0]), float(good.float().mean()), tuple(int(c) for c in counts))


def gaussian_stats(features: Tensor) -> tuple[Tensor, Tensor]:
    """Mean ``(D,)`` and covariance ``(D, D)`` of ``(N, D)`` features, in float64."""
    if features.ndim != 2 or features.shape[0] < 2:
        raise ShapeError(f"Features must be (N, D) with N >= 2, got {tuple(features.shape)}.")
    f = features.double()
    mu = f.mean(dim=0)
    centred = f - mu
    return mu, centred.T @ centred / (f.shape[0] - 1)


def frechet_distance(real_features: Tensor, fake_features: Tensor) -> Tensor:
    r"""Fréchet distance between Gaussians fitted to two feature sets (the formula of FID).

    .. math::
        d^2 = \|\mu_r - \mu_g\|^2 + \operatorname{Tr}\!\left(\Sigma_r + \Sigma_g
        - 2\,(\Sigma_r \Sigma_g)^{1/2}\right)

    Heusel et al. (2017) use Inception-v3 pool features; GAN Lab uses the penultimate layer of a
    small classifier trained on the same data (``stylelab.gan.classifier``), so values are only
    comparable within one dataset and classifier. :math:`\operatorname{Tr}(\Sigma_r\Sigma_g)^{1/2}`
    is the sum of square roots of the eigenvalues of :math:`\Sigma_r\Sigma_g` (real and >= 0
    for covariance matrices; rounding noise is clipped).

    Args:
        real_features: ``(N, D)``; fake_features: ``(M, D)``; N, M >= 2.

    Returns:
        Scalar float64 tensor >= 0.
    """
    _check_samples(real_features, fake_features, min_n=2)
    mu_r, sig_r = gaussian_stats(real_features)
    mu_g, sig_g = gaussian_stats(fake_features)
    eig = torch.linalg.eigvals(sig_r @ sig_g).real.clamp_min(0.0)
    tr_sqrt = eig.sqrt().sum()
    return ((mu_r - mu_g).square().sum() + sig_r.trace() + sig_g.trace() - 2 * tr_sqrt).clamp_min(0.0)


def kernel_distance(real_features: Tensor, fake_features: Tensor, subsets: int = 10, subset_size: int = 200,
                    generator: torch.Generator | None = None) -> Tensor:
    r"""KID (Bińkowski et al. 2018): unbiased MMD² with a cubic kernel, averaged over random subsets.

    .. math::
        \mathrm{KID} = \frac{1}{S}\sum_{s=1}^{S} \mathrm{MMD}^2_u\big(X_s, Y_s;\;
        k(a, b) = (a^\top b / d + 1)^3\big)

    Unbiased, so it is meaningful with few samples (unlike FID) and may be slightly negative.

    Args:
        real_features: ``(N, D)``; fake_features: ``(M, D)``.
        subsets: number of random subsets S.
        subset_size: samples per subset (capped at min(N, M)).
        generator: seeded generator for the subset draws.
    """
    _check_samples(real_features, fake_features, min_n=2)
    if not isinstance(subsets, int) or subsets < 1:
        raise ConfigError(f"subsets must be a positive integer, got {subsets!r}.")
    size = min(subset_size, real_features.shape[0], fake_features.shape[0])
    total = real_features.new_zeros((), dtype=torch.float64)
    for _ in range(subsets):
        ir = torch.randperm(real_features.shape[0], generator=generator)[:size]
        ig = torch.randperm(fake_features.shape[0], generator=generator)[:size]
        total = total + mmd2_unbiased(real_features[ir].double(), fake_features[ig].double(), kernel="poly")
    return total / subsets


def class_histogram(class_ids: Tensor, num_classes: int) -> Tensor:
    """Share of samples per class: ``(K,)`` float summing to 1 (from predicted class ids ``(N,)``)."""
    if class_ids.ndim != 1 or class_ids.numel() == 0:
        raise ShapeError(f"class_ids must be a non-empty (N,) tensor, got {tuple(class_ids.shape)}.")
    counts = torch.bincount(class_ids.long(), minlength=num_classes)[:num_classes].float()
    return counts / counts.sum().clamp_min(1.0)


def class_coverage(histogram: Tensor, min_share: float = 0.25) -> float:
    """Fraction of classes receiving at least ``min_share`` of a uniform share ``1/K`` of samples."""
    k = histogram.numel()
    return float((histogram >= min_share / k).float().mean())


def mode_collapse_warning(coverage: Sequence[float], drop: float = 0.25, floor: float = 0.5) -> str | None:
    """A warning when coverage falls: below ``floor``, or ``drop`` below its best so far.

    Args:
        coverage: history of coverage fractions in [0, 1] (modes or classes), oldest first.

    Returns:
        A sentence for the student, or None when coverage looks healthy.
    """
    values = [float(c) for c in coverage if c is not None and math.isfinite(float(c))]
    if len(values) < 2:
        return None
    best, now = max(values), values[-1]
    if best - now >= drop:
        return (f"Mode collapse? Coverage fell from {best:.0%} to {now:.0%}: the generator is "
                "concentrating on fewer modes than it once reached.")
    if now < floor and best >= floor:
        return f"Mode collapse? Only {now:.0%} of the modes are covered now."
    return None
