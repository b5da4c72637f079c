"""A second held-out set: real photos from installed packages that no stylelab run trains on.

The bench's :data:`~stylelab.inpaint.data.HELD_OUT` pictures are never trained on, but they come from
the same bundles as the training pictures. These come from elsewhere, and no stylelab module loads them
for training (the project's image catalogue does not list them):

- ``grace_hopper``: Matplotlib's sample photo ``mpl-data/sample_data/grace_hopper.jpg`` (a portrait);
- ``motorcycle-left`` / ``motorcycle-right``: the left and right squares of scikit-image's
  ``data/motorcycle_left.png`` (a stereo-benchmark photo; the catalogue has no motorcycle).

:func:`unseen_images` returns the ones present here; :func:`check_unseen` proves they are not in the
training list.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..errors import AssetError

__all__ = ["UNSEEN", "check_unseen", "unseen_images"]

#: name -> (package, file inside it, which square: "centre" | "left" | "right")
UNSEEN: dict[str, tuple[str, str, str]] = {
    "grace_hopper": ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg", "centre"),
    "motorcycle-left": ("skimage", "data/motorcycle_left.png", "left"),
    "motorcycle-right": ("skimage", "data/motorcycle_left.png", "right"),
}


def _path(package: str, relative: str) -> Path | None:
    from ..assets import package_file

    return package_file(package, relative)


def check_unseen() -> None:
    """Raise :class:`AssetError` if any picture of :data:`UNSEEN` is also a training picture."""
    from .data import training_image_names

    trained = {name.split(":", 1)[-1].replace("-", "_") for name in training_image_names()}  # "photo:rocket" -> "rocket"
    clash = [n for n, (_, rel, _) in UNSEEN.items() if Path(rel).stem in trained or n.replace("-", "_") in trained]
    if clash:
        raise AssetError(f"The unseen set overlaps the training pictures: {clash}.")


def unseen_images(size: int = 128) -> dict[str, torch.Tensor]:
    """The unseen photos as ``(3, size, size)`` squares (shorter side scaled to ``size``), those present here."""
    from ..imageio import load_image, resize_tensor

    out: dict[str, torch.Tensor] = {}
    for name, (package, rel, where) in UNSEEN.items():
        path = _path(package, rel)
        if path is None:
            continue
        img = load_image(path)  # (3, H, W)
        h, w = img.shape[-2:]
        side = min(h, w)
        top = (h - side) // 2
        left = {"centre": (w - side) // 2, "left": 0, "right": w - side}[where]
        square = img[:, top:top + side, left:left + side]
        out[name] = resize_tensor(square, (size, size)).contiguous()
    return out
