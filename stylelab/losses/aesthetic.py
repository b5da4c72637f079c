r"""Differentiable aesthetic measures of RGB images and the losses that steer an image with them.

These are the single definitions of colourfulness, contrast, saturation, brightness and exposure
in stylelab (the Aesthetics lab imports them). Inputs are RGB ``(N, 3, H, W)`` in ``[0, 1]``
(gamma-encoded sRGB, as loaded); every measure returns one value per image ``(N,)``.

* Luminance is Rec. 601 luma :math:`Y = 0.299R + 0.587G + 0.114B` on the gamma-encoded values
  (what JPEG and PIL's ``convert("L")`` use), in ``[0, 1]``.
* Colourfulness (Hasler & Suesstrunk 2003) is computed on the 0-255 scale, so its values match
  the paper's table: ~0 for grey images, ~15 slightly, ~33 moderately, ~59 quite, ~82 highly,
  >109 extremely colourful.

Loss forms RAISE a measure when minimised: ``-measure`` without a target, or the hinge
``max(0, target - measure)`` that stops pushing once the target is reached (``exposure_loss``
is the squared deviation from a target brightness).
"""

from __future__ import annotations

import torch

from ..errors import ConfigError
from ._checks import check_image, check_reduction, reduce

REC601 = (0.299, 0.587, 0.114)


def luminance(x: torch.Tensor) -> torch.Tensor:
    r"""Rec. 601 luma :math:`Y = 0.299R + 0.587G + 0.114B`: ``(N, 3, H, W)`` -> ``(N, 1, H, W)``."""
    x = check_image(x, "x", channels=3)
    w = torch.tensor(REC601, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True)  # (N, 1, H, W)


def _std(t: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Population standard deviation over all but the first dim, with a finite gradient at 0."""
    flat = t.flatten(1)
    return torch.sqrt(flat.var(1, unbiased=False) + eps)  # (N,)


def colorfulness(x: torch.Tensor) -> torch.Tensor:
    r"""Hasler & Suesstrunk (2003) colourfulness, on the 0-255 scale.

    .. math::
        rg = R - G,\quad yb = \tfrac12(R + G) - B,\quad
        M = \sqrt{\sigma_{rg}^2 + \sigma_{yb}^2} + 0.3\sqrt{\mu_{rg}^2 + \mu_{yb}^2}

    Args:
        x: ``(N, 3, H, W)`` in ``[0, 1]`` (multiplied by 255 inside).

    Returns:
        ``(N,)``, ``>= 0``: ~0 grey, ~33 moderately, > 100 extremely colourful.
    """
    x = check_image(x, "x", channels=3) * 255.0
    r, g, b = x[:, 0], x[:, 1], x[:, 2]  # (N, H, W) each
    rg = r - g
    yb = 0.5 * (r + g) - b
    sigma = torch.sqrt(_std(rg) ** 2 + _std(yb) ** 2)  # (N,)
    mu = torch.sqrt(rg.flatten(1).mean(1) ** 2 + yb.flatten(1).mean(1) ** 2 + 1e-12)  # (N,)
    return sigma + 0.3 * mu


def rms_contrast(x: torch.Tensor) -> torch.Tensor:
    r"""RMS contrast: standard deviation of the Rec. 601 luminance, :math:`\sqrt{\mathrm{Var}(Y)}`.

    Returns:
        ``(N,)`` in ``[0, 0.5]`` (0 flat; 0.5 half black, half white).
    """
    return _std(luminance(x))


def saturation(x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    r"""Mean HSV saturation :math:`S = (\max_c x_c - \min_c x_c) / (\max_c x_c + \varepsilon)`.

    Returns:
        ``(N,)`` in ``[0, 1]`` (0 for greys, 1 for pure colours).
    """
    x = check_image(x, "x", channels=3)
    mx = x.amax(1)  # (N, H, W)
    mn = x.amin(1)
    return ((mx - mn) / (mx + eps)).flatten(1).mean(1)


def brightness(x: torch.Tensor) -> torch.Tensor:
    r"""Mean Rec. 601 luminance :math:`\bar Y`, ``(N,)`` in ``[0, 1]``."""
    return luminance(x).flatten(1).mean(1)


def exposure_error(x: torch.Tensor, target: float = 0.5) -> torch.Tensor:
    r"""Squared deviation of the mean luminance from a target: :math:`(\bar Y - t)^2`, ``(N,)`` in ``[0, 1]``."""
    if not 0.0 <= target <= 1.0:
        raise ConfigError(f"Exposure target must be in [0, 1]; got {target}.")
    return (brightness(x) - target) ** 2


def clipped_fraction(x: torch.Tensor, low: float = 0.02, high: float = 0.98, soft: bool = False, sharpness: float = 200.0) -> torch.Tensor:
    r"""Fraction of pixels whose luminance is crushed to black (``Y <= low``) or blown out (``Y >= high``).

    Hard counts (default) are for reporting; ``soft=True`` replaces the step by a sigmoid of
    slope ``sharpness`` so the fractions can be used in a loss.

    Returns:
        ``(N, 2)``: ``[:, 0]`` shadows fraction, ``[:, 1]`` highlights fraction, each in ``[0, 1]``.
    """
    if not 0.0 <= low < high <= 1.0:
        raise ConfigError(f"Need 0 <= low < high <= 1; got low={low}, high={high}.")
    y = luminance(x).flatten(1)  # (N, HW)
    if soft:
        shadows = torch.sigmoid(sharpness * (low - y)).mean(1)
        highlights = torch.sigmoid(sharpness * (y - high)).mean(1)
    else:
        shadows = (y <= low).to(y.dtype).mean(1)
        highlights = (y >= high).to(y.dtype).mean(1)
    return torch.stack([shadows, highlights], 1)  # (N, 2)


def _raise_loss(measure: torch.Tensor, target: float | None, reduction: str) -> torch.Tensor:
    check_reduction(reduction)
    loss = -measure if target is None else torch.relu(target - measure)
    return reduce(loss, reduction)


def colorfulness_loss(x: torch.Tensor, target: float | None = None, reduction: str = "mean") -> torch.Tensor:
    r"""Loss that raises colourfulness: :math:`-M/100` or :math:`\max(0, t - M)/100`.

    This is THE colour term of stylelab: the Loss Lab mixing desk, the Style Studio (Gatys) and
    the Aesthetics Lab's adjustment all call it, so :math:`\lambda_{col}` means the same in each.
    Divided by 100 so the loss is O(1) like the other aesthetic terms (``target`` is on the
    paper's 0-255 scale, e.g. 60 for "quite colourful").

    Args:
        x: ``(N, 3, H, W)`` RGB in ``[0, 1]``.
        target: ``None`` for the reward :math:`-M/100`; a number for the hinge.
        reduction: over the batch (``"none"`` -> ``(N,)``).

    Returns:
        ``(-inf, 0]`` without a target (about -0.3 to -1.2 for photos), ``[0, t/100]`` with one.
    """
    m = colorfulness(x) / 100.0
    return _raise_loss(m, None if target is None else target / 100.0, reduction)


def contrast_loss(x: torch.Tensor, target: float | None = None, reduction: str = "mean") -> torch.Tensor:
    r"""Loss that raises RMS contrast: :math:`-\sigma_Y` or :math:`\max(0, t - \sigma_Y)`."""
    return _raise_loss(rms_contrast(x), target, reduction)


def saturation_loss(x: torch.Tensor, target: float | None = None, reduction: str = "mean") -> torch.Tensor:
    r"""Loss that raises mean saturation: :math:`-\bar S` or :math:`\max(0, t - \bar S)`."""
    return _raise_loss(saturation(x), target, reduction)


def exposure_loss(x: torch.Tensor, target: float = 0.5, reduction: str = "mean") -> torch.Tensor:
    r"""Loss that pulls the mean luminance to ``target``: :math:`(\bar Y - t)^2`."""
    check_reduction(reduction)
    return reduce(exposure_error(x, target), reduction)


__all__ = [
    "REC601", "luminance", "colorfulness", "rms_contrast", "saturation", "brightness", "exposure_error",
    "clipped_fraction", "colorfulness_loss", "contrast_loss", "saturation_loss", "exposure_loss",
]
