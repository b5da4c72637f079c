"""Every applicable loss and metric between two images: the engine of ``python -m stylelab compare``.

:func:`pair_metrics` computes a chosen set of measures for a batch of image pairs, sharing one
VGG16 pass between the content and style losses; :func:`compare` does it for two images of
any size (resizing them to a common size and saying so).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..errors import ConfigError
from ._checks import check_image_pair
from .lpips import lpips
from .perceptual import DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS, content_loss, gram_targets, style_loss
from .pixel import l1, mse, psnr
from .ssim import ms_ssim, ssim
from .tv import total_variation

#: Keys of :func:`compare` (the ``compare`` command prints all of them).
COMPARE_METRICS = ("mse", "l1", "psnr", "ssim", "ms_ssim", "lpips_vgg", "lpips_alex", "content", "style", "tv_a", "tv_b")
#: Every key :func:`pair_metrics` understands.
PAIR_METRICS = COMPARE_METRICS + ("tv",)


def pair_metrics(x: torch.Tensor, y: torch.Tensor, metrics: Sequence[str] = COMPARE_METRICS) -> dict[str, torch.Tensor]:
    """Per-pair values ``{metric: (N,)}`` between ``x`` and the reference ``y`` (no gradients).

    ``content`` is :func:`content_loss` at ``DEFAULT_CONTENT_LAYERS`` (VGG16 relu4_2), ``style``
    is :func:`style_loss` over ``DEFAULT_STYLE_LAYERS`` with ``y``'s Grams as the target;
    ``tv_a``/``tv_b`` are the squared-L2 total variation of ``x`` / ``y`` per pixel
    (``total_variation(., "l2", per_pixel=True)``, i.e. divided by ``H W`` as in every lab) so
    images of any size compare; ``tv`` is
    ``TV(x) / TV(y)``.
    """
    unknown = [m for m in metrics if m not in PAIR_METRICS]
    if unknown:
        raise ConfigError(f"Unknown metric(s) {unknown}; choose from {PAIR_METRICS}.")
    x, y = check_image_pair(x, y, channels=3)
    out: dict[str, torch.Tensor] = {}
    with torch.no_grad():
        simple = {"mse": mse, "l1": l1, "psnr": psnr, "ssim": ssim, "ms_ssim": ms_ssim}
        for m in metrics:
            if m in simple:
                out[m] = simple[m](x, y, reduction="none")
            elif m == "lpips_vgg":
                out[m] = lpips(x, y, "vgg", reduction="none")
            elif m == "lpips_alex":
                out[m] = lpips(x, y, "alex", reduction="none")
        if "content" in metrics or "style" in metrics:
            from ..features import get_extractor

            net = get_extractor("vgg16", device=x.device)
            layers = list(dict.fromkeys(DEFAULT_CONTENT_LAYERS + DEFAULT_STYLE_LAYERS))
            shared_ref = len(x) > 1 and y.stride(0) == 0  # y = ref.expand(N, ...): one pass for it
            feats = net(torch.cat([x, y[:1] if shared_ref else y]), layers)
            fx = {k: v[: len(x)] for k, v in feats.items()}
            fy = {k: v[len(x):] for k, v in feats.items()}  # (1 or N, C, H, W); broadcasts
            if "content" in metrics:
                out["content"] = content_loss(fx, fy, DEFAULT_CONTENT_LAYERS, reduction="none")
            if "style" in metrics:
                out["style"] = style_loss(fx, gram_targets(fy, DEFAULT_STYLE_LAYERS), reduction="none")
        tv_x = total_variation(x, "l2", reduction="none", per_pixel=True)  # (N,)
        tv_y = total_variation(y, "l2", reduction="none", per_pixel=True)
        if "tv_a" in metrics:
            out["tv_a"] = tv_x
        if "tv_b" in metrics:
            out["tv_b"] = tv_y
        if "tv" in metrics:
            out["tv"] = tv_x / tv_y.clamp_min(1e-12)
    return {m: out[m] for m in metrics}


def match_sizes(a: torch.Tensor, b: torch.Tensor, size: int | None = None) -> tuple[torch.Tensor, torch.Tensor, str | None]:
    """Bring two ``(3, H, W)`` images to one size.

    With ``size`` both are resized so their longer side is ``size`` and then ``b`` to ``a``'s
    exact shape; without it, ``b`` is resized to ``a``'s shape when they differ.

    Returns:
        ``(a, b, note)``, ``note`` saying what was resized (None when nothing was).
    """
    from ..imageio import resize_tensor

    notes = []
    if size is not None:
        if size < 16:
            raise ConfigError(f"--size must be at least 16 pixels; got {size}.")
        if max(a.shape[-2:]) != size:
            notes.append(f"A resized from {tuple(a.shape[-2:])} to longer side {size}")
            a = resize_tensor(a, size)
    if a.shape != b.shape:
        notes.append(f"B resized from {tuple(b.shape[-2:])} to {tuple(a.shape[-2:])} to match A")
        b = resize_tensor(b, tuple(a.shape[-2:]))
    return a, b, ("; ".join(notes) or None)


def compare(a: torch.Tensor, b: torch.Tensor, size: int | None = None, metrics: Sequence[str] = COMPARE_METRICS) -> dict[str, object]:
    """All :data:`COMPARE_METRICS` between two RGB images ``(3, H, W)`` in ``[0, 1]``.

    Returns:
        ``{"metrics": {name: float}, "size": [H, W], "resized": note or None}``.
    """
    a, b, note = match_sizes(a, b, size)
    values = pair_metrics(a[None], b[None], metrics)
    return {"metrics": {k: float(v[0]) for k, v in values.items()}, "size": list(a.shape[-2:]), "resized": note}


__all__ = ["COMPARE_METRICS", "PAIR_METRICS", "pair_metrics", "match_sizes", "compare"]
