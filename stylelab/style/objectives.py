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
    # ---- learn a style (stylelab.style.learned, learned_losses, learned_train, personalize, style_space)
    Equation("style.learned_objective", "Learn a style: the generator and the encoder minimise, over photos c "
             "and style crops s",
             r"\mathcal{L}_{G,E} = \alpha\mathcal{L}_{content}(y, c) + \beta\mathcal{L}_{style}(y, s) + "
             r"\lambda_{TV}\tfrac{TV(y)}{HW} + \lambda_{adv}\mathcal{L}_G(D_{real}(y)) + "
             r"\lambda_{cons}\mathcal{L}^G_{cons}(y, s) + \lambda_{cyc}\tfrac1d\|E(y) - z_s\|_1,"
             r"\quad y = G(c, z_s),\ z_s = E(s)",
             "objective", lab="style", description="stylelab.style.learned_train.LearnedStyleRun (steps a-e)"),
    Equation("style.style_encoder", "The style encoder: channel statistics of VGG features -> a code of d numbers",
             r"z_s = W_2\,\mathrm{lrelu}\big(W_1\,\mathrm{LN}\big([\mu(F^l(s)),\ \sigma(F^l(s))]_{l}\big) + b_1\big) + b_2",
             "definition", lab="style", description="stylelab.style.learned.StyleEncoder"),
    Equation("style.adain", "The code enters the generator through adaptive instance norm",
             r"\mathrm{AdaIN}(h; z) = (1 + \gamma(z))\,\frac{h - \mu(h)}{\sigma(h)} + \beta(z),\quad "
             r"[\gamma(z), \beta(z)] = A z + a",
             "definition", lab="style", description="stylelab.style.learned.AdaIN"),
    Equation("style.learned_realism", "realism term: the PatchGAN says the output looks painted",
             r"\mathcal{L}_G(D_{real}(y))", "loss", lab="style", direction="lower",
             description="stylelab.losses.generator_loss on stylelab.patchgan.PatchDiscriminator logits"),
    Equation("style.consistency_d", "The style-consistency discriminator: two crops of one painting are a real "
             "pair; the output with its style, or crops of two paintings, are fake pairs",
             r"\mathcal{L}^{D}_{cons} = \mathbb{E}\big[\ell_{real}(D(s', s))\big] + "
             r"\mathbb{E}\big[\ell_{fake}(D(G(c, E(s)), s))\big] + \mathbb{E}\big[\ell_{fake}(D(t, s))\big]",
             "loss", lab="style", direction="lower",
             description="stylelab.style.learned_losses.consistency_d_loss"),
    Equation("style.consistency_pairing", "How the consistency discriminator judges a pair: a realism logit per "
             "patch minus the distance between the two pictures' channel statistics in a learned space",
             r"D_{cons}(x, s)_p = w^\top\phi_p(x) + b - \tfrac1C\big\|u(x) - u(s)\big\|^2,\quad "
             r"u(x) = \mathrm{MLP}\big([\mu(\phi(x)),\ \sigma(\phi(x))]\big)",
             "definition", lab="style", description="stylelab.style.learned.StyleConsistencyD"),
    Equation("style.consistency_g", "consistency term: the output and its style should pass as a real pair",
             r"\mathcal{L}^{G}_{cons} = \mathbb{E}\big[\ell_{G}(D_{cons}(G(c, E(s)), s))\big]", "loss",
             lab="style", direction="lower", description="stylelab.style.learned_losses.consistency_g_loss"),
    Equation("style.code_cycle", "code cycle: the code read back from the output is the code that made it",
             r"\mathcal{L}_{cyc} = \tfrac1d\,\big\| E(G(c, z_s)) - z_s \big\|_1", "loss", lab="style",
             direction="lower", description="stylelab.style.learned_losses.code_cycle_loss"),
    Equation("style.code_optimisation", "Teach it your style: optimise the code alone, the generator frozen",
             r"z^\star = \arg\min_z\ \beta\,\mathcal{L}_{style}\big(G(c, z), \bar A\big),\quad "
             r"\bar A^l = \tfrac1K\textstyle\sum_k G^l(s_k)",
             "objective", lab="style", description="stylelab.style.personalize.personalize"),
    Equation("style.style_map", "The style map: each code on the first two principal components",
             r"p_i = V_{:,1:2}^\top (z_i - \bar z),\qquad z(p) = \bar z + V_{:,1:2}\,p",
             "definition", lab="style", description="stylelab.style.style_space.pca_map, point_to_code"),
    Equation("style.learned_strength", "Between two styles, and toward the photo's own code",
             r"z = \alpha\,\big[(1-t)\,z_a + t\,z_b\big] + (1-\alpha)\,E(c)",
             "definition", lab="style", description="stylelab.style.style_space.interpolate and strength"),
]

__all__ = ["EQUATIONS"]
