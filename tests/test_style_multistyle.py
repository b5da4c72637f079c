"""The 26-style network: the torch port matches onnxruntime; style specs and blending behave."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stylelab.errors import ConfigError, ShapeError
from stylelab.style.multistyle import NUM_STYLES, STYLE_NAMES, get_multistyle, parse_style, stylize_multistyle


@pytest.fixture(scope="module")
def ort_session():
    ort = pytest.importorskip("onnxruntime")
    from stylelab.assets import style_model_path

    return ort.InferenceSession(str(style_model_path("multistyle26")), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("shape,spec", [((64, 64), 0), ((96, 128), "3:0.5,12:0.5"), ((128, 72), "uniform")])
def test_torch_port_matches_onnxruntime(ort_session, shape, spec):
    g = torch.Generator().manual_seed(sum(shape))
    x = torch.rand(1, 3, *shape, generator=g)
    w = torch.full((NUM_STYLES,), 1.0 / NUM_STYLES) if spec == "uniform" else parse_style(spec)
    ref = ort_session.run(None, {"image": x.numpy(), "style_weights": w.numpy()})[0]
    with torch.no_grad():
        ours = get_multistyle("cpu")(x, w).numpy()
    assert ours.shape == ref.shape
    assert np.abs(ours - ref).max() < 1e-4


def test_parse_style_specs():
    assert torch.equal(parse_style(7), torch.nn.functional.one_hot(torch.tensor(7), NUM_STYLES).float())
    assert torch.equal(parse_style("7"), parse_style(STYLE_NAMES[7]))
    w = parse_style("3:1,12:3")
    assert abs(float(w.sum()) - 1) < 1e-6 and abs(float(w[12]) - 0.75) < 1e-6
    assert torch.allclose(parse_style({3: 2.0, 12: 6.0}), w)
    for bad in (26, -1, "x", "3:a", [1.0] * 5, [0.0] * NUM_STYLES, {3: -1.0}, True):
        with pytest.raises(ConfigError):
            parse_style(bad)


def test_blending_ends_and_middle():
    x = torch.rand(3, 64, 64, generator=torch.Generator().manual_seed(0))
    a = stylize_multistyle(x, 3, fast=False)
    b = stylize_multistyle(x, 12, fast=False)
    assert torch.allclose(stylize_multistyle(x, {3: 1.0, 12: 0.0}, fast=False), a)
    assert torch.allclose(stylize_multistyle(x, {3: 0.0, 12: 1.0}, fast=False), b)
    mid = stylize_multistyle(x, "3:0.5,12:0.5", fast=False)
    assert (mid - a).abs().mean() > 0.01 and (mid - b).abs().mean() > 0.01
    assert (a - b).abs().mean() > (mid - a).abs().mean()  # the blend lies between the two


def test_odd_sizes_fast_path_and_gradients():
    x = torch.rand(2, 3, 37, 50, generator=torch.Generator().manual_seed(1))
    ref = stylize_multistyle(x, 5, fast=False)
    out = stylize_multistyle(x, 5, fast=True)
    assert out.shape == (2, 3, 37, 50) and out.dtype == torch.float32
    assert (out - ref).abs().mean() < 0.02  # bf16 weights (where fast) stay close to fp32
    # differentiable: gradients flow to the input and to the style mixture
    net = get_multistyle("cpu")
    xi = torch.rand(1, 3, 32, 32, requires_grad=True)
    w = parse_style(0).requires_grad_(True)
    net(xi, w).mean().backward()
    assert xi.grad is not None and w.grad is not None and xi.grad.abs().sum() > 0


def test_bad_inputs():
    with pytest.raises(ShapeError):
        stylize_multistyle(torch.rand(4, 32, 32), 0)
    with pytest.raises(ShapeError):
        stylize_multistyle(torch.rand(3, 4, 4), 0)
    with pytest.raises(ShapeError):
        get_multistyle("cpu")(torch.rand(1, 3, 16, 16), torch.ones(5))
