r"""Colour palette: the few colours an image is made of (k-means in CIELAB).

k-means (Lloyd 1982) minimises the within-cluster squared distance

.. math:: \min_{\{c_j\}} \sum_p \min_j \lVert \mathrm{Lab}(x_p) - c_j \rVert^2

in CIELAB, where Euclidean distance roughly follows perceived colour difference (so a palette
of 5 gives 5 colours a person would also pick, not 5 shades of the dominant green). Pixels are
subsampled (``sample``) and the seed is fixed, so the palette is reproducible.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from ..errors import ConfigError
from .inputs import as_batch


class Palette(NamedTuple):
    """Dominant colours of a batch, most common first."""

    colors: torch.Tensor  #: (N, k, 3) RGB in [0, 1]
    weights: torch.Tensor  #: (N, k) share of the pixels, sums to 1 (0 for unused slots)


def dominant_palette(x: torch.Tensor, k: int = 5, sample: int = 4096, seed: int = 0) -> Palette:
    """The ``k`` dominant colours of each image by k-means in CIELAB.

    Args:
        x: ``(3, H, W)`` or ``(N, 3, H, W)`` in [0, 1] (grey accepted).
        k: number of colours, 1-16.
        sample: pixels drawn (without replacement, seeded) for the fit; all pixels if fewer.
        seed: seed of the subsample and of k-means' initialisation.

    Returns:
        :class:`Palette`. An image with fewer than ``k`` distinct colours fills the remaining
        slots with its last colour and weight 0 (a flat image: one colour, weight 1).
    """
    if not 1 <= k <= 16:
        raise ConfigError(f"The palette size k must be between 1 and 16; got {k}.")
    from skimage.color import lab2rgb, rgb2lab
    from sklearn.cluster import KMeans

    xb = as_batch(x).detach().float().clamp(0, 1)
    rng = np.random.default_rng(seed)
    colors, weights = [], []
    for img in xb:
        px = img.permute(1, 2, 0).reshape(-1, 3).cpu().numpy()  # (HW, 3)
        if len(px) > sample:
            px = px[rng.choice(len(px), sample, replace=False)]
        lab = rgb2lab(px[None])[0]  # (P, 3)
        distinct = len(np.unique(np.round(lab, 3), axis=0))
        kk = min(k, distinct)
        km = KMeans(n_clusters=kk, n_init=3, random_state=seed).fit(lab)
        share = np.bincount(km.labels_, minlength=kk) / len(lab)
        order = np.argsort(-share)
        rgb = np.clip(lab2rgb(km.cluster_centers_[order][None])[0], 0, 1)  # (kk, 3)
        share = share[order]
        if kk < k:  # pad: repeat the last colour with weight 0
            rgb = np.concatenate([rgb, np.repeat(rgb[-1:], k - kk, axis=0)])
            share = np.concatenate([share, np.zeros(k - kk)])
        colors.append(torch.from_numpy(rgb).float())
        weights.append(torch.from_numpy(share).float())
    return Palette(torch.stack(colors), torch.stack(weights))
