"""Offline training data for the inpainter: random crops and random masks, never a download.

Sources (``InpaintData(source=...)``):

- ``"photos"``: random ``size`` crops of the bundled scikit-image / scikit-learn photos, the
  textures, and the public-domain paintings (each picture first scaled so its longer side is
  ``scale`` px, randomly in a range, so crops see the same detail the app shows at 128-256 px);
  the images in :data:`HELD_OUT` are never used for training (they are the benchmark's);
- ``"photos+gcompris"``: the same, plus the training split of the 114 GCompris photographs
  (:mod:`stylelab.data.gcompris_photos`: monuments, animals, landscapes; 100 trained on, 14 held out);
- ``"faces"``: the 200 ``lfw_subset`` faces/non-faces (25x25 grey), upscaled to ``size``;
- ``"fashion"``: Fashion-MNIST training images (28x28 grey), padded to ``size``.

Every sample gets its own mask: free-form strokes (70 %) or a random rectangle (30 %).
Each DDP rank draws from its own seed (``seed + 1000 * rank``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import AssetError, ConfigError
from .masks import random_rect_mask, random_strokes
from .train_config import SOURCES

__all__ = ["HELD_OUT", "SOURCES", "InpaintData", "held_out_images", "training_image_names"]

#: Pictures never used for training (the benchmark and the app's defaults).
HELD_OUT = ("photo:astronaut", "photo:coffee", "photo:chelsea", "painting:mona-lisa",
            "painting:the-great-wave-off-kanagawa", "painting:village-street-in-auvers")
#: Photos that are not natural scenes (scanned text, synthetic colour wheel): left out of training.
_NOT_SCENES = {"photo:page", "photo:text", "photo:colorwheel"}


def training_image_names() -> list[str]:
    """Bundled pictures used for training crops: photos, textures, paintings, minus :data:`HELD_OUT`."""
    from ..assets import image_catalog

    cat = image_catalog()
    names = cat.get("Photos", []) + cat.get("Textures", []) + cat.get("Paintings", [])
    return [n for n in names if n not in HELD_OUT and n not in _NOT_SCENES]


def held_out_images(size: int = 128) -> dict[str, torch.Tensor]:
    """The held-out pictures as ``(3, size, size)`` centre crops (those that are available here)."""
    from ..assets import load_bundled

    out = {}
    for name in HELD_OUT:
        try:
            img = load_bundled(name, size=None)
        except AssetError:
            continue
        out[name] = _square(img, size)
    return out


def _square(img: torch.Tensor, size: int) -> torch.Tensor:
    """Scale the shorter side to ``size`` and take the centre square ``(3, size, size)``."""
    from ..imageio import resize_tensor

    h, w = img.shape[-2:]
    s = size / min(h, w)
    img = resize_tensor(img, (max(size, round(h * s)), max(size, round(w * s))))
    h, w = img.shape[-2:]
    top, left = (h - size) // 2, (w - size) // 2
    return img[:, top:top + size, left:left + size].contiguous()


_POOLS: dict[tuple, list["_Pool"]] = {}
_POOLS_LOCK = threading.Lock()


@dataclass
class _Pool:
    images: list[torch.Tensor]  # each (3, H, W)


class InpaintData:
    """An endless sampler of ``(images, masks)`` batches.

    Args:
        source: ``"photos"``, ``"faces"`` or ``"fashion"``.
        size: crop size (a multiple of 8 recommended).
        seed: sampling seed (add the DDP rank for distinct ranks).
        scale: range of the longer side the photos are resized to before cropping.
        stroke_fraction: share of free-form stroke masks (the rest are rectangles).
    """

    def __init__(self, source: str = "photos", size: int = 64, seed: int = 0, scale: tuple[int, int] = (128, 224),
                 stroke_fraction: float = 0.7) -> None:
        if source not in SOURCES:
            raise ConfigError(f"Unknown training data {source!r}; choose one of {SOURCES}.")
        if size < 16:
            raise ConfigError(f"Training crops must be at least 16 px, got {size}.")
        self.source, self.size, self.scale, self.stroke_fraction = source, size, scale, stroke_fraction
        self.rng = np.random.default_rng(seed)  # this sampler's own stream: crops, flips, masks
        key = (source, size, tuple(scale))
        with _POOLS_LOCK:  # the pictures are read-only: load them once per process
            if key not in _POOLS:
                _POOLS[key] = self._load()
            self.pools = _POOLS[key]

    def _load(self) -> list[_Pool]:
        from ..assets import load_bundled, load_fashion_mnist, load_lfw_subset

        if self.source == "faces":
            faces = torch.from_numpy(load_lfw_subset())[:, None].repeat(1, 3, 1, 1)  # (200, 3, 25, 25)
            faces = F.interpolate(faces, size=(self.size, self.size), mode="bilinear", align_corners=False)
            return [_Pool(list(faces.clamp(0, 1)))]
        if self.source == "fashion":
            x, _ = load_fashion_mnist("train")  # (60000, 28, 28)
            x = torch.from_numpy(np.asarray(x[:20000], dtype=np.float32) / 255.0)[:, None].repeat(1, 3, 1, 1)
            pad = max(0, self.size - 28)
            x = F.pad(x, (pad // 2, pad - pad // 2, pad // 2, pad - pad // 2))
            return [_Pool(list(x[..., : self.size, : self.size]))]
        pools = []
        lo, hi = self.scale

        def add(big: torch.Tensor) -> None:
            # A few pre-scaled copies per picture: the crop scale varies without resizing per sample.
            pools.append(_Pool([_resize_longer(big, int(s), self.size) for s in np.linspace(lo, hi, 3)]))

        for name in training_image_names():
            try:
                add(load_bundled(name, size=None))
            except AssetError:
                continue
        if self.source == "photos+gcompris":
            from ..data.gcompris_photos import list_gcompris_photos, load_gcompris_photos

            names = list_gcompris_photos("train")
            if not names:
                raise AssetError("No GCompris photos found (Debian's gcompris-qt-data): use data='photos'.")
            for arr in load_gcompris_photos(names).values():
                add(torch.from_numpy(arr.copy()).permute(2, 0, 1).float().div(255.0))
        if not pools:
            raise AssetError("No bundled photos or paintings are available to train on.")
        return pools

    def fork(self, seed: int) -> "InpaintData":
        """A sampler over the same loaded pictures with its own random stream (no reloading)."""
        twin = object.__new__(InpaintData)
        twin.__dict__.update(self.__dict__)
        twin.rng = np.random.default_rng(seed)
        return twin

    def get_state(self) -> dict[str, object]:
        """The sampler's random state as plain values (``torch.load(weights_only=True)`` reads it back).

        NumPy's PCG64 state holds 128-bit integers; they are stored as decimal strings.
        """
        st = self.rng.bit_generator.state
        if st.get("bit_generator") != "PCG64":
            raise ConfigError(f"InpaintData saves PCG64 states, not {st.get('bit_generator')!r}.")
        return {"bit_generator": "PCG64", "state": str(st["state"]["state"]), "inc": str(st["state"]["inc"]),
                "has_uint32": int(st["has_uint32"]), "uinteger": int(st["uinteger"])}

    def set_state(self, state: dict[str, object]) -> None:
        """Continue from :meth:`get_state`: the next batches are the ones the saved sampler would draw."""
        self.rng = np.random.default_rng(0)  # replaced by the saved state just below
        self.rng.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": int(str(state["state"])), "inc": int(str(state["inc"]))},
            "has_uint32": int(state["has_uint32"]),  # type: ignore[call-overload]
            "uinteger": int(state["uinteger"]),  # type: ignore[call-overload]
        }

    def _crop(self) -> torch.Tensor:
        pool = self.pools[int(self.rng.integers(len(self.pools)))]
        img = pool.images[int(self.rng.integers(len(pool.images)))]  # (3, H, W)
        h, w = img.shape[-2:]
        s = self.size
        top, left = int(self.rng.integers(0, h - s + 1)), int(self.rng.integers(0, w - s + 1))
        crop = img[:, top:top + s, left:left + s]
        if self.rng.random() < 0.5:
            crop = crop.flip(-1)
        return crop

    def mask(self) -> torch.Tensor:
        """One random training mask ``(1, size, size)``."""
        if self.rng.random() < self.stroke_fraction:
            return random_strokes(self.size, self.size, rng=self.rng, max_coverage=0.5)
        return random_rect_mask(self.size, self.size, 0.2, 0.5, rng=self.rng)

    def batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(images (n, 3, S, S), masks (n, 1, S, S))``."""
        images = torch.stack([self._crop() for _ in range(n)])  # (n, 3, S, S)
        masks = torch.stack([self.mask() for _ in range(n)])  # (n, 1, S, S)
        return images.contiguous(), masks


def _resize_longer(img: torch.Tensor, longer: int, min_side: int) -> torch.Tensor:
    from ..imageio import resize_tensor

    h, w = img.shape[-2:]
    s = longer / max(h, w)
    s = max(s, min_side / min(h, w))  # never smaller than a crop
    return resize_tensor(img, (max(min_side, round(h * s)), max(min_side, round(w * s))))
