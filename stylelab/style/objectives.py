r"""The Style Studio's equations, written once (shown by the page through :mod:`stylelab.equations`).

=============================  ===========================================================================
name                           what
=============================  ===========================================================================
``style.gatys_objective``      :math:`\mathcal{L}(x) = \alpha\mathcal{L}_{content} + \beta\mathcal{L}_{style}
                               + \lambda_{TV}\tfrac{TV(x)}{HW} - \lambda_{col}\tfrac{M(x)}{100} - \lambda_{con}\sigma_Y(x)`
``style.content_term``         the content term (VGG ``relu4_2``), from the loss registry
``style.style_term``           the style term (Grams of ``relu1_1 … relu5_1``), from the loss registry
``style.tv_term``              the total variation divided by the pixel count :math:`HW`
``style.colorfulness_term``    :math:`-\tfrac{1}{100}M(x)` (Hasler & Süsstrunk, as in the Loss Lab)
``style.contrast_term``        :math:`-\sigma_Y(x)`
``style.cin``                  conditional instance norm with a blend of 26 styles (Dumoulin et al. 2017)
``style.arbitrary_code``       the arbitrary network's style code, mixed and weakened (Ghiasi et al. 2017)
``style.johnson_objective``    the fast network's training objective (Johnson et al. 2016)
=============================  ===========================================================================

The per-term LaTeX (content, style, TV, colourfulness, contrast) is the loss registry's
(:mod:`stylelab.losses.registry`); this module only adds how the Style Studio weights and signs it.
"""

from __future__ import annotations

from ..equations import Equation
from ..losses.registry import REGISTRY


def _term(name: str) -> str:
    return REGISTRY[name].latex


EQUATIONS: list[Equation] = [
    Equation("style.gatys_objective", "Gatys: the image minimises a weighted sum of terms",
             r"\mathcal{L}(x) = \alpha\,\mathcal{L}_{content} + \beta\,\mathcal{L}_{style} + "
             r"\lambda_{TV}\,\tfrac{TV(x)}{HW} - \lambda_{col}\,\tfrac{M(x)}{100} - \lambda_{con}\,\sigma_Y(x)",
             "objective", lab="style",
             description="stylelab.style.gatys.GatysStylizer.loss_terms; optimised over the image (or its "
                         "parameterisation: stylelab.style.parameterization)"),
    Equation("style.content_term", "content term (VGG relu4_2)", _term("content"), "loss", lab="style",
             direction="lower"),
    Equation("style.style_term", "style term (Grams of relu1_1 … relu5_1)", _term("style"), "loss", lab="style",
             direction="lower"),
    Equation("style.tv_term", "total variation", _term("tv_l2") + r"\ \big/\ HW", "loss", lab="style",
             direction="lower", description="per pixel, so one weight works at every size"),
    Equation("style.colorfulness_term", "colourfulness term (as in the Loss Lab)",
             r"-\tfrac{1}{100}\big(" + _term("colorfulness") + r"\big)", "loss", lab="style",
             description="stylelab.losses.colorfulness_loss: a reward, so it enters with a minus sign"),
    Equation("style.contrast_term", "contrast term", r"-\," + _term("rms_contrast"), "loss", lab="style",
             description="stylelab.losses.contrast_loss: a reward"),
    Equation("style.cin", "Conditional instance norm: each style owns a scale and shift; a blend mixes them",
             r"\mathrm{CIN}(x; w) = \Big(\sum_s w_s\gamma_s\Big)\frac{x-\mu(x)}{\sigma(x)} + \sum_s w_s\beta_s",
             "definition", lab="style", description="stylelab.style.multistyle.ConditionalInstanceNorm2d"),
    Equation("style.arbitrary_code", "The arbitrary network's style code: mixed between two styles, weakened "
             "toward the photo's own",
             r"S = \alpha\,\big[(1-t)\,S(\text{style}) + t\,S(\text{style}_2)\big] + (1-\alpha)\,S(\text{content})",
             "definition", lab="style",
             description="stylelab.style.arbitrary.interpolate_codes and with_strength"),
    Equation("style.johnson_objective", "Johnson et al.: a network's weights minimise the perceptual loss "
             "over many photos",
             r"\min_W\ \mathbb{E}_c\big[\alpha\mathcal{L}_{content}(f_W(c), c) + \beta\mathcal{L}_{style}(f_W(c), s)"
             r" + \lambda_{TV}TV + \lambda_{adv}\mathcal{L}_G(D(f_W(c)))\big]",
             "objective", lab="style", description="stylelab.style.train_fast.FastStyleTrainer"),
]

__all__ = ["EQUATIONS"]
