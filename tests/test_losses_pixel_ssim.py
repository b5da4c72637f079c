"""Pixel losses, PSNR, SSIM and MS-SSIM: known answers, scikit-image agreement, gradcheck, bad inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.autograd import gradcheck

from stylelab.errors import ConfigError, NonFiniteError, ShapeError
from stylelab.losses import gaussian_window, l1, ms_ssim, ms_ssim_levels, ms_ssim_loss, mse, psnr, ssim, ssim_loss


def test_mse_l1_known_answers():
    x = torch.zeros(2, 3, 4, 4)
    y = torch.zeros(2, 3, 4, 4)
    y[0] = 0.5  # image 0 differs everywhere by 0.5, image 1 is identical
    assert mse(x, y, reduction="none").tolist() == [0.25, 0.0]
    assert l1(x, y, reduction="none").tolist() == [0.5, 0.0]
    assert mse(x, y).item() == pytest.approx(0.125)
    assert l1(x, y, reduction="sum").item() == pytest.approx(0.5)


def test_psnr_known_answer_and_identical_images():
    x = torch.zeros(1, 1, 8, 8)
    y = torch.full((1, 1, 8, 8), 0.1)  # MSE = 0.01 -> PSNR = 10 log10(1 / 0.01) = 20 dB
    assert psnr(x, y).item() == pytest.approx(20.0, abs=1e-4)
    assert psnr(x, y, data_range=255.0).item() == pytest.approx(10 * math.log10(255**2 / 0.01), abs=1e-3)
    assert psnr(x, x).item() == pytest.approx(100.0)  # eps = 1e-10 keeps it finite


def test_gaussian_window():
    g = gaussian_window(11, 1.5, dtype=torch.float64)
    assert g.shape == (11,) and g.sum().item() == pytest.approx(1.0)
    assert torch.allclose(g, g.flip(0)) and g.argmax().item() == 5
    assert g[4].item() / g[5].item() == pytest.approx(math.exp(-1 / (2 * 1.5**2)))
    with pytest.raises(ConfigError):
        gaussian_window(10)


def test_ssim_identical_and_constant_images():
    x = torch.rand(2, 3, 32, 32)
    assert torch.allclose(ssim(x, x, reduction="none"), torch.ones(2), atol=1e-6)
    assert ssim_loss(x, x).item() == pytest.approx(0.0, abs=1e-6)
    # two constant images a, b: sigma terms vanish, SSIM = (2ab + C1) / (a^2 + b^2 + C1)
    a, b, c1 = 0.2, 0.6, 0.01**2
    value = ssim(torch.full((1, 1, 16, 16), a, dtype=torch.float64), torch.full((1, 1, 16, 16), b, dtype=torch.float64)).item()
    assert value == pytest.approx((2 * a * b + c1) / (a * a + b * b + c1), rel=1e-5)


def test_ssim_full_map_shape():
    x, y = torch.rand(1, 3, 20, 24), torch.rand(1, 3, 20, 24)
    value, smap = ssim(x, y, full=True)
    assert smap.shape == (1, 3, 10, 14)  # valid convolution with an 11-pixel window
    assert value.item() == pytest.approx(smap.mean().item(), abs=1e-6)


@pytest.mark.parametrize("pair", [("astronaut", "coffee"), ("astronaut", "astronaut_noisy"), ("coffee", "coffee_blur")])
def test_ssim_agrees_with_scikit_image_on_photos(pair):
    from skimage import data, filters, transform
    from skimage.metrics import structural_similarity

    rng = np.random.default_rng(0)
    astro = transform.resize(data.astronaut(), (96, 96), anti_aliasing=True)
    coffee = transform.resize(data.coffee(), (96, 96), anti_aliasing=True)
    images = {
        "astronaut": astro,
        "coffee": coffee,
        "astronaut_noisy": np.clip(astro + rng.normal(0, 0.1, astro.shape), 0, 1),
        "coffee_blur": filters.gaussian(coffee, sigma=2, channel_axis=2),
    }
    a, b = images[pair[0]], images[pair[1]]
    ref = structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1, channel_axis=2)
    ours = ssim(torch.from_numpy(a).permute(2, 0, 1)[None], torch.from_numpy(b).permute(2, 0, 1)[None]).item()
    assert abs(ours - ref) < 1e-3
    assert ours < 0.99  # the pairs really differ


def test_ms_ssim_levels_rule_and_values():
    assert ms_ssim_levels(256, 256) == 5
    assert ms_ssim_levels(128, 128) == 4  # 128 / 8 = 16 >= 11, 128 / 16 = 8 < 11
    assert ms_ssim_levels(28, 28) == 2
    assert ms_ssim_levels(16, 16) == 1
    x = torch.rand(2, 3, 64, 64)
    y = (x + 0.1 * torch.randn_like(x)).clamp(0, 1)
    assert torch.allclose(ms_ssim(x, x, reduction="none"), torch.ones(2), atol=1e-5)
    v = ms_ssim(x, y).item()
    assert 0.0 < v < 1.0
    assert ms_ssim_loss(x, y).item() == pytest.approx(1 - v, abs=1e-6)
    # a single scale (image too small for two) is plain SSIM
    s = torch.rand(1, 3, 16, 16)
    t = (s + 0.05).clamp(0, 1)
    assert ms_ssim(s, t).item() == pytest.approx(ssim(s, t).item(), rel=1e-4)
    # tiny images use a smaller window instead of failing
    assert 0 < ms_ssim(torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 8)).item() <= 1


@pytest.mark.parametrize("fn", [ssim, ssim_loss, ms_ssim, mse, l1, psnr])
def test_gradcheck_pixel_and_ssim(fn):
    # float64; 24x24 gives MS-SSIM two scales. fast_mode checks random directional derivatives
    # (Jacobian-vector products) instead of the full Jacobian: the same test, ~50x cheaper.
    g = torch.Generator().manual_seed(0)
    x = torch.rand(1, 2, 24, 24, generator=g, dtype=torch.float64, requires_grad=True)
    y = (x.detach() + 0.1 * torch.rand(1, 2, 24, 24, generator=g, dtype=torch.float64)).clamp(0, 1)
    assert gradcheck(lambda a: fn(a, y), (x,), eps=1e-6, atol=1e-5, fast_mode=True)


@pytest.mark.parametrize("fn", [mse, l1, psnr, ssim, ms_ssim])
def test_bad_inputs(fn):
    x = torch.rand(1, 3, 32, 32)
    with pytest.raises(ShapeError, match="same shape"):
        fn(x, torch.rand(1, 3, 32, 31))
    with pytest.raises(ShapeError, match="N, C, H, W"):
        fn(x[0], x[0])
    bad = x.clone()
    bad[0, 0, 0, 0] = float("nan")
    with pytest.raises(NonFiniteError, match="NaN"):
        fn(bad, x)
    with pytest.raises(ConfigError, match="reduction"):
        fn(x, x, reduction="average")


def test_ssim_image_smaller_than_window():
    with pytest.raises(ShapeError, match="at least 11x11"):
        ssim(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8))
