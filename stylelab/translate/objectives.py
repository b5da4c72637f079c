r"""The Translate lab's equations, written once (the pages and notebook 07 take their LaTeX from here).

The functions that compute them are in :mod:`stylelab.translate.losses`; the adversarial terms
are the least-squares GAN losses of :mod:`stylelab.losses.adversarial` (``loss.d_lsgan``,
``loss.g_lsgan`` in the loss registry).
"""

from __future__ import annotations

from ..equations import Equation
from .losses import cycle_generator_objective, cycle_loss, identity_loss

EQUATIONS: list[Equation] = [
    Equation("translate.cycle", "Cycle-consistency loss (both round trips)",
             r"\mathcal{L}_{cyc} = \mathbb{E}_x\big[\|F(G(x)) - x\|_1\big] + \mathbb{E}_y\big[\|G(F(y)) - y\|_1\big]",
             "loss", fn=cycle_loss, range=(0.0, 4.0), direction="lower", lab="translate",
             description="each norm is a per-value mean (1/D); one direction per call of cycle_loss; "
                         "images in [-1, 1] give at most 2 per direction"),
    Equation("translate.identity", "Identity loss (a generator fed its own target domain)",
             r"\mathcal{L}_{id} = \mathbb{E}_y\big[\|G(y) - y\|_1\big] + \mathbb{E}_x\big[\|F(x) - x\|_1\big]",
             "loss", fn=identity_loss, range=(0.0, 4.0), direction="lower", lab="translate",
             description="keeps colours where the domains overlap (photo <-> painting); 0 here for digits <-> clothes"),
    Equation("translate.adversarial", "The two adversarial terms (least squares)",
             r"\mathcal{L}_{adv} = \tfrac12\,\mathbb{E}_x\big[(D_Y(G(x)) - 1)^2\big] + \tfrac12\,\mathbb{E}_y\big[(D_X(F(y)) - 1)^2\big]",
             "loss", direction="lower", lab="translate",
             description="stylelab.losses.adversarial.generator_loss(kind='lsgan') for G against D_Y and F against D_X"),
    Equation("translate.objective", "The generators' objective",
             r"\mathcal{L}_{G,F} = \mathcal{L}_{adv} + \lambda_{cyc}\,\mathcal{L}_{cyc} + \lambda_{id}\,\mathcal{L}_{id}",
             "objective", fn=cycle_generator_objective, direction="lower", lab="translate",
             description="Zhu et al. 2017, eq. 3 plus the identity term; minimised by G and F together"),
    Equation("translate.no_cycle", "Without the cycle term",
             r"\lambda_{cyc} = 0:\quad \mathcal{L}_{G,F} = \mathcal{L}_{adv} + \lambda_{id}\,\mathcal{L}_{id}",
             "objective", lab="translate",
             description="only the SET of G(x) must look like Y: nothing ties G(x) to x, so F(G(x)) forgets x"),
]

__all__ = ["EQUATIONS"]
