"""Classical inpainting: no learning, only the pixels around the hole.

- **Telea** (2004, "An image inpainting technique based on the fast marching method"): fills
  the hole from its edge inwards; each new pixel is a weighted average of known neighbours,
  weighted by distance, by alignment with the edge's normal and by level-set direction.
- **Navier-Stokes** (Bertalmio, Bertozzi, Sapiro 2001): propagates the image's isophotes
  (lines of equal brightness) into the hole like a fluid's vorticity, so edges continue.
- **Biharmonic** (Damelin & Hoang 2018, scikit-image): solves :math:`\\Delta^2 u = 0` in the
  hole with the known pixels as boundary condition: the smoothest surface that fits the edge.

All three see only a thin ring around the hole: they continue colours and edges but cannot
invent texture or objects, which is what learned inpainters add.

Each function takes ``(N, 3, H, W)`` images in [0, 1] and a binary hole ``(N, 1, H, W)`` and
returns the prediction ``(N, 3, H, W)`` (compositing is done by :func:`stylelab.inpaint.inpaint`).
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import ConfigError

__all__ = ["biharmonic", "navier_stokes", "telea"]


def _opencv(image: torch.Tensor, hole: torch.Tensor, flag_name: str, radius: float) -> torch.Tensor:
    import cv2

    if radius <= 0:
        raise ConfigError(f"The inpainting radius must be positive, got {radius}.")
    flag = getattr(cv2, flag_name)
    out = []
    for x, m in zip(image, hole):
        rgb = (x.detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy() * 255.0 + 0.5).astype(np.uint8)  # (H, W, 3)
        m8 = (m[0].detach().cpu().numpy() > 0).astype(np.uint8)  # (H, W)
        filled = cv2.inpaint(np.ascontiguousarray(rgb), m8, float(radius), flag)  # (H, W, 3) uint8
        out.append(torch.from_numpy(filled.astype(np.float32) / 255.0).permute(2, 0, 1))
    return torch.stack(out).to(image.device, image.dtype)  # (N, 3, H, W)


def telea(image: torch.Tensor, hole: torch.Tensor, radius: float = 3.0) -> torch.Tensor:
    """OpenCV's Telea fast-marching inpainting (8-bit internally); ``radius`` px of context."""
    return _opencv(image, hole, "INPAINT_TELEA", radius)


def navier_stokes(image: torch.Tensor, hole: torch.Tensor, radius: float = 3.0) -> torch.Tensor:
    """OpenCV's Navier-Stokes inpainting (8-bit internally); ``radius`` px of context."""
    return _opencv(image, hole, "INPAINT_NS", radius)


def biharmonic(image: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """scikit-image's biharmonic inpainting (float64 internally, exact sparse solve per region)."""
    from skimage.restoration import inpaint_biharmonic

    out = []
    for x, m in zip(image, hole):
        arr = x.detach().double().permute(1, 2, 0).cpu().numpy()  # (H, W, 3)
        filled = inpaint_biharmonic(arr, m[0].detach().cpu().numpy() > 0, channel_axis=-1)
        out.append(torch.from_numpy(np.clip(filled, 0, 1).astype(np.float32)).permute(2, 0, 1))
    return torch.stack(out).to(image.device, image.dtype)  # (N, 3, H, W)
