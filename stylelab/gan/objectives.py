r"""The GAN Lab's tables and equations, written once.

:data:`LOSSES` is the one table of the adversarial losses the lab trains with: each row says its
label, whether D's output is a probability (``sigmoid(d)``, minimax and ns) or a raw score, and
whether one-sided label smoothing is defined for it. Every "which losses are probabilistic",
"which allow smoothing" and every loss label in the lab (config validation, the trainer, the
decision surface, the page) reads this table.

:data:`EQUATIONS` holds the lab-level objectives the GAN Lab page shows (the per-loss D and G
losses themselves live in :mod:`stylelab.losses.registry` as ``d_<loss>`` / ``g_<loss>``):

.. math::
    \mathcal{L}_D^{smooth} = \mathcal{L}_D + s\,\mathbb{E}_x[d_r]\;(-\tfrac{s}{2}\text{ for LSGAN}),
    \qquad D(x + \sigma\epsilon),\ \epsilon \sim \mathcal N(0, I).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..equations import Equation
from ..errors import ConfigError


@dataclass(frozen=True)
class AdversarialSpec:
    """One adversarial loss as the GAN Lab uses it.

    Attributes:
        name: the ``kind`` of :func:`stylelab.losses.adversarial.discriminator_loss`.
        label: how the lab names it on screen.
        probabilistic: D's output is read as a probability ``sigmoid(d)`` (else a raw score).
        smoothing_ok: one-sided label smoothing (real label ``1 - s``) is defined for it.
    """

    name: str
    label: str
    probabilistic: bool
    smoothing_ok: bool


#: name -> spec, in the order of :data:`stylelab.losses.adversarial.ADVERSARIAL_LOSSES` (tests/test_gan.py
#: checks they agree; this module stays importable without torch for the command line)
LOSSES: dict[str, AdversarialSpec] = {s.name: s for s in (
    AdversarialSpec("minimax", "minimax (saturating)", probabilistic=True, smoothing_ok=True),
    AdversarialSpec("ns", "non-saturating", probabilistic=True, smoothing_ok=True),
    AdversarialSpec("lsgan", "least squares (LSGAN)", probabilistic=False, smoothing_ok=True),
    AdversarialSpec("hinge", "hinge", probabilistic=False, smoothing_ok=False),
    AdversarialSpec("wgan-gp", "Wasserstein + gradient penalty", probabilistic=False, smoothing_ok=False),
)}

#: the losses whose D output is a probability (minimax, ns)
PROBABILISTIC: tuple[str, ...] = tuple(n for n, s in LOSSES.items() if s.probabilistic)
#: the losses for which one-sided label smoothing is defined (minimax, ns, lsgan)
SMOOTHING_OK: tuple[str, ...] = tuple(n for n, s in LOSSES.items() if s.smoothing_ok)


def loss_spec(name: str) -> AdversarialSpec:
    """The :class:`AdversarialSpec` of ``name``; a :class:`ConfigError` names the choices otherwise."""
    if name not in LOSSES:
        raise ConfigError(f"Unknown GAN loss {name!r}; choose one of {', '.join(LOSSES)}.")
    return LOSSES[name]


def loss_label(name: str) -> str:
    """The on-screen name of a loss (``"ns"`` -> ``"non-saturating"``)."""
    return loss_spec(name).label


def check_smoothing(loss: str, smoothing: float) -> None:
    """Refuse label smoothing ``s > 0`` for a loss that does not define it (hinge, wgan-gp)."""
    if smoothing and not loss_spec(loss).smoothing_ok:
        raise ConfigError(f"Label smoothing is defined for {', '.join(SMOOTHING_OK)}, not for {loss!r}.")


EQUATIONS: list[Equation] = [
    Equation("gan.smoothing", "One-sided label smoothing (real label 1 − s) adds a linear penalty on D's real logits d_r",
             r"\mathcal{L}_D^{smooth} = \mathcal{L}_D + s\,\mathbb{E}_x[d_r]", "objective", lab="gan",
             description="minimax, ns (for lsgan a constant s/2 is subtracted: gan.smoothing_lsgan)"),
    Equation("gan.smoothing_lsgan", "One-sided label smoothing (real label 1 − s) adds a linear penalty on D's real logits d_r",
             r"\mathcal{L}_D^{smooth} = \mathcal{L}_D + s\,\mathbb{E}_x[d_r] - \tfrac{s}{2}", "objective", lab="gan",
             description="LSGAN: (1 - s) ½(d - 1)² + s ½d² = ½(d - 1)² + s d - s/2"),
    Equation("gan.instance_noise", "Instance noise",
             r"D(x + \sigma\epsilon),\; D(G(z) + \sigma\epsilon),\quad \epsilon \sim \mathcal N(0, I)", "definition",
             lab="gan", description="Gaussian noise on every D input (Sønderby et al. 2017), decayed linearly"),
    Equation("gan.minimax_g_grad", "Minimax: G's gradient vanishes where D rejects the fakes",
             r"\nabla \log(1 - D(G(z)))", "definition", lab="gan",
             description="with D = sigmoid(l): d/dl log(1 - sigmoid(l)) = -sigmoid(l) -> 0 as D(G(z)) -> 0"),
    Equation("gan.ns_g", "Non-saturating generator loss", r"-\log D(G(z))", "loss", lab="gan",
             description="d/dl (-log sigmoid(l)) = -(1 - sigmoid(l)) -> -1: a full-size gradient where minimax stalls"),
    # step mode (stylelab.gan.stepper): what each sub-step of a D or G step computes
    Equation("gan.step_sample", "Sample a batch", r"x_i \sim p_{\mathrm{data}},\quad z_i \sim \mathcal N(0, I),\quad "
             r"\tilde x_i = G(z_i),\qquad i = 1, \dots, B", "definition", lab="gan",
             description="GANStepper, sub-step 'sample' of a D step (the trainer's random stream, in its order)"),
    Equation("gan.step_sample_g", "The G step judges the last D step's fakes again",
             r"\tilde x_i = G(z_i),\quad z_i \text{ from the last D step}", "definition", lab="gan",
             description="GANStepper, sub-step 'sample' of the G step (Algorithm 1 reuses the codes)"),
    Equation("gan.step_scores", "D's scores on the batch",
             r"d^r_i = D(x_i),\quad d^f_i = D(\tilde x_i),\qquad D(x) = \sigma(d)\ \text{(minimax, ns)}", "definition",
             lab="gan", description="GANStepper, sub-step 'scores': points coloured by D's output"),
    Equation("gan.step_grad_d", "D's gradient, and how hard the loss pushes each score",
             r"g_D = \nabla_{\theta_D}\mathcal L_D,\qquad \pi_i = -B\,\frac{\partial \mathcal L_D}{\partial d_i}",
             "definition", lab="gan",
             description="GANStepper, D's 'gradients': pi > 0 where D is taught to raise its score (real), < 0 (fake)"),
    Equation("gan.step_grad_g", "G's gradient flows through the samples",
             r"\begin{aligned} a_i &= -B\,\nabla_{\tilde x_i}\mathcal L_G \\ \nabla_{\theta_G}\mathcal L_G &= "
             r"\sum_i \Big(\frac{\partial \tilde x_i}{\partial \theta_G}\Big)^{\top} \nabla_{\tilde x_i}\mathcal L_G \end{aligned}",
             "definition", lab="gan", description="GANStepper, G's 'gradients': the arrows a_i on the fakes"),
    Equation("gan.step_update_adam", "Adam update",
             r"\begin{aligned} m &\leftarrow \beta_1 m + (1 - \beta_1)\, g \\ v &\leftarrow \beta_2 v + (1 - \beta_2)\, g^2 \\ "
             r"\theta &\leftarrow \theta - \eta\,\frac{m / (1 - \beta_1^t)}{\sqrt{v / (1 - \beta_2^t)} + \epsilon} \end{aligned}",
             "update", lab="gan", description="GANStepper, sub-step 'update' (shown with the size of the step)"),
    Equation("gan.step_update_sgd", "SGD with momentum",
             r"b \leftarrow \mu\, b + g,\qquad \theta \leftarrow \theta - \eta\, b", "update", lab="gan",
             description="torch.optim.SGD with momentum mu = beta1"),
    Equation("gan.step_update_rmsprop", "RMSprop update",
             r"s \leftarrow \alpha s + (1 - \alpha) g^2,\qquad \theta \leftarrow \theta - \eta\,\frac{g}{\sqrt{s} + \epsilon}",
             "update", lab="gan", description="torch.optim.RMSprop (alpha = 0.99)"),
    # StyleGAN-lite (stylelab.gan.stylegan)
    Equation("gan.r1", "R1 penalty: D's gradient at real samples (added to D's loss)",
             r"\mathcal{L}_D + \frac{\gamma}{2}\,\mathbb{E}_{x \sim p_{data}}\big[\|\nabla_x D(x)\|^2\big]", "objective",
             lab="gan", description="stylelab.gan.train.r1_penalty (Mescheder et al. 2018), with ns, minimax, lsgan, hinge"),
    Equation("gan.mapping", "Mapping network: z is normalised, then a few fully connected layers give the style w",
             r"w = f(z) = \mathrm{MLP}\Big(z \big/ \sqrt{\tfrac1D \textstyle\sum_j z_j^2 + \epsilon}\Big)", "definition",
             lab="gan", description="stylelab.gan.stylegan.MappingNetwork (pixel norm, LeakyReLU(0.2) layers)"),
    Equation("gan.modulation", "Weight modulation and demodulation: each layer's style scales its input channels",
             r"s = A\,w + b,\quad w'_{oik} = s_i\,w_{oik},\quad "
             r"w''_{oik} = \frac{w'_{oik}}{\sqrt{\sum_{i,k} {w'_{oik}}^2 + \epsilon}}", "definition", lab="gan",
             description="stylelab.gan.stylegan.modulated_conv2d (StyleGAN2)"),
    Equation("gan.noise_input", "Per-layer noise input with a learned scale",
             r"x \leftarrow x + \gamma\,\epsilon,\quad \epsilon \sim \mathcal N(0, 1)^{H \times W}", "definition",
             lab="gan", description="one noise map per sample and layer, the same for every channel; gamma starts at 0"),
    Equation("gan.truncation", "Truncation trick: pull each style towards the average style",
             r"w' = \bar w + \psi\,(w - \bar w),\qquad \bar w = \mathbb{E}_z[f(z)]", "definition", lab="gan",
             description="stylelab.gan.stylegan.truncate: psi = 1 unchanged, psi = 0 the average image"),
    Equation("gan.style_mix", "Style mixing: coarse layers from one style, fine layers from another",
             r"w_\ell = \begin{cases} w^{(1)} & \ell < c \\ w^{(2)} & \ell \ge c \end{cases}", "definition",
             lab="gan", description="stylelab.gan.stylegan.style_mix (c: the crossover layer)"),
    Equation("gan.ppl", "Perceptual path length: how much the image changes per small step along a latent path",
             r"\mathrm{PPL} = \mathbb{E}\Big[\tfrac{1}{\epsilon^2}\,d\big(g(p(t)),\, g(p(t + \epsilon))\big)\Big]",
             "metric", lab="gan", direction="lower",
             description="stylelab.gan.stylegan.perceptual_path_length: p = slerp in z, lerp in w; d = squared "
                         "distance of the lab's classifier features"),
]


def smoothing_equation(loss: str) -> str:
    """The name of the label-smoothing equation for ``loss`` (``gan.smoothing`` or ``gan.smoothing_lsgan``)."""
    check_smoothing(loss, 1.0)
    return "gan.smoothing_lsgan" if loss == "lsgan" else "gan.smoothing"


__all__ = ["AdversarialSpec", "EQUATIONS", "LOSSES", "PROBABILISTIC", "SMOOTHING_OK", "check_smoothing", "loss_label",
           "loss_spec", "smoothing_equation"]
