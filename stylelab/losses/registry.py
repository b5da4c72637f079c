"""The registry of every loss and metric: name -> :class:`LossSpec` (label, LaTeX, range, function).

The app's pickers, the equations panel and the ``compare`` command read this table, so each
equation is written (as LaTeX) exactly once, next to the function that computes it. Every entry
is also exported as ``EQUATIONS`` into the one equation registry, :mod:`stylelab.equations`
(names ``"loss.<name>"``, e.g. ``equations.latex("loss.tv_l2")``).

The five image measures the Aesthetics Lab's report card shares with the losses (colourfulness,
saturation, brightness, RMS contrast, exposure error) are written once here, with one usual
range (:data:`MEASURE_SPECS`); :mod:`stylelab.aesthetics.scorecard` takes their LaTeX and range
from this table.

``needs`` says what a function takes:

* ``"pair"``: two images ``fn(x, y)`` of the same shape ``(N, C, H, W)``;
* ``"image"``: one image ``fn(x)``;
* ``"features"``: feature dicts (``content``: ``fn(feats_x, feats_c)``; ``style``:
  ``fn(feats_x, target_grams)``; ``gram``: ``fn(features)``);
* ``"logits"``: discriminator logits (``fn(real, fake)`` for D, ``fn(fake)`` for G);
* ``"critic"``: ``fn(critic, real, fake)``; ``"terms"``: ``fn(terms, weights)``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from ..equations import Equation
from ..errors import ConfigError
from . import adversarial, aesthetic, perceptual, pixel, tv, weighted
from .lpips import lpips as _lpips
from .ssim import ms_ssim as _ms_ssim
from .ssim import ms_ssim_loss as _ms_ssim_loss
from .ssim import ssim as _ssim
from .ssim import ssim_loss as _ssim_loss


@dataclass(frozen=True)
class LossSpec:
    """One loss or metric: what it is called, its formula and what it measures."""

    name: str
    label: str
    latex: str
    measures: str
    value_range: str
    fn: Callable
    needs: str = "pair"
    higher_is_better: bool = False
    is_loss: bool = True  # minimised in training (False: a metric only reported)
    range: tuple[float, float] | None = None  #: usual numeric range, where there is one (the measures)

    @property
    def equation_name(self) -> str:
        """This entry's name in :mod:`stylelab.equations`."""
        return f"loss.{self.name}"

    def as_equation(self) -> Equation:
        """This entry as an :class:`~stylelab.equations.Equation` (group ``measure``, ``metric`` or ``loss``)."""
        if self.name in MEASURE_SPECS:
            group = "measure"
        elif self.needs == "terms":
            group = "objective"
        elif self.name == "gram":
            group = "definition"
        else:
            group = "loss" if self.is_loss else "metric"
        direction = "higher" if self.higher_is_better else ("lower" if self.is_loss else "")
        if self.name == "brightness":
            direction = ""  # two-sided: best near 0.5
        return Equation(self.equation_name, self.label, self.latex, group, fn=self.fn, range=self.range,
                        direction=direction, lab="loss", description=f"{self.measures}; range {self.value_range}")


def _tv_fn(norm: str) -> Callable:
    return functools.partial(tv.total_variation, norm=norm)


def _lpips_fn(net: str) -> Callable:
    return functools.partial(_lpips, net=net)


_LPIPS_TEX = r"\sum_l \frac{1}{H_lW_l}\sum_{h,w}\sum_c w_{l,c}\big(\hat y^l_{chw}(x) - \hat y^l_{chw}(y)\big)^2"
_ADV_D = {
    "minimax": r"-\mathbb{E}_x[\log D(x)] - \mathbb{E}_z[\log(1 - D(G(z)))]",
    "ns": r"-\mathbb{E}_x[\log D(x)] - \mathbb{E}_z[\log(1 - D(G(z)))]",
    "lsgan": r"\tfrac12\mathbb{E}_x[(D(x) - 1)^2] + \tfrac12\mathbb{E}_z[D(G(z))^2]",
    "hinge": r"\mathbb{E}_x[\max(0, 1 - D(x))] + \mathbb{E}_z[\max(0, 1 + D(G(z)))]",
    "wgan-gp": r"\mathbb{E}_z[D(G(z))] - \mathbb{E}_x[D(x)] + \lambda\,\mathbb{E}_{\hat x}[(\|\nabla D(\hat x)\|_2 - 1)^2]",
}
_ADV_G = {
    "minimax": r"\mathbb{E}_z[\log(1 - D(G(z)))]",
    "ns": r"-\mathbb{E}_z[\log D(G(z))]",
    "lsgan": r"\tfrac12\mathbb{E}_z[(D(G(z)) - 1)^2]",
    "hinge": r"-\mathbb{E}_z[D(G(z))]",
    "wgan-gp": r"-\mathbb{E}_z[D(G(z))]",
}
_ADV_NAMES = {"minimax": "original minimax", "ns": "non-saturating", "lsgan": "least squares", "hinge": "hinge", "wgan-gp": "Wasserstein + GP"}


#: The measures shared with the Aesthetics Lab: name -> (label, LaTeX, what it measures, usual range,
#: a note on the range, function, higher is better). One entry each, for both labs.
MEASURE_SPECS: dict[str, tuple] = {
    "colorfulness": ("Colourfulness",
                     r"M = \sqrt{\sigma_{rg}^2+\sigma_{yb}^2} + 0.3\sqrt{\mu_{rg}^2+\mu_{yb}^2},\ rg=R-G,\ yb=\tfrac12(R+G)-B",
                     "spread and strength of colour (Hasler & Suesstrunk 2003, 0-255 scale)", (0.0, 110.0),
                     "0 for grey; ~33 moderately, ~59 quite, >109 extremely colourful", aesthetic.colorfulness, True),
    "rms_contrast": ("RMS contrast", r"\sigma_Y = \sqrt{\tfrac{1}{HW}\sum_{ij}(Y_{ij} - \bar Y)^2}",
                     "spread of luminance", (0.0, 0.35), "at most 0.5 (half black, half white)",
                     aesthetic.rms_contrast, True),
    "saturation": ("Saturation", r"\bar S = \frac{1}{HW}\sum_{ij}\frac{\max_c x_{cij} - \min_c x_{cij}}{\max_c x_{cij} + \varepsilon}",
                   "mean HSV saturation", (0.0, 1.0), "0 for greys, 1 for pure colours", aesthetic.saturation, True),
    "brightness": ("Brightness", r"\bar Y = \frac{1}{HW}\sum_{ij}(0.299R + 0.587G + 0.114B)_{ij}",
                   "mean luminance (Rec. 601)", (0.0, 1.0), "best near 0.5 for most scenes", aesthetic.brightness, False),
    "exposure": ("Exposure error", r"(\bar Y - t)^2,\quad t = 0.5 \text{ by default}",
                 "distance of the mean luminance from a target", (0.0, 0.25), "0 = on target; at most 1",
                 aesthetic.exposure_error, False),
}


def _measure_spec(name: str) -> LossSpec:
    label, latex, measures, usual, note, fn, higher = MEASURE_SPECS[name]
    return LossSpec(name, label, latex, measures, f"usual [{usual[0]:g}, {usual[1]:g}]; {note}", fn, needs="image",
                    higher_is_better=higher, is_loss=name == "exposure", range=usual)


def _build() -> dict[str, LossSpec]:
    specs = [
        LossSpec("mse", "MSE", r"\frac{1}{CHW}\sum_{c,i,j}(x_{cij} - y_{cij})^2",
                 "average squared pixel difference", "[0, 1] for images in [0, 1]; 0 = identical", pixel.mse),
        LossSpec("l1", "L1", r"\frac{1}{CHW}\sum_{c,i,j}|x_{cij} - y_{cij}|",
                 "average absolute pixel difference", "[0, 1]; 0 = identical", pixel.l1),
        LossSpec("psnr", "PSNR (dB)", r"10\log_{10}\frac{R^2}{\mathrm{MSE}(x, y) + \varepsilon}",
                 "pixel fidelity on a log scale", "usual [10, 50] dB, up to 100 (identical); higher is better", pixel.psnr,
                 higher_is_better=True, is_loss=False, range=(10.0, 50.0)),
        LossSpec("ssim", "SSIM", r"\frac{(2\mu_x\mu_y + C_1)(2\sigma_{xy} + C_2)}{(\mu_x^2 + \mu_y^2 + C_1)(\sigma_x^2 + \sigma_y^2 + C_2)}",
                 "local agreement of brightness, contrast and structure (11x11 Gaussian window)",
                 "usual [0, 1], at least -1; 1 = identical", _ssim, higher_is_better=True, is_loss=False,
                 range=(0.0, 1.0)),
        LossSpec("ssim_loss", "1 - SSIM", r"1 - \mathrm{SSIM}(x, y)", "structural dissimilarity",
                 "[0, 2]; 0 = identical", _ssim_loss),
        LossSpec("ms_ssim", "MS-SSIM", r"[l_M(x, y)]^{\beta_M}\prod_{j=1}^{M}[cs_j(x, y)]^{\beta_j}",
                 "SSIM over several scales (fine detail to coarse layout)", "[0, 1]; 1 = identical",
                 _ms_ssim, higher_is_better=True, is_loss=False),
        LossSpec("ms_ssim_loss", "1 - MS-SSIM", r"1 - \mathrm{MS\text{-}SSIM}(x, y)", "multi-scale structural dissimilarity",
                 "[0, 1]; 0 = identical", _ms_ssim_loss),
        LossSpec("lpips_vgg", "LPIPS (VGG16)",
                 _LPIPS_TEX,
                 "learned perceptual distance (deep features, weighted by human judgements)",
                 "usual [0, 1], up to ~1.2; 0 = identical", _lpips_fn("vgg"), range=(0.0, 1.0)),
        LossSpec("lpips_alex", "LPIPS (AlexNet)",
                 _LPIPS_TEX,
                 "learned perceptual distance on AlexNet features", "[0, ~1.2]; 0 = identical", _lpips_fn("alex")),
        LossSpec("content", "Content (feature reconstruction)",
                 r"\sum_l w_l \frac{1}{C_lH_lW_l}\|F^l(x) - F^l(c)\|_2^2",
                 "difference of VGG feature maps: what is where, not exact pixels", "[0, inf); 0 = same features",
                 perceptual.content_loss, needs="features"),
        LossSpec("gram", "Gram matrix", r"G^l_{ij} = \frac{1}{C_lH_lW_l}\sum_k F^l_{ik}F^l_{jk}",
                 "which feature channels fire together (texture statistics, position-free)",
                 "(N, C, C), positive semi-definite", perceptual.gram_matrix, needs="features", is_loss=False),
        LossSpec("style", "Style (Gram distance)", r"\sum_l w_l \frac{1}{C_l^2}\|G^l(x) - A^l\|_F^2",
                 "difference of texture statistics over several layers", "[0, inf); 0 = same Grams",
                 perceptual.style_loss, needs="features"),
        LossSpec("style_layer", "Style term of one layer", r"E_l = \frac{1}{C_l^2}\|G^l(x) - A^l\|_F^2",
                 "Gram distance at one layer (the bars and sliders of the Loss Lab)", "[0, inf)",
                 perceptual.style_loss_per_layer, needs="features"),
        LossSpec("tv_l1", "TV (anisotropic L1)", r"\sum_{c,i,j}|\Delta^x_{cij}| + |\Delta^y_{cij}|",
                 "total absolute jump between neighbouring pixels (edges and noise); Δx, Δy: forward differences", "[0, inf); 0 = flat",
                 _tv_fn("l1"), needs="image"),
        LossSpec("tv_l2", "TV (squared L2)", r"\sum_{c,i,j}(\Delta^x_{cij})^2 + (\Delta^y_{cij})^2",
                 "squared jumps: punishes noise much more than edges", "[0, inf); 0 = flat",
                 _tv_fn("l2"), needs="image"),
        LossSpec("tv_isotropic", "TV (isotropic)",
                 r"\sum_{c,i,j}\sqrt{(\Delta^x_{cij})^2 + (\Delta^y_{cij})^2 + \varepsilon}",
                 "gradient magnitude, the same for edges in every direction", "[0, inf)",
                 _tv_fn("isotropic"), needs="image"),
        *(_measure_spec(name) for name in MEASURE_SPECS),
        LossSpec("colorfulness_loss", "Colour term", r"-M / 100 \quad\text{or}\quad \max(0, t - M)/100",
                 "raises colourfulness when minimised", "(-inf, 0] or [0, inf)", aesthetic.colorfulness_loss, needs="image"),
        LossSpec("contrast_loss", "Contrast term", r"-\sigma_Y \quad\text{or}\quad \max(0, t - \sigma_Y)",
                 "raises RMS contrast when minimised", "[-0.5, 0] or [0, t]", aesthetic.contrast_loss, needs="image"),
        LossSpec("saturation_loss", "Saturation term", r"-\bar S \quad\text{or}\quad \max(0, t - \bar S)",
                 "raises saturation when minimised", "[-1, 0] or [0, t]", aesthetic.saturation_loss, needs="image"),
        LossSpec("gradient_penalty", "Gradient penalty", r"\lambda\,\mathbb{E}_{\hat x}[(\|\nabla_{\hat x} D(\hat x)\|_2 - 1)^2]",
                 "how far the critic is from 1-Lipschitz between real and fake", "[0, inf)",
                 adversarial.gradient_penalty, needs="critic"),
        LossSpec("weighted_total", "Weighted total", r"\sum_i \lambda_i \mathcal{L}_i", "the objective being optimised",
                 "depends on the terms", weighted.weighted_sum, needs="terms"),
    ]
    for kind in adversarial.ADVERSARIAL_LOSSES:
        specs.append(LossSpec(f"d_{kind}", f"D loss ({_ADV_NAMES[kind]})", _ADV_D[kind],
                              "how well the discriminator separates real from fake", "see discriminator_loss",
                              functools.partial(adversarial.discriminator_loss, kind=kind), needs="logits"))
        specs.append(LossSpec(f"g_{kind}", f"G loss ({_ADV_NAMES[kind]})", _ADV_G[kind],
                              "how well the generator fools the discriminator", "see generator_loss",
                              functools.partial(adversarial.generator_loss, kind=kind), needs="logits"))
    return {s.name: s for s in specs}


REGISTRY: dict[str, LossSpec] = _build()

#: Every entry as an equation of :mod:`stylelab.equations` (``"loss.<name>"``).
EQUATIONS: list[Equation] = [spec.as_equation() for spec in REGISTRY.values()]


def get_spec(name: str) -> LossSpec:
    """The :class:`LossSpec` called ``name`` (``ConfigError`` listing the names if unknown)."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ConfigError(f"Unknown loss {name!r}; known: {sorted(REGISTRY)}.") from None


__all__ = ["EQUATIONS", "LossSpec", "MEASURE_SPECS", "REGISTRY", "get_spec"]
