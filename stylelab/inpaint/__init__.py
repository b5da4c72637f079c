"""stylelab.inpaint: draw a hole, fill it six ways, and see which loss does what.

==================  ==========================================================================
module              what it holds
==================  ==========================================================================
``masks``           the mask convention (float, 1 = hole), validation, rectangles, centre
                    holes, free-form strokes, masks from pictures, feathering
``unet``            ``UNet(in_ch, out_ch, base, depth)``, shared by DIP and the trained inpainter
``classical``       OpenCV Telea and Navier-Stokes, scikit-image biharmonic
``dip``             Deep Image Prior: an untrained U-Net fitted to one image (a Run, kind "dip")
``model``           the trained inpainter, its checkpoints and model cards
``losses``          masked MSE / L1 and the loss choices of the study
``metrics``         PSNR / SSIM / LPIPS in the hole and around it, the boundary seam
``data``            offline training crops (photos, paintings, faces, Fashion-MNIST) + held-out set
``train``           ``InpaintTrainer``: the training Run (checkpoints, ``torchrun`` DDP)
``study``           ``LossStudy``: one U-Net per loss, same data and start (a Run)
``methods``         ``inpaint(image, mask, method=...)``: one interface to every method
``experiments``     ``fill_all`` (every method on one hole, timed and scored), the shipped-checkpoint study
``objectives``      the LaTeX the page shows (composite, DIP objective, training objective)
``bench``           held-out quality and time per method (the gated inpainter on both held-out sets)
``gated``           ``GatedInpaintNet``: gated convolutions, dilated + Fourier bottleneck, refines Telea's fill
``gated_model``     ``GatedInpainter``, its checkpoints (``load_gated``)
``gated_train``     ``GatedTrainer``: its training Run (kind "inpaint-gated"; resumes, early stopping)
``crop``            crop-to-mask: large images filled around each hole at the trained scale
``mask_edit``       masks from the drawing canvas (brush, rectangle, eraser; undo), reusing a mask
``unseen``          a second held-out set: photos from packages no run trains on
==================  ==========================================================================

Mask convention, everywhere: a float tensor ``(N, 1, H, W)`` or ``(1, H, W)`` with values in
[0, 1]; **1 = hole** (missing), 0 = known. Results are ``mask * prediction + (1 - mask) * image``.

Names are re-exported lazily (PEP 562): ``import stylelab.inpaint`` (and the CLI's ``--help``) does not
import torch; ``from stylelab.inpaint import inpaint`` works as usual.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_MODULES = {
    "classical": ("biharmonic", "navier_stokes", "telea"),
    "dip": ("DIPConfig", "DeepImagePrior", "deep_image_prior"),
    "crop": ("inpaint_cropped",),
    "experiments": ("fill_all", "fill_record", "shipped_study"),
    "gated": ("GatedConfig", "GatedInpaintNet"),
    "gated_model": ("GatedInpainter", "load_gated"),
    "losses": ("LOSS_CHOICES", "LossChoice", "get_loss_choice", "masked_l1", "masked_mean", "masked_mse"),
    "masks": ("as_batch", "center_mask", "composite", "coverage", "damage", "feather", "hole", "hole_overlay",
              "mask_from_image", "random_rect_mask", "random_strokes", "rect_mask", "validate_mask"),
    "methods": ("METHODS", "MethodSpec", "default_checkpoint", "inpaint", "predict"),
    "metrics": ("boundary_band", "boundary_seam", "hole_scores", "masked_lpips", "masked_psnr", "masked_ssim"),
    "model": ("Inpainter", "list_checkpoints", "load_inpainter", "model_card", "save_checkpoint"),
    "study": ("LossStudy", "LossStudyConfig"),
    "train": ("InpaintTrainConfig", "InpaintTrainer"),
    "unet": ("UNet", "UNetConfig"),
}
__all__, __getattr__, __dir__ = lazy_exports(__name__, _MODULES, globals())
