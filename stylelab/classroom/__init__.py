"""The classroom: links that carry a lab's set-up, lesson presets, and a class gallery.

===============  ================================================================================
``urlstate``     ``encode`` / ``decode`` a lab's controls as a query string (per-lab ``SCHEMAS``),
                 ``share_url``; hand-edited links give a typed :class:`~.urlstate.UrlStateError`
``qr``           ``qr_png(url)``: a QR code for the projector
``lessons``      ``LESSONS``: two or three presets per lab (title, prompt, link), data in
                 ``lessons.json``
``gallery``      ``Gallery(path)``: publish a result (image + record + caption) to a SQLite
                 database the whole class shares
===============  ================================================================================

Nothing here imports torch at import time (a page renders before torch loads).
"""

from __future__ import annotations

from .gallery import Gallery, GalleryEntry, GalleryError
from .lessons import Lesson  # (the function lessons.lessons() keeps its module name free)
from .qr import qr_png
from .urlstate import UrlStateError, decode, encode, link_from_state, share_url, values_from_state, widget_state

__all__ = ["Gallery", "GalleryEntry", "GalleryError", "Lesson", "UrlStateError", "decode", "encode", "link_from_state",
           "qr_png", "share_url", "values_from_state", "widget_state"]
