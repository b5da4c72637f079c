r"""The losses of a cycle-consistent GAN (Zhu et al. 2017, "CycleGAN"), one function per term.

Two domains X and Y, two generators :math:`G: X \to Y` and :math:`F: Y \to X`, two
discriminators :math:`D_Y` (is this a real y?) and :math:`D_X` (is this a real x?). The full
objective of the generators is

.. math::
    \mathcal{L}(G, F) = \mathcal{L}_{adv}(G, D_Y) + \mathcal{L}_{adv}(F, D_X)
        + \lambda_{cyc}\,\mathcal{L}_{cyc}(G, F) + \lambda_{id}\,\mathcal{L}_{id}(G, F)

with

.. math::
    \mathcal{L}_{cyc} = \mathbb{E}_x\big[\tfrac1D\|F(G(x)) - x\|_1\big] + \mathbb{E}_y\big[\tfrac1D\|G(F(y)) - y\|_1\big],
    \qquad
    \mathcal{L}_{id} = \mathbb{E}_y\big[\tfrac1D\|G(y) - y\|_1\big] + \mathbb{E}_x\big[\tfrac1D\|F(x) - x\|_1\big]

(``D`` = the number of values in one sample: 2 for a point, ``C*H*W`` for an image, so the
L1 norm is a per-value mean, as ``torch.nn.L1Loss`` in the authors' code). The adversarial terms
are NOT written here: they are :func:`stylelab.losses.adversarial.generator_loss` /
:func:`~stylelab.losses.adversarial.discriminator_loss` (CycleGAN uses the least-squares form,
``kind="lsgan"``), called by :func:`cycle_generator_objective`.

Why the cycle term: the adversarial terms alone only ask that G's outputs *as a set* look like Y.
Any map that scatters X onto Y satisfies them; nothing ties G(x) to x. Asking F to bring every
G(x) back to x forces G to keep enough of x to undo it (G must be close to invertible), so a
digit's identity survives its trip through the clothing domain. With :math:`\lambda_{cyc} = 0`
the round trip F(G(x)) is free to land anywhere in X.

Why the identity term: where a sample of Y fed to G is already "in Y", G should leave it alone.
It keeps colours and tints in photo <-> painting translation; it is optional (``lambda_id = 0``)
where the two domains share no images (digits and clothes).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import ConfigError, ShapeError
from ..losses._checks import check_finite, check_reduction, check_tensor, reduce
from ..losses.adversarial import generator_loss


def _pair(a: object, b: object, names: tuple[str, str]) -> tuple[torch.Tensor, torch.Tensor]:
    a = check_finite(check_tensor(a, names[0]), names[0])
    b = check_finite(check_tensor(b, names[1]), names[1])
    if a.shape != b.shape:
        raise ShapeError(f"{names[0]} and {names[1]} must have the same shape; got {tuple(a.shape)} and {tuple(b.shape)}.")
    if a.ndim < 2 or a.shape[0] == 0 or a[0].numel() == 0:
        raise ShapeError(f"{names[0]} must be a non-empty batch (N, ...) such as points (N, 2) or images (N, C, H, W); "
                         f"got {tuple(a.shape)}.")
    return a, b


def _mean_abs(a: object, b: object, names: tuple[str, str], reduction: str) -> torch.Tensor:
    """The per-value L1 distance of each sample, (1/D) ||a_n - b_n||_1 ``(N,)``, then reduced over the batch."""
    check_reduction(reduction)
    a, b = _pair(a, b, names)
    return reduce((b - a).abs().flatten(1).mean(1), reduction)  # (N,) -> reduction


def _weight(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0.0 <= float(value) < float("inf")):
        raise ConfigError(f"{name} must be a finite number >= 0, got {value!r}.")
    return float(value)


def cycle_loss(x: torch.Tensor, x_cycled: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    r"""Cycle-consistency loss of one direction: :math:`\mathbb{E}_x\big[\tfrac1D\|F(G(x)) - x\|_1\big]`.

    Args:
        x: ``(N, ...)`` the samples of X (points ``(N, 2)`` or images ``(N, C, H, W)``).
        x_cycled: ``(N, ...)`` the same samples after the round trip, ``F(G(x))``.
        reduction: ``"mean"`` (default), ``"sum"`` over the batch, or ``"none"`` for ``(N,)``.

    Returns:
        Scalar (or ``(N,)``) >= 0; 0 exactly when every sample comes back where it started.

    Examples:
        >>> x = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
        >>> float(cycle_loss(x, x + torch.tensor([[0.5, -0.5], [0.0, 1.0]])))  # ((0.5+0.5)/2 + (0+1)/2) / 2
        0.5
    """
    return _mean_abs(x, x_cycled, ("x", "x_cycled"), reduction)


def identity_loss(y: torch.Tensor, g_of_y: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    r"""Identity loss of one generator: :math:`\mathbb{E}_y\big[\tfrac1D\|G(y) - y\|_1\big]` (G: X -> Y fed a real y).

    Args:
        y: ``(N, ...)`` samples of the generator's OUTPUT domain.
        g_of_y: ``(N, ...)`` the generator applied to them, ``G(y)``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.

    Returns:
        Scalar (or ``(N,)``) >= 0; 0 when G leaves samples of its own target domain unchanged.
    """
    return _mean_abs(y, g_of_y, ("y", "g_of_y"), reduction)


@dataclass
class CycleTerms:
    """The generators' objective and its parts (each a scalar tensor; ``total`` carries the graph)."""

    total: torch.Tensor
    adv_g: torch.Tensor  # L_adv(G, D_Y): G's outputs judged by D_Y
    adv_f: torch.Tensor  # L_adv(F, D_X)
    cycle_x: torch.Tensor  # E |F(G(x)) - x|
    cycle_y: torch.Tensor  # E |G(F(y)) - y|
    identity: torch.Tensor  # E |G(y) - y| + E |F(x) - x| (0 when lambda_id = 0 and it was not computed)

    def row(self) -> dict[str, float]:
        """The parts as plain floats (one training row)."""
        return {"loss_g_total": float(self.total.detach()), "adv_g": float(self.adv_g), "adv_f": float(self.adv_f),
                "cycle_x": float(self.cycle_x), "cycle_y": float(self.cycle_y), "identity": float(self.identity)}


def cycle_generator_objective(
    d_y_of_gx: torch.Tensor,
    d_x_of_fy: torch.Tensor,
    x: torch.Tensor,
    x_cycled: torch.Tensor,
    y: torch.Tensor,
    y_cycled: torch.Tensor,
    lambda_cyc: float = 10.0,
    lambda_id: float = 0.0,
    g_of_y: torch.Tensor | None = None,
    f_of_x: torch.Tensor | None = None,
    kind: str = "lsgan",
) -> CycleTerms:
    r"""The objective both generators minimise together (Zhu et al. 2017, eq. 3 plus the identity term).

    .. math::
        \mathcal{L}_{G,F} = \mathcal{L}_G^{adv}(D_Y(G(x))) + \mathcal{L}_G^{adv}(D_X(F(y)))
            + \lambda_{cyc}\big(\mathbb{E}\tfrac1D\|F(G(x)) - x\|_1 + \mathbb{E}\tfrac1D\|G(F(y)) - y\|_1\big)
            + \lambda_{id}\big(\mathbb{E}\tfrac1D\|G(y) - y\|_1 + \mathbb{E}\tfrac1D\|F(x) - x\|_1\big)

    :math:`\mathcal{L}_G^{adv}` is :func:`stylelab.losses.adversarial.generator_loss` of ``kind``
    (LSGAN: :math:`\tfrac12\mathbb{E}[(d_f - 1)^2]`).

    Args:
        d_y_of_gx: ``(N,)`` (or patch logits ``(N, ...)``) D_Y's logits on ``G(x)``.
        d_x_of_fy: ``(M,)`` D_X's logits on ``F(y)``.
        x, x_cycled: ``(N, ...)`` real x and ``F(G(x))``.
        y, y_cycled: ``(M, ...)`` real y and ``G(F(y))``.
        lambda_cyc: weight of the cycle term (10 in the paper; 0 switches it off).
        lambda_id: weight of the identity term (0.5 * lambda_cyc in the paper's photo <-> painting runs).
        g_of_y, f_of_x: ``G(y)`` and ``F(x)``; needed when ``lambda_id > 0``.
        kind: the adversarial loss (one of :data:`stylelab.losses.adversarial.ADVERSARIAL_LOSSES`).

    Returns:
        :class:`CycleTerms` (``total`` to back-propagate, the parts for the curves).
    """
    lambda_cyc = _weight(lambda_cyc, "lambda_cyc")
    lambda_id = _weight(lambda_id, "lambda_id")
    adv_g = generator_loss(d_y_of_gx, kind, check=False)
    adv_f = generator_loss(d_x_of_fy, kind, check=False)
    cyc_x = cycle_loss(x, x_cycled)
    cyc_y = cycle_loss(y, y_cycled)
    total = adv_g + adv_f + lambda_cyc * (cyc_x + cyc_y)
    if lambda_id > 0:
        if g_of_y is None or f_of_x is None:
            raise ConfigError("lambda_id > 0 needs G(y) and F(x) (g_of_y, f_of_x) for the identity term.")
        ident = identity_loss(y, g_of_y) + identity_loss(x, f_of_x)
        total = total + lambda_id * ident
    elif g_of_y is not None and f_of_x is not None:
        ident = (identity_loss(y, g_of_y) + identity_loss(x, f_of_x)).detach()  # shown, not trained on
    else:
        ident = torch.zeros((), device=x.device)
    return CycleTerms(total, adv_g.detach(), adv_f.detach(), cyc_x.detach(), cyc_y.detach(), ident.detach())


__all__ = ["CycleTerms", "cycle_generator_objective", "cycle_loss", "identity_loss"]
