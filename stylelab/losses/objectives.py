r"""The Loss Lab's objective and update rule as equations (for :mod:`stylelab.equations`).

The mixing desk (:mod:`stylelab.losses.mixing`) minimises over the pixels :math:`x`

.. math::
    \mathcal{L}(x) = \lambda_c \mathcal{L}_{content}(x, c) + \sum_l \lambda_{s,l} E_l(x, s)
        + \lambda_{tv} \frac{TV_{l2}(x)}{HW} - \lambda_{col} \frac{M(x)}{100} - \lambda_{con}\, \sigma_Y(x)

with Adam, clipping the pixels to [0, 1] after every step. The single terms are the loss
registry's entries (``loss.content``, ``loss.style_layer``, ``loss.tv_l2``, ...); this module adds
the whole objective, the per-pixel TV term the desk uses and the update rule.
"""

from __future__ import annotations

from ..equations import Equation
from .mixing import MixingDesk
from .tv import total_variation

EQUATIONS: list[Equation] = [
    Equation("loss.mixing_objective", "Mixing-desk objective",
             r"\mathcal{L}(x) = \lambda_c \mathcal{L}_{content}(x, c) + \sum_l \lambda_{s,l}\, E_l(x, s)"
             r" + \lambda_{tv} \frac{TV_{l2}(x)}{HW} - \lambda_{col} \frac{M(x)}{100} - \lambda_{con}\, \sigma_Y(x)",
             "objective", fn=MixingDesk.terms, direction="lower", lab="loss",
             description="the weighted sum the mixing desk minimises over the pixels (one curve per term)"),
    Equation("loss.tv_per_pixel", "Squared TV per pixel",
             r"\frac{1}{HW}\sum_{c,i,j}(\Delta^x_{cij})^2 + (\Delta^y_{cij})^2",
             "loss", fn=total_variation, range=(0.0, float("inf")),
             direction="lower", lab="loss",
             description="total_variation(x, 'l2', per_pixel=True): one weight means the same at any size"),
    Equation("loss.mixing_update", "Adam step on the pixels, then clip",
             r"x \leftarrow \operatorname{clip}_{[0,1]}\Big(x - \eta\, \frac{\hat m}{\sqrt{\hat v} + \varepsilon}\Big),"
             r"\quad \hat m, \hat v: \text{bias-corrected running means of } \nabla_x \mathcal{L},\ (\nabla_x \mathcal{L})^2",
             "update", lab="loss",
             description="a large Adam epsilon (0.03) keeps weak terms weak (see stylelab.losses.mixing)"),
]

__all__ = ["EQUATIONS"]
