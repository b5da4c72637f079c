"""One equation, one function: per-pixel TV, the colour term, the inpainting composite, LPIPS.

Each term is checked against a formula written here by hand (NumPy), then the Loss Lab (mixing
desk) and the Style Studio (Gatys) are shown to give the SAME weighted value for the same
weight on the same image, and a scan of the library checks that nobody writes the formulas
again by hand.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from stylelab.errors import ShapeError
from stylelab.inpaint.masks import composite
from stylelab.losses import colorfulness_loss, total_variation, weighted_sum
from stylelab.losses.lpips import LPIPS_LAYERS, lpips

ROOT = Path(__file__).resolve().parents[1]


def _image(seed: int, h: int = 32, w: int = 48) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(1, 3, h, w, generator=g)


def _hasler_by_hand(x: np.ndarray) -> float:
    """Hasler & Suesstrunk M of one (3, H, W) image in [0, 1], on the 0-255 scale."""
    r, g, b = (x * 255.0).astype(np.float64)
    rg, yb = r - g, 0.5 * (r + g) - b
    return float(np.sqrt(rg.std() ** 2 + yb.std() ** 2) + 0.3 * np.sqrt(rg.mean() ** 2 + yb.mean() ** 2))


def _tv_per_pixel_by_hand(x: np.ndarray) -> float:
    """Squared-L2 TV of one (C, H, W) image divided by H * W (channels summed)."""
    dx = np.diff(x.astype(np.float64), axis=2)
    dy = np.diff(x.astype(np.float64), axis=1)
    return float(((dx ** 2).sum() + (dy ** 2).sum()) / (x.shape[1] * x.shape[2]))


# ----------------------------------------------------------------------------- the terms
def test_tv_per_pixel_divides_by_pixel_positions_not_channels():
    x = torch.zeros(1, 3, 3, 4)
    x[..., 2:] = 1.0  # one vertical edge in each of 3 channels, 3 rows: l1 TV = 3 * 3 = 9
    assert total_variation(x, "l1").item() == 9.0
    assert total_variation(x, "l1", per_pixel=True).item() == pytest.approx(9.0 / 12)  # / (H W), not / (C H W)
    y = _image(1)
    assert total_variation(y, "l2", per_pixel=True).item() == pytest.approx(_tv_per_pixel_by_hand(y[0].numpy()), rel=1e-5)
    batch = torch.cat([_image(2), _image(3)])
    per = total_variation(batch, "isotropic", reduction="none", per_pixel=True)
    assert torch.allclose(per, total_variation(batch, "isotropic", reduction="none") / (32 * 48))


def test_colour_term_is_minus_hasler_over_100():
    x = _image(4)
    assert colorfulness_loss(x).item() == pytest.approx(-_hasler_by_hand(x[0].numpy()) / 100, rel=1e-5)
    m = _hasler_by_hand(x[0].numpy())
    assert colorfulness_loss(x, target=m + 30).item() == pytest.approx(0.30, abs=1e-4)  # hinge, /100 as well


# ----------------------------------------------------------------------------- the two labs agree
def test_loss_lab_and_style_studio_give_the_same_weighted_terms():
    from stylelab.assets import load_bundled
    from stylelab.losses.mixing import MixingConfig, MixingDesk, default_weights
    from stylelab.style.gatys import GatysConfig, GatysStylizer

    content = load_bundled("photo:astronaut", size=32)  # (3, 32, 32)
    style = load_bundled("texture:brick", size=32)
    lam_col, lam_tv, lam_con = 2.5, 7.0, 0.5
    gatys = GatysStylizer(content, style, GatysConfig(size=32, steps=1, precision="fp32", channels_last=False,
                                                      tv_weight=lam_tv, colorfulness_weight=lam_col,
                                                      contrast_weight=lam_con), device="cpu")
    weights = {**default_weights(), "tv": lam_tv, "colorfulness": lam_col, "contrast": lam_con}
    desk = MixingDesk(content, style, MixingConfig(size=32, weights=weights), device="cpu")
    assert tuple(gatys.x.shape) == tuple(desk.x.shape) == (1, 3, 32, 32)
    x = _image(5, 32, 32)
    with torch.no_grad():
        _, studio = gatys.loss_terms(x)
        _, lab = weighted_sum(desk.terms(x), desk.weights)
    hand = {"colorfulness": -lam_col * _hasler_by_hand(x[0].numpy()) / 100,
            "tv": lam_tv * _tv_per_pixel_by_hand(x[0].numpy()),
            "contrast": -lam_con * float(np.std(np.tensordot([0.299, 0.587, 0.114], x[0].numpy().astype(np.float64), 1)))}
    for term, value in hand.items():
        assert studio[term] == pytest.approx(lab[term], rel=1e-6), term
        assert studio[term] == pytest.approx(value, rel=1e-4), term


# ----------------------------------------------------------------------------- the composite
def test_composite_known_answer_and_shapes():
    pred = torch.full((2, 3, 2, 2), 0.8)
    x = torch.full((2, 3, 2, 2), 0.2)
    m = torch.tensor([1.0, 0.0, 0.25, 0.5]).reshape(1, 1, 2, 2).expand(2, 1, 2, 2)
    out = composite(pred, x, m)
    # by hand: 0.8 in the hole, 0.2 where known, 0.25 * 0.8 + 0.75 * 0.2 = 0.35, 0.5 * 0.8 + 0.5 * 0.2 = 0.5
    assert torch.allclose(out[:, :, 0, 0], torch.tensor(0.8)) and torch.allclose(out[:, :, 0, 1], torch.tensor(0.2))
    assert torch.allclose(out[:, :, 1, 0], torch.tensor(0.35)) and torch.allclose(out[:, :, 1, 1], torch.tensor(0.5))
    with pytest.raises(ShapeError, match="mask"):
        composite(pred, x, torch.ones(2, 3, 2, 2))
    with pytest.raises(ShapeError, match="mask"):
        composite(pred, x, torch.ones(2, 1, 4, 4))


def test_classical_inpainting_goes_through_the_composite(monkeypatch):
    import stylelab.inpaint.methods as methods

    calls = []
    real = methods.composite
    monkeypatch.setattr(methods, "composite", lambda p, x, m: calls.append(1) or real(p, x, m))
    img = _image(6, 24, 24)[0]
    mask = torch.zeros(1, 24, 24)
    mask[:, 8:16, 8:16] = 1.0
    out = methods.inpaint(img, mask, "telea")
    assert calls == [1]
    assert torch.equal(out[:, mask[0] == 0], img[:, mask[0] == 0])  # known pixels untouched


# ----------------------------------------------------------------------------- no second copy
def _call_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        f = node.func
        return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
    return None


def _hand_written_terms(tree: ast.AST, inpainting: bool = True) -> list[tuple[int, str]]:
    """Places that rebuild a term instead of calling its function (found in the syntax tree, not in strings).

    The composite form ``m * a + (1 - m) * b`` is only looked for in inpainting code (elsewhere it is
    another equation, e.g. the gradient penalty's interpolation between real and fake).
    """
    found = []
    for node in ast.walk(tree):
        if inpainting and isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) \
                and all(isinstance(s, ast.BinOp) and isinstance(s.op, ast.Mult) for s in (node.left, node.right)):
            one_minus = node.right.left
            if isinstance(one_minus, ast.BinOp) and isinstance(one_minus.op, ast.Sub) \
                    and isinstance(one_minus.left, ast.Constant) and one_minus.left.value == 1 \
                    and ast.dump(one_minus.right) == ast.dump(node.left.left):
                found.append((node.lineno, "composite m * a + (1 - m) * b"))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and _call_name(node.left) == "total_variation":
            found.append((node.lineno, "total_variation(...) / something"))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and _call_name(node.left) == "colorfulness":
            found.append((node.lineno, "colorfulness(...) / something"))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) \
                and _call_name(node.operand) in ("colorfulness", "rms_contrast"):
            found.append((node.lineno, "-measure(...)"))
    return found


def test_no_hand_written_copy_of_the_terms_in_the_library():
    home = {"stylelab/inpaint/masks.py": 1, "stylelab/losses/aesthetic.py": 1}  # composite(); colorfulness_loss()
    offenders = {}
    for p in sorted((ROOT / "stylelab").rglob("*.py")):
        rel = p.relative_to(ROOT).as_posix()
        hits = _hand_written_terms(ast.parse(p.read_text()), inpainting=rel.startswith("stylelab/inpaint/"))
        if len(hits) > home.get(rel, 0):
            offenders[rel] = hits
    assert offenders == {}
    # and the detector does find the forms it looks for
    assert len(_hand_written_terms(ast.parse(
        "y = m * pred + (1.0 - m) * x\nt = total_variation(x) / (h * w)\nc = -colorfulness(x)"))) == 3


# ----------------------------------------------------------------------------- LPIPS as documented
class _Pyramid(nn.Module):
    """A fixed feature 'network': per layer, a random 1x1 projection of an average-pooled input."""

    def __init__(self, layers: tuple[str, ...], channels: tuple[int, ...]) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.names = layers
        self.proj = [torch.randn(c, 3, generator=g, dtype=torch.float64) for c in channels]

    def forward(self, x: torch.Tensor, layers: list[str]) -> dict[str, torch.Tensor]:
        out = {}
        for i, (name, p) in enumerate(zip(self.names, self.proj, strict=True)):
            f = nn.functional.avg_pool2d(x, 2 ** i) if i else x  # (N, 3, H_l, W_l)
            out[name] = torch.relu(torch.einsum("kc,nchw->nkhw", p, f))
        return {k: out[k] for k in layers}


def test_lpips_weighs_the_squared_difference_linearly_per_channel():
    layers, channels = LPIPS_LAYERS["vgg"], (4, 5, 6, 3, 2)
    net = _Pyramid(layers, channels)
    g = torch.Generator().manual_seed(1)
    heads = [torch.rand(1, c, 1, 1, generator=g, dtype=torch.float64) * 3 for c in channels]  # w up to 3: w != w^2
    x, y = (torch.rand(2, 3, 32, 32, generator=g, dtype=torch.float64) for _ in range(2))
    fx, fy = net(x, list(layers)), net(y, list(layers))
    by_hand = torch.zeros(2, dtype=torch.float64)
    squared_head = torch.zeros(2, dtype=torch.float64)
    for name, w in zip(layers, heads, strict=True):
        a = fx[name] / (fx[name].pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
        b = fy[name] / (fy[name].pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
        by_hand += (w * (a - b) ** 2).sum(1).mean((1, 2))  # sum_c w_c (a - b)^2, spatial mean
        squared_head += ((w * (a - b)) ** 2).sum(1).mean((1, 2))  # ||w . delta||^2: NOT what LPIPS is
    got = lpips(x, y, "vgg", reduction="none", extractor=net, heads=heads)
    assert torch.allclose(got, by_hand, rtol=1e-10)
    assert not torch.allclose(got, squared_head, rtol=1e-2)
    doc = Path(ROOT / "stylelab/losses/lpips.py").read_text().split('"""', 2)[1]
    assert r"\sum_c w_{l,c}" in doc and r"\| w_l \odot" not in doc
