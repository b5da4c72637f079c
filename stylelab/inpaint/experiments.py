"""Inpainting experiments the app, the notebook and the CLI share: no UI code here.

- :func:`fill_all`: every chosen method on the same hole, each timed and scored in the hole;
- :func:`shipped_study`: the shipped loss-study checkpoints (one U-Net per loss) on the same hole;
- :func:`fill_record`: the experiment record of a fill (what ``stylelab.record.load`` replays).

A *result* is ``{"image": (3, H, W) CPU tensor, "scores": hole_scores(...), "seconds": float}``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import StylelabError

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from ..record import ExperimentRecord
    from .model import Inpainter

__all__ = ["fill_all", "fill_record", "result", "shipped_study", "study_checkpoints"]


def result(image: "torch.Tensor", truth: "torch.Tensor", mask: "torch.Tensor", seconds: float) -> dict[str, Any]:
    """A filled picture with its scores against the intact ``truth`` (:func:`~stylelab.inpaint.metrics.hole_scores`)."""
    from .metrics import hole_scores

    return {"image": image.detach().cpu(), "scores": hole_scores(image, truth, mask), "seconds": float(seconds)}


def fill_all(truth: "torch.Tensor", mask: "torch.Tensor", methods: Sequence[str], *,
             model: "Inpainter | None" = None, dip_config: Any = None, device: Any = None,
             gated: Any = None) -> tuple[dict[str, dict[str, Any]], dict[str, StylelabError]]:
    """Fill the hole of ``truth`` with each method (the hole blanked first) and score every result.

    Args:
        truth: the intact picture ``(3, H, W)`` in [0, 1] (the scores compare against it).
        mask: ``(1, H, W)``, 1 = hole.
        methods: names from :data:`~stylelab.inpaint.methods.METHODS`.
        model: the trained U-Net for ``"unet"`` (default: the best shipped checkpoint).
        dip_config: :class:`~stylelab.inpaint.dip.DIPConfig` for ``"dip"`` (run to the end here;
            the app drives DIP live instead and leaves it out of ``methods``).
        device: where Deep Image Prior runs (None: :func:`~stylelab.device.get_device`).
        gated: the :class:`~stylelab.inpaint.gated_model.GatedInpainter` for ``"gated"`` (default: the shipped one).

    Returns:
        ``(results, errors)``: ``{method label: result}`` in the order of ``methods``, and
        ``{method label: error}`` for the methods that refused this input (the others still ran).
    """
    from .masks import damage
    from .methods import METHODS, inpaint

    damaged = damage(truth, mask)
    results: dict[str, dict[str, Any]] = {}
    errors: dict[str, StylelabError] = {}
    for name in methods:
        label = METHODS[name].label if name in METHODS else name
        opts: dict[str, Any] = {}
        if name == "unet" and model is not None:
            opts["model"] = model
        elif name == "gated" and gated is not None:
            opts["model"] = gated
        elif name == "dip":
            opts = {"config": dip_config, "device": device}
        t0 = time.perf_counter()
        try:
            out = inpaint(damaged, mask, name, **opts)
        except StylelabError as exc:
            errors[label] = exc
            continue
        results[label] = result(out, truth, mask, time.perf_counter() - t0)
    return results, errors


def study_checkpoints() -> list[str]:
    """The shipped checkpoints of the loss study, ``unet64-<loss choice>``, in the order of the choices."""
    from .losses import LOSS_CHOICES
    from .model import list_checkpoints

    shipped = set(list_checkpoints())
    return [f"unet64-{c}" for c in LOSS_CHOICES if f"unet64-{c}" in shipped]


def shipped_study(truth: "torch.Tensor", mask: "torch.Tensor",
                  load: Callable[[str], "Inpainter"] | None = None) -> dict[str, dict[str, Any]]:
    """Every shipped loss-study U-Net on the same hole: ``{loss choice label: result}``.

    Args:
        truth, mask: as for :func:`fill_all`.
        load: how to get a checkpoint's inpainter (default :func:`~stylelab.inpaint.model.load_inpainter`;
            the app passes its cached loader).
    """
    from .losses import LOSS_CHOICES
    from .masks import damage
    from .model import load_inpainter

    load = load or load_inpainter
    damaged = damage(truth, mask)
    out = {}
    for name in study_checkpoints():
        t0 = time.perf_counter()
        filled = load(name)(damaged, mask)
        out[LOSS_CHOICES[name.removeprefix("unet64-")].label] = result(filled, truth, mask, time.perf_counter() - t0)
    return out


def fill_record(results: dict[str, dict[str, Any]], mask_settings: dict[str, Any], methods: Sequence[str],
                checkpoint: str | None, dip_iterations: int) -> "ExperimentRecord":
    """The record of a fill: the mask's settings, the methods, the checkpoint, and each method's scores.

    ``stylelab.record.load(record).replay(image=...)`` fills the same hole again.
    """
    from ..record import ExperimentRecord

    return ExperimentRecord(lab="inpaint", config={"mask": dict(mask_settings), "methods": list(methods),
                                                   "checkpoint": checkpoint, "dip_iterations": int(dip_iterations)},
                            summary={name: r["scores"] for name, r in results.items()})
