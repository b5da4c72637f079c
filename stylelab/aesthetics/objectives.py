r"""The Aesthetics Lab's adjustment objective, its terms and the tone controls, as equations.

:class:`~stylelab.aesthetics.adjustment.Adjuster` minimises over the controls (or the pixels) of
the adjusted image :math:`y`

.. math::
    \mathcal L(y) = \lambda_{col}\max(0, t_{col} - M(y))/100 + \lambda_{con}\max(0, t_{con} - \sigma_Y(y))
        + \lambda_{sat}\max(0, t_{sat} - \bar S(y)) + \lambda_{exp}(\bar Y(y) - t_{exp})^2
        + \lambda_{clip}\,\mathrm{clip}_{soft}(y) + \lambda_{content}\,d(y, x_0)

The page shows the whole objective, one entry per term (:data:`TERM_EQUATIONS`, named
``"aesthetics.term.<term>"`` after :data:`~stylelab.aesthetics.adjustment.TERM_NAMES`) and the
tone curve :func:`~stylelab.aesthetics.adjustment.apply_tone`.
"""

from __future__ import annotations

from ..equations import Equation
from ..losses.aesthetic import clipped_fraction, colorfulness_loss, contrast_loss, exposure_loss, saturation_loss
from ..losses.pixel import mse
from .adjustment import TERM_NAMES, Adjuster, apply_tone

_TERMS = {
    "colorfulness": (r"\lambda_{col}\,\max(0,\ t_{col} - M(y))/100", colorfulness_loss,
                     "hinge: raises colourfulness M (0-255 scale) up to the target t_col"),
    "contrast": (r"\lambda_{con}\,\max(0,\ t_{con} - \sigma_Y(y))", contrast_loss,
                 "hinge: raises the RMS contrast of the luma up to t_con"),
    "saturation": (r"\lambda_{sat}\,\max(0,\ t_{sat} - \bar S(y))", saturation_loss,
                   "hinge: raises the mean HSV saturation up to t_sat"),
    "exposure": (r"\lambda_{exp}\,(\bar Y(y) - t_{exp})^2", exposure_loss, "pulls the mean luma to t_exp"),
    "clipping": (r"\lambda_{clip}\,\mathrm{clip}_{soft}(y)", clipped_fraction,
                 "soft share of pixels crushed to black or blown to white"),
    "content": (r"\lambda_{content}\, d(y, x_0)", mse,
                "keeps the photo recognisable: d is MSE or LPIPS (VGG16) to the original x_0"),
}
assert tuple(_TERMS) == TERM_NAMES  # one entry per term of the adjustment, in its order

#: term name -> its equation (``"aesthetics.term.<term>"``)
TERM_EQUATIONS: dict[str, Equation] = {
    name: Equation(f"aesthetics.term.{name}", f"{name} term", latex, "loss", fn=fn, direction="lower",
                   lab="aesthetics", description=text)
    for name, (latex, fn, text) in _TERMS.items()
}

EQUATIONS: list[Equation] = [
    Equation("aesthetics.adjust_objective", "Adjustment objective",
             r"\mathcal L(y) = \sum_{\text{terms}} \lambda_i \mathcal L_i(y) + \lambda_{content}\, d(y, x_0)",
             "objective", fn=Adjuster.terms, direction="lower", lab="aesthetics",
             description="the weighted sum of the aesthetic terms and a content term that keeps the photo"),
    *TERM_EQUATIONS.values(),
    Equation("aesthetics.apply_tone", "Global tone controls",
             r"y_1 = x\cdot 2^{e}\cdot(e^{t}, e^{-\tau/2}, e^{-t}),\quad y_2 = y_1^{\,e^{g}},\quad"
             r" y_3 = \bar Y + e^{c}(y_2 - \bar Y),\quad y = \operatorname{clip}_{[0,1]}\big(Y + e^{s}(y_3 - Y)\big)",
             "definition", fn=apply_tone, lab="aesthetics",
             description="exposure e (EV), temperature t, tint tau, gamma g, contrast c, saturation s; all 0 = unchanged"),
]

__all__ = ["EQUATIONS", "TERM_EQUATIONS"]
