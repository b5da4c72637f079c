r"""Total variation: how much neighbouring pixels differ (a smoothness prior).

With forward differences :math:`\Delta^x_{cij} = x_{c,i,j+1} - x_{cij}` and
:math:`\Delta^y_{cij} = x_{c,i+1,j} - x_{cij}`:

* ``"l1"`` (anisotropic): :math:`\sum |\Delta^x| + \sum |\Delta^y|` (Rudin-Osher-Fatemi style);
* ``"l2"`` (squared): :math:`\sum (\Delta^x)^2 + \sum (\Delta^y)^2` (Mahendran & Vedaldi with
  beta = 2; the form used in Johnson et al.'s style networks);
* ``"isotropic"``: :math:`\sum_{cij} \sqrt{(\Delta^x_{cij})^2 + (\Delta^y_{cij})^2 + \varepsilon}`
  over the ``(H-1) x (W-1)`` positions where both differences exist. The square root of 0 has
  an infinite derivative, so ``eps`` keeps the gradient finite on flat regions.

Convention: the sum runs over channels and pixels of each image (a per-image SUM, not a mean,
so the value grows with image size), then ``reduction`` acts over the batch.

``per_pixel=True`` divides that sum by the number of pixel positions :math:`HW` (NOT by
:math:`CHW`: the channels are summed, not averaged), so one weight :math:`\lambda_{TV}` means the
same at every image size. This is THE per-pixel TV of stylelab: the Loss Lab mixing desk, the
Style Studio (Gatys), the fast-style trainer and the ``compare`` command all call it, so a weight
or a value read in one lab means the same in another.
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import ConfigError, ShapeError
from ._checks import check_image, check_reduction, reduce

TV_NORMS = ("l1", "l2", "isotropic")


def total_variation(x: torch.Tensor, norm: str = "l2", reduction: str = "mean", eps: float = 1e-8,
                    per_pixel: bool = False) -> torch.Tensor:
    r"""Total variation of each image (sum over channels and pixels; divided by ``H W`` if ``per_pixel``).

    .. math::
        TV_{l1}(x) = \sum_{c,i,j} |x_{c,i,j+1} - x_{c,i,j}| + |x_{c,i+1,j} - x_{c,i,j}|

    and likewise squared (``"l2"``) or :math:`\sqrt{\Delta_x^2 + \Delta_y^2 + \varepsilon}`
    (``"isotropic"``); see the module docstring. ``per_pixel=True`` returns
    :math:`TV(x) / (HW)` for ``x`` of shape ``(N, C, H, W)``.

    Args:
        x: images ``(N, C, H, W)`` with ``H, W >= 2``.
        norm: ``"l1"``, ``"l2"`` or ``"isotropic"``.
        reduction: ``"none"`` -> ``(N,)``; ``"mean"`` / ``"sum"`` over the batch -> scalar.
        eps: added under the square root of the isotropic form.
        per_pixel: divide each image's sum by ``H * W`` (pixel positions; channels are summed).

    Returns:
        Value in ``[0, \infty)``; 0 for a constant image with ``"l1"``/``"l2"``
        (``C (H-1)(W-1) \sqrt{\varepsilon}`` for ``"isotropic"``).

    Examples:
        >>> x = torch.zeros(1, 1, 3, 3); x[..., 1:] = 1.0  # one vertical edge, 3 rows
        >>> total_variation(x, "l1").item()
        3.0
        >>> total_variation(x, "l1", per_pixel=True).item()  # 3 / (3 * 3)
        0.3333333432674408
    """
    if norm not in TV_NORMS:
        raise ConfigError(f"Unknown TV norm {norm!r}; choose one of {TV_NORMS}.")
    check_reduction(reduction)
    x = check_image(x, "x")
    if min(x.shape[-2:]) < 2:
        raise ShapeError(f"Total variation needs images at least 2x2; got {tuple(x.shape[-2:])}.")
    dx = x[..., :, 1:] - x[..., :, :-1]  # (N, C, H, W-1)
    dy = x[..., 1:, :] - x[..., :-1, :]  # (N, C, H-1, W)
    if norm == "l1":
        per_image = dx.abs().flatten(1).sum(1) + dy.abs().flatten(1).sum(1)  # (N,)
    elif norm == "l2":
        per_image = dx.pow(2).flatten(1).sum(1) + dy.pow(2).flatten(1).sum(1)
    else:
        mag = torch.sqrt(dx[..., :-1, :].pow(2) + dy[..., :, :-1].pow(2) + eps)  # (N, C, H-1, W-1)
        per_image = mag.flatten(1).sum(1)
    if per_pixel:
        per_image = per_image / float(x.shape[-2] * x.shape[-1])
    return reduce(per_image, reduction)


class TotalVariation(nn.Module):
    """Module wrapper of :func:`total_variation`."""

    def __init__(self, norm: str = "l2", reduction: str = "mean", eps: float = 1e-8, per_pixel: bool = False) -> None:
        super().__init__()
        if norm not in TV_NORMS:
            raise ConfigError(f"Unknown TV norm {norm!r}; choose one of {TV_NORMS}.")
        check_reduction(reduction)
        self.norm, self.reduction, self.eps, self.per_pixel = norm, reduction, eps, per_pixel

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return total_variation(x, self.norm, self.reduction, self.eps, self.per_pixel)


__all__ = ["TV_NORMS", "total_variation", "TotalVariation"]
