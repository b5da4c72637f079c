"""stylelab.aesthetics: measure what makes an image pleasing, and nudge an image toward it.

==================  ==========================================================================
module              what it holds
==================  ==========================================================================
``inputs``          ``as_batch`` (over :func:`stylelab.validate.as_image_batch`), ``fit_max_side``
``tone``            ``michelson_contrast``, ``clipped_shadows``, ``clipped_highlights``
``detail``          ``laplacian_variance``, ``tenengrad``, ``entropy``, ``noise_sigma``
``composition``     ``spectral_residual_saliency``, ``rule_of_thirds``, ``balance``, ``symmetry``
``palette``         ``dominant_palette`` (k-means in CIELAB)
``harmony``         ``harmony_fit``, ``hue_harmony`` (Matsuda / Cohen-Or templates)
``nss``             MSCN coefficients, GGD and AGGD fits (natural-scene statistics)
``brisque_iqa``     ``brisque`` (LIVE SVR, packaged parameters)
``niqe_iqa``        ``niqe`` (pristine MVG, packaged parameters)
``scorecard``       ``MEASURES`` registry (exported to :mod:`stylelab.equations`), ``report``, ``score_batch``
``adjustment``      ``adjust``, ``Adjuster`` (a Run: optimise global controls or pixels), ``apply_tone``
``objectives``      the adjustment's objective, terms and tone controls as equations
``overlays``        pictures: thirds grid, saliency heat map, clipped pixels, palette strip
``cli``             ``python -m stylelab score IMAGE... [--json | --csv]``
``bench``           timings of the report, BRISQUE and NIQE
==================  ==========================================================================

Colourfulness, RMS contrast, saturation, brightness, exposure error and clipped fractions are
defined once in :mod:`stylelab.losses.aesthetic` (differentiable, shared with the Loss Lab);
PSNR, SSIM and LPIPS in :mod:`stylelab.losses`. They are re-exported here.

Names are loaded lazily (PEP 562) so ``import stylelab.aesthetics`` stays cheap.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_MODULES = {
    "..losses.aesthetic": ("colorfulness", "rms_contrast", "saturation", "brightness", "exposure_error",
                           "clipped_fraction", "luminance"),
    "..losses.pixel": ("psnr",),
    "..losses.ssim": ("ssim",),
    "..losses.lpips": ("lpips",),
    ".inputs": ("MAX_SIDE", "as_batch", "fit_max_side"),
    ".tone": ("michelson_contrast", "clipped_shadows", "clipped_highlights"),
    ".detail": ("laplacian_variance", "tenengrad", "entropy", "noise_sigma"),
    ".composition": ("spectral_residual_saliency", "rule_of_thirds", "RuleOfThirds", "thirds_score", "balance",
                     "symmetry", "saliency_centroid", "POWER_POINTS"),
    ".palette": ("dominant_palette", "Palette"),
    ".harmony": ("harmony_fit", "hue_harmony", "HueHarmony", "TEMPLATES"),
    ".nss": ("mscn", "ggd_fit", "aggd_fit", "paired_products"),
    ".brisque_iqa": ("brisque", "brisque_features"),
    ".niqe_iqa": ("niqe",),
    ".scorecard": ("MEASURES", "Measure", "CLI_KEYS", "get_measure", "report", "report_row", "score_batch"),
    ".adjustment": ("adjust", "Adjuster", "AdjustConfig", "AdjustResult", "apply_tone"),
    ".overlays": ("thirds_overlay", "saliency_overlay", "clipping_overlay", "palette_strip"),
}
__all__, __getattr__, __dir__ = lazy_exports(__name__, _MODULES, globals(), submodules=("inputs", "tone", "detail", "composition", "palette", "harmony", "nss", "brisque_iqa", "niqe_iqa", "scorecard", "adjustment", "objectives", "overlays", "cli", "bench"))
