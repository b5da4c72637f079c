r"""LPIPS: Learned Perceptual Image Patch Similarity (Zhang et al. 2018), v0.1 linear heads.

.. math::
    d(x, y) = \sum_l \frac{1}{H_l W_l} \sum_{h,w} \sum_c w_{l,c}
        \big(\hat y^l_{chw}(x) - \hat y^l_{chw}(y)\big)^2

``\hat y^l`` are the backbone's activations at layer ``l``, unit-normalised along channels at
every position; ``w_l >= 0`` is the packaged linear head (a 1x1 convolution without bias) and
it weighs the SQUARED difference once per channel, as in the official code: the weight enters
linearly, so this is NOT :math:`\|w_l \odot \Delta\|_2^2` (which would weigh by :math:`w_{l,c}^2`;
it equals :math:`\|\sqrt{w_l} \odot \Delta\|_2^2`). Per layer: channel-weighted sum of squares,
then the spatial mean; then the sum over layers. With ``spatial=True`` each layer's
:math:`\sum_c w_{l,c}\Delta^2_{chw}` map is upsampled (bilinear) to the input size and the maps
are summed. Backbones: VGG16
(``relu1_2, relu2_2, relu3_3, relu4_3, relu5_3``) and AlexNet (``relu1 ... relu5``), both with
LPIPS' input scaling (``normalisation="lpips"``: ``[0, 1] -> [-1, 1]`` then shift/scale).

Reference (``shared/ASSETS.md``): astronaut vs coffee, both resized to 256x256 with
``skimage.transform.resize(..., anti_aliasing=True)``: LPIPS-VGG ~0.767.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError, ShapeError
from ._checks import check_image_pair, check_reduction, reduce

LPIPS_LAYERS = {
    "vgg": ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3"),
    "alex": ("relu1", "relu2", "relu3", "relu4", "relu5"),
}
_ARCH = {"vgg": "vgg16", "alex": "alexnet"}


def _check_net(net: str) -> None:
    if net not in LPIPS_LAYERS:
        raise ConfigError(f"Unknown LPIPS backbone {net!r}; choose 'vgg' or 'alex'.")


@functools.cache
def _heads_cpu(net: str) -> tuple[torch.Tensor, ...]:
    from ..assets import lpips_heads

    return tuple(lpips_heads(net))


def lpips_heads_for(net: str, device: torch.device | str | None = None,
                    dtype: torch.dtype = torch.float32) -> list[torch.Tensor]:
    """The packaged linear heads ``w_l`` of shape ``(1, C_l, 1, 1)`` on ``device`` / ``dtype`` (cached).

    ``device`` defaults to :func:`stylelab.device.get_device`.
    """
    from ..run import resolve_device

    _check_net(net)
    device = resolve_device(device)
    return [w.to(device=device, dtype=dtype) for w in _heads_cpu(net)]


def unit_normalize(f: torch.Tensor, eps: float = 1e-10) -> torch.Tensor:
    r"""Normalise a feature map to unit length along channels: :math:`f / (\|f\|_2 + \varepsilon)`."""
    norm = torch.sqrt(f.pow(2).sum(1, keepdim=True))  # (N, 1, H, W)
    return f / (norm + eps)


def lpips(
    x: torch.Tensor,
    y: torch.Tensor,
    net: str = "vgg",
    reduction: str = "mean",
    spatial: bool = False,
    *,
    extractor: nn.Module | None = None,
    heads: Sequence[torch.Tensor] | None = None,
) -> torch.Tensor:
    r"""LPIPS distance between images in ``[0, 1]``; differentiable w.r.t. ``x`` and ``y``.

    .. math::
        d(x, y) = \sum_l \frac{1}{H_l W_l} \sum_{h,w} \sum_c w_{l,c}
            \big(\hat y^l_{chw}(x) - \hat y^l_{chw}(y)\big)^2

    Args:
        x, y: RGB images ``(N, 3, H, W)`` in ``[0, 1]`` (the LPIPS scaling is applied inside).
            VGG needs ``H, W >= 16`` (four poolings before ``relu5_3``), AlexNet ``>= 32``.
        net: ``"vgg"`` (VGG16) or ``"alex"`` (AlexNet).
        reduction: ``"none"`` -> ``(N,)``; ``"mean"`` / ``"sum"`` -> scalar. With
            ``spatial=True`` and ``"none"``: ``(N, 1, H, W)``.
        spatial: return the distance map (each layer's map upsampled bilinearly to ``H x W`` and
            summed) instead of its mean; reduced maps average over the batch.
        extractor: a feature extractor to use instead of the pretrained one (tests pass a
            float64 copy); it must return the layers in ``LPIPS_LAYERS[net]`` with LPIPS scaling.
        heads: linear heads to use instead of the packaged ones (``(1, C_l, 1, 1)`` each).

    Returns:
        Value in ``[0, \infty)`` (in practice ~0-1.2); 0 iff identical. Lower is more similar.
    """
    _check_net(net)
    check_reduction(reduction)
    x, y = check_image_pair(x, y, channels=3)
    if extractor is None:
        from ..features import get_extractor

        extractor = get_extractor(_ARCH[net], device=x.device, normalisation="lpips")
        if x.dtype != torch.float32:  # the pretrained network is float32: compute there, return in x's dtype
            out = lpips(x.float(), y.float(), net, reduction, spatial, extractor=extractor,
                        heads=None if heads is None else [h.float() for h in heads])
            return out.to(x.dtype)
    w = list(heads) if heads is not None else lpips_heads_for(net, x.device, x.dtype)
    layers = LPIPS_LAYERS[net]
    if len(w) != len(layers):
        raise ConfigError(f"LPIPS-{net} needs {len(layers)} heads; got {len(w)}.")
    n = x.shape[0]
    # A reference broadcast with y.expand(N, ...) (stride 0) goes through the network once.
    shared_ref = n > 1 and y.stride(0) == 0
    try:
        feats = extractor(torch.cat([x, y[:1] if shared_ref else y]), layers=list(layers))
    except RuntimeError as exc:
        if "size" in str(exc).lower():
            raise ShapeError(f"Image {tuple(x.shape[-2:])} is too small for LPIPS-{net}: {exc}") from exc
        raise
    total = x.new_zeros((n, 1, *x.shape[-2:])) if spatial else x.new_zeros(n)
    for name, head in zip(layers, w, strict=True):
        f = unit_normalize(feats[name])  # (2N, C_l, H_l, W_l)
        diff = (f[:n] - f[n:]).pow(2)  # (N, C_l, H_l, W_l); f[n:] broadcasts if shared_ref
        if head.shape[1] != diff.shape[1]:
            raise ShapeError(f"LPIPS head for {name} has {head.shape[1]} channels; the features have {diff.shape[1]}.")
        d = (diff * head.to(diff.dtype)).sum(1, keepdim=True)  # (N, 1, H_l, W_l)
        if spatial:
            total = total + F.interpolate(d, size=x.shape[-2:], mode="bilinear", align_corners=False)
        else:
            total = total + d.mean((1, 2, 3))  # (N,)
    if spatial and reduction != "none":
        return total.mean(0, keepdim=True) if reduction == "mean" else total.sum(0, keepdim=True)
    return reduce(total, reduction)


class LPIPS(nn.Module):
    """Module wrapper of :func:`lpips` (backbone and heads loaded once, on first use)."""

    def __init__(self, net: str = "vgg", reduction: str = "mean", spatial: bool = False) -> None:
        super().__init__()
        _check_net(net)
        check_reduction(reduction)
        self.net, self.reduction, self.spatial = net, reduction, spatial

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return lpips(x, y, self.net, self.reduction, self.spatial)


__all__ = ["LPIPS_LAYERS", "LPIPS", "lpips", "lpips_heads_for", "unit_normalize"]
