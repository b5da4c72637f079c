r"""Masked reconstruction losses and the loss choices of the trained inpainter.

An inpainter is judged on the pixels it had to invent, so its reconstruction terms are
*masked*: averages over the hole :math:`\Omega = \{p : m_p = 1\}` only,

.. math::
    \mathcal{L}_{\Omega}(\hat x, x) = \frac{1}{C\,|\Omega|} \sum_{c}\sum_{p \in \Omega} \ell(\hat x_{cp}, x_{cp}),

with :math:`\ell` squared (:func:`masked_mse`) or absolute (:func:`masked_l1`) error. They are
built on :func:`stylelab.losses.mse` / :func:`~stylelab.losses.l1`: since the masked images
:math:`m \odot \hat x` and :math:`m \odot x` agree outside the hole, the full-image loss of the
masked images divided by the hole's area fraction is exactly the hole average.

The trained U-Net can be trained with one of :data:`LOSS_CHOICES` (the loss study of the page):

=============================  ====================================================================
choice                         objective for the generator (composite :math:`y = m \odot \hat x + (1 - m) \odot x`)
=============================  ====================================================================
``mse``                        :math:`\mathcal{L}_{\Omega}^{MSE}`
``mse+ssim``                   :math:`+\ \lambda_s (1 - \mathrm{SSIM}(y, x))`
``mse+ssim+perceptual``        :math:`+\ \lambda_p \sum_l \frac{1}{C_l H_l W_l}\|F^l(y) - F^l(x)\|^2` (VGG16)
``mse+ssim+perceptual+adv``    :math:`+\ \lambda_a\, \mathcal{L}_G(D(y))`, PatchGAN D (hinge)
=============================  ====================================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import ConfigError, ShapeError

__all__ = ["LOSS_CHOICES", "LossChoice", "boundary_mse", "get_loss_choice", "masked_l1", "masked_mean", "masked_mse"]


def _check_mask_for(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    if mask.ndim != 4 or mask.shape[1] != 1 or mask.shape[-2:] != x.shape[-2:] or mask.shape[0] not in (1, x.shape[0]):
        raise ShapeError(f"The mask must be (N, 1, H, W) matching the image {tuple(x.shape)}; got {tuple(mask.shape)}.")
    return (mask > 0).to(x.dtype).expand(x.shape[0], 1, *x.shape[-2:])  # (N, 1, H, W)


def masked_mean(values: torch.Tensor, mask: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    r"""Average of a per-pixel map over the hole: :math:`\sum_p m_p v_p / \sum_p m_p` per image.

    Args:
        values: ``(N, C, H, W)`` map (e.g. an SSIM or LPIPS map).
        mask: ``(N, 1, H, W)`` weights in [0, 1] (1 = hole).
        reduction: ``"none"`` -> ``(N,)``; ``"mean"`` / ``"sum"`` over the batch.

    Returns:
        The weighted mean; images whose mask is empty get NaN (there is nothing to average).
    """
    from ..losses import reduce

    if mask.shape[-2:] != values.shape[-2:]:
        raise ShapeError(f"Map {tuple(values.shape)} and mask {tuple(mask.shape)} differ in size.")
    w = mask.to(values.dtype).expand(values.shape[0], 1, *values.shape[-2:])  # (N, 1, H, W)
    num = (values * w).sum((1, 2, 3))  # (N,)
    den = w.sum((1, 2, 3)) * values.shape[1]  # (N,)
    return reduce(num / den, reduction)


def masked_mse(x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    r"""Mean squared error over the hole only.

    .. math::
        \mathrm{MSE}_\Omega(x, y) = \frac{1}{C|\Omega|}\sum_{c,\,p\in\Omega}(x_{cp} - y_{cp})^2
        = \frac{\mathrm{MSE}(m \odot x,\ m \odot y)}{|\Omega| / (HW)}

    Args:
        x, y: ``(N, C, H, W)`` images.
        mask: ``(N, 1, H, W)`` (or batch 1); the hole is ``mask > 0``. Must not be empty.
        reduction: ``"none"`` -> ``(N,)``; ``"mean"`` / ``"sum"`` over the batch.

    Returns:
        Value in ``[0, 1]`` for images in [0, 1]; 0 iff the images agree inside the hole.
    """
    from ..losses import mse, reduce

    m = _check_mask_for(x, mask)
    frac = m.flatten(1).mean(1)  # (N,) hole area fraction
    if (frac == 0).any():
        raise ConfigError("masked_mse: the mask is empty, there is no hole to average over.")
    return reduce(mse(m * x, m * y, reduction="none") / frac, reduction)


def masked_l1(x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    r"""Mean absolute error over the hole only.

    .. math::
        L_{1,\Omega}(x, y) = \frac{1}{C|\Omega|}\sum_{c,\,p\in\Omega}|x_{cp} - y_{cp}|
        = \frac{L_1(m \odot x,\ m \odot y)}{|\Omega| / (HW)}
    """
    from ..losses import l1, reduce

    m = _check_mask_for(x, mask)
    frac = m.flatten(1).mean(1)  # (N,)
    if (frac == 0).any():
        raise ConfigError("masked_l1: the mask is empty, there is no hole to average over.")
    return reduce(l1(m * x, m * y, reduction="none") / frac, reduction)


def boundary_mse(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, width: int = 2,
                 reduction: str = "mean") -> torch.Tensor:
    r"""MSE of the raw prediction on the known pixels just outside the hole (against a seam).

    The composite keeps the known pixels, so a prediction that is right inside the hole but
    off at its edge leaves a visible jump. This term asks the network to also reproduce the
    known ring :math:`B` of pixels within ``width`` px (Chebyshev distance) of the hole:

    .. math::
        B = \big(\Omega \oplus K_{2w+1}\big) \setminus \Omega, \qquad
        \mathcal{L}_{\partial}(\hat x, x) = \frac{1}{C\,|B|}\sum_{c}\sum_{p \in B} (\hat x_{cp} - x_{cp})^2,

    with :math:`\oplus K_{2w+1}` the dilation by a :math:`(2w+1) \times (2w+1)` square.

    Args:
        pred: ``(N, C, H, W)`` raw network output :math:`\hat x` (before compositing).
        target: ``(N, C, H, W)`` the original image :math:`x`.
        mask: ``(N, 1, H, W)`` (or batch 1); the hole is ``mask > 0``.
        width: ring width :math:`w` in pixels (>= 1).
        reduction: ``"none"`` -> ``(N,)``; ``"mean"`` / ``"sum"`` over the batch.

    Returns:
        Value in ``[0, 1]`` for images in [0, 1]; 0 for an image whose ring is empty
        (no hole, or a hole covering everything).
    """
    import torch.nn.functional as F

    from ..losses import reduce

    if width < 1:
        raise ConfigError(f"boundary_mse: width must be >= 1, got {width}.")
    m = _check_mask_for(pred, mask)  # (N, 1, H, W) in {0, 1}
    ring = F.max_pool2d(m, 2 * width + 1, stride=1, padding=width) - m  # (N, 1, H, W) known pixels near the hole
    num = (ring * (pred - target) ** 2).sum((1, 2, 3))  # (N,)
    den = ring.sum((1, 2, 3)) * pred.shape[1]  # (N,)
    return reduce(num / den.clamp_min(1.0), reduction)


@dataclass(frozen=True)
class LossChoice:
    """One objective of the loss study: which terms, with which weights, and its LaTeX."""

    name: str
    label: str
    weights: dict[str, float]
    latex: str

    @property
    def adversarial(self) -> bool:
        return self.weights.get("adv", 0.0) > 0

    @property
    def perceptual(self) -> bool:
        return self.weights.get("perceptual", 0.0) > 0


_MSE = r"\mathcal{L}^{MSE}_\Omega"
_SSIM = r"\lambda_s\,(1-\mathrm{SSIM}(y,x))"
_PERC = r"\lambda_p \sum_l \tfrac{1}{C_lH_lW_l}\|F^l(y)-F^l(x)\|^2"
_ADV = r"\lambda_a\,\mathcal{L}_G(D(y))"

#: The loss choices of the study, in order of added terms. Weights bring each term to a
#: comparable size at the start of training (MSE in the hole ~0.02-0.05).
LOSS_CHOICES: dict[str, LossChoice] = {
    "mse": LossChoice("mse", "MSE only", {"mse": 1.0}, _MSE),
    "mse+ssim": LossChoice("mse+ssim", "MSE + SSIM", {"mse": 1.0, "ssim": 0.2}, f"{_MSE} + {_SSIM}"),
    "mse+ssim+perceptual": LossChoice(
        "mse+ssim+perceptual", "MSE + SSIM + perceptual", {"mse": 1.0, "ssim": 0.2, "perceptual": 0.01},
        f"{_MSE} + {_SSIM} + {_PERC}",
    ),
    "mse+ssim+perceptual+adv": LossChoice(
        "mse+ssim+perceptual+adv", "MSE + SSIM + perceptual + adversarial",
        {"mse": 1.0, "ssim": 0.2, "perceptual": 0.01, "adv": 0.01}, f"{_MSE} + {_SSIM} + {_PERC} + {_ADV}",
    ),
}


def get_loss_choice(name: str) -> LossChoice:
    """Look up a loss choice by name (``ConfigError`` lists the valid ones)."""
    try:
        return LOSS_CHOICES[name]
    except KeyError:
        raise ConfigError(f"Unknown inpainting loss {name!r}; choose one of {list(LOSS_CHOICES)}.") from None
