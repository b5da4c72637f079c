"""The trained gated inpainter ready to use: classical fill -> :class:`GatedInpaintNet` refinement, checkpoints.

``GatedInpainter(net)(image, mask)`` fills the hole: the hole is first filled by Telea
(:func:`stylelab.inpaint.classical.telea`), the network sees ``[x (1 - m), m, c]`` and returns
:math:`\\hat x`; the result keeps every known pixel, :math:`y = m \\hat x + (1 - m) x`.

Checkpoint format (a plain dict, ``torch.load(..., weights_only=True)``)::

    {"format": "stylelab.inpaint-gated/1", "net": {GatedConfig fields}, "state_dict": {...},
     "train": {GatedTrainConfig fields}, "meta": {"steps": ..., "wall_s": ..., "scores": ...}}

The shipped one is ``stylelab/inpaint/checkpoints/gated-refine.pt`` (fp16 weights) with its model card
``gated-refine.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..device import autocast
from ..errors import CheckpointError
from .gated import GatedConfig, GatedInpaintNet
from .masks import as_batch, composite, hole

__all__ = ["GATED_FORMAT", "SHIPPED_GATED", "GatedInpainter", "gated_input", "gated_model_card", "load_gated",
           "save_gated", "shipped_gated"]

GATED_FORMAT = "stylelab.inpaint-gated/1"
#: the shipped gated inpainter's name (``checkpoints/<name>.pt``)
SHIPPED_GATED = "gated-refine"
_DIR = Path(__file__).resolve().parent / "checkpoints"


def gated_input(image: torch.Tensor, hole_mask: torch.Tensor, fill: torch.Tensor | None = None) -> torch.Tensor:
    """``(N, 7, H, W)``: the image with the hole set to 0, the hole, and the classical fill of the hole.

    Args:
        image: ``(N, 3, H, W)`` in [0, 1] (its hole pixels are never read).
        hole_mask: ``(N, 1, H, W)`` binary, 1 = hole.
        fill: the classical fill ``(N, 3, H, W)`` (None: Telea of the masked image, radius 3).
    """
    masked = image * (1.0 - hole_mask)
    if fill is None:
        from .classical import telea

        fill = telea(masked, hole_mask)
    fill = composite(fill.to(image.dtype), image, hole_mask)  # the fill is only ever new inside the hole
    return torch.cat([masked, hole_mask, fill], dim=1)


class GatedInpainter:
    """A trained :class:`GatedInpaintNet` ready to inpaint (same interface as :class:`~stylelab.inpaint.model.Inpainter`)."""

    def __init__(self, net: GatedInpaintNet, meta: dict[str, Any] | None = None, train: dict[str, Any] | None = None) -> None:
        self.net = net.eval()
        self.meta = dict(meta or {})
        self.train_config = dict(train or {})

    @torch.no_grad()
    def predict(self, image: torch.Tensor, mask: torch.Tensor, bf16: bool = True) -> torch.Tensor:
        """The network's prediction ``(N, 3, H, W)`` (before compositing)."""
        x, m, _ = as_batch(image, mask)
        dev = next(self.net.parameters()).device
        hm = hole(m).to(dev)
        inp = gated_input(x.to(dev).float(), hm.float())
        with autocast(dev, enabled=bf16):
            out = self.net(inp)
        return out.float()

    def __call__(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Inpaint: ``mask * prediction + (1 - mask) * image``, same shape as ``image``."""
        x, m, squeezed = as_batch(image, mask)
        out = composite(self.predict(x, m).to(x.device, x.dtype), x, m)
        return out[0] if squeezed else out


def save_gated(path: str | Path, net: GatedInpaintNet, train: dict[str, Any], meta: dict[str, Any],
               half: bool = False) -> Path:
    """Write ``net`` as a weights-only checkpoint (format :data:`GATED_FORMAT`), once and atomically."""
    from ..checkpoint import save_checkpoint

    state = {k: (v.half() if half and v.is_floating_point() else v).detach().cpu().clone()
             for k, v in net.state_dict().items()}
    blob = {"format": GATED_FORMAT, "net": net.config.to_dict(), "state_dict": state, "train": dict(train),
            "meta": dict(meta)}
    return save_checkpoint(blob, path)


def load_gated(name_or_path: str | Path = SHIPPED_GATED, device: Any = None) -> GatedInpainter:
    """Load a gated inpainter by shipped name or path (``weights_only=True``).

    Raises:
        CheckpointError: unknown name, unreadable file, another format, or weights that do not fit.
    """
    from ..checkpoint import load_checkpoint
    from ..run import resolve_device

    path = Path(name_or_path)
    if not path.suffix:
        path = _DIR / f"{name_or_path}.pt"
        if not path.is_file():
            raise CheckpointError(f"No shipped gated inpainter {str(name_or_path)!r} in {_DIR.name}/.")
    payload = load_checkpoint(path, "stylelab gated inpainter", format_key="format", format_value=GATED_FORMAT)
    try:
        cfg = GatedConfig(**payload["net"])
        with torch.device("meta"):
            net = GatedInpaintNet(cfg)
        net = net.to_empty(device="cpu")
        net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in payload["state_dict"].items()})
    except (KeyError, TypeError, RuntimeError, ValueError) as exc:
        raise CheckpointError(f"{path.name} does not fit a stylelab gated inpainter: {exc}") from exc
    return GatedInpainter(net.to(resolve_device(device)), payload.get("meta"), payload.get("train"))


def shipped_gated() -> bool:
    """Whether this build ships the gated inpainter's checkpoint."""
    return (_DIR / f"{SHIPPED_GATED}.pt").is_file()


def gated_model_card() -> str:
    """The shipped gated inpainter's model card (Markdown), or an empty string."""
    path = _DIR / f"{SHIPPED_GATED}.md"
    return path.read_text(encoding="utf-8") if path.is_file() else ""
