"""Colour preservation: YIQ round trip, luminance combination, linear colour matching."""

from __future__ import annotations

import pytest
import torch

from stylelab.errors import ShapeError
from stylelab.style.colour import (
    combine_luminance,
    luminance_image,
    match_color,
    match_luminance,
    rgb_to_yiq,
    yiq_to_rgb,
)


def test_yiq_round_trip_and_known_values():
    x = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(yiq_to_rgb(rgb_to_yiq(x)), x, atol=1e-5)
    white = torch.ones(3, 1, 1)
    yiq = rgb_to_yiq(white)[:, 0, 0]
    assert torch.allclose(yiq, torch.tensor([1.0, 0.0, 0.0]), atol=1e-3)  # white: Y = 1, no chroma


def test_combine_luminance_takes_y_from_result_and_chroma_from_content():
    g = torch.Generator().manual_seed(1)
    # in-gamut case: mildly coloured content, grey stylised luminance (what luminance-only transfer makes)
    content = 0.45 + 0.1 * torch.rand(3, 16, 16, generator=g)
    stylised = luminance_image(0.3 + 0.4 * torch.rand(3, 16, 16, generator=g))
    out = combine_luminance(stylised, content)
    assert torch.allclose(rgb_to_yiq(out)[0], rgb_to_yiq(stylised)[0], atol=1e-4)
    assert torch.allclose(rgb_to_yiq(out)[1:], rgb_to_yiq(content)[1:], atol=1e-4)
    grey = luminance_image(content)
    assert torch.allclose(grey[0], grey[1]) and torch.allclose(grey[0], rgb_to_yiq(content)[0], atol=1e-6)


def test_match_luminance_and_match_color_statistics():
    g = torch.Generator().manual_seed(2)
    content = torch.rand(3, 32, 32, generator=g) * 0.4 + 0.3
    style = torch.rand(3, 24, 40, generator=g) ** 2
    ml = match_luminance(style, content)
    assert abs(float(ml[0].mean() - rgb_to_yiq(content)[0].mean())) < 0.02
    mc = match_color(style, content)
    assert mc.shape == style.shape
    assert torch.allclose(mc.reshape(3, -1).mean(1), content.reshape(3, -1).mean(1), atol=0.02)
    assert torch.allclose(torch.cov(mc.reshape(3, -1)), torch.cov(content.reshape(3, -1)), atol=2e-3)


def test_bad_shape():
    with pytest.raises(ShapeError):
        rgb_to_yiq(torch.rand(4, 8, 8))
