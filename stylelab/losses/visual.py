"""What the losses look at, as pictures: feature maps, Gram heatmaps, per-layer loss tables.

Helpers for the Loss Lab page and the notebook (no Streamlit here): they run the frozen VGG16
once per image and turn its activations into things one can look at.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch

from ..errors import ConfigError
from ._checks import check_image
from .perceptual import content_loss_per_layer, gram_matrix, gram_targets, style_loss_per_layer

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd


def image_digest(image: torch.Tensor) -> str:
    """A short content hash of an image tensor (cache key for pages)."""
    t = image.detach().float().cpu().contiguous()
    return hashlib.sha1(t.numpy().tobytes() + str(tuple(t.shape)).encode()).hexdigest()[:16]


def extract_features(image: torch.Tensor, layers: Sequence[str], arch: str = "vgg16",
                     device: torch.device | str | None = None) -> dict[str, torch.Tensor]:
    """Activations ``{layer: (1, C, h, w)}`` of one image ``(3, H, W)`` (no gradients, CPU result).

    ``device``: where the network runs (default :func:`stylelab.device.get_device`).
    """
    from ..features import get_extractor
    from ..run import resolve_device

    device = resolve_device(device)
    x = check_image(image[None] if image.ndim == 3 else image, "image", channels=3)
    if not layers:
        raise ConfigError("Choose at least one layer.")
    net = get_extractor(arch, device=device)  # type: ignore[arg-type]
    with torch.no_grad():
        feats = net(x.to(device), list(layers))
    return {k: v.cpu() for k, v in feats.items()}


def feature_tiles(features: torch.Tensor, n: int = 8) -> torch.Tensor:
    """The ``n`` most active channels of ``(1, C, h, w)`` as greyscale images ``(n, 3, h, w)`` in [0, 1].

    Channels are ranked by mean activation; each is scaled by its own maximum so its pattern shows.
    """
    f = features.detach()[0]  # (C, h, w)
    order = f.mean((1, 2)).argsort(descending=True)[: max(1, min(n, f.shape[0]))]
    tiles = f[order]  # (n, h, w)
    peak = tiles.flatten(1).amax(1).clamp_min(1e-8).view(-1, 1, 1)
    return (tiles / peak).clamp(0, 1)[:, None].expand(-1, 3, -1, -1)  # (n, 3, h, w)


def gram_heatmap(features: torch.Tensor, channels: int = 32, normalize: str = "chw") -> np.ndarray:
    """Gram matrix of the first ``channels`` channels of ``(1, C, h, w)`` as a ``(c, c)`` array."""
    g = gram_matrix(features.detach()[:, :channels], normalize)[0]  # (c, c)
    return g.numpy()


def layer_report(x: torch.Tensor, content: torch.Tensor, style: torch.Tensor, layers: Sequence[str],
                 normalize: str = "chw") -> pd.DataFrame:
    """Per-layer content and style loss of image ``x`` against a content and a style image.

    All three are ``(3, H, W)`` (``style`` may have another size: Grams do not depend on
    positions). Returns a DataFrame with columns ``layer, content, style``.
    """
    import pandas as pd

    if not layers:
        raise ConfigError("Choose at least one layer.")
    fx = extract_features(x, layers)
    fc = fx if content is x else extract_features(content, layers)
    fs = extract_features(style, layers)
    c = content_loss_per_layer(fx, fc, layers)
    s = style_loss_per_layer(fx, gram_targets(fs, layers, normalize), layers, normalize)
    return pd.DataFrame({"layer": list(layers), "content": [float(c[k]) for k in layers], "style": [float(s[k]) for k in layers]})


__all__ = ["image_digest", "extract_features", "feature_tiles", "gram_heatmap", "layer_report"]
