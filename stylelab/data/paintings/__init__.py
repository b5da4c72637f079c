"""Public-domain paintings rebuilt from the jigsaw puzzles of Debian's ``gcompris-qt-data``.

GCompris' "Assemble the puzzle" activity ships 22 famous paintings (Hokusai's *Great Wave*,
Leonardo's *Mona Lisa*, Kandinsky's *Composition VIII*, ...) inside one Qt binary resource file,
``/usr/share/gcompris-qt/rcc/paintings.rcc``. Every painting is cut into 6 to 25 jigsaw pieces
(WebP images with a binary alpha mask) and a small QML "board" file says where the centre of each
piece goes on a 702 x 515 background and who painted what, when.

This package, one module per step:

* :mod:`.qres` reads the resource file (:func:`read_qres`, a small reader of Qt's ``rcc``
  format, versions 1 to 3, zlib- and zstd-compressed entries),
* :mod:`.boards` reads the QML boards (title, artist, year, the pieces' positions),
* :mod:`.reassemble` puts the pieces back together without seams (its comment says how) and
* :mod:`.cache` caches the whole paintings as PNG files plus an ``index.json`` under
  ``$STYLELAB_CACHE/paintings`` (:func:`extract_paintings`), so that the app can offer them as
  content / style images with :func:`list_paintings` and :func:`load_painting`.

The images are never committed to the repository: they live only in the cache. The paintings
come from the WebMuseum (GPL-3.0-or-later as packaged by GCompris; the works themselves are in
the public domain).
"""

from __future__ import annotations

from .boards import Painting
from .cache import (
    DEFAULT_RCC,
    INSTALL_HINT,
    cache_dir,
    extract_paintings,
    list_paintings,
    load_painting,
    paintings_available,
)
from .qres import read_qres

__all__ = [
    "DEFAULT_RCC",
    "INSTALL_HINT",
    "Painting",
    "cache_dir",
    "extract_paintings",
    "list_paintings",
    "load_painting",
    "paintings_available",
    "read_qres",
]
