"""The GCompris paintings (``stylelab.paintings``): the public names of :mod:`stylelab.data.paintings`.

The code lives in :mod:`stylelab.data.paintings` (``qres``, ``boards``, ``reassemble``, ``cache``);
this module keeps the old import path working::

    from stylelab.paintings import list_paintings, load_painting

The settings read at call time (``DEFAULT_RCC``) belong to :mod:`stylelab.data.paintings.cache`.
"""

from __future__ import annotations

from .data.paintings import *  # noqa: F403  (the public names, listed once in data.paintings.__all__)
from .data.paintings import __all__  # noqa: F401
