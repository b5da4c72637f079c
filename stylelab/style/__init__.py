"""stylelab.style: neural style transfer three ways, plus training your own fast network.

==================  ==========================================================================
module              what it holds
==================  ==========================================================================
``configs``         ``GatysConfig``, ``FastStyleConfig`` (importable without torch: the CLI's flags)
``gatys``           ``GatysStylizer`` (a Run, kind ``gatys``), ``stylize_gatys``: optimisation
``compare``         ``wipe``: a before/after picture
``colour``          colour preservation: luminance-only (YIQ) and linear histogram matching
``multistyle``      the 26-style conditional-instance-norm network, ported from ONNX to PyTorch
``arbitrary``       Magenta style encoder -> 100-d code -> transformer (onnxruntime)
``transformer_net`` Johnson et al.'s feed-forward ``TransformerNet``
``train_fast``      ``FastStyleTrainer`` (a Run, kind ``fast-style``; DDP-ready), checkpoints
``experiments``     ``GatysPair`` (a space beside plain pixels), the one-pass methods' records
``objectives``      the equations the Style Studio shows (``style.*`` in :mod:`stylelab.equations`)
``reference``       the slow tutorial-style loop, used only as the benchmark's baseline
``cli``             ``python -m stylelab stylize | styles | train-style`` (also under torchrun)
``bench``           the performance table
==================  ==========================================================================

Names are re-exported lazily (PEP 562) so ``import stylelab.style`` stays cheap.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_MODULES = {
    "configs": ("GatysConfig", "FastStyleConfig"),
    "gatys": ("GatysResult", "GatysStylizer", "stylize_gatys", "feature_net", "config_from_record"),
    "experiments": ("GatysPair",),
    "compare": ("wipe",),
    "colour": ("rgb_to_yiq", "yiq_to_rgb", "luminance_image", "match_luminance", "combine_luminance", "match_color"),
    "multistyle": ("NUM_STYLES", "STYLE_NAMES", "MultiStyleNet", "ConditionalInstanceNorm2d", "parse_style",
                   "get_multistyle", "stylize_multistyle", "style_thumbnails", "build_from_onnx"),
    "arbitrary": ("CODE_DIM", "style_code", "transfer", "blend_codes", "interpolate_codes", "with_strength",
                  "stylize_arbitrary"),
    "transformer_net": ("TransformerNet",),
    "train_fast": ("FastStyleTrainer", "read_checkpoint", "load_fast_style"),
}
__all__, __getattr__, __dir__ = lazy_exports(__name__, _MODULES, globals())
