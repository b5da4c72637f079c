r"""The equations the Inpainting Lab shows, written once (collected by :mod:`stylelab.equations`).

=============================  ================================================================
name                           what it is
=============================  ================================================================
``inpaint.composite``          the result: the prediction in the hole, the input elsewhere
``inpaint.damage``             the input every method sees: the hole blanked
``inpaint.masked_mse``         MSE over the hole (or the known pixels) only
``inpaint.dip_objective``      Deep Image Prior: fit an untrained U-Net to the known pixels
``inpaint.train_objective``    the trained U-Net's loss, a weighted sum of terms
``inpaint.loss.<choice>``      each loss choice of the study (:data:`~stylelab.inpaint.losses.LOSS_CHOICES`)
``inpaint.gated_conv``         the gated convolution of the gated inpainter
``inpaint.gated_refine``       the gated inpainter: Telea's fill plus a learned correction
=============================  ================================================================
"""

from __future__ import annotations

from ..equations import Equation
from .gated import gated_conv
from .losses import LOSS_CHOICES, masked_mse
from .masks import composite, damage

__all__ = ["EQUATIONS"]

EQUATIONS: list[Equation] = [
    Equation("inpaint.composite", "Composite", r"y = m \odot \hat x + (1 - m) \odot x", "definition",
             fn=composite, lab="inpaint",
             description="m = 1 in the hole, 0 where the image is known: known pixels never change."),
    Equation("inpaint.damage", "Damaged input", r"\tilde x = (1 - [m > 0]) \odot x", "definition",
             fn=damage, lab="inpaint", description="The hole is blanked, so no method can peek into it."),
    Equation("inpaint.masked_mse", "MSE in the hole",
             r"\mathcal{L}^{MSE}_\Omega = \frac{1}{C|\Omega|}\sum_{c,\,p \in \Omega} (\hat x_{cp} - x_{cp})^2",
             "loss", fn=masked_mse, range=(0.0, 1.0), direction="lower", lab="inpaint"),
    Equation("inpaint.dip_objective", "Deep Image Prior",
             r"\theta^* = \arg\min_\theta \frac{1}{C|\bar\Omega|}\sum_{c,\,p \notin \Omega}"
             r"\big(f_\theta(z + \sigma\varepsilon)_{cp} - x_{cp}\big)^2, \qquad \hat x = f_{\theta^*}(z)",
             "objective", lab="inpaint",
             description="An untrained U-Net fitted to the known pixels of this one picture."),
    Equation("inpaint.train_objective", "Training the U-Net inpainter",
             r"\hat x = f_\theta\big(\tilde x,\ m\big),\quad \mathcal{L} = \sum_i \lambda_i\, \mathcal{L}_i(\hat x, y, x)",
             "objective", lab="inpaint",
             description="Crops with random holes; the weights of each loss choice are below."),
    Equation("inpaint.gated_conv", "Gated convolution",
             r"y = \phi(W_f * x + b_f) \odot \sigma(W_g * x + b_g),\quad \phi = \mathrm{LeakyReLU}_{0.2}",
             "definition", fn=gated_conv, lab="inpaint",
             description="Each layer learns per pixel and channel how much of its feature to let through."),
    Equation("inpaint.gated_refine", "Gated inpainter: refine the classical fill",
             r"\hat x = \mathrm{clip}_{[0,1]}\big(c + r_\theta([\tilde x,\ m,\ c])\big),\quad c = \mathrm{Telea}(\tilde x, m)",
             "objective", lab="inpaint",
             description="The network sees Telea's fill and predicts a correction: with a zero last layer it is Telea."),
    *[Equation(f"inpaint.loss.{name}", choice.label, choice.latex, "objective", lab="inpaint",
               description=f"weights {choice.weights}") for name, choice in LOSS_CHOICES.items()],
]
