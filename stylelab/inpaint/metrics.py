r"""Scores of an inpainting result against the true image: inside the hole, around it, at the seam.

Whole-image scores flatter an inpainter: most pixels were known and are copied. Here every
score is restricted to a region:

- **hole** :math:`\Omega` (``mask > 0``): what the method invented;
- **band**: the pixels within ``band`` px of the hole's edge, on both sides: where the filled
  region meets the known one (a blurry or off-colour fill shows here first);
- **seam**: the mean jump :math:`\frac{1}{|E|}\sum_{(p,q) \in E} \frac{1}{C}\|y_p - y_q\|_1` over the
  pairs of 4-neighbours :math:`(p, q)` with one pixel in the hole and one outside. A visible
  seam makes it larger than the same quantity on the true image (reported as ``seam_truth``).

PSNR in a region is :math:`10 \log_{10}(R^2 / \mathrm{MSE}_\Omega)`; SSIM and LPIPS in a region are
the means of their per-pixel maps (:func:`stylelab.losses.ssim` with ``full=True``, on images
reflect-padded so the map covers every pixel; :func:`stylelab.losses.lpips` with ``spatial=True``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..errors import ShapeError
from .losses import masked_mean, masked_mse

__all__ = ["boundary_band", "boundary_seam", "hole_scores", "masked_lpips", "masked_psnr", "masked_ssim"]


def masked_psnr(x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, data_range: float = 1.0,
                reduction: str = "mean", eps: float = 1e-10) -> torch.Tensor:
    r"""PSNR over the hole: :math:`10 \log_{10} \frac{R^2}{\mathrm{MSE}_\Omega(x, y) + \varepsilon}` dB."""
    from ..losses import reduce

    value = 10.0 * torch.log10(data_range**2 / (masked_mse(x, y, mask, reduction="none") + eps))  # (N,)
    return reduce(value, reduction)


def masked_ssim(x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, window_size: int = 11,
                reduction: str = "mean") -> torch.Tensor:
    """Mean of the SSIM map over the hole (images reflect-padded by ``window_size // 2``)."""
    from ..losses import ssim

    r = window_size // 2
    pad = (r, r, r, r)
    mode = "reflect" if min(x.shape[-2:]) > r else "replicate"
    _, smap = ssim(F.pad(x, pad, mode=mode), F.pad(y, pad, mode=mode), window_size=window_size,
                   reduction="none", full=True)  # (N, C, H, W)
    return masked_mean(smap, (mask > 0).to(x.dtype), reduction)


def masked_lpips(x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, net: str = "vgg",
                 reduction: str = "mean") -> torch.Tensor:
    """Mean of the spatial LPIPS map over the hole (lower is better)."""
    from ..losses import lpips

    lmap = lpips(x, y, net=net, reduction="none", spatial=True)  # (N, 1, H, W)
    return masked_mean(lmap, (mask > 0).to(x.dtype), reduction)


def boundary_band(mask: torch.Tensor, width: int = 4) -> torch.Tensor:
    """Pixels within ``width`` px of the hole's edge, on both sides: dilation minus erosion.

    Args:
        mask: ``(N, 1, H, W)``; the hole is ``mask > 0``.

    Returns:
        ``(N, 1, H, W)`` float in {0, 1}.
    """
    if mask.ndim != 4:
        raise ShapeError(f"boundary_band needs a (N, 1, H, W) mask, got {tuple(mask.shape)}.")
    m = (mask > 0).float()
    k = 2 * width + 1
    dilated = F.max_pool2d(m, k, stride=1, padding=width)
    eroded = 1.0 - F.max_pool2d(1.0 - m, k, stride=1, padding=width)
    return (dilated - eroded).clamp(0, 1)  # (N, 1, H, W)


def boundary_seam(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    r"""Mean absolute jump across the hole's edge, per image ``(N,)``.

    .. math::
        \mathrm{seam}(y) = \frac{1}{|E|}\sum_{(p, q) \in E} \frac{1}{C}\sum_c |y_{cp} - y_{cq}|,
        \quad E = \{(p, q)\ \text{4-neighbours} : m_p = 1,\ m_q = 0\}
    """
    m = (mask > 0).to(image.dtype)
    total = image.new_zeros(image.shape[0])
    count = image.new_zeros(image.shape[0])
    for dim in (-1, -2):
        n = image.shape[dim]
        a, b = image.narrow(dim, 0, n - 1), image.narrow(dim, 1, n - 1)
        ma, mb = m.narrow(dim, 0, n - 1), m.narrow(dim, 1, n - 1)
        edge = (ma - mb).abs()  # (N, 1, ., .) 1 where exactly one of the pair is in the hole
        jump = (a - b).abs().mean(1, keepdim=True)  # (N, 1, ., .)
        total = total + (edge * jump).sum((1, 2, 3))
        count = count + edge.sum((1, 2, 3))
    return total / count.clamp_min(1)


@torch.no_grad()
def hole_scores(result: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, band: int = 4,
                lpips_net: str | None = "vgg") -> dict[str, float]:
    """Every score of one result (batch means): hole and band PSNR / SSIM / LPIPS, and the seam.

    Args:
        result: ``(N, 3, H, W)`` or ``(3, H, W)`` inpainted image in [0, 1].
        target: the true image, same shape.
        mask: ``(N, 1, H, W)`` or ``(1, H, W)``, 1 = hole.
        band: half-width of the boundary band in pixels.
        lpips_net: ``"vgg"``, ``"alex"`` or None to skip LPIPS (it needs H, W >= 16).

    Returns:
        ``{"psnr_hole", "ssim_hole", "lpips_hole", "psnr_band", "ssim_band", "lpips_band",
        "seam", "seam_truth"}`` as floats (LPIPS keys only when ``lpips_net`` is set).
    """
    from .masks import as_batch

    x, m, _ = as_batch(result, mask)
    y = target[None] if target.ndim == 3 else target
    if y.shape != x.shape:
        raise ShapeError(f"Result {tuple(x.shape)} and true image {tuple(y.shape)} differ in shape.")
    x, y, m = x.float(), y.float(), m.float()
    bnd = boundary_band(m, band)
    out = {
        "psnr_hole": float(masked_psnr(x, y, m)),
        "ssim_hole": float(masked_ssim(x, y, m)),
        "psnr_band": float(masked_psnr(x, y, bnd)),
        "ssim_band": float(masked_ssim(x, y, bnd)),
    }
    if lpips_net:
        from ..losses import lpips

        lmap = lpips(x, y, net=lpips_net, reduction="none", spatial=True)  # (N, 1, H, W), one pass
        out["lpips_hole"] = float(masked_mean(lmap, (m > 0).float()))
        out["lpips_band"] = float(masked_mean(lmap, bnd))
    out["seam"] = float(boundary_seam(x, m).mean())
    out["seam_truth"] = float(boundary_seam(y, m).mean())
    return out
