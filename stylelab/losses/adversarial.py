r"""Adversarial losses for the discriminator D and the generator G, computed from LOGITS.

D outputs a logit ``d`` (a real number); for the probabilistic GANs ``D(x) = sigmoid(d)``. All
logarithms are computed stably with ``softplus`` (:math:`\log \sigma(d) = -\mathrm{softplus}(-d)`,
:math:`\log(1 - \sigma(d)) = -\mathrm{softplus}(d)`), never as ``log(sigmoid(d))``, which gives
``-inf`` (and NaN gradients) once the sigmoid saturates to 0 in float32.

================  =======================================================  =====================================
kind              discriminator loss (minimised)                           generator loss (minimised)
================  =======================================================  =====================================
``minimax``       :math:`-E[\log D(x)] - E[\log(1 - D(G(z)))]`             :math:`E[\log(1 - D(G(z)))]` (saturating)
``ns``            same as minimax                                          :math:`-E[\log D(G(z))]`
``lsgan``         :math:`\tfrac12 E[(d_r - 1)^2] + \tfrac12 E[d_f^2]`      :math:`\tfrac12 E[(d_f - 1)^2]`
``hinge``         :math:`E[\max(0, 1 - d_r)] + E[\max(0, 1 + d_f)]`        :math:`-E[d_f]`
``wgan-gp``       :math:`E[d_f] - E[d_r]` (+ :func:`gradient_penalty`)     :math:`-E[d_f]`
================  =======================================================  =====================================

**Patch discriminators.** A PatchGAN D outputs a grid of logits ``(N, 1, h, w)``, one per
overlapping patch: it is a classifier *per patch*. Every loss above is therefore applied to each
patch logit and then averaged over patches and samples,
:math:`\mathcal{L} = \frac{1}{NP}\sum_{n,p} \ell(d_{n,p})`, NOT to the per-sample mean logit
(:math:`\ell(\frac1P\sum_p d_{n,p})`). The two agree only for the linear (wgan) loss; for a
sample whose two patches score +3 and -3 the ns real term is
``(softplus(-3) + softplus(3)) / 2 = 1.549``, while the mean logit 0 would give ``softplus(0) = 0.693``.
A sample's critic score is the mean of its patch scores, so :func:`gradient_penalty` constrains the
gradient of that mean (not of the sum, which is ``P`` times larger).

A common mis-transcription writes the discriminator objective as
``E[log D(x)] + E[1 - log D(G(z))]``. It is wrong twice: the ``1 -`` belongs INSIDE the log
(``log(1 - D(G(z)))``: the log-probability that D calls the fake fake), and D *maximises*
``E[log D(x)] + E[log(1 - D(G(z)))]`` (Goodfellow et al. 2014, eq. 1), so the loss to minimise is
its negative. ``1 - log D(G(z))`` is not a log-likelihood of anything and its optimum is
not the Jensen-Shannon solution.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from ..errors import ConfigError, ShapeError
from ._checks import check_finite, check_reduction, check_tensor, reduce

ADVERSARIAL_LOSSES = ("minimax", "ns", "lsgan", "hinge", "wgan-gp")


def _check_kind(kind: str) -> None:
    if kind not in ADVERSARIAL_LOSSES:
        raise ConfigError(f"Unknown adversarial loss {kind!r}; choose one of {ADVERSARIAL_LOSSES}.")


def _logits(t: object, name: str, check: bool = True) -> torch.Tensor:
    """Validate logits ``(N,)`` or ``(N, ...)`` (e.g. patch logits ``(N, 1, h, w)``); keep their shape."""
    t = check_tensor(t, name)
    if t.numel() == 0:
        raise ShapeError(f"{name} is empty.")
    if check:
        check_finite(t, name)
    return t


def _per_sample(term: torch.Tensor) -> torch.Tensor:
    """Mean over patches of a per-patch loss ``(N, ...)`` -> ``(N,)`` (identity for ``(N,)``)."""
    return term.reshape(term.shape[0], -1).mean(1) if term.ndim > 1 else term


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, kind: str = "ns", reduction: str = "mean",
                       *, check: bool = True) -> torch.Tensor:
    r"""Loss the discriminator (critic) minimises, from its logits on real and fake samples.

    .. math::
        \mathcal{L}_D^{minimax} = \mathcal{L}_D^{ns}
            = -\mathbb{E}_x[\log D(x)] - \mathbb{E}_z[\log(1 - D(G(z)))]
            = \mathbb{E}[\mathrm{softplus}(-d_r)] + \mathbb{E}[\mathrm{softplus}(d_f)]

    (see the module table for ``lsgan``, ``hinge``, ``wgan-gp``). With patch logits each
    expectation runs over samples AND patches: the loss is applied to every patch logit, then
    averaged (a PatchGAN classifies each patch). NOT
    ``E[log D(x)] + E[1 - log D(G(z))]``: the ``1 -`` goes inside the log and the sign flips
    (D maximises the log-likelihood; a loss is minimised).

    Args:
        real_logits: ``(N,)`` or ``(N, ...)``, e.g. PatchGAN logits ``(N, 1, h, w)``.
        fake_logits: ``(M,)`` or ``(M, ...)`` (its patch grid may differ from the real one).
        kind: one of ``ADVERSARIAL_LOSSES``. For ``"wgan-gp"`` add :func:`gradient_penalty`.
        reduction: the per-patch loss is first averaged over each sample's patches (a sample's
            loss); then ``"mean"`` (default) or ``"sum"`` reduces each expectation over its own
            samples and adds the two (``"mean"`` = the mean over samples and patches);
            ``"none"`` returns the per-pair sum of sample losses ``(N,)`` (needs ``N == M``).
        check: raise :class:`NonFiniteError` on NaN/inf logits (costs a host sync; a training
            loop that checks its loss value anyway passes ``False``).

    Returns:
        Scalar. Ranges: minimax/ns ``[0, inf)`` (``2 log 2 = 1.386`` when D outputs 1/2
        everywhere); lsgan ``[0, inf)``; hinge ``[0, inf)``; wgan-gp ``(-inf, inf)``.
    """
    _check_kind(kind)
    check_reduction(reduction)
    r = _logits(real_logits, "real_logits", check)  # (N,) or (N, 1, h, w) patch logits
    f = _logits(fake_logits, "fake_logits", check)  # (M,) or (M, 1, h, w)
    if kind in ("minimax", "ns"):
        real_term, fake_term = F.softplus(-r), F.softplus(f)  # -log D(x), -log(1 - D(G(z))), per patch
    elif kind == "lsgan":
        real_term, fake_term = 0.5 * (r - 1).pow(2), 0.5 * f.pow(2)
    elif kind == "hinge":
        real_term, fake_term = F.relu(1 - r), F.relu(1 + f)
    else:  # wgan-gp: the critic maximises E[d_r] - E[d_f]
        real_term, fake_term = -r, f
    real_term, fake_term = _per_sample(real_term), _per_sample(fake_term)  # (N,), (M,): mean over patches
    if reduction == "none":
        if real_term.shape != fake_term.shape:
            raise ShapeError("reduction='none' needs as many real as fake samples.")
        return real_term + fake_term
    return reduce(real_term, reduction) + reduce(fake_term, reduction)


def generator_loss(fake_logits: torch.Tensor, kind: str = "ns", reduction: str = "mean", *, check: bool = True) -> torch.Tensor:
    r"""Loss the generator minimises, from the discriminator's logits on generated samples.

    .. math::
        \mathcal{L}_G^{minimax} = \mathbb{E}_z[\log(1 - D(G(z)))] = -\mathbb{E}[\mathrm{softplus}(d_f)],
        \qquad
        \mathcal{L}_G^{ns} = -\mathbb{E}_z[\log D(G(z))] = \mathbb{E}[\mathrm{softplus}(-d_f)]

    The minimax (saturating) form has almost no gradient when D confidently rejects the fakes
    (early training); the non-saturating form has the same fixed point and strong gradients
    there (Goodfellow et al. 2014, Sec. 3). lsgan: :math:`\tfrac12 E[(d_f - 1)^2]`; hinge and
    wgan-gp: :math:`-E[d_f]`. With patch logits the expectation runs over samples and patches
    (the loss of every patch logit, averaged), as in :func:`discriminator_loss`.

    Args:
        fake_logits: ``(M,)`` or ``(M, ...)``, e.g. PatchGAN logits ``(M, 1, h, w)``.
        kind: one of ``ADVERSARIAL_LOSSES``.
        reduction: of the sample losses (each the mean of its patches' losses): ``"mean"``,
            ``"sum"`` or ``"none"`` (``(M,)``).
        check: as in :func:`discriminator_loss`.

    Returns:
        Scalar (or ``(M,)``). minimax ``(-inf, 0]``; ns ``[0, inf)``; lsgan ``[0, inf)``;
        hinge/wgan-gp ``(-inf, inf)``.
    """
    _check_kind(kind)
    check_reduction(reduction)
    f = _logits(fake_logits, "fake_logits", check)  # (M,) or (M, 1, h, w)
    if kind == "minimax":
        term = -F.softplus(f)  # log(1 - D(G(z)))
    elif kind == "ns":
        term = F.softplus(-f)  # -log D(G(z))
    elif kind == "lsgan":
        term = 0.5 * (f - 1).pow(2)
    else:  # hinge, wgan-gp
        term = -f
    return reduce(_per_sample(term), reduction)  # per patch -> per sample (M,) -> reduction


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    weight: float = 10.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""WGAN-GP gradient penalty (Gulrajani et al. 2017, eq. 3).

    .. math::
        \lambda \, \mathbb{E}_{\hat x}\big[(\|\nabla_{\hat x} D(\hat x)\|_2 - 1)^2\big],
        \qquad \hat x = \epsilon x + (1 - \epsilon) \tilde x, \; \epsilon \sim U[0, 1]

    one ``epsilon`` per sample. :math:`D(\hat x)` is the sample's score as the losses use it:
    for a patch critic with ``P`` patch scores, their MEAN :math:`\frac1P\sum_p D_p(\hat x)`
    (the gradient of their sum would be ``P`` times larger and the penalty would pull the
    critic's per-sample slope to ``1/P`` instead of 1). The gradient is taken with
    ``create_graph=True`` so the penalty can itself be back-propagated into the critic's
    parameters. The norm is ``sqrt(sum g^2 + 1e-12)`` so its own gradient stays finite at ``g = 0``.

    Args:
        critic: maps ``(N, ...)`` samples to ``(N,)`` or ``(N, ...)`` scores (patch scores are
            averaged per sample).
        real, fake: samples of the same shape ``(N, ...)`` (detached inside).
        weight: ``lambda`` (10 in the paper).
        generator: torch RNG for ``epsilon`` (reproducible runs); default: the global RNG.

    Returns:
        Scalar ``>= 0``.
    """
    real = check_finite(check_tensor(real, "real"), "real")
    fake = check_finite(check_tensor(fake, "fake"), "fake")
    if real.shape != fake.shape or real.ndim < 2:
        raise ShapeError(f"real and fake must have the same shape (N, ...); got {tuple(real.shape)} and {tuple(fake.shape)}.")
    eps_shape = (real.shape[0],) + (1,) * (real.ndim - 1)
    eps = torch.rand(eps_shape, generator=generator, dtype=real.dtype, device=real.device if generator is None else generator.device)
    eps = eps.to(real.device)
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)  # (N, ...)
    scores = critic(x_hat)  # (N,) or (N, ...) patch scores
    if not isinstance(scores, torch.Tensor) or scores.ndim == 0 or scores.shape[0] != real.shape[0]:
        got = tuple(scores.shape) if isinstance(scores, torch.Tensor) else type(scores).__name__
        raise ShapeError(f"The critic must return one score (or one grid of patch scores) per sample, (N, ...) with N = {real.shape[0]}; got {got}.")
    per_sample = scores.reshape(scores.shape[0], -1).mean(1)  # (N,): the score the loss uses
    # Samples are independent, so the gradient of the sum over samples is each sample's own gradient.
    (grad,) = torch.autograd.grad(per_sample.sum(), x_hat, create_graph=True)
    norm = torch.sqrt(grad.flatten(1).pow(2).sum(1) + 1e-12)  # (N,)
    return weight * (norm - 1).pow(2).mean()


__all__ = ["ADVERSARIAL_LOSSES", "discriminator_loss", "generator_loss", "gradient_penalty"]


class AdversarialLoss:
    """The pair of losses of one GAN formulation: ``loss.d(real, fake)`` and ``loss.g(fake)``.

    Examples:
        >>> loss = AdversarialLoss("lsgan")
        >>> float(loss.d(torch.zeros(2), torch.zeros(2))), float(loss.g(torch.zeros(2)))
        (0.5, 0.5)
    """

    def __init__(self, kind: str = "ns", reduction: str = "mean") -> None:
        _check_kind(kind)
        check_reduction(reduction)
        self.kind, self.reduction = kind, reduction

    def d(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        return discriminator_loss(real_logits, fake_logits, self.kind, self.reduction)

    def g(self, fake_logits: torch.Tensor) -> torch.Tensor:
        return generator_loss(fake_logits, self.kind, self.reduction)


__all__ += ["AdversarialLoss"]
