"""Shared pytest fixtures: a private cache dir, seeded RNGs, small real images."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

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
    from stylelab.imageio import resize_tensor
    from stylelab.assets import load_bundled

    return resize_tensor(load_bundled("photo:coffee"), (128, 128))
