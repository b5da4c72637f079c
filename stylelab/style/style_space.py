r"""The style space: a 2-D map of the learned codes, points between styles, interpolation, strength.

* **Map**: the codes :math:`z_1 \dots z_n` of every style (training and held out) projected on their
  first two principal components (PCA through the SVD of the centred codes):

  .. math::
      \bar z = \tfrac1n\textstyle\sum_i z_i, \quad Z - \mathbf 1\bar z^\top = U\Sigma V^\top, \quad
      p_i = V_{:, 1:2}^\top (z_i - \bar z) \in \mathbb{R}^2

  :func:`pca_map` (checked against scikit-learn's PCA in the tests, up to the sign of each axis).
* **A point on the map** back to a code: :math:`z(p) = \bar z + V_{:,1:2}\,p` (the code on the plane
  of the two components; :func:`point_to_code`).
* **Interpolation** :math:`(1-t)\,z_a + t\,z_b` and **strength** :math:`\alpha z_s + (1-\alpha) z_c`
  toward the content's own code :math:`z_c = E(c)`: the same linear blends as the arbitrary
  network's codes, :func:`stylelab.style.arbitrary.interpolate_codes` and
  :func:`~stylelab.style.arbitrary.with_strength` (called with this space's code size).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from ..errors import ConfigError, ShapeError


@dataclasses.dataclass
class StyleMap:
    """Codes, their 2-D coordinates and the PCA that made them."""

    names: list[str]
    codes: torch.Tensor  #: (n, d)
    coords: torch.Tensor  #: (n, 2)
    mean: torch.Tensor  #: (d,)
    components: torch.Tensor  #: (2, d), orthonormal rows
    explained: tuple[float, float]  #: share of the variance along each axis
    held_out: list[bool]

    def rows(self) -> list[dict[str, Any]]:
        """One dict per style (for a table or a chart)."""
        return [{"style": n, "x": float(p[0]), "y": float(p[1]), "held_out": h}
                for n, p, h in zip(self.names, self.coords, self.held_out)]


def pca_map(codes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, tuple[float, float]]:
    r"""First two principal components of ``codes`` ``(n, d)``, ``n >= 2``.

    Returns:
        ``(coords (n, 2), mean (d,), components (2, d), explained)``; ``explained`` is each axis's
        share of the total variance, :math:`\sigma_k^2 / \sum_j \sigma_j^2`.
    """
    if codes.ndim != 2 or codes.shape[0] < 2:
        raise ShapeError(f"A style map needs at least two codes (n, d); got {tuple(codes.shape)}.")
    z = codes.detach().double()
    mean = z.mean(0)
    _, s, vt = torch.linalg.svd(z - mean, full_matrices=False)  # vt: (min(n, d), d)
    k = min(2, vt.shape[0])
    comps = torch.zeros(2, z.shape[1], dtype=z.dtype)
    comps[:k] = vt[:k]
    var = s.pow(2)
    total = float(var.sum())
    explained = tuple(float(var[i]) / total if total > 0 and i < var.numel() else 0.0 for i in range(2))
    coords = (z - mean) @ comps.T  # (n, 2)
    return coords.float(), mean.float(), comps.float(), explained  # type: ignore[return-value]


def point_to_code(point: Sequence[float] | torch.Tensor, mean: torch.Tensor, components: torch.Tensor) -> torch.Tensor:
    r"""The code of a point on the map: :math:`\bar z + V_{:,1:2}\,p` ``(d,)``."""
    p = torch.as_tensor(point, dtype=torch.float32).reshape(-1)
    if p.numel() != 2:
        raise ShapeError(f"A point on the style map has two coordinates; got {p.numel()}.")
    if not torch.isfinite(p).all():
        raise ConfigError(f"A point on the style map must be finite; got {p.tolist()}.")
    return mean.float() + p @ components.float()


def interpolate(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    r""":math:`(1-t)\,z_a + t\,z_b`, ``t`` in [0, 1] (:func:`stylelab.style.arbitrary.interpolate_codes`)."""
    from .arbitrary import interpolate_codes

    return interpolate_codes(a, b, t, dim=a.numel())


def strength(style_code: torch.Tensor, content_code: torch.Tensor, alpha: float) -> torch.Tensor:
    r""":math:`\alpha z_s + (1-\alpha) z_c` (:func:`stylelab.style.arbitrary.with_strength`)."""
    from .arbitrary import with_strength

    return with_strength(style_code, content_code, alpha, dim=style_code.numel())


def style_picture(name: str, size: int = 256) -> torch.Tensor:
    """A bundled style picture (``painting:KEY``, ``texture:NAME``) with its longer side ``size``."""
    from ..assets import load_bundled

    return load_bundled(name, size=size)


def style_codes(model: Any, names: Sequence[str], size: int = 256) -> dict[str, torch.Tensor]:
    """The encoder's code ``(d,)`` of each bundled style, read from the whole picture at ``size`` px."""
    return {n: model.encode(style_picture(n, size))[0].cpu() for n in names}


def build_map(codes: Mapping[str, torch.Tensor], held_out: Sequence[str] = ()) -> StyleMap:
    """A :class:`StyleMap` of named codes (``held_out``: the names never seen in training)."""
    names = list(codes)
    if len(names) < 2:
        raise ConfigError("A style map needs at least two styles.")
    z = torch.stack([codes[n].reshape(-1).float() for n in names])
    coords, mean, comps, explained = pca_map(z)
    return StyleMap(names, z, coords, mean, comps, explained, [n in set(held_out) for n in names])


__all__ = ["StyleMap", "pca_map", "point_to_code", "interpolate", "strength", "style_picture", "style_codes",
           "build_map"]
