"""Real photographs from Debian's ``gcompris-qt-data`` (already installed for the paintings).

GCompris' "explore" and "erase" activities ship colour photographs (monuments, wild and farm animals,
landscapes of the world's music, nature close-ups; 1024-1920 px, WebP) inside Qt resource files in
``/usr/share/gcompris-qt/rcc``. They are a varied, offline set of natural photos: the gated inpainter
trains on them (``InpaintData(source="photos+gcompris")``), every :data:`HOLD_OUT_EVERY`-th photo held out.

Names are ``"gphoto:<activity>/<file stem>"``. Nothing is downloaded; a missing package gives an empty
list from :func:`list_gcompris_photos` and an :class:`~stylelab.errors.AssetError` from :func:`load_gcompris_photo`.
"""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path

import numpy as np

from ..errors import AssetError

#: the activities whose resources hold photographs (others hold drawings, icons or sounds)
ACTIVITIES = ("explore_monuments", "erase", "explore_world_animals", "explore_farm_animals", "explore_world_music")
#: the smaller side a picture needs to count as a photo here (icons and thumbnails are left out)
MIN_SIDE = 400
#: every n-th photo (in sorted name order) is held out of training
HOLD_OUT_EVERY = 8
PREFIX = "gphoto:"

_LOCK = threading.Lock()
_INDEX: dict[str, tuple[Path, str]] | None = None


def rcc_dir() -> Path:
    """``$STYLELAB_GCOMPRIS_RCC`` or ``/usr/share/gcompris-qt/rcc``."""
    return Path(os.environ.get("STYLELAB_GCOMPRIS_RCC", "/usr/share/gcompris-qt/rcc"))


def _index() -> dict[str, tuple[Path, str]]:
    """``{name: (rcc file, resource path)}`` of every photo (read once per process; sizes from the headers)."""
    global _INDEX
    with _LOCK:
        if _INDEX is not None:
            return _INDEX
        from PIL import Image

        from .paintings.qres import read_qres

        found: dict[str, tuple[Path, str]] = {}
        for act in ACTIVITIES:
            path = rcc_dir() / f"{act}.rcc"
            if not path.is_file():
                continue
            try:
                files = read_qres(path)
            except AssetError:
                continue
            for res, blob in files.items():
                if not res.lower().endswith((".webp", ".jpg", ".jpeg", ".png")):
                    continue
                try:
                    with Image.open(io.BytesIO(blob)) as im:
                        ok = im.mode == "RGB" and min(im.size) >= MIN_SIDE
                except (OSError, ValueError):
                    continue
                if ok:
                    found.setdefault(f"{PREFIX}{act}/{Path(res).stem}", (path, res))
        _INDEX = dict(sorted(found.items()))
        return _INDEX


def list_gcompris_photos(split: str = "all") -> list[str]:
    """Sorted photo names: ``split`` ``"all"``, ``"train"`` or ``"held_out"`` (every
    :data:`HOLD_OUT_EVERY`-th name, counting from the 4th)."""
    names = list(_index())
    if split == "all":
        return names
    held = set(names[3::HOLD_OUT_EVERY])
    if split == "held_out":
        return [n for n in names if n in held]
    if split == "train":
        return [n for n in names if n not in held]
    raise AssetError(f"split must be all, train or held_out; got {split!r}.")


def load_gcompris_photo(name: str) -> np.ndarray:
    """The photo ``name`` as ``(H, W, 3)`` uint8 RGB."""
    from PIL import Image

    from .paintings.qres import read_qres

    entry = _index().get(name)
    if entry is None:
        raise AssetError(f"No GCompris photo {name!r} (is Debian's gcompris-qt-data installed in {rcc_dir()}?).")
    path, res = entry
    blob = read_qres(path).get(res)
    if blob is None:
        raise AssetError(f"{res} is no longer in {path}.")
    try:
        with Image.open(io.BytesIO(blob)) as im:
            return np.asarray(im.convert("RGB"))
    except (OSError, ValueError) as exc:
        raise AssetError(f"{name} could not be decoded: {exc}") from exc


def load_gcompris_photos(names: list[str]) -> dict[str, np.ndarray]:
    """Several photos at once ``{name: (H, W, 3) uint8}``, reading each resource file once."""
    from PIL import Image

    from .paintings.qres import read_qres

    index = _index()
    missing = [n for n in names if n not in index]
    if missing:
        raise AssetError(f"No GCompris photo {missing[0]!r} (is Debian's gcompris-qt-data installed in {rcc_dir()}?).")
    out: dict[str, np.ndarray] = {}
    for path in sorted({index[n][0] for n in names}):
        files = read_qres(path)
        for n in names:
            if index[n][0] == path:
                try:
                    with Image.open(io.BytesIO(files[index[n][1]])) as im:
                        out[n] = np.asarray(im.convert("RGB"))
                except (KeyError, OSError, ValueError) as exc:
                    raise AssetError(f"{n} could not be read from {path}: {exc}") from exc
    return {n: out[n] for n in names}


__all__ = ["ACTIVITIES", "HOLD_OUT_EVERY", "MIN_SIDE", "PREFIX", "list_gcompris_photos", "load_gcompris_photo",
           "load_gcompris_photos", "rcc_dir"]
