"""Arbitrary style: style codes, strength and interpolation at the ends, transfer shapes, bad input."""

from __future__ import annotations

import pytest
import torch

from stylelab.errors import ConfigError, ShapeError
from stylelab.style.arbitrary import CODE_DIM, blend_codes, interpolate_codes, style_code, transfer, with_strength


@pytest.fixture(scope="module")
def images():
    from stylelab.assets import load_bundled

    return load_bundled("photo:astronaut", 96), load_bundled("texture:brick", 96)


def test_codes_and_interpolation_ends(images):
    content, style = images
    a, b = style_code(content), style_code(style)
    assert a.shape == (CODE_DIM,) and torch.isfinite(a).all()
    assert torch.equal(style_code(style), b)  # deterministic
    assert (a - b).abs().max() > 1e-3
    assert torch.allclose(interpolate_codes(a, b, 0.0), a) and torch.allclose(interpolate_codes(a, b, 1.0), b)
    assert torch.allclose(interpolate_codes(a, b, 0.5), (a + b) / 2, atol=1e-6)
    assert torch.allclose(with_strength(b, a, 0.0), a) and torch.allclose(with_strength(b, a, 1.0), b)
    assert torch.allclose(blend_codes([a, b], [1, 3]), 0.25 * a + 0.75 * b, atol=1e-6)


def test_transfer_shape_and_strength(images):
    content, style = images
    rect = content[:, :, :80]  # (3, 96, 80): not square
    own, full = style_code(rect), style_code(style)
    weak = transfer(rect, own)
    strong = transfer(rect, full)
    assert weak.shape == rect.shape == strong.shape
    assert 0 <= float(strong.min()) and float(strong.max()) <= 1
    # strength 0 (the content's own code) stays closer to the content than the full style
    assert (weak - rect).pow(2).mean() < (strong - rect).pow(2).mean()


def test_bad_inputs(images):
    content, _ = images
    code = style_code(content)
    with pytest.raises(ShapeError):
        transfer(content, torch.zeros(10))
    with pytest.raises(ShapeError):
        style_code(torch.rand(3, 8, 8))
    with pytest.raises(ConfigError):
        interpolate_codes(code, code, 1.5)
    with pytest.raises(ConfigError):
        with_strength(code, code, -0.1)
    with pytest.raises(ConfigError):
        blend_codes([])
    with pytest.raises(ConfigError):
        blend_codes([code, code], [1.0, -1.0])
