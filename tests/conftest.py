"""Shared pytest fixtures: seeded RNGs and small real images.

``stylelab`` is an installed (editable) package; pyproject's ``pythonpath`` puts this clone's root
and ``tests/`` first on ``sys.path``, so the tests always import this clone's code.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Keep test runs deterministic and polite on a shared 2-core machine.
os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture()
def rng():
    import numpy as np

    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def astronaut():
    """skimage's astronaut as (3, 128, 128) float in [0, 1]."""
    from stylelab.assets import load_bundled

    return load_bundled("photo:astronaut", size=128)


@pytest.fixture(scope="session")
def coffee():
    from stylelab.assets import load_bundled
    from stylelab.imageio import resize_tensor

    return resize_tensor(load_bundled("photo:coffee"), (128, 128))
