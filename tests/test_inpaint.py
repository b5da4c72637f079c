"""stylelab.inpaint: masks, methods, masked losses, scores, checkpoints, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stylelab.errors import CheckpointError, ConfigError, ImageError, NonFiniteError, ShapeError, StopRequested
from stylelab.inpaint import (
    METHODS,
    DIPConfig,
    UNet,
    boundary_band,
    boundary_seam,
    center_mask,
    coverage,
    feather,
    hole_scores,
    inpaint,
    list_checkpoints,
    load_inpainter,
    mask_from_image,
    masked_l1,
    masked_mean,
    masked_mse,
    masked_psnr,
    random_rect_mask,
    random_strokes,
    rect_mask,
    validate_mask,
)


@pytest.fixture(scope="module")
def small():
    """Astronaut 48x48 (small: the classical and DIP methods stay fast)."""
    from stylelab.assets import load_bundled
    from stylelab.imageio import resize_tensor

    return resize_tensor(load_bundled("photo:astronaut", size=128), (48, 48))


# ----------------------------------------------------------------------------- masks
def test_rect_mask_known_answer():
    m = rect_mask(10, 20, x=2, y=3, w=4, h=5)
    assert m.shape == (1, 10, 20) and m.dtype == torch.float32
    assert m.sum() == 20  # 4 * 5 pixels
    assert m[0, 3:8, 2:6].all() and m[0, :3].sum() == 0 and m[0, :, 6:].sum() == 0


def test_rect_mask_is_clipped_and_rejects_outside():
    assert rect_mask(8, 8, 6, 6, 10, 10).sum() == 4  # only the 2x2 corner lies inside
    with pytest.raises(ConfigError, match="outside"):
        rect_mask(8, 8, 20, 20, 3, 3)
    with pytest.raises(ConfigError):
        rect_mask(8, 8, 1, 1, 0, 3)


@pytest.mark.parametrize("fraction", [0.1, 0.25, 0.5])
def test_center_mask_coverage(fraction):
    m = center_mask(64, 64, fraction)
    assert abs(coverage(m) - fraction) < 0.02
    ys, xs = torch.nonzero(m[0], as_tuple=True)
    assert abs(ys.float().mean() - 31.5) <= 0.5 and abs(xs.float().mean() - 31.5) <= 0.5  # centred


def test_random_strokes_shapes_coverage_and_seed():
    rng = np.random.default_rng(3)
    covs = []
    for _ in range(20):
        m = random_strokes(40, 56, rng=rng, max_coverage=0.5)
        assert m.shape == (1, 40, 56)
        assert set(m.unique().tolist()) <= {0.0, 1.0}
        covs.append(coverage(m))
    assert 0 < min(covs) and max(covs) < 0.9 and np.std(covs) > 0.01  # varied, never full or empty
    a = random_strokes(32, 32, rng=np.random.default_rng(7))
    b = random_strokes(32, 32, rng=np.random.default_rng(7))
    assert torch.equal(a, b)


def test_random_rect_mask_sides():
    rng = np.random.default_rng(0)
    for _ in range(10):
        m = random_rect_mask(50, 50, 0.2, 0.4, rng=rng)
        ys, xs = torch.nonzero(m[0], as_tuple=True)
        assert 10 <= ys.max() - ys.min() + 1 <= 20 and 10 <= xs.max() - xs.min() + 1 <= 20


def test_feather_keeps_hole_and_softens_outside():
    m = rect_mask(20, 20, 8, 8, 4, 4)
    f = feather(m, radius=3)
    assert torch.equal(f[m > 0], torch.ones(16))  # the hole stays 1
    assert f[0, 10, 5].item() == pytest.approx(0.25)  # 3 px away: 1 - 3/4
    assert f[0, 10, 7].item() == pytest.approx(0.75)  # 1 px away
    assert f[0, 0, 0] == 0 and f.max() == 1
    assert torch.equal(feather(m, 0), m)


def test_mask_from_image_rgba_grey_and_invert(tmp_path):
    from PIL import Image

    rgba = np.zeros((6, 8, 4), np.uint8)
    rgba[1:3, 2:5, 3] = 255  # painted strokes on a transparent canvas
    assert mask_from_image(rgba).sum() == 6
    grey = np.zeros((6, 8), np.uint8)
    grey[0, :] = 255
    assert mask_from_image(grey).sum() == 8
    assert mask_from_image(grey, invert=True).sum() == 40
    path = tmp_path / "m.png"
    Image.fromarray(grey).save(path)
    m = mask_from_image(path, size=(12, 16))
    assert m.shape == (1, 12, 16) and m.sum() == 32  # nearest neighbour keeps it binary


# ----------------------------------------------------------------------------- validation
def test_validate_mask_bad_inputs():
    img_size = (16, 16)
    with pytest.raises(ShapeError, match="same size"):
        validate_mask(torch.ones(1, 8, 8), size=img_size)
    with pytest.raises(ConfigError, match="empty"):
        validate_mask(torch.zeros(1, 16, 16), size=img_size)
    with pytest.raises(ConfigError, match="whole image"):
        validate_mask(torch.ones(1, 16, 16), size=img_size)
    with pytest.raises(ShapeError, match="one channel"):
        validate_mask(torch.ones(3, 16, 16), size=img_size)
    with pytest.raises(ConfigError, match=r"\[0, 1\]"):
        validate_mask(torch.full((1, 16, 16), 2.0))
    bad = rect_mask(16, 16, 2, 2, 4, 4)
    bad[0, 0, 0] = float("nan")
    with pytest.raises(NonFiniteError):
        validate_mask(bad)
    assert validate_mask(rect_mask(16, 16, 2, 2, 4, 4).bool()).shape == (1, 1, 16, 16)


@pytest.mark.parametrize("method", ["telea", "ns", "biharmonic", "unet"])
def test_methods_reject_bad_masks(small, method):
    with pytest.raises(ShapeError, match="same size"):
        inpaint(small, torch.ones(1, 20, 20), method)
    with pytest.raises(ConfigError, match="empty"):
        inpaint(small, torch.zeros(1, 48, 48), method)
    with pytest.raises(ConfigError, match="whole image"):
        inpaint(small, torch.ones(1, 48, 48), method)


def test_unknown_method_and_bad_image(small):
    m = center_mask(48, 48)
    with pytest.raises(ConfigError, match="Unknown inpainting method"):
        inpaint(small, m, "magic")
    with pytest.raises(ShapeError):
        inpaint(small[0], m, "telea")
    with pytest.raises(NonFiniteError):
        inpaint(small * float("nan"), m, "telea")
    with pytest.raises(ImageError, match="0-255"):  # the one image validator of stylelab
        inpaint(small * 255, m, "telea")
    with pytest.raises(ShapeError, match="channels"):
        inpaint(torch.rand(4, 48, 48), m, "telea")
    grey = inpaint(small[:1], m, "telea")  # grey is accepted as RGB, like in every lab
    assert grey.shape == (3, 48, 48)


def test_damage_and_hole_overlay_known_answers():
    from stylelab.inpaint import damage, hole_overlay

    img = torch.full((3, 2, 2), 0.5)
    m = torch.tensor([[[1.0, 0.0], [0.25, 0.0]]])  # a hole pixel, a feathered one, two known
    d = damage(img, m)
    assert d[:, 0, 0].tolist() == [0, 0, 0] and d[:, 1, 0].tolist() == [0, 0, 0]  # feathered counts as hole
    assert d[:, 0, 1].tolist() == [0.5, 0.5, 0.5]
    o = hole_overlay(img, m)
    assert o[:, 0, 0].tolist() == [1.0, 0.0, 1.0] and o[:, 1, 1].tolist() == [0.5, 0.5, 0.5]  # magenta hole
    assert hole_overlay(img[None], m[None]).shape == (1, 3, 2, 2)
    with pytest.raises(ShapeError):
        damage(img, torch.ones(1, 3, 3))


def test_objectives_are_registered_once_with_their_functions():
    from stylelab import equations
    from stylelab.inpaint import LOSS_CHOICES, composite

    eq = equations.get("inpaint.composite")
    assert eq.fn is composite and r"\odot" in eq.latex
    for name, choice in LOSS_CHOICES.items():
        assert equations.latex(f"inpaint.loss.{name}") == choice.latex
    assert "inpaint.dip_objective" in equations.registry()


def test_fill_all_times_scores_and_reports_refusals(small):
    from stylelab.inpaint import fill_all, fill_record
    from stylelab.record import ExperimentRecord

    mask = rect_mask(48, 48, 14, 16, 18, 14)
    results, errors = fill_all(small, mask, ["telea", "biharmonic"])
    assert list(results) == ["Telea (fast marching)", "Biharmonic"] and not errors
    blank = hole_scores(small * (1 - mask), small, mask)["psnr_hole"]
    for r in results.values():
        assert r["image"].shape == (3, 48, 48) and r["seconds"] > 0 and r["scores"]["psnr_hole"] > blank + 1
    assert torch.equal(results["Biharmonic"]["image"], inpaint(small * (1 - mask), mask, "biharmonic"))
    _, errors = fill_all(small, mask, ["unet"], model=load_inpainter("unet64-mse"))
    assert not errors
    rec = ExperimentRecord.from_json(fill_record(results, {"tool": "Rectangle", "size": [48, 48], "x": 14, "y": 16,
                                                           "w": 18, "h": 14, "feather": 0},
                                                 ["telea", "biharmonic"], None, 400).to_json())
    assert rec.lab == "inpaint" and set(rec.summary) == set(results)


def test_weights_come_from_the_given_generator_only():
    from stylelab.inpaint.unet import build_seeded, init_weights

    before = torch.get_rng_state()
    a = build_seeded(lambda: UNet(4, 3, base=4, depth=2), torch.Generator().manual_seed(1))
    b = build_seeded(lambda: UNet(4, 3, base=4, depth=2), torch.Generator().manual_seed(1))
    c = build_seeded(lambda: UNet(4, 3, base=4, depth=2), torch.Generator().manual_seed(2))
    assert torch.equal(torch.get_rng_state(), before)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa) and not all(torch.equal(sa[k], sc[k]) for k in sa)
    conv = a.down[0][0]
    bound = 1 / (4 * 9) ** 0.5  # U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = 4 channels x 3 x 3
    assert conv.weight.abs().max() <= bound and conv.weight.abs().max() > 0.8 * bound
    with pytest.raises(ConfigError, match="does not know"):
        init_weights(torch.nn.Embedding(3, 2), torch.Generator())


# ----------------------------------------------------------------------------- methods
def _fast_options(method):
    return {"config": DIPConfig(iterations=30, base=8, depth=3, noise_channels=8)} if method == "dip" else {}


@pytest.mark.parametrize("method", list(METHODS))
def test_each_method_fills_the_hole_and_keeps_the_rest(small, method):
    mask = rect_mask(48, 48, 14, 16, 18, 14)
    damaged = small * (1 - mask)
    out = inpaint(damaged, mask, method, **_fast_options(method))
    assert out.shape == small.shape and torch.isfinite(out).all()
    known = mask[0] == 0
    assert torch.equal(out[:, known], damaged[:, known])  # known pixels untouched, bit for bit
    assert (out[:, ~known] - damaged[:, ~known]).abs().mean() > 0.05  # the black hole was filled
    assert 0 <= out.min() and out.max() <= 1


@pytest.mark.parametrize("method", ["telea", "ns", "biharmonic", "unet"])
def test_scores_improve_over_the_unfilled_image(small, method):
    mask = center_mask(48, 48, 0.15)
    damaged = small * (1 - mask)
    before = hole_scores(damaged, small, mask)
    after = hole_scores(inpaint(damaged, mask, method), small, mask)
    assert after["psnr_hole"] > before["psnr_hole"] + 1
    assert after["ssim_hole"] > before["ssim_hole"]
    assert after["lpips_hole"] < before["lpips_hole"]
    assert after["seam"] < before["seam"]


def test_batched_inpaint_and_feathered_mask(small):
    batch = torch.stack([small, small.flip(-1)])  # (2, 3, 48, 48)
    mask = feather(rect_mask(48, 48, 10, 10, 10, 10), 2)
    out = inpaint(batch, mask, "telea")
    assert out.shape == batch.shape
    outside = mask[0] == 0
    assert torch.equal(out[:, :, outside], batch[:, :, outside])
    edge = (mask[0] > 0) & (mask[0] < 1)
    assert edge.any()  # soft band: a blend of input and prediction, within both's range
    lo = torch.minimum(batch, inpaint(batch, (mask > 0).float(), "telea"))[:, :, edge]
    assert (out[:, :, edge] >= lo - 1e-6).all()


def test_dip_runs_stops_and_reports_progress(small):
    from stylelab.inpaint import DeepImagePrior, deep_image_prior

    mask = center_mask(48, 48, 0.1)
    seen = []
    pred = deep_image_prior(small, mask, DIPConfig(iterations=50, base=8, depth=3, noise_channels=8),
                            callback=lambda i, loss, fit: seen.append(loss), stop=lambda: len(seen) >= 5)
    assert len(seen) == 5 and pred.shape == (1, 3, 48, 48)
    fit = DeepImagePrior(small, mask, DIPConfig(iterations=40, base=8, depth=3, noise_channels=8, lr=0.02))
    first = fit.step()
    assert first == {"step": 1, "loss": first["loss"]} and fit.step_count == 1
    for _ in range(39):
        last = fit.step()
    assert fit.done and last["loss"] < first["loss"]  # it fits the known pixels
    assert [r["loss"] for r in fit.history][0] == first["loss"] and len(fit.history) == 40
    comp = fit.current()
    assert torch.equal(comp[0][:, mask[0] == 0], small[:, mask[0] == 0])
    pic = fit.preview()  # (3, H, W) on the CPU, the composite
    assert pic.shape == (3, 48, 48) and torch.equal(pic[:, mask[0] == 0], small[:, mask[0] == 0])
    with pytest.raises(StopRequested):
        fit.step()
    with pytest.raises(ConfigError):
        DIPConfig(iterations=0).validate()
    with pytest.raises(ConfigError):
        DIPConfig(seed=-1).validate()


def test_dip_randomness_is_the_runs_own(small):
    """The seed decides z, the jitter and the initial weights; torch's global RNG is neither read nor moved."""
    from stylelab.inpaint import DeepImagePrior

    mask = center_mask(48, 48, 0.1)
    cfg = DIPConfig(iterations=5, base=4, depth=2, noise_channels=4)
    before = torch.get_rng_state()
    a = DeepImagePrior(small, mask, cfg, seed=3)
    rows_a = [a.step() for _ in range(3)]
    assert torch.equal(torch.get_rng_state(), before)
    with torch.random.fork_rng(devices=[]):  # the global RNG moved elsewhere, restored after
        torch.manual_seed(123)  # whatever the global RNG holds, the run is the same
        b = DeepImagePrior(small, mask, cfg, seed=3)
        rows_b = [b.step() for _ in range(3)]
    assert rows_b == rows_a and torch.equal(a.preview(), b.preview())
    c = DeepImagePrior(small, mask, cfg, seed=4)
    assert [c.step() for _ in range(3)] != rows_a
    assert a.config.seed == 3 and a.record().seed == 3


# ----------------------------------------------------------------------------- losses and scores
def test_masked_mse_known_answer_and_l1():
    x = torch.zeros(1, 1, 2, 2)
    y = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    m = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]]]])
    assert masked_mse(x, y, m).item() == pytest.approx((1 + 16) / 2)  # only the two hole pixels
    assert masked_l1(x, y, m).item() == pytest.approx((1 + 4) / 2)
    with pytest.raises(ConfigError):
        masked_mse(x, y, torch.zeros_like(m))
    with pytest.raises(ShapeError):
        masked_mse(x, y, torch.ones(1, 1, 3, 3))


def test_masked_mse_matches_a_direct_sum(rng):
    x = torch.from_numpy(rng.random((2, 3, 8, 8)))
    y = torch.from_numpy(rng.random((2, 3, 8, 8)))
    m = (torch.from_numpy(rng.random((2, 1, 8, 8))) > 0.6).double()
    direct = ((x - y) ** 2 * m).sum((1, 2, 3)) / (3 * m.sum((1, 2, 3)))
    assert torch.allclose(masked_mse(x, y, m, reduction="none"), direct)
    assert torch.allclose(masked_mean((x - y) ** 2, m, reduction="none"), direct)


def test_masked_mse_gradcheck(rng):
    x = torch.from_numpy(rng.random((1, 2, 5, 5))).requires_grad_()
    y = torch.from_numpy(rng.random((1, 2, 5, 5)))
    m = (torch.from_numpy(rng.random((1, 1, 5, 5))) > 0.5).double()
    assert torch.autograd.gradcheck(lambda a: masked_mse(a, y, m), (x,))
    assert torch.autograd.gradcheck(lambda a: masked_l1(a, y, m), (x,), atol=1e-5)


def test_masked_psnr_known_answer():
    x = torch.zeros(1, 3, 4, 4)
    y = x.clone()
    m = rect_mask(4, 4, 0, 0, 2, 2)[None]
    y[:, :, :2, :2] = 0.1  # MSE in the hole = 0.01 -> 20 dB; outside the hole no error
    assert masked_psnr(x, y, m).item() == pytest.approx(20.0, abs=1e-4)


def test_boundary_seam_and_band_known_answers():
    img = torch.zeros(1, 3, 6, 6)
    img[:, :, :, 3:] = 1.0  # a vertical edge between columns 2 and 3
    m = torch.zeros(1, 1, 6, 6)
    m[..., 3:] = 1  # the hole is the right half: all 6 edge pairs jump by 1
    assert boundary_seam(img, m).item() == pytest.approx(1.0)
    assert boundary_seam(torch.ones_like(img), m).item() == 0
    band = boundary_band(m, 1)
    assert band[0, 0, 0].tolist() == [0, 0, 1, 1, 0, 0]


def test_hole_scores_identical_images(small):
    mask = center_mask(48, 48)
    s = hole_scores(small, small, mask)
    assert s["psnr_hole"] > 90 and s["ssim_hole"] == pytest.approx(1, abs=1e-5) and s["lpips_hole"] < 1e-4
    assert s["seam"] == pytest.approx(s["seam_truth"])
    with pytest.raises(ShapeError):
        hole_scores(small, small[:, :40], mask)


# ----------------------------------------------------------------------------- the U-Net and checkpoints
@pytest.mark.parametrize("size", [(32, 32), (37, 50)])
def test_unet_shapes_any_size(size):
    net = UNet(4, 3, base=8, depth=4).eval()
    out = net(torch.rand(2, 4, *size))
    assert out.shape == (2, 3, *size) and (out > 0).all() and (out < 1).all()
    no_skips = UNet(4, 3, base=8, depth=3, skips=False)
    assert sum(p.numel() for p in no_skips.parameters()) < sum(p.numel() for p in UNet(4, 3, base=8, depth=3).parameters())
    with pytest.raises(ConfigError):
        UNet(4, 3, base=0)


def test_shipped_checkpoints_load_with_model_cards():
    from stylelab.inpaint import model_card
    from stylelab.inpaint.model import FORMATS

    names = list_checkpoints()
    assert "unet64-mse" in names and len(names) >= 2
    for name in names:
        path = __import__("stylelab.inpaint.model", fromlist=["CHECKPOINT_DIR"]).CHECKPOINT_DIR / f"{name}.pt"
        assert path.stat().st_size < 5 * 2**20
        payload = torch.load(path, map_location="cpu", weights_only=True)  # safe to load
        assert payload["format"] in FORMATS and payload["meta"]["steps"] > 0
        card = model_card(name)
        for word in ("Data", "Steps", "Loss", "Held-out", "Wall"):
            assert word.lower() in card.lower(), (name, word)
        model = load_inpainter(name)
        assert model.net.config.in_ch == 4 and not model.net.training


def test_checkpoint_round_trip_and_foreign_files(tmp_path, small):
    from stylelab.inpaint import save_checkpoint

    net = UNet(4, 3, base=8, depth=3)
    path = save_checkpoint(tmp_path / "a.pt", net, {"loss": "mse"}, {"steps": 1})
    model = load_inpainter(path)
    mask = center_mask(48, 48)
    ref = net.eval()(torch.cat([small[None] * (1 - mask[None]), mask[None]], 1))
    assert torch.allclose(model.predict(small, mask, bf16=False), ref, atol=1e-6)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable"):
        load_inpainter(tmp_path / "junk.pt")
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a stylelab inpainting checkpoint"):
        load_inpainter(tmp_path / "other.pt")
    payload = torch.load(path, weights_only=True)
    payload["unet"]["base"] = 16
    torch.save(payload, tmp_path / "mismatch.pt")
    with pytest.raises(CheckpointError, match="does not fit"):
        load_inpainter(tmp_path / "mismatch.pt")
    with pytest.raises(CheckpointError, match="No shipped inpainter"):
        load_inpainter("no-such-model")
