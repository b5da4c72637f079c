"""The VGG16/AlexNet extractors carry real ImageNet weights, name their layers, and stop early."""

from __future__ import annotations

import time

import pytest
import torch
import torch.nn.functional as F

from stylelab import features
from stylelab.errors import ConfigError, ShapeError


@pytest.fixture(scope="module")
def vgg():
    return features.vgg16()


def test_named_layers_and_shapes(vgg, astronaut):
    x = astronaut[None]  # (1, 3, 128, 128)
    out = vgg(x, ["relu1_1", "relu2_2", "relu3_3", "relu4_3", "relu5_3"])
    assert list(out) == ["relu1_1", "relu2_2", "relu3_3", "relu4_3", "relu5_3"]
    assert out["relu1_1"].shape == (1, 64, 128, 128)
    assert out["relu5_3"].shape == (1, 512, 8, 8)
    assert features.VGG16_RELUS[0] == "relu1_1" and features.VGG16_RELUS[-1] == "relu5_3" and len(features.VGG16_RELUS) == 13


def test_forward_stops_at_the_deepest_requested_layer(vgg, monkeypatch):
    calls = []
    for name, module in vgg.body.named_children():
        module.register_forward_hook(lambda m, i, o, n=name: calls.append(n))
    try:
        vgg(torch.rand(1, 3, 32, 32), ["relu2_1"])
    finally:
        for module in vgg.body.children():
            module._forward_hooks.clear()
    assert calls[-1] == "relu2_1" and "conv2_2" not in calls


def test_frozen_and_cached(vgg):
    assert not any(p.requires_grad for p in vgg.parameters())
    assert not vgg.training
    assert features.vgg16() is vgg  # one copy per process and device
    t0 = time.perf_counter()
    features.vgg16()
    assert time.perf_counter() - t0 < 0.01


def test_gradients_flow_to_the_input(vgg):
    x = torch.rand(1, 3, 32, 32, requires_grad=True)
    vgg(x, "relu3_1")["relu3_1"].mean().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0


def test_weights_are_real_blur_response(vgg, astronaut):
    """Pretrained early filters are edge detectors: blurring a photo kills much of relu1_2/relu2_2
    energy relative to the same blur through a randomly initialised VGG16 of the same shape."""
    x = astronaut[None]
    k = torch.ones(3, 1, 5, 5) / 25
    blurred = F.conv2d(F.pad(x, (2, 2, 2, 2), mode="replicate"), k, groups=3)

    def drop(net):
        with torch.no_grad():
            a = net(x, "relu2_2")["relu2_2"]
            b = net(blurred, "relu2_2")["relu2_2"]
        return float((a - b).norm() / a.norm())

    random_net = features.freeze(features.build_vgg("vgg16", generator=torch.Generator().manual_seed(0)))
    real, rnd = drop(vgg), drop(random_net)
    assert real > 1.5 * rnd, (real, rnd)


def test_pretrained_features_recognise_same_scene(vgg, astronaut, coffee):
    """Deep features of a photo are closer to its slightly shifted copy than to another photo,
    by a margin random weights do not reach."""
    def rel(net, a, b):
        with torch.no_grad():
            fa, fb = net(a[None], "relu5_1")["relu5_1"], net(b[None], "relu5_1")["relu5_1"]
        return float(F.cosine_similarity(fa.flatten(), fb.flatten(), dim=0))

    shifted = torch.roll(astronaut, shifts=(4, 4), dims=(1, 2))
    assert rel(vgg, astronaut, shifted) - rel(vgg, astronaut, coffee) > 0.3


def test_lpips_vgg_reference_value():
    """LPIPS-VGG(astronaut, coffee) with our VGG16 + the packaged heads = 0.767 (ASSETS.md)."""
    import numpy as np
    from skimage import data, transform

    from stylelab.assets import lpips_heads

    def prep(im):
        im = transform.resize(im, (256, 256), anti_aliasing=True)
        return torch.from_numpy(np.asarray(im, np.float32)).permute(2, 0, 1)[None]

    net = features.get_extractor("vgg16", normalisation="lpips")
    layers = ["relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3"]
    with torch.no_grad():
        fa, fb = net(prep(data.astronaut()), layers), net(prep(data.coffee()), layers)
    d = 0.0
    for w, name in zip(lpips_heads("vgg"), layers):
        na = fa[name] / (fa[name].norm(dim=1, keepdim=True) + 1e-10)
        nb = fb[name] / (fb[name].norm(dim=1, keepdim=True) + 1e-10)
        d += float(((na - nb) ** 2 * w).sum(1).mean())
    assert abs(d - 0.767) < 0.005


def test_alexnet_layers():
    net = features.alexnet()
    out = net(torch.rand(1, 3, 64, 64), features.ALEXNET_RELUS)
    assert list(out) == features.ALEXNET_RELUS and out["relu1"].shape[1] == 64


def test_bad_requests(vgg):
    with pytest.raises(ConfigError, match="empty"):
        vgg(torch.rand(1, 3, 8, 8), [])
    with pytest.raises(ConfigError, match="Unknown layer"):
        vgg(torch.rand(1, 3, 8, 8), ["relu9_9"])
    with pytest.raises(ShapeError):
        vgg(torch.rand(3, 8, 8), ["relu1_1"])
    with pytest.raises(ConfigError):
        features.get_extractor("resnet")  # type: ignore[arg-type]


def test_vgg19_is_optional(monkeypatch, tmp_path):
    from stylelab.errors import AssetError

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    features.clear_cache()
    try:
        with pytest.raises(AssetError, match="VGG19"):
            features.get_extractor("vgg19")
    finally:
        features.clear_cache()


def test_default_device_is_get_device(vgg):
    from stylelab.device import get_device

    assert next(vgg.parameters()).device.type == get_device().type
    assert features.canonical_device(None) == features.canonical_device(get_device())
    assert features.get_extractor("vgg16", device=None) is features.get_extractor("vgg16", device=get_device())


def test_building_never_touches_the_global_rng():
    """Pretrained nets take the file's weights directly; random ones draw from their own generator."""
    import random

    import numpy as np

    before = (torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate())
    net = features.load_extractor("alexnet", device="cpu")
    a = features.build_vgg("vgg16", generator=torch.Generator().manual_seed(3))
    b = features.build_vgg("vgg16", generator=torch.Generator().manual_seed(3))
    c = features.build_alexnet()
    after = (torch.get_rng_state(), np.random.get_state()[1], random.getstate())
    assert torch.equal(before[0], after[0]) and (before[1] == after[1]).all() and before[2] == after[2]
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))  # same generator, same weights
    assert not any(p.is_meta for m in (net, a, c) for p in m.parameters())
    assert torch.isfinite(net(torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(1)), "relu5")["relu5"]).all()
    # PyTorch's default conv init: |w| <= 1/sqrt(fan_in)
    conv = a.body.conv1_1.requires_grad_(False)
    assert float(conv.weight.abs().max()) <= 1 / (3 * 9) ** 0.5 + 1e-6 and float(conv.weight.std()) > 0.05


def test_features_bench_rows_through_the_one_runner():
    """`python -m stylelab bench --lab features --quick`: the rows keep their names, come from bench.row()."""
    from stylelab import bench

    result = bench.run_all(quick=True, labs=["features"])
    names = [r["name"] for r in result["rows"]]
    assert names == ["VGG16 conv stack: build + load weights (cold)", "VGG16 forward 256 px, all 13 ReLUs, fp32",
                     "VGG16 forward 256 px, stop at relu2_2", "VGG16 forward 256 px, all ReLUs, bf16 autocast",
                     "benchmark wall time"]
    keys = set(bench.row("x", "y", 1.0, "s"))
    assert all(set(r) == keys and r["lab"] == "features" and r["value"] > 0 for r in result["rows"])
    early, full = result["rows"][2], result["rows"][1]
    assert early["baseline"] == full["value"]  # the early stop is compared with the full pass
    assert "VGG16 forward 256 px, stop at relu2_2" in bench.format_table(result)
