"""The trained inpainter: a U-Net that maps (masked image, mask) to the full image, and its checkpoints.

Input: the image with the hole blanked to 0 and the binary hole as a 4th channel
``(N, 4, H, W)``; output: an image ``(N, 3, H, W)``; the result keeps every known pixel:
``y = m * f(x * (1 - m), m) + (1 - m) * x``.

Checkpoint format (a plain dict, loadable with ``torch.load(..., weights_only=True)``)::

    {"format": "stylelab.inpaint/1", "unet": {UNetConfig fields}, "state_dict": {...},
     "train": {TrainConfig fields}, "meta": {"steps": ..., "loss": ..., ...}}

Shipped checkpoints live in ``stylelab/inpaint/checkpoints/<name>.pt`` with a model card
``<name>.md`` next to each (data, crops, steps, loss, wall time, held-out scores).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..device import autocast
from ..errors import CheckpointError
from .masks import as_batch, composite, hole
from .unet import UNet, UNetConfig

__all__ = [
    "CHECKPOINT_DIR",
    "FORMAT",
    "FORMATS",
    "checkpoint_blob",
    "Inpainter",
    "list_checkpoints",
    "load_inpainter",
    "model_card",
    "save_checkpoint",
]

#: The format key written into every inpainting checkpoint (bump when the layout changes).
FORMAT = "stylelab.inpaint/1"
#: Formats this version reads (the shipped checkpoints' included).
FORMATS = (FORMAT,)
CHECKPOINT_DIR = Path(__file__).resolve().parent / "checkpoints"


def network_input(image: torch.Tensor, hole_mask: torch.Tensor) -> torch.Tensor:
    """``(N, 4, H, W)``: the image with the hole set to 0, then the hole itself."""
    return torch.cat([image * (1.0 - hole_mask), hole_mask], dim=1)  # (N, 4, H, W)


class Inpainter:
    """A trained U-Net inpainter ready to use.

    Args:
        net: a :class:`UNet` with 4 input and 3 output channels.
        meta: what the checkpoint says about its training (shown in the app).
    """

    def __init__(self, net: UNet, meta: dict[str, Any] | None = None, train: dict[str, Any] | None = None) -> None:
        if net.config.in_ch != 4 or net.config.out_ch != 3:
            raise CheckpointError(f"An inpainter U-Net needs 4 inputs and 3 outputs, got {net.config}.")
        self.net = net.eval()
        self.meta = dict(meta or {})
        self.train_config = dict(train or {})

    @torch.no_grad()
    def predict(self, image: torch.Tensor, mask: torch.Tensor, bf16: bool = True) -> torch.Tensor:
        """The network's raw prediction ``(N, 3, H, W)`` (before compositing)."""
        x, m, _ = as_batch(image, mask)
        dev = next(self.net.parameters()).device
        x, hm = x.to(dev), hole(m).to(dev)
        with autocast(dev, enabled=bf16):
            out = self.net(network_input(x, hm))  # (N, 3, H, W)
        return out.float()

    def __call__(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Inpaint: ``mask * prediction + (1 - mask) * image``, same shape as ``image``."""
        x, m, squeezed = as_batch(image, mask)
        pred = self.predict(x, m).to(x.device)  # (N, 3, H, W)
        out = composite(pred, x, m)
        return out[0] if squeezed else out


def checkpoint_blob(net: UNet, train: dict[str, Any], meta: dict[str, Any], half: bool = False,
                    **extra: Any) -> dict[str, Any]:
    """The checkpoint dict of ``net`` (``half=True`` stores fp16 weights: half the size).

    ``extra`` adds entries (the trainer's ``optimizer``, ``disc``, ``d_optimizer`` for a resumable file).
    """
    state = {k: (v.half() if half and v.is_floating_point() else v).detach().cpu().clone()
             for k, v in net.state_dict().items()}
    return {"format": FORMAT, "unet": net.config.to_dict(), "state_dict": state,
            "train": dict(train), "meta": dict(meta), **extra}


def save_checkpoint(path: str | Path, net: UNet, train: dict[str, Any], meta: dict[str, Any], half: bool = False,
                    **extra: Any) -> Path:
    """Save ``net`` as a weights-only checkpoint, once and atomically (:func:`stylelab.checkpoint.save_checkpoint`)."""
    from ..checkpoint import save_checkpoint as save_atomic

    return save_atomic(checkpoint_blob(net, train, meta, half=half, **extra), path)


def _load_payload(path: Path) -> dict[str, Any]:
    """A checkpoint's dict, read with ``weights_only=True``; its ``format`` must be one of :data:`FORMATS`."""
    from ..checkpoint import load_checkpoint

    what = "stylelab inpainting checkpoint"
    payload = load_checkpoint(path, what)
    if not isinstance(payload, dict) or payload.get("format") not in FORMATS:
        raise CheckpointError(f"{Path(path).name} is not a {what} (expected format {FORMAT!r}).")
    for key in ("unet", "state_dict"):
        if not isinstance(payload.get(key), dict):
            raise CheckpointError(f"{Path(path).name} lacks its {key!r} entry.")
    return payload


def load_inpainter(name_or_path: str | Path, device: torch.device | str | None = None) -> Inpainter:
    """Load a shipped checkpoint by name (``"unet64-mse"``) or any checkpoint file by path.

    Args:
        name_or_path: a shipped name (see :func:`list_checkpoints`) or a ``.pt`` path.
        device: where the network goes (None: :func:`~stylelab.device.get_device`).

    Raises:
        CheckpointError: unknown name, unreadable/unsafe file, or weights of another model.
    """
    from ..run import resolve_device

    path = Path(name_or_path)
    if not path.suffix:
        path = CHECKPOINT_DIR / f"{name_or_path}.pt"
        if not path.is_file():
            raise CheckpointError(f"No shipped inpainter {str(name_or_path)!r}; choose one of {list_checkpoints()}.")
    payload = _load_payload(path)
    try:
        cfg = UNetConfig(**payload["unet"])
        with torch.device("meta"):  # no random initialisation (the weights are loaded just below)
            net = UNet.from_config(cfg)
        net = net.to_empty(device="cpu")
        net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in payload["state_dict"].items()})
    except (TypeError, RuntimeError, ValueError) as exc:
        raise CheckpointError(f"{path.name} does not fit a stylelab U-Net: {exc}") from exc
    return Inpainter(net.to(resolve_device(device)), payload.get("meta"), payload.get("train"))


def list_checkpoints() -> list[str]:
    """Names of the shipped U-Net inpainters (files ``checkpoints/<name>.pt``), sorted.

    The gated inpainter's checkpoints (``gated-*.pt``, another format: :mod:`stylelab.inpaint.gated_model`)
    are not U-Nets and are left out.
    """
    return sorted(p.stem for p in CHECKPOINT_DIR.glob("*.pt") if not p.stem.startswith("gated-"))


def model_card(name: str) -> str:
    """The model card (Markdown) of a shipped inpainter, or an empty string if it has none."""
    path = CHECKPOINT_DIR / f"{name}.md"
    return path.read_text(encoding="utf-8") if path.is_file() else ""
