"""One interface to every inpainting method: ``inpaint(image, mask, method=...)``.

Every method receives the same inputs (mask convention in :mod:`stylelab.inpaint.masks`) and
the result is always composited the same way,

.. math::
    y = m \\odot \\hat x + (1 - m) \\odot x,

so a known pixel (``m = 0``) is never changed, whatever the method does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ..errors import ConfigError
from .masks import as_batch, composite, hole

__all__ = ["METHODS", "MethodSpec", "inpaint", "predict"]


@dataclass(frozen=True)
class MethodSpec:
    """A method: short name, label for pickers, family and one line on what it does."""

    name: str
    label: str
    family: str  # "classical" | "optimisation" | "learned"
    summary: str


METHODS: dict[str, MethodSpec] = {
    "telea": MethodSpec("telea", "Telea (fast marching)", "classical",
                        "Fills from the edge inwards with weighted averages of known neighbours."),
    "ns": MethodSpec("ns", "Navier-Stokes", "classical",
                     "Continues lines of equal brightness into the hole, like a fluid flow."),
    "biharmonic": MethodSpec("biharmonic", "Biharmonic", "classical",
                             "The smoothest surface (bi-Laplacian = 0) that fits the hole's edge."),
    "dip": MethodSpec("dip", "Deep Image Prior", "optimisation",
                      "An untrained U-Net fitted to this one image's known pixels."),
    "unet": MethodSpec("unet", "Trained U-Net", "learned",
                       "A U-Net trained on many crops to map (masked image, mask) to the image."),
    "gated": MethodSpec("gated", "Gated refiner", "learned",
                        "Gated convolutions with a dilated and Fourier bottleneck refine Telea's fill."),
}


def predict(image: torch.Tensor, mask: torch.Tensor, method: str = "telea", **options: Any) -> torch.Tensor:
    """The method's raw prediction ``(N, 3, H, W)`` for batched, validated inputs.

    Options by method: ``telea``/``ns``: ``radius``; ``dip``: ``config`` (:class:`DIPConfig`),
    ``callback``, ``stop``, ``device``; ``unet``: ``model`` (an :class:`Inpainter`) or
    ``checkpoint`` (shipped name or path).
    """
    from . import classical

    hm = hole(mask)  # (N, 1, H, W) binary
    if method == "telea":
        return classical.telea(image, hm, **options)
    if method == "ns":
        return classical.navier_stokes(image, hm, **options)
    if method == "biharmonic":
        return classical.biharmonic(image, hm, **options)
    if method == "dip":
        from .dip import deep_image_prior

        return torch.cat([deep_image_prior(x[None], m[None], **options) for x, m in zip(image, mask)])
    if method == "unet":
        from .model import load_inpainter

        model = options.pop("model", None)
        if model is None:
            model = load_inpainter(options.pop("checkpoint", default_checkpoint()))
        if options:
            raise ConfigError(f"Unknown options for the U-Net: {sorted(options)}.")
        return model.predict(image, mask)
    if method == "gated":
        from .gated_model import SHIPPED_GATED, load_gated

        model = options.pop("model", None)
        if model is None:
            model = load_gated(options.pop("checkpoint", SHIPPED_GATED))
        if options:
            raise ConfigError(f"Unknown options for the gated inpainter: {sorted(options)}.")
        return model.predict(image, mask)
    raise ConfigError(f"Unknown inpainting method {method!r}; choose one of {list(METHODS)}.")


#: methods that run a trained network (crop-to-mask helps them on large images), and their trained scale
CROP_SCALE = {"gated": 128, "unet": 128}


def inpaint(image: torch.Tensor, mask: torch.Tensor, method: str = "telea", crop: bool | None = None,
            **options: Any) -> torch.Tensor:
    """Fill the hole of ``image`` with ``method``; known pixels are returned unchanged.

    Args:
        image: ``(3, H, W)`` or ``(N, 3, H, W)`` float in [0, 1].
        mask: ``(1, H, W)`` or ``(N, 1, H, W)``, 1 = hole (soft values blend at a feathered edge).
        method: one of :data:`METHODS` (``telea``, ``ns``, ``biharmonic``, ``dip``, ``unet``).
        crop: crop-to-mask (:func:`stylelab.inpaint.crop.inpaint_cropped`): fill each hole region inside a
            window around it at the trained scale and paste back only the hole's pixels. None (default):
            on for the trained networks (:data:`CROP_SCALE`) when the image is larger than twice that scale.
        **options: passed to the method (see :func:`predict`).

    Returns:
        The inpainted image, same shape as ``image``.

    Raises:
        ShapeError: mask and image differ in size; ConfigError: empty or full mask, unknown
        method; CheckpointError: an unusable U-Net checkpoint.
    """
    if method not in METHODS:
        raise ConfigError(f"Unknown inpainting method {method!r}; choose one of {list(METHODS)}.")
    x, m, squeezed = as_batch(image, mask)
    scale = CROP_SCALE.get(method, 128)
    if crop is None:
        crop = method in CROP_SCALE and max(x.shape[-2:]) > 2 * scale
    if crop:
        from .crop import inpaint_cropped

        options = _loaded(method, dict(options))  # load the network once, not once per window
        def fill(win: torch.Tensor, win_mask: torch.Tensor) -> torch.Tensor:
            return predict(win, win_mask, method, **dict(options)).to(win.device, win.dtype)

        out = torch.stack([inpaint_cropped(xi, mi, fill, scale=scale) for xi, mi in zip(x, m)])
    else:
        pred = predict(x, m, method, **options).to(x.device, x.dtype)  # (N, 3, H, W)
        out = composite(pred, x, m)
    return out[0] if squeezed else out


def _loaded(method: str, options: dict[str, Any]) -> dict[str, Any]:
    """``options`` with the trained network of ``method`` loaded under ``"model"`` (if it has one)."""
    if method in ("gated", "unet") and options.get("model") is None:
        if method == "gated":
            from .gated_model import SHIPPED_GATED, load_gated

            options["model"] = load_gated(options.pop("checkpoint", SHIPPED_GATED))
        else:
            from .model import load_inpainter

            options["model"] = load_inpainter(options.pop("checkpoint", default_checkpoint()))
    return options


def default_checkpoint() -> str:
    """The shipped inpainter used when none is named (the best on held-out LPIPS in the hole)."""
    from .model import list_checkpoints

    names = list_checkpoints()
    if not names:
        raise ConfigError("No trained inpainter is shipped in stylelab/inpaint/checkpoints/.")
    for preferred in ("unet64-mse+ssim+perceptual+ring", "unet64-mse+ssim+perceptual-long",
                      "unet64-mse+ssim+perceptual+adv", "unet64-mse+ssim+perceptual", "unet64-mse+ssim", "unet64-mse"):
        if preferred in names:
            return preferred
    return names[0]

