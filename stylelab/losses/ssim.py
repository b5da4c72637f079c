r"""Structural similarity (SSIM, Wang et al. 2004) and multi-scale SSIM (Wang et al. 2003).

SSIM compares local means, variances and the covariance of two images inside a Gaussian window:

.. math::
    \mathrm{SSIM}(x, y) = \frac{(2\mu_x\mu_y + C_1)(2\sigma_{xy} + C_2)}
                               {(\mu_x^2 + \mu_y^2 + C_1)(\sigma_x^2 + \sigma_y^2 + C_2)},
    \qquad C_1 = (k_1 R)^2,\; C_2 = (k_2 R)^2

computed at every position of an 11x11 Gaussian window (sigma 1.5), per channel, with a
"valid" convolution (no padding: only positions where the window fits), then averaged over
positions and channels. This matches scikit-image's
``structural_similarity(x, y, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
data_range=R, channel_axis=...)``, which filters the whole image and crops the border.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError, ShapeError
from ._checks import check_image_pair, check_reduction, reduce

#: Wang, Simoncelli & Bovik 2003, Table/Sec. 3: exponents of the five scales (fine -> coarse).
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def gaussian_window(size: int = 11, sigma: float = 1.5, dtype: torch.dtype = torch.float32, device: torch.device | str | None = None) -> torch.Tensor:
    r"""Normalised 1-D Gaussian window of odd length ``size``: ``g_i \propto e^{-i^2 / 2\sigma^2}``.

    The 2-D window is the outer product ``g g^T`` (applied as two 1-D convolutions).

    Returns:
        ``(size,)`` summing to 1.
    """
    if size < 1 or size % 2 == 0:
        raise ConfigError(f"The SSIM window size must be a positive odd number; got {size}.")
    if sigma <= 0:
        raise ConfigError(f"The SSIM window sigma must be positive; got {sigma}.")
    i = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(i**2) / (2 * sigma**2))
    return (g / g.sum()).to(dtype=dtype, device=device)


def _filter(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Depthwise separable "valid" Gaussian filter: (N, C, H, W) -> (N, C, H-k+1, W-k+1)."""
    c = x.shape[1]
    k = g.numel()
    x = F.conv2d(x, g.view(1, 1, 1, k).expand(c, 1, 1, k), groups=c)  # (N, C, H, W-k+1)
    return F.conv2d(x, g.view(1, 1, k, 1).expand(c, 1, k, 1), groups=c)  # (N, C, H-k+1, W-k+1)


def _ssim_maps(x: torch.Tensor, y: torch.Tensor, g: torch.Tensor, data_range: float, k1: float, k2: float) -> tuple[torch.Tensor, torch.Tensor]:
    """SSIM map and contrast-structure map ``cs``, both ``(N, C, H', W')``."""
    c1 = (k1 * data_range) ** 2
    c2 = (k2 * data_range) ** 2
    mu_x = _filter(x, g)  # (N, C, H', W')
    mu_y = _filter(y, g)
    sxx = _filter(x * x, g) - mu_x**2  # population (co)variances, as use_sample_covariance=False
    syy = _filter(y * y, g) - mu_y**2
    sxy = _filter(x * y, g) - mu_x * mu_y
    cs = (2 * sxy + c2) / (sxx + syy + c2)
    lum = (2 * mu_x * mu_y + c1) / (mu_x**2 + mu_y**2 + c1)
    return lum * cs, cs


def _check_window_fits(x: torch.Tensor, window_size: int) -> None:
    h, w = x.shape[-2:]
    if min(h, w) < window_size:
        raise ShapeError(
            f"SSIM needs images at least {window_size}x{window_size} for a {window_size}-pixel window; "
            f"got {h}x{w}. Use a smaller window_size (odd) or a larger image."
        )


def ssim(
    x: torch.Tensor,
    y: torch.Tensor,
    data_range: float = 1.0,
    window_size: int = 11,
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
    reduction: str = "mean",
    full: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    r"""Structural similarity index (Wang et al. 2004) with a Gaussian window.

    .. math::
        \mathrm{SSIM}(x, y) = \frac{1}{C\,|\Omega|}\sum_{c}\sum_{p \in \Omega}
        \frac{(2\mu_x\mu_y + C_1)(2\sigma_{xy} + C_2)}{(\mu_x^2 + \mu_y^2 + C_1)(\sigma_x^2 + \sigma_y^2 + C_2)}

    where the local statistics at position ``p`` are Gaussian-weighted (``window_size``,
    ``sigma``) and ``Omega`` are the positions where the window fits inside the image.

    Args:
        x, y: images ``(N, C, H, W)`` with ``H, W >= window_size``.
        data_range: ``R``, e.g. 1 for ``[0, 1]`` images.
        window_size, sigma: Gaussian window (11, 1.5 as in the paper and scikit-image).
        k1, k2: stabilising constants.
        reduction: ``"none"`` -> ``(N,)``; ``"mean"`` / ``"sum"`` -> scalar.
        full: also return the SSIM map ``(N, C, H - window_size + 1, W - window_size + 1)``.

    Returns:
        Value in ``[-1, 1]``, 1 iff the images are identical. With ``full=True``:
        ``(value, ssim_map)``.

    Examples:
        >>> x = torch.rand(2, 3, 32, 32)
        >>> round(ssim(x, x).item(), 4)
        1.0
        >>> ssim(x, x, reduction="none", full=True)[1].shape
        torch.Size([2, 3, 22, 22])
    """
    check_reduction(reduction)
    x, y = check_image_pair(x, y)
    _check_window_fits(x, window_size)
    g = gaussian_window(window_size, sigma, dtype=x.dtype, device=x.device)
    ssim_map, _ = _ssim_maps(x, y, g, data_range, k1, k2)  # (N, C, H', W')
    value = reduce(ssim_map.flatten(1).mean(1), reduction)
    return (value, ssim_map) if full else value


def ssim_loss(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0, window_size: int = 11, sigma: float = 1.5, reduction: str = "mean") -> torch.Tensor:
    r"""SSIM as a loss: :math:`L = 1 - \mathrm{SSIM}(x, y)`, range ``[0, 2]``, 0 iff identical."""
    per_image = ssim(x, y, data_range, window_size, sigma, reduction="none")
    return reduce(1 - per_image, reduction)  # type: ignore[operator]


def ms_ssim_levels(height: int, width: int, window_size: int = 11, max_levels: int = 5) -> int:
    """How many scales MS-SSIM uses for an image: the rule for small images.

    Each scale halves the image (2x2 average pooling). We keep the largest number of scales
    ``M <= max_levels`` whose coarsest image still fits the window:
    ``min(H, W) // 2**(M-1) >= window_size``; at least one scale.
    """
    side = min(height, width)
    levels = 1
    while levels < max_levels and side // 2**levels >= window_size:
        levels += 1
    return levels


def ms_ssim(
    x: torch.Tensor,
    y: torch.Tensor,
    data_range: float = 1.0,
    weights: Sequence[float] | None = None,
    reduction: str = "mean",
    window_size: int = 11,
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
) -> torch.Tensor:
    r"""Multi-scale SSIM (Wang, Simoncelli & Bovik 2003).

    .. math::
        \mathrm{MS\text{-}SSIM}(x, y) = [l_M(x, y)]^{\beta_M} \prod_{j=1}^{M} [cs_j(x, y)]^{\beta_j}

    ``cs_j`` is the contrast-structure term of SSIM at scale ``j`` (image halved ``j-1`` times by
    2x2 average pooling), ``l_M`` the luminance term at the coarsest scale; both are averaged over
    positions per channel, combined per channel, then averaged over channels. Default weights
    ``beta = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)``.

    **Small images** (the full 5 scales need ``min(H, W) >= 16 * window_size = 176``): we use
    :func:`ms_ssim_levels` scales (as many as fit the window) and the first ``M`` weights,
    renormalised to sum to 1, so a value of 1 still means identical and a single scale reduces
    to plain SSIM. Images smaller than the window use a smaller odd window (``min(H, W)`` or
    one less, at least 3 pixels). Negative per-channel ``cs`` values (anti-correlated images)
    are clamped to a tiny positive number before the fractional powers, as in the reference
    implementations (a negative base has no real power).

    Args:
        x, y: images ``(N, C, H, W)``, ``H, W >= 3``.
        data_range: ``R``.
        weights: per-scale exponents, fine to coarse (default: Wang et al. 2003).
        reduction: ``"none"`` -> ``(N,)``; ``"mean"`` / ``"sum"`` -> scalar.

    Returns:
        Value in ``[0, 1]``, 1 iff identical.
    """
    check_reduction(reduction)
    x, y = check_image_pair(x, y)
    betas = list(MS_SSIM_WEIGHTS if weights is None else weights)
    if not betas or any(b < 0 for b in betas) or sum(betas) <= 0:
        raise ConfigError(f"MS-SSIM weights must be non-negative with a positive sum; got {betas}.")
    side = min(x.shape[-2:])
    if side < 3:
        raise ShapeError(f"MS-SSIM needs images at least 3x3; got {tuple(x.shape[-2:])}.")
    if side < window_size:  # documented rule for tiny images: shrink the window
        window_size = side if side % 2 else side - 1
    levels = ms_ssim_levels(*x.shape[-2:], window_size=window_size, max_levels=len(betas))
    betas_t = torch.tensor(betas[:levels], dtype=x.dtype, device=x.device)
    betas_t = betas_t / betas_t.sum()
    g = gaussian_window(window_size, sigma, dtype=x.dtype, device=x.device)
    tiny = torch.finfo(x.dtype).tiny ** 0.5
    value = torch.ones(x.shape[:2], dtype=x.dtype, device=x.device)  # (N, C)
    for j in range(levels):
        ssim_map, cs_map = _ssim_maps(x, y, g, data_range, k1, k2)
        term = ssim_map if j == levels - 1 else cs_map  # l_M * cs_M at the coarsest scale
        term = term.flatten(2).mean(2).clamp_min(tiny)  # (N, C)
        value = value * term ** betas_t[j]
        if j < levels - 1:
            x = F.avg_pool2d(x, 2)  # (N, C, H/2, W/2)
            y = F.avg_pool2d(y, 2)
    return reduce(value.mean(1), reduction)


def ms_ssim_loss(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0, weights: Sequence[float] | None = None, reduction: str = "mean") -> torch.Tensor:
    r"""MS-SSIM as a loss: :math:`L = 1 - \mathrm{MS\text{-}SSIM}(x, y)`, range ``[0, 1]``."""
    return reduce(1 - ms_ssim(x, y, data_range, weights, reduction="none"), reduction)


class SSIMLoss(nn.Module):
    """Module wrapper of :func:`ssim_loss` (``1 - SSIM``)."""

    def __init__(self, data_range: float = 1.0, window_size: int = 11, sigma: float = 1.5, reduction: str = "mean") -> None:
        super().__init__()
        check_reduction(reduction)
        self.data_range, self.window_size, self.sigma, self.reduction = data_range, window_size, sigma, reduction

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return ssim_loss(x, y, self.data_range, self.window_size, self.sigma, self.reduction)


class MSSSIMLoss(nn.Module):
    """Module wrapper of :func:`ms_ssim_loss` (``1 - MS-SSIM``)."""

    def __init__(self, data_range: float = 1.0, weights: Sequence[float] | None = None, reduction: str = "mean") -> None:
        super().__init__()
        check_reduction(reduction)
        self.data_range, self.weights, self.reduction = data_range, weights, reduction

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return ms_ssim_loss(x, y, self.data_range, self.weights, self.reduction)


__all__ = ["MS_SSIM_WEIGHTS", "gaussian_window", "ssim", "ssim_loss", "ms_ssim", "ms_ssim_loss", "ms_ssim_levels", "SSIMLoss", "MSSSIMLoss"]
