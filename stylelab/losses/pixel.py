"""Pixel-space losses and metrics: mean squared error, mean absolute error, PSNR.

Convention (every loss in stylelab): a per-image value ``(N,)`` is computed first (mean over
channels and pixels), then ``reduction`` acts over the batch (``"none"`` keeps ``(N,)``).
"""

from __future__ import annotations

import torch

from ._checks import check_image_pair, check_reduction, reduce


def mse(x: torch.Tensor, y: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    r"""Mean squared error per image.

    .. math::
        \mathrm{MSE}(x, y) = \frac{1}{CHW} \sum_{c,i,j} (x_{cij} - y_{cij})^2

    Args:
        x, y: images ``(N, C, H, W)`` of the same shape.
        reduction: ``"none"`` -> ``(N,)``; ``"mean"`` / ``"sum"`` over the batch -> scalar.

    Returns:
        Value range ``[0, \infty)`` (``[0, 1]`` for images in ``[0, 1]``); 0 iff ``x == y``.

    Examples:
        >>> mse(torch.zeros(1, 3, 2, 2), torch.ones(1, 3, 2, 2)).item()
        1.0
    """
    check_reduction(reduction)
    x, y = check_image_pair(x, y)
    per_image = (x - y).pow(2).flatten(1).mean(1)  # (N,)
    return reduce(per_image, reduction)


def l1(x: torch.Tensor, y: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    r"""Mean absolute error per image.

    .. math::
        L_1(x, y) = \frac{1}{CHW} \sum_{c,i,j} |x_{cij} - y_{cij}|

    Args:
        x, y: images ``(N, C, H, W)`` of the same shape.
        reduction: ``"none"`` -> ``(N,)``; ``"mean"`` / ``"sum"`` -> scalar.

    Returns:
        Value range ``[0, \infty)`` (``[0, 1]`` for images in ``[0, 1]``).
    """
    check_reduction(reduction)
    x, y = check_image_pair(x, y)
    per_image = (x - y).abs().flatten(1).mean(1)  # (N,)
    return reduce(per_image, reduction)


def psnr(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0, reduction: str = "mean", eps: float = 1e-10) -> torch.Tensor:
    r"""Peak signal-to-noise ratio in decibels, per image.

    .. math::
        \mathrm{PSNR}(x, y) = 10 \log_{10} \frac{R^2}{\mathrm{MSE}(x, y) + \varepsilon}

    ``R`` is ``data_range`` (1 for images in ``[0, 1]``, 255 for 8-bit). ``eps`` keeps identical
    images finite: they score ``10 log10(R^2 / eps)`` (100 dB with the defaults) instead of
    infinity. The batch mean is taken over per-image PSNRs (not PSNR of the batch MSE).

    Args:
        x, y: images ``(N, C, H, W)``.
        data_range: ``R``, the distance between the smallest and largest possible value.
        reduction: ``"none"`` -> ``(N,)``; ``"mean"`` / ``"sum"`` -> scalar.

    Returns:
        Value range ``(-\infty, 10 \log_{10}(R^2/\varepsilon)]`` dB; higher is more similar.
        Typical: 20-30 dB visibly degraded, > 40 dB nearly invisible differences.
    """
    per_image = mse(x, y, reduction="none")  # (N,)
    value = 10.0 * torch.log10(data_range**2 / (per_image + eps))  # (N,)
    return reduce(value, reduction)
