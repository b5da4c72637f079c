r"""Composition: where the eye goes (saliency) and how that place sits in the frame.

* :func:`spectral_residual_saliency` (Hou & Zhang 2007): the parts of the log-amplitude spectrum
  that a smooth spectrum does not predict are the "unexpected", salient parts of the image.
* :func:`rule_of_thirds`: the distance of the salient mass (its centroid) and of the saliency peak
  to the nearest *power point* (the crossings of the thirds lines), turned into a score with the
  Gaussian of Liu et al. 2010 (:math:`\sigma = 0.17` in frame units).
* :func:`balance`: how centred the visual weight is, left to right.
* :func:`symmetry`: correlation of the image with its mirror image.

Frame coordinates are normalised: ``x`` from left (0) to right (1), ``y`` from top (0) to bottom (1).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

from ..losses.aesthetic import luminance
from .inputs import as_batch

#: Side (px) of the small copy the saliency and symmetry are computed on (Hou & Zhang use 64).
SALIENCY_SIDE = 64
#: Gaussian blur of the saliency map, in px of the 64-px copy.
SALIENCY_BLUR = 2.5
#: Width of the Gaussian that turns distances to power points into scores (Liu et al. 2010).
THIRDS_SIGMA = 0.17
#: The four power points (x, y).
POWER_POINTS = ((1 / 3, 1 / 3), (2 / 3, 1 / 3), (1 / 3, 2 / 3), (2 / 3, 2 / 3))
#: Half-width of the band around a thirds line that counts as "on the line" (frame units).
LINE_BAND = 1 / 12


def small_luma(x: torch.Tensor, side: int = SALIENCY_SIDE) -> torch.Tensor:
    """Luma resized so its longer side is ``side`` px: ``(N, 1, h, w)``."""
    y = luminance(as_batch(x)).float()  # (N, 1, H, W)
    h, w = y.shape[-2:]
    scale = side / max(h, w)
    size = (max(1, round(h * scale)), max(1, round(w * scale)))
    return F.interpolate(y, size=size, mode="bilinear", antialias=scale < 1, align_corners=False)


def _gaussian_blur(y: torch.Tensor, sigma: float) -> torch.Tensor:
    r = max(1, int(3 * sigma))
    t = torch.arange(-r, r + 1, dtype=y.dtype, device=y.device)
    g = torch.exp(-(t**2) / (2 * sigma**2))
    g = g / g.sum()
    y = F.conv2d(F.pad(y, (r, r, 0, 0), mode="replicate"), g.view(1, 1, 1, -1))
    return F.conv2d(F.pad(y, (0, 0, r, r), mode="replicate"), g.view(1, 1, -1, 1))


def spectral_residual_saliency(x: torch.Tensor, side: int = SALIENCY_SIDE, blur: float = SALIENCY_BLUR) -> torch.Tensor:
    r"""Spectral-residual saliency map (Hou & Zhang 2007).

    .. math::
        A(f) = \log|\mathcal F[Y](f)|,\quad R(f) = A(f) - (h_3 * A)(f),\quad
        S = g_\sigma * \big|\mathcal F^{-1}[e^{R(f) + iP(f)}]\big|^2

    with :math:`P` the phase, :math:`h_3` a 3x3 mean filter and :math:`g_\sigma` a Gaussian,
    computed on a copy whose longer side is ``side`` px, then resized back to the image size.

    Args:
        x: ``(3, H, W)`` or ``(N, 3, H, W)`` in [0, 1].

    Returns:
        ``(N, H, W)`` in [0, 1] (min-max normalised per image). A flat image has no salient place:
        its map is uniformly 1.
    """
    xb = as_batch(x)
    y = small_luma(xb, side)  # (N, 1, h, w)
    h, w = y.shape[-2:]
    # the FFT sees the image as periodic: mirror-pad so the wrap-around adds no fake edges at the border
    ph, pw = min(h - 1, max(1, h // 4)), min(w - 1, max(1, w // 4))
    yp = F.pad(y, (pw, pw, ph, ph), mode="reflect") if min(h, w) > 1 else y
    spec = torch.fft.fft2(yp.double())
    log_amp = torch.log(spec.abs() + 1e-9)
    phase = torch.angle(spec)
    smooth = F.avg_pool2d(F.pad(log_amp, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    residual = log_amp - smooth  # (N, 1, h, w)
    sal = torch.fft.ifft2(torch.exp(torch.complex(residual, phase))).abs() ** 2
    sal = _gaussian_blur(sal.float(), blur)
    if yp is not y:
        sal = sal[..., ph:ph + h, pw:pw + w]  # (N, 1, h, w)
    lo = sal.amin(dim=(2, 3), keepdim=True)
    hi = sal.amax(dim=(2, 3), keepdim=True)
    flat = y.flatten(1).std(dim=1, unbiased=False).view(-1, 1, 1, 1) < 1e-6  # nothing stands out
    sal = torch.where(flat, torch.ones_like(sal), (sal - lo) / (hi - lo).clamp_min(1e-12))
    sal = F.interpolate(sal, size=xb.shape[-2:], mode="bilinear", align_corners=False)
    return sal[:, 0].clamp(0, 1)  # (N, H, W)


def _grid(h: int, w: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    ys = (torch.arange(h, device=device, dtype=torch.float32) + 0.5) / h
    xs = (torch.arange(w, device=device, dtype=torch.float32) + 0.5) / w
    return torch.meshgrid(ys, xs, indexing="ij")  # (H, W) each


def saliency_centroid(saliency: torch.Tensor) -> torch.Tensor:
    r"""Centre of the salient mass :math:`\bar{\mathbf p} = \sum_p S(p)\,\mathbf p / \sum_p S(p)`: ``(N, H, W)`` -> ``(N, 2)`` (x, y)."""
    gy, gx = _grid(*saliency.shape[-2:], saliency.device)
    mass = saliency.flatten(1).sum(1).clamp_min(1e-12)  # (N,)
    cx = (saliency * gx).flatten(1).sum(1) / mass
    cy = (saliency * gy).flatten(1).sum(1) / mass
    return torch.stack([cx, cy], dim=1)  # (N, 2)


def _nearest_power_point_distance(points: torch.Tensor) -> torch.Tensor:
    pp = torch.tensor(POWER_POINTS, dtype=points.dtype, device=points.device)  # (4, 2)
    return torch.cdist(points, pp).amin(dim=1)  # (N,)


class RuleOfThirds(NamedTuple):
    """Rule-of-thirds analysis of a batch (all in frame units)."""

    centroid: torch.Tensor  #: (N, 2) centre of the salient mass (x, y)
    peak: torch.Tensor  #: (N, 2) position of the saliency maximum (x, y)
    centroid_distance: torch.Tensor  #: (N,) centroid to the nearest power point
    peak_distance: torch.Tensor  #: (N,) peak to the nearest power point
    line_mass: torch.Tensor  #: (N,) fraction of the salient mass within 1/12 of a thirds line
    score: torch.Tensor  #: (N,) in (0, 1]


def thirds_term(distance: torch.Tensor, sigma: float = THIRDS_SIGMA) -> torch.Tensor:
    r"""Liu et al. (2010) closeness to a power point: :math:`e^{-D^2 / (2\sigma^2)}`, 1 on the point."""
    return torch.exp(-(distance**2) / (2 * sigma**2))


def rule_of_thirds(x: torch.Tensor, saliency: torch.Tensor | None = None) -> RuleOfThirds:
    r"""How well the salient content sits on the thirds.

    .. math::
        \mathrm{thirds} = \tfrac12\Big(e^{-D_c^2/2\sigma^2} + e^{-D_p^2/2\sigma^2}\Big),\quad \sigma = 0.17

    :math:`D_c` (:math:`D_p`) is the distance of the saliency centroid (peak) to the nearest power
    point, in frame units. 1 = both on a power point; a centred subject scores about 0.4; a subject in
    a corner about 0.02.

    Args:
        x: ``(3, H, W)`` or ``(N, 3, H, W)`` in [0, 1].
        saliency: a precomputed ``(N, H, W)`` map (default: :func:`spectral_residual_saliency`).
    """
    s = spectral_residual_saliency(x) if saliency is None else saliency
    n, h, w = s.shape
    centroid = saliency_centroid(s)  # (N, 2)
    flat_idx = s.flatten(1).argmax(dim=1)  # (N,)
    peak = torch.stack([(flat_idx % w + 0.5) / w, (flat_idx // w + 0.5) / h], dim=1).to(centroid.dtype)
    d_c = _nearest_power_point_distance(centroid)
    d_p = _nearest_power_point_distance(peak)
    gy, gx = _grid(h, w, s.device)
    to_line = torch.minimum((gx - 1 / 3).abs().minimum((gx - 2 / 3).abs()),
                            (gy - 1 / 3).abs().minimum((gy - 2 / 3).abs()))  # (H, W)
    band = (to_line <= LINE_BAND).to(s.dtype)
    line_mass = (s * band).flatten(1).sum(1) / s.flatten(1).sum(1).clamp_min(1e-12)
    score = 0.5 * (thirds_term(d_c) + thirds_term(d_p))
    return RuleOfThirds(centroid, peak, d_c, d_p, line_mass, score)


def thirds_score(x: torch.Tensor) -> torch.Tensor:
    """The rule-of-thirds score of :func:`rule_of_thirds`: ``(N,)`` in (0, 1], higher = closer to the thirds."""
    return rule_of_thirds(x).score


def balance(x: torch.Tensor, saliency: torch.Tensor | None = None) -> torch.Tensor:
    r"""Left-right visual balance: :math:`B = 1 - 2\,|\bar x - \tfrac12|`, :math:`\bar x` the saliency centroid.

    Returns:
        ``(N,)`` in [0, 1]: 1 when the visual weight is centred left to right (a lone subject in
        the middle, or two equal subjects on either side); 0 when it all sits on one edge.
        It pulls against the rule of thirds, which wants the subject off-centre.
    """
    s = spectral_residual_saliency(x) if saliency is None else saliency
    return 1.0 - 2.0 * (saliency_centroid(s)[:, 0] - 0.5).abs()


def symmetry(x: torch.Tensor) -> torch.Tensor:
    r"""Mirror symmetry: Pearson correlation of the (64 px, blurred) luma with its left-right mirror.

    .. math:: \mathrm{sym} = \frac{\mathrm{cov}(Y, \overleftarrow{Y})}{\sigma_Y\,\sigma_{\overleftarrow{Y}}}

    Returns:
        ``(N,)`` in [-1, 1]: 1 for a mirror-symmetric image (and, by definition, a flat one),
        about 0 for unrelated halves, -1 for e.g. a left-dark, right-bright split.
    """
    y = _gaussian_blur(small_luma(x), 1.0).flatten(1).double()  # (N, hw)
    m = _gaussian_blur(small_luma(x), 1.0).flip(-1).flatten(1).double()
    y, m = y - y.mean(1, keepdim=True), m - m.mean(1, keepdim=True)
    den = (y.norm(dim=1) * m.norm(dim=1))
    corr = (y * m).sum(1) / den.clamp_min(1e-12)
    return torch.where(den <= 1e-9, torch.ones_like(corr), corr).float()


__all__ = [
    "POWER_POINTS", "RuleOfThirds", "balance", "rule_of_thirds", "saliency_centroid",
    "spectral_residual_saliency", "symmetry", "thirds_score", "thirds_term",
]
