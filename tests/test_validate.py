"""stylelab.validate: the one image validator (shapes, grey, dtype, range, NaN), with messages a student can act on."""

from __future__ import annotations

import pytest
import torch

from stylelab.errors import EmptyImageError, ImageError, NonFiniteError, ShapeError, StylelabError
from stylelab.validate import RANGE_TOL, as_image, as_image_batch


def pic(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


def test_single_and_batched_pictures():
    x = pic(3, 8, 10)
    batch, squeezed = as_image_batch(x)
    assert batch.shape == (1, 3, 8, 10) and squeezed and batch.data_ptr() == x.data_ptr()  # a view, not a copy
    batch, squeezed = as_image_batch(pic(4, 3, 8, 10))
    assert batch.shape == (4, 3, 8, 10) and not squeezed
    assert torch.equal(as_image(x), x)


def test_grey_is_expanded_or_refused():
    g = pic(1, 6, 6)
    batch, _ = as_image_batch(g)
    assert batch.shape == (1, 3, 6, 6) and torch.equal(batch[0, 0], batch[0, 2])
    with pytest.raises(ShapeError, match="3 \\(RGB\\) channels; got 1"):
        as_image_batch(g, grey="refuse")
    mask, _ = as_image_batch(g, channels=1, name="mask")  # masks and digits are 1-channel
    assert mask.shape == (1, 1, 6, 6)
    with pytest.raises(ValueError):
        as_image_batch(g, grey="maybe")


@pytest.mark.parametrize(("x", "error", "match"), [
    ([[0.5]], ImageError, "torch tensor"),
    (pic(8, 8), ShapeError, r"\(C, H, W\) or \(N, C, H, W\); got \(8, 8\)"),
    (pic(1, 1, 3, 8, 8), ShapeError, "got"),
    (pic(4, 8, 8), ShapeError, "alpha"),
    (pic(2, 8, 8), ShapeError, "1 \\(grey\\) or 3 \\(RGB\\)"),
    (torch.empty(0, 3, 8, 8), EmptyImageError, "no pixels"),
    (torch.empty(3, 0, 8), EmptyImageError, "no pixels"),
    ((pic(3, 8, 8) * 255).to(torch.uint8), ImageError, "divide 8-bit pixels by 255"),
    (pic(3, 8, 8) * 255, ImageError, "looks like 0-255"),
    (pic(3, 8, 8) - 0.5, ImageError, r"\[0, 1\]"),
    (torch.full((3, 4, 4), float("nan")), NonFiniteError, "NaN"),
    (torch.full((3, 4, 4), float("inf")), NonFiniteError, "infinite"),
])
def test_refusals_are_typed_and_say_what_to_do(x, error, match):
    with pytest.raises(error, match=match) as info:
        as_image_batch(x, name="content image")
    assert isinstance(info.value, StylelabError)
    if isinstance(x, torch.Tensor) and x.ndim >= 3:
        assert "content image" in str(info.value)


def test_range_slack_is_allowed_never_clamped():
    x = pic(3, 4, 4)
    x[0, 0, 0] = 1 + RANGE_TOL / 2
    x[0, 0, 1] = -RANGE_TOL / 2
    batch, _ = as_image_batch(x)
    assert float(batch.max()) == pytest.approx(1 + RANGE_TOL / 2) and float(batch.min()) < 0  # values untouched
    x[0, 0, 0] = 1 + 2 * RANGE_TOL
    with pytest.raises(ImageError):
        as_image_batch(x)
    batch, _ = as_image_batch(x, range_check=False)  # e.g. normalised features
    assert float(batch.max()) == pytest.approx(1 + 2 * RANGE_TOL)


def test_min_side_and_max_batch():
    with pytest.raises(ShapeError, match="4x9 px; this needs at least 8x8"):
        as_image_batch(pic(3, 4, 9), min_side=8)
    as_image_batch(pic(3, 8, 9), min_side=8)
    with pytest.raises(ShapeError, match="holds 2 pictures; at most 1"):
        as_image(pic(2, 3, 4, 4))


def test_half_precision_and_gradients_pass_through():
    x = pic(3, 4, 4).to(torch.bfloat16).requires_grad_(True)
    batch, _ = as_image_batch(x)
    assert batch.dtype == torch.bfloat16 and batch.requires_grad
    batch.float().sum().backward()
    assert x.grad is not None
