r"""The two loss terms of style learning that :mod:`stylelab.losses` does not already have.

* the **code cycle**: the code read back from the output should be the code that made it,

  .. math::
      \mathcal{L}_{cyc} = \mathbb{E}\,\tfrac{1}{d}\,\big\| E(G(c, z_s)) - z_s \big\|_1
      \quad(\text{or } \tfrac1d\|\cdot\|_2^2 \text{ with } \texttt{norm="l2"})

  (the target :math:`z_s` is detached in training: the output must carry its code, the code is not
  pulled toward what the output shows);
* the **style-consistency adversarial term**: the discriminator :math:`D_{cons}(x, s)` sees an
  image *together with* a style example. Real pairs are two crops :math:`(s', s)` of the same
  painting; fake pairs are the output with the style it was given, :math:`(G(c, E(s)), s)`, and
  (optionally) crops of two different paintings :math:`(t, s)`, so that D must judge whether the two
  *belong together*, not only whether ``x`` looks painted:

  .. math::
      \mathcal{L}^{D}_{cons} = \mathbb{E}\big[\ell_{real}(D(s', s))\big]
          + \mathbb{E}\big[\ell_{fake}(\mathrm{cat}[D(G(c, E(s)), s),\ D(t, s)])\big],
      \qquad
      \mathcal{L}^{G}_{cons} = \mathbb{E}\big[\ell_{G}(D(G(c, E(s)), s))\big]

  with the per-patch GAN losses :math:`\ell` of :func:`stylelab.losses.discriminator_loss` and
  :func:`stylelab.losses.generator_loss` (``kind`` = ``"ns"``, ``"lsgan"``, ``"hinge"``); those are
  called here, not copied.

The content, Gram style, TV, realism adversarial and aesthetic terms are the ones in
:mod:`stylelab.losses`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..errors import ConfigError, ShapeError
from ..losses._checks import check_reduction, reduce

CYCLE_NORMS = ("l1", "l2")


def code_cycle_loss(predicted: torch.Tensor, target: torch.Tensor, norm: str = "l1", reduction: str = "mean") -> torch.Tensor:
    r"""Code cycle :math:`\tfrac1d\|E(G(c, z)) - z\|_1` (or squared L2) per sample, then reduced.

    Args:
        predicted: ``(N, d)``, the code the encoder reads from the output, :math:`E(G(c, z))`.
        target: ``(N, d)`` or ``(d,)`` (broadcast), the code that made it, :math:`z`.
        norm: ``"l1"`` (mean absolute difference) or ``"l2"`` (mean squared difference).
        reduction: ``"none"`` -> ``(N,)``; ``"mean"`` / ``"sum"`` -> scalar.

    Returns:
        ``[0, inf)``; 0 iff the codes are equal.
    """
    if norm not in CYCLE_NORMS:
        raise ConfigError(f"Unknown code-cycle norm {norm!r}; choose one of {CYCLE_NORMS}.")
    check_reduction(reduction)
    if predicted.ndim != 2:
        raise ShapeError(f"Predicted codes must be (N, d); got {tuple(predicted.shape)}.")
    if target.ndim == 1:
        target = target.unsqueeze(0)
    if target.ndim != 2 or target.shape[1] != predicted.shape[1] or target.shape[0] not in (1, predicted.shape[0]):
        raise ShapeError(f"Target codes {tuple(target.shape)} do not fit predicted codes {tuple(predicted.shape)}.")
    diff = predicted - target.to(predicted.dtype)
    per = diff.abs().mean(1) if norm == "l1" else diff.pow(2).mean(1)  # (N,)
    return reduce(per, reduction)


Pairer = Callable[..., torch.Tensor]


def consistency_d_loss(disc: Pairer, real: torch.Tensor, style: torch.Tensor, fake: torch.Tensor,
                       mismatched: torch.Tensor | None = None, kind: str = "lsgan") -> tuple[torch.Tensor, dict[str, float]]:
    r""":math:`\mathcal{L}^{D}_{cons}`: real pairs ``(real, style)`` vs fake pairs ``(fake, style)``
    (+ ``(mismatched, style)``). See the module docstring.

    Args:
        disc: the consistency discriminator, ``disc(x, style=s) -> (N, 1, h, w)`` patch logits.
        real: ``(N, 3, H, W)`` a second crop of the painting each ``style`` crop comes from.
        style: ``(N, 3, h, w)`` the style examples.
        fake: ``(N, 3, H, W)`` the generator's outputs made with those styles (detach them to train D).
        mismatched: ``(N, 3, H, W)`` crops of OTHER paintings, counted as fake pairs too (or None).
        kind: the GAN loss of :func:`stylelab.losses.discriminator_loss`.

    Returns:
        ``(loss, scores)``: the scalar loss and the mean patch logit of each kind of pair
        (``real_pair``, ``fake_pair``, ``mismatched_pair``), for plotting.
    """
    from ..losses import discriminator_loss

    real_logits = disc(real, style=style)  # (N, 1, h, w)
    fake_logits = disc(fake, style=style)
    scores = {"real_pair": float(real_logits.detach().mean()), "fake_pair": float(fake_logits.detach().mean())}
    if mismatched is not None:
        mis_logits = disc(mismatched, style=style)
        scores["mismatched_pair"] = float(mis_logits.detach().mean())
        if mis_logits.shape[1:] != fake_logits.shape[1:]:
            raise ShapeError("Mismatched and fake pairs must be images of the same size.")
        fake_logits = torch.cat([fake_logits, mis_logits], 0)
    return discriminator_loss(real_logits, fake_logits, kind, check=False), scores


def consistency_g_loss(disc: Pairer, fake: torch.Tensor, style: torch.Tensor, kind: str = "lsgan") -> torch.Tensor:
    r""":math:`\mathcal{L}^{G}_{cons}`: the generator wants ``(fake, style)`` judged a real pair
    (:func:`stylelab.losses.generator_loss` of ``disc(fake, style=style)``)."""
    from ..losses import generator_loss

    return generator_loss(disc(fake, style=style), kind, check=False)


__all__ = ["CYCLE_NORMS", "code_cycle_loss", "consistency_d_loss", "consistency_g_loss"]
