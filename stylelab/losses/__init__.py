"""stylelab.losses: every loss of the field as one pure, documented function.

==================  ==========================================================================
module              what it holds
==================  ==========================================================================
``pixel``           ``mse``, ``l1``, ``psnr``
``ssim``            ``gaussian_window``, ``ssim``, ``ms_ssim``, ``ssim_loss``, ``ms_ssim_loss``
``perceptual``      ``gram_matrix``, ``content_loss``, ``style_loss`` (+ per-layer), layer presets
``tv``              ``total_variation`` (anisotropic L1, squared L2, isotropic)
``lpips``           ``lpips`` (VGG16 / AlexNet with the packaged linear heads), ``LPIPS``
``adversarial``     ``discriminator_loss``, ``generator_loss``, ``gradient_penalty``
``aesthetic``       ``colorfulness``, ``rms_contrast``, ``saturation``, ``brightness``, ...
``weighted``        ``weighted_sum``, ``WeightedLoss`` (keeps every term for plotting)
``registry``        ``REGISTRY`` of ``LossSpec`` (name, label, LaTeX, what it measures, range),
                    exported into :mod:`stylelab.equations` as ``EQUATIONS``
``distortions``     ``DISTORTIONS`` and ``distortion_study`` ("what does each loss see?")
``mixing``          the mixing desk (a Run: a short stoppable Adam loop over the image)
``objectives``      the mixing desk's objective and update rule as equations
``compare``         every metric between two images (``python -m stylelab compare``, ``cli``)
``visual``          feature maps, Gram heatmaps, per-layer tables for pages and notebooks
``bench``           timings for ``python -m stylelab bench``
==================  ==========================================================================

Names are re-exported here lazily (PEP 562), so ``import stylelab.losses`` stays cheap for the
command line and ``from stylelab.losses import ssim`` works as usual. ``stylelab.losses.ssim``,
``.lpips`` and ``.compare`` always name the FUNCTIONS; import from a submodule with
``from stylelab.losses.ssim import gaussian_window`` (not ``import stylelab.losses.ssim as m``).
"""

from __future__ import annotations

import sys
import types
from typing import Any

from .._lazy import lazy_exports

_MODULES = {
    "_checks": ("check_image_pair", "check_image", "reduce", "REDUCTIONS"),
    "pixel": ("mse", "l1", "psnr"),
    "ssim": ("MS_SSIM_WEIGHTS", "gaussian_window", "ssim", "ssim_loss", "ms_ssim", "ms_ssim_loss", "ms_ssim_levels", "SSIMLoss", "MSSSIMLoss"),
    "perceptual": (
        "DEFAULT_CONTENT_LAYERS", "DEFAULT_STYLE_LAYERS", "GATYS_CONTENT_LAYERS", "GATYS_STYLE_LAYERS",
        "JOHNSON_CONTENT_LAYERS", "JOHNSON_STYLE_LAYERS", "GRAM_NORMALIZATIONS", "gram_matrix", "gram_targets",
        "content_loss", "content_loss_per_layer", "style_loss", "style_loss_per_layer", "ContentLoss", "StyleLoss",
    ),
    "tv": ("TV_NORMS", "total_variation", "TotalVariation"),
    "lpips": ("LPIPS_LAYERS", "LPIPS", "lpips", "lpips_heads_for", "unit_normalize"),
    "adversarial": ("ADVERSARIAL_LOSSES", "AdversarialLoss", "discriminator_loss", "generator_loss", "gradient_penalty"),
    "aesthetic": (
        "REC601", "luminance", "colorfulness", "rms_contrast", "saturation", "brightness", "exposure_error",
        "clipped_fraction", "colorfulness_loss", "contrast_loss", "saturation_loss", "exposure_loss",
    ),
    "weighted": ("weighted_sum", "WeightedLoss"),
    "registry": ("LossSpec", "REGISTRY", "get_spec", "MEASURE_SPECS"),
    "distortions": ("DISTORTIONS", "distort", "distortion_study"),
    "mixing": ("MixingConfig", "MixingDesk", "ablation_study", "default_weights", "STYLE_PREFIX"),
    "compare": ("COMPARE_METRICS", "compare", "pair_metrics"),
}
__all__, __getattr__, __dir__ = lazy_exports(__name__, _MODULES, globals())
_EXPORTS = {name: module for module, names in _MODULES.items() for name in names}


class _LossesPackage(types.ModuleType):
    """Keeps ``stylelab.losses.ssim`` / ``.lpips`` meaning the FUNCTIONS, as the docs promise.

    Importing a submodule makes Python set it as an attribute of its package, which would shadow
    the function of the same name (``ssim`` in ``ssim.py``, ``lpips`` in ``lpips.py``) depending
    on import order. Redirect that attribute to the function. (Modules stay importable with
    ``from stylelab.losses.ssim import ...``.)
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _EXPORTS.get(name) == name:
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _LossesPackage
