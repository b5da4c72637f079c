r"""Detail: sharpness (variance of the Laplacian, Tenengrad), entropy, and a noise estimate.

All on the Rec. 601 luma **on the 0-255 scale**, so the numbers match the usual OpenCV recipes
(for example "variance of the Laplacian below ~100 looks blurry" at a few hundred pixels).
Sharpness values depend on the image size: compare images at the same size (the report does).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..losses.aesthetic import luminance
from .inputs import as_batch

#: 4-neighbour Laplacian (OpenCV ``Laplacian(ksize=1)``).
LAPLACE_KERNEL = ((0.0, 1.0, 0.0), (1.0, -4.0, 1.0), (0.0, 1.0, 0.0))
#: Sobel kernel for d/dx (transpose for d/dy).
SOBEL_X = ((-1.0, 0.0, 1.0), (-2.0, 0.0, 2.0), (-1.0, 0.0, 1.0))
#: Immerkaer's noise mask: the difference of two Laplacians, blind to edges and ramps.
IMMERKAER_KERNEL = ((1.0, -2.0, 1.0), (-2.0, 4.0, -2.0), (1.0, -2.0, 1.0))


def _luma255(x: torch.Tensor, min_side: int = 1) -> torch.Tensor:
    return luminance(as_batch(x, min_side=min_side)) * 255.0  # (N, 1, H, W)


def _filter(y: torch.Tensor, kernel: tuple) -> torch.Tensor:
    k = torch.tensor(kernel, dtype=y.dtype, device=y.device)[None, None]  # (1, 1, 3, 3)
    return F.conv2d(y, k)  # (N, 1, H-2, W-2): "valid", no made-up border pixels


def laplacian_variance(x: torch.Tensor) -> torch.Tensor:
    r"""Sharpness as the variance of the Laplacian (Pech-Pacheco et al. 2000).

    .. math:: S_{\mathrm{Lap}} = \mathrm{Var}_p\big[(\nabla^2 Y)(p)\big],\quad
              \nabla^2 = \begin{pmatrix}0&1&0\\1&-4&1\\0&1&0\end{pmatrix}

    Args:
        x: ``(3, H, W)`` or ``(N, 3, H, W)`` in [0, 1], at least 3x3 px.

    Returns:
        ``(N,)``, ``>= 0`` (0-255 luma units squared). 0 for flat images; blur lowers it, fine
        texture and noise raise it (it cannot tell detail from noise).
    """
    lap = _filter(_luma255(x, min_side=3), LAPLACE_KERNEL)  # (N, 1, H-2, W-2)
    return lap.flatten(1).var(dim=1, unbiased=False)


def tenengrad(x: torch.Tensor) -> torch.Tensor:
    r"""Tenengrad sharpness (Tenenbaum 1970; Krotkov 1987): mean squared Sobel gradient magnitude.

    .. math:: S_{\mathrm{Ten}} = \frac{1}{|P|}\sum_p G_x(p)^2 + G_y(p)^2

    Returns:
        ``(N,)``, ``>= 0`` (0-255 luma units squared). Strong edges dominate it.
    """
    y = _luma255(x, min_side=3)
    gx = _filter(y, SOBEL_X)  # (N, 1, H-2, W-2)
    gy = _filter(y, tuple(zip(*SOBEL_X)))
    return (gx**2 + gy**2).flatten(1).mean(dim=1)


def entropy(x: torch.Tensor, bins: int = 256) -> torch.Tensor:
    r"""Shannon entropy of the luma histogram, in bits.

    .. math:: H = -\sum_{k} p_k \log_2 p_k,\quad p_k = \text{fraction of pixels in grey level } k

    Returns:
        ``(N,)`` in :math:`[0, \log_2 \mathrm{bins}]` (0-8 bits for 256 levels): 0 for a flat
        image, 1 for a black-and-white checkerboard, 8 for a uniform spread of all 256 levels.
        It ignores where the pixels are: shuffling the pixels keeps it.
    """
    y = _luma255(x) * ((bins - 1) / 255.0)
    levels = y.round().clamp(0, bins - 1).long().flatten(1)  # (N, HW)
    counts = torch.zeros(levels.shape[0], bins, dtype=torch.float64, device=y.device)
    counts.scatter_add_(1, levels, torch.ones_like(levels, dtype=torch.float64))  # (N, bins)
    p = counts / counts.sum(dim=1, keepdim=True)
    return (-(p * torch.log2(p.where(p > 0, torch.ones_like(p)))).sum(dim=1)).clamp_min(0.0)


def noise_sigma(x: torch.Tensor) -> torch.Tensor:
    r"""Noise standard deviation estimate (Immerkær 1996, "Fast noise variance estimation").

    .. math:: \hat\sigma = \sqrt{\frac{\pi}{2}}\,\frac{1}{6(W-2)(H-2)}\sum_p |(Y * N)(p)|,\quad
              N = \begin{pmatrix}1&-2&1\\-2&4&-2\\1&-2&1\end{pmatrix}

    ``N`` is zero on constants, ramps and straight edges, so what remains is mostly noise. Texture
    leaks in (a textured clean photo reads 1-3 grey levels).

    Returns:
        ``(N,)`` in grey levels (0-255 units): 0 for a flat image. Gaussian noise of standard
        deviation ``s`` (in [0, 1] units) added equally to R, G and B reads about ``255 s``;
        independent noise per channel reads about ``0.67 * 255 s`` (the luma averages it).
    """
    r = _filter(_luma255(x, min_side=3), IMMERKAER_KERNEL)  # (N, 1, H-2, W-2)
    return math.sqrt(math.pi / 2) / 6.0 * r.abs().flatten(1).mean(dim=1)
