"""Gram matrices, content and style losses, LPIPS: known answers, reference values, gradcheck, bad inputs."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn
from torch.autograd import gradcheck

from stylelab.errors import ConfigError, NonFiniteError, ShapeError
from stylelab.features import FeatureExtractor
from stylelab.losses import (
    DEFAULT_CONTENT_LAYERS,
    DEFAULT_STYLE_LAYERS,
    LPIPS,
    content_loss,
    content_loss_per_layer,
    gram_matrix,
    gram_targets,
    lpips,
    mse,
    style_loss,
    style_loss_per_layer,
)


def tiny_extractor(dtype=torch.float64) -> FeatureExtractor:
    """A random 2-layer conv extractor (named like VGG) for cheap float64 gradchecks."""
    torch.manual_seed(0)
    layers = [("conv1_1", nn.Conv2d(3, 4, 3, padding=1)), ("relu1_1", nn.ReLU()),
              ("pool1", nn.AvgPool2d(2)), ("conv2_1", nn.Conv2d(4, 6, 3, padding=1)), ("relu2_1", nn.ReLU())]
    net = FeatureExtractor(layers, normalisation="none").to(dtype)
    return net.requires_grad_(False).eval()


def test_gram_known_answer_and_normalisations():
    f = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 1, 2)  # C=2, H=1, W=2
    raw = torch.tensor([[5.0, 11.0], [11.0, 25.0]])  # F F^T by hand
    assert torch.equal(gram_matrix(f, "none")[0], raw)
    assert torch.allclose(gram_matrix(f, "hw")[0], raw / 2)
    assert torch.allclose(gram_matrix(f, "chw")[0], raw / 4)
    g = gram_matrix(torch.randn(3, 5, 4, 4))
    assert g.shape == (3, 5, 5) and torch.allclose(g, g.transpose(1, 2))
    with pytest.raises(ConfigError, match="normalisation"):
        gram_matrix(f, "c2hw")


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("normalize", ["none", "hw", "chw"])
def test_gram_gradient_is_the_formula_and_passes_gradcheck(normalize, channels_last):
    # dL/dF = s (Gbar + Gbar^T) F, checked numerically (gradcheck) and against the plain autograd bmm
    f = torch.randn(2, 3, 4, 5, dtype=torch.float64)
    if channels_last:  # the backward writes this layout differently
        f = f.contiguous(memory_format=torch.channels_last)
    f.requires_grad_(True)
    w = torch.randn(2, 3, 3, dtype=torch.float64)  # not symmetric: exercises Gbar + Gbar^T
    assert gradcheck(lambda a: (gram_matrix(a, normalize) * w).sum(), (f,))
    assert torch.autograd.gradgradcheck(lambda a: gram_matrix(a, normalize), (f,))
    flat = f.detach().contiguous().reshape(2, 3, 20)
    s = {"none": 1.0, "hw": 1 / 20, "chw": 1 / 60}[normalize]
    g2 = f.reshape(2, 3, 20)
    plain = torch.autograd.grad((torch.bmm(g2, g2.transpose(1, 2)) * s * w).sum(), f)[0]
    ours = torch.autograd.grad((gram_matrix(f, normalize) * w).sum(), f)[0]
    assert torch.allclose(ours, plain, atol=1e-12)
    hand = (s * torch.bmm(w + w.transpose(1, 2), flat)).reshape(f.shape)
    assert torch.allclose(ours, hand, atol=1e-12)


def test_gram_is_position_free():
    f = torch.randn(1, 4, 6, 6)
    shuffled = f.flatten(2)[..., torch.randperm(36)].reshape(1, 4, 6, 6)
    assert torch.allclose(gram_matrix(f), gram_matrix(shuffled), atol=1e-6)


def test_content_loss_known_answer_is_feature_mse_not_pixel_mse():
    fx = {"relu4_2": torch.zeros(2, 3, 2, 2), "relu1_1": torch.ones(2, 3, 2, 2)}
    fc = {"relu4_2": torch.full((1, 3, 2, 2), 2.0), "relu1_1": torch.ones(1, 3, 2, 2)}  # content batch broadcast
    assert content_loss(fx, fc, reduction="none").tolist() == [4.0, 4.0]
    both = content_loss(fx, fc, layers=("relu4_2", "relu1_1"), weights={"relu4_2": 0.5, "relu1_1": 2.0})
    assert both.item() == pytest.approx(2.0)
    per = content_loss_per_layer(fx, fc, layers=("relu4_2", "relu1_1"))
    assert per["relu4_2"].item() == 4.0 and per["relu1_1"].item() == 0.0


def test_style_loss_known_answer_and_gatys_factor():
    fx = {"a": torch.ones(1, 2, 2, 2)}
    target = {"a": torch.zeros(2, 2)}
    # G = F F^T / (C H W) = 4 / 8 = 0.5 everywhere -> mean squared difference = 0.25
    assert style_loss(fx, target).item() == pytest.approx(0.25)
    # Gatys: E_l = 1 / (4 N^2 M^2) sum (G - A)^2 with raw Grams; "hw" term = 4 E_l
    f = torch.randn(1, 3, 4, 5)
    a = torch.randn(1, 3, 4, 5)
    n_l, m_l = 3, 20
    gatys = ((gram_matrix(f, "none") - gram_matrix(a, "none")) ** 2).sum() / (4 * n_l**2 * m_l**2)
    ours = style_loss({"l": f}, gram_targets({"l": a}, normalize="hw"), normalize="hw")
    assert ours.item() == pytest.approx(4 * gatys.item(), rel=1e-5)


def test_style_loss_weights_and_per_layer():
    torch.manual_seed(0)
    fx = {"a": torch.randn(1, 2, 3, 3), "b": torch.randn(1, 4, 3, 3)}
    fs = {"a": torch.randn(1, 2, 3, 3), "b": torch.randn(1, 4, 3, 3)}
    tg = gram_targets(fs)
    per = style_loss_per_layer(fx, tg)
    assert set(per) == {"a", "b"}
    assert style_loss(fx, tg).item() == pytest.approx(0.5 * (per["a"] + per["b"]).item(), rel=1e-6)  # default 1/L
    assert style_loss(fx, tg, weights={"a": 3.0}).item() == pytest.approx(3 * per["a"].item(), rel=1e-6)
    assert style_loss(fx, tg, weights={"a": 1.0, "b": 0.0}).item() == pytest.approx(per["a"].item(), rel=1e-6)


def test_default_layers():
    assert DEFAULT_CONTENT_LAYERS == ("relu4_2",)
    assert DEFAULT_STYLE_LAYERS == ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


def test_perceptual_bad_inputs():
    fx = {"relu4_2": torch.zeros(1, 3, 2, 2)}
    with pytest.raises(ConfigError, match="empty"):
        content_loss(fx, fx, layers=())
    with pytest.raises(ConfigError, match="not found"):
        content_loss(fx, fx, layers=("relu9_9",))
    with pytest.raises(ShapeError, match="differ in shape"):
        content_loss(fx, {"relu4_2": torch.zeros(1, 3, 4, 4)})
    with pytest.raises(ConfigError, match="empty"):
        style_loss(fx, {})
    with pytest.raises(ShapeError, match="Target Gram"):
        style_loss(fx, {"relu4_2": torch.zeros(4, 4)})
    bad = {"relu4_2": torch.full((1, 3, 2, 2), float("nan"))}
    with pytest.raises(NonFiniteError):
        content_loss(bad, fx)
    with pytest.raises(ConfigError, match="not selected"):
        content_loss(fx, fx, weights={"relu1_1": 1.0})


def test_gradcheck_content_and_style_through_a_tiny_conv_extractor():
    # The float64 VGG16 gradcheck is covered through LPIPS below; here a random 2-layer extractor.
    net = tiny_extractor()
    g = torch.Generator().manual_seed(1)
    x = torch.rand(1, 3, 8, 8, generator=g, dtype=torch.float64, requires_grad=True)
    c = torch.rand(1, 3, 8, 8, generator=g, dtype=torch.float64)
    layers = ["relu1_1", "relu2_1"]
    fc = net(c, layers)
    tg = gram_targets(fc)
    # full Jacobian for the content loss; fast_mode (random directions) for the others
    assert gradcheck(lambda a: content_loss(net(a, layers), fc, layers=layers), (x,))
    assert gradcheck(lambda a: style_loss(net(a, layers), tg), (x,), fast_mode=True)
    assert gradcheck(lambda a: gram_matrix(net(a, layers)["relu2_1"]).sum(), (x,), fast_mode=True)


def _resized_pair():
    from skimage import data, transform

    a = transform.resize(data.astronaut(), (256, 256), anti_aliasing=True)
    b = transform.resize(data.coffee(), (256, 256), anti_aliasing=True)
    to_t = lambda im: torch.from_numpy(np.ascontiguousarray(im)).permute(2, 0, 1)[None].float()  # noqa: E731
    return to_t(a), to_t(b)


def test_lpips_vgg_reference_value():
    """shared/ASSETS.md: astronaut vs coffee, 256x256 skimage resize -> LPIPS-VGG ~0.767."""
    a, b = _resized_pair()
    value = lpips(a, b, "vgg").item()
    assert value == pytest.approx(0.767, abs=2e-3)
    # identical images score 0; the module wrapper gives the same values (one batched call)
    both = LPIPS("vgg", reduction="none")(torch.cat([a, b]), torch.cat([a, a]))
    assert both[0].item() == pytest.approx(0.0, abs=1e-6)
    assert both[1].item() == pytest.approx(value, abs=1e-5)


def test_lpips_alex_orders_distortions_and_spatial_map():
    a, _ = _resized_pair()
    a = torch.nn.functional.interpolate(a, size=(64, 64), mode="area")
    g = torch.Generator().manual_seed(0)
    light = (a + 0.03 * torch.randn(a.shape, generator=g)).clamp(0, 1)
    heavy = (a + 0.3 * torch.randn(a.shape, generator=g)).clamp(0, 1)
    d = lpips(torch.cat([light, heavy]), torch.cat([a, a]), "alex", reduction="none")
    assert d.shape == (2,) and 0 < d[0] < d[1]
    # a reference shared with expand() gives the same values as a real copy
    d2 = lpips(torch.cat([light, heavy]), a.expand(2, -1, -1, -1), "alex", reduction="none")
    assert torch.allclose(d, d2, atol=1e-6)
    smap = lpips(heavy, a, "alex", spatial=True, reduction="none")
    assert smap.shape == (1, 1, 64, 64) and (smap >= 0).all()


def test_lpips_is_differentiable_wrt_x_gradcheck_float64_vgg():
    """float64 copy of the pretrained VGG16 extractor on a 1x3x16x16 input (fast_mode gradcheck)."""
    from stylelab.features import get_extractor
    from stylelab.losses.lpips import lpips_heads_for

    net64 = copy.deepcopy(get_extractor("vgg16", normalisation="lpips")).double()
    heads = lpips_heads_for("vgg", dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(1, 3, 16, 16, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.rand(1, 3, 16, 16, generator=g, dtype=torch.float64)
    assert gradcheck(lambda a: lpips(a, y, "vgg", extractor=net64, heads=heads), (x,), fast_mode=True, atol=1e-5)
    # and gradients flow through the float32 default path
    x32 = x.detach().float().requires_grad_(True)
    lpips(x32, y.float()).backward()
    assert x32.grad is not None and x32.grad.abs().sum() > 0


def test_lpips_bad_inputs():
    x = torch.rand(1, 3, 32, 32)
    with pytest.raises(ShapeError, match="same shape"):
        lpips(x, torch.rand(1, 3, 32, 16))
    with pytest.raises(ShapeError, match="3 channels"):
        lpips(torch.rand(1, 1, 32, 32), torch.rand(1, 1, 32, 32))
    with pytest.raises(ConfigError, match="backbone"):
        lpips(x, x, net="squeezenet")
    bad = x.clone()
    bad[..., 0, 0] = float("inf")
    with pytest.raises(NonFiniteError):
        lpips(bad, x)
    with pytest.raises(ShapeError, match="too small"):
        lpips(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8))
    # float64 input with the float32 pretrained network: computed in float32, returned as float64
    d = lpips(x.double(), torch.rand(1, 3, 32, 32, dtype=torch.float64))
    assert d.dtype == torch.float64 and d.item() > 0


def test_content_loss_on_real_vgg_is_not_pixel_mse(astronaut):
    """A 4-pixel shift: large in pixel MSE relative to its content-loss change vs. heavy blur."""
    from stylelab.features import get_extractor
    from stylelab.losses.distortions import gaussian_blur, shift

    net = get_extractor("vgg16")
    x = astronaut[None]
    shifted = shift(x, 0.25)
    blurred = gaussian_blur(x, 0.75)
    f = net(torch.cat([x, shifted, blurred]), list(DEFAULT_CONTENT_LAYERS))
    fx = {k: v[:1] for k, v in f.items()}
    fd = {k: v[1:] for k, v in f.items()}
    pixel = mse(torch.cat([shifted, blurred]), x.expand(2, -1, -1, -1), reduction="none")
    content = content_loss(fd, fx, reduction="none")
    assert pixel[0] > pixel[1]  # pixel MSE: the shift looks worse than a heavy blur
    assert content[0] < content[1]  # content loss: the blur loses more of what is in the image


@pytest.mark.parametrize("channels_last", [False, True])
def test_gram_of_bf16_features_is_fp32_and_sliced_like_the_whole(monkeypatch, channels_last):
    import stylelab.losses.perceptual as perceptual

    f16 = torch.randn(2, 4, 6, 5).to(torch.bfloat16)
    if channels_last:
        f16 = f16.contiguous(memory_format=torch.channels_last)
    w = torch.randn(2, 4, 4)
    f32 = f16.float().requires_grad_(True)
    ref = gram_matrix(f32, "chw")
    (g_ref,) = torch.autograd.grad((ref * w).sum(), f32)
    monkeypatch.setattr(perceptual, "_SLICE", 16)  # 2 x 4 x 2 positions per slice: 15 slices
    x = f16.clone().requires_grad_(True)
    with torch.autocast("cpu", dtype=torch.bfloat16):  # autocast must not push the Gram to bf16
        got = gram_matrix(x, "chw")
    assert got.dtype == torch.float32
    assert torch.allclose(got, ref, rtol=1e-5, atol=1e-6)
    (g,) = torch.autograd.grad((got * w).sum(), x)
    assert g.dtype == torch.bfloat16 and g.stride() == x.stride()
    assert torch.allclose(g.float(), g_ref, rtol=1e-2, atol=1e-3)  # bf16 rounding of the result only
