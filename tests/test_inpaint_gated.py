"""The gated inpainter: its layers against hand-written formulas, the refinement start, crop-to-mask, the run, the CLI."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch

from stylelab.errors import CheckpointError, ConfigError
from stylelab.inpaint.crop import crop_window, hole_regions, inpaint_cropped
from stylelab.inpaint.gated import GatedConfig, GatedInpaintNet, gated_conv, spectral_transform
from stylelab.inpaint.gated_model import GatedInpainter, gated_input, load_gated, save_gated
from stylelab.inpaint.masks import rect_mask
from stylelab.inpaint.unet import build_seeded
from stylelab.run import make_generator


def _gen(seed=0):
    return make_generator(seed, "cpu")


# ----------------------------------------------------------------------------- equations
def test_gated_conv_matches_the_hand_written_formula():
    g = _gen(1)
    x = torch.randn(2, 3, 6, 7, generator=g, dtype=torch.float64)
    w = torch.randn(4, 3, 3, 3, generator=g, dtype=torch.float64)  # 2 outputs: W_f = w[:2], W_g = w[2:]
    b = torch.randn(4, generator=g, dtype=torch.float64)
    out = gated_conv(x, w, b, padding=1)
    xp = np.pad(x.numpy(), ((0, 0), (0, 0), (1, 1), (1, 1)))
    ref = np.zeros((2, 2, 6, 7))
    for n in range(2):
        for o in range(2):
            for i in range(6):
                for j in range(7):
                    patch = xp[n, :, i:i + 3, j:j + 3]
                    f = (patch * w[o].numpy()).sum() + b[o].item()
                    gate = (patch * w[o + 2].numpy()).sum() + b[o + 2].item()
                    phi = f if f > 0 else 0.2 * f  # LeakyReLU(0.2)
                    ref[n, o, i, j] = phi / (1.0 + math.exp(-gate))  # phi(f) * sigmoid(g)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-10, atol=1e-12)


def test_spectral_transform_matches_numpy_fft():
    g = _gen(2)
    h = torch.randn(1, 2, 8, 6, generator=g)
    w = torch.randn(4, 4, 1, 1, generator=g)
    b = torch.randn(4, generator=g)
    out = spectral_transform(h, w, b).numpy()
    spec = np.fft.rfft2(h.numpy().astype(np.float64), norm="ortho")  # (1, 2, 8, 4)
    z = np.concatenate([spec.real, spec.imag], axis=1)  # (1, 4, 8, 4)
    z = np.maximum(np.einsum("oc,nchw->nohw", w[:, :, 0, 0].numpy(), z) + b.numpy()[None, :, None, None], 0)
    ref = np.fft.irfft2(z[:, :2] + 1j * z[:, 2:], s=(8, 6), norm="ortho")
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5)


# ----------------------------------------------------------------------------- the network
@pytest.mark.parametrize("hw", [(32, 32), (30, 45)])
def test_net_shapes_and_the_zero_head_returns_the_classical_fill(hw):
    net = build_seeded(lambda: GatedInpaintNet(GatedConfig(width=4, dilations=(2, 4))), _gen(), None).zero_head()
    x = torch.rand(2, 3, *hw, generator=_gen(3))
    m = rect_mask(*hw, 5, 6, 12, 10)[None].expand(2, -1, -1, -1)
    inp = gated_input(x, m)  # (2, 7, H, W)
    assert inp.shape == (2, 7, *hw)
    assert torch.equal(inp[:, :3][:, :, m[0, 0] > 0], torch.zeros_like(inp[:, :3][:, :, m[0, 0] > 0]))
    out = net(inp)
    assert out.shape == (2, 3, *hw)
    assert torch.allclose(out, inp[:, 4:7])  # an untrained (zero-head) refiner returns the Telea fill


def test_net_refuses_other_inputs_and_bad_configs():
    net = GatedInpaintNet(GatedConfig(width=2, dilations=(2,)))
    with pytest.raises(ConfigError, match="7, H, W"):
        net(torch.zeros(1, 4, 16, 16))
    with pytest.raises(ConfigError):
        GatedConfig(width=0)


def test_checkpoint_round_trip_and_wrong_files(tmp_path):
    net = build_seeded(lambda: GatedInpaintNet(GatedConfig(width=4, dilations=(2,))), _gen(4), None)
    path = save_gated(tmp_path / "g.pt", net, {"seed": 0}, {"steps": 3}, half=True)
    model = load_gated(path)
    assert isinstance(model, GatedInpainter) and model.meta["steps"] == 3
    for k, v in net.state_dict().items():
        assert torch.allclose(model.net.state_dict()[k], v.half().float())
    torch.save({"format": "other"}, tmp_path / "x.pt")
    with pytest.raises(CheckpointError):
        load_gated(tmp_path / "x.pt")
    with pytest.raises(CheckpointError, match="No shipped"):
        load_gated("no-such-name")


# ----------------------------------------------------------------------------- crop-to-mask
def test_hole_regions_and_windows():
    m = torch.zeros(1, 100, 120)
    m[:, 10:20, 15:30] = 1
    m[:, 70:75, 100:110] = 1
    assert sorted(hole_regions(m)) == [(10, 15, 20, 30), (70, 100, 75, 110)]
    t, lft, b, r = crop_window((70, 100, 75, 110), 100, 120, margin=1.0, min_side=40)
    assert (b - t, r - lft) == (40, 40) and t <= 70 and lft <= 100 and b >= 75 and r >= 110 and r <= 120 and b <= 100


def _fake_fill(calls):
    def fill(win, wm):
        calls.append(tuple(win.shape[-2:]))
        assert torch.equal(wm, (wm > 0).float())  # a binary hole reaches the method
        return torch.full_like(win, 0.5)
    return fill


def test_crop_to_mask_keeps_known_pixels_bit_for_bit_on_a_large_image():
    g = _gen(5)
    image = torch.rand(3, 1024, 1024, generator=g)
    mask = torch.zeros(1, 1024, 1024)
    mask[:, 500:540, 300:330] = 1  # a small hole
    mask[:, 900:1000, 50:90] = 1  # and a larger one: its window is larger than 128 px, so it is resized
    calls = []
    out = inpaint_cropped(image * (1 - mask), mask, _fake_fill(calls), scale=128)
    known = mask[0] == 0
    assert torch.equal(out[:, known], (image * (1 - mask))[:, known])
    assert torch.allclose(out[:, ~known], torch.full_like(out[:, ~known], 0.5), atol=1e-5)
    assert len(calls) == 2 and max(max(c) for c in calls) <= 128  # every window at the trained scale at most


def test_the_method_uses_crop_to_mask_on_large_images_and_fills_fast():
    from stylelab.inpaint.methods import inpaint

    net = build_seeded(lambda: GatedInpaintNet(GatedConfig()), _gen(6), None)  # the shipped size
    model = GatedInpainter(net)
    image = torch.rand(3, 1024, 1024, generator=_gen(7))
    mask = rect_mask(1024, 1024, 600, 400, 40, 30)
    inpaint(image[:, :256, :256], rect_mask(256, 256, 100, 100, 40, 30), "gated", model=model)  # warm-up
    t0 = time.perf_counter()
    out = inpaint(image * (1 - mask), mask, "gated", model=model)
    seconds = time.perf_counter() - t0
    known = mask[0] == 0
    assert torch.equal(out[:, known], (image * (1 - mask))[:, known])
    assert seconds < 10  # generous on a loaded CI machine; the bench reports the real figure (< 1 s quiet)


# ----------------------------------------------------------------------------- the run and the CLI
_SMALL = ["--width", "4", "--dilations", "2", "4", "--size", "32", "--large", "48", "--batch", "2",
          "--batch-large", "1", "--perceptual", "0", "--adv", "0", "--eval-every", "0"]


def test_the_run_resumes_from_its_state_and_equals_a_straight_run(tmp_path, capsys):
    from stylelab.cli import main

    state = tmp_path / "run.pt"
    assert main(["inpaint-gated-train", *_SMALL, "--steps", "2", "--state", str(state)]) == 0
    assert main(["inpaint-gated-train", *_SMALL, "--steps", "4", "--state", str(state)]) == 0
    assert "resumed" in capsys.readouterr().out
    resumed = torch.load(state, weights_only=True)
    assert resumed["step_count"] == 4
    straight = tmp_path / "straight.pt"
    assert main(["inpaint-gated-train", *_SMALL, "--steps", "4", "--state", str(straight)]) == 0
    other = torch.load(straight, weights_only=True)
    for k, v in other["state"]["net"].items():
        assert torch.equal(v, resumed["state"]["net"][k]), k
    assert main(["inpaint-gated-train", *_SMALL[:-2], "--eval-every", "0", "--width", "8", "--steps", "5",
                 "--state", str(state)]) == 2  # other settings: one error line, exit status 2
    assert "other settings" in capsys.readouterr().err


def test_small_run_follows_the_protocol():
    from stylelab.inpaint.gated_train import small_run

    run = small_run(seed=1)
    row = run.step()
    assert row["step"] == 1 and row["size"] == 32 and math.isfinite(row["total"])
    row = run.step()
    assert row["size"] == 48  # every second step at the large size


def test_the_unseen_set_is_not_trained_on():
    from stylelab.inpaint.data import HELD_OUT, training_image_names
    from stylelab.inpaint.unseen import UNSEEN, check_unseen, unseen_images

    check_unseen()
    names = " ".join(training_image_names() + list(HELD_OUT))
    for name in UNSEEN:
        assert name.split("-")[0] not in names
    images = unseen_images(64)
    assert images and all(v.shape == (3, 64, 64) for v in images.values())


# ----------------------------------------------------------------------------- mask editing
def _stroke(points, width=4, stroke=None):
    from stylelab.inpaint.mask_edit import HOLE_STROKE

    path = [["M", *points[0]]] + [["L", *p] for p in points[1:]]
    return {"type": "path", "path": path, "strokeWidth": width, "stroke": stroke or HOLE_STROKE}


def test_mask_from_drawing_brush_rectangle_eraser_and_undo():
    from stylelab.inpaint.mask_edit import ERASE_STROKE, mask_from_drawing

    box = {"type": "rect", "left": 4, "top": 2, "width": 6, "height": 3, "scaleX": 2, "scaleY": 1,
           "stroke": "rgba(255, 0, 255, 0.7)"}
    m = mask_from_drawing([box], 20, 30)
    ref = torch.zeros(1, 20, 30)
    ref[:, 2:5, 4:16] = 1  # the box covers [left, left + w) x [top, top + h): 12 x 3 pixels
    assert torch.equal(m, ref)
    line = _stroke([(2, 15), (27, 15)], width=3)
    m2 = mask_from_drawing([box, line], 20, 30)
    assert m2[0, 14:17, 3:26].all() and not m2[0, 10, 20]  # a 3 px horizontal band
    eraser = _stroke([(10, 0), (10, 19)], width=5, stroke=ERASE_STROKE)
    m3 = mask_from_drawing([box, line, eraser], 20, 30)
    assert not m3[0, :, 9:12].any() and m3[0, 15, 20] == 1  # the eraser gave its column back
    assert torch.equal(mask_from_drawing([box, line, eraser][:-1], 20, 30), m2)  # undo = drop the last object
    assert not mask_from_drawing([], 20, 30).any()  # clear
    # a canvas shown 3x larger gives the same mask at picture resolution
    big = {**box, "left": 12, "top": 6, "width": 18, "height": 9}
    assert torch.equal(mask_from_drawing([big], 20, 30, scale=3), ref)


def test_mask_from_drawing_refuses_other_shapes_and_fit_mask_reuses_a_mask():
    from stylelab.inpaint.mask_edit import fit_mask, mask_from_drawing

    with pytest.raises(ConfigError, match="circle"):
        mask_from_drawing([{"type": "circle"}], 10, 10)
    m = rect_mask(32, 32, 8, 8, 8, 8)
    assert torch.equal(fit_mask(m, 32, 32), m)
    big = fit_mask(m, 64, 64)
    assert big.shape == (1, 64, 64) and torch.equal(big[0, ::2, ::2], m[0]) and set(big.unique().tolist()) == {0.0, 1.0}


# ----------------------------------------------------------------------------- more training data, starting from weights
def test_gcompris_photos_split_and_load(monkeypatch, tmp_path):
    from stylelab.data import gcompris_photos as gp
    from stylelab.errors import AssetError

    names = gp.list_gcompris_photos()
    if not names:
        pytest.skip("Debian's gcompris-qt-data is not installed here")
    train, held = gp.list_gcompris_photos("train"), gp.list_gcompris_photos("held_out")
    assert not set(train) & set(held) and sorted(train + held) == names
    assert len(held) == len(names[3::gp.HOLD_OUT_EVERY]) and len(train) > 50
    img = gp.load_gcompris_photo(held[0])
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3 and min(img.shape[:2]) >= gp.MIN_SIDE
    both = gp.load_gcompris_photos([held[0], train[0]])
    assert list(both) == [held[0], train[0]] and np.array_equal(both[held[0]], img)
    with pytest.raises(AssetError):
        gp.load_gcompris_photo("gphoto:erase/no-such-photo")
    with pytest.raises(AssetError):
        gp.list_gcompris_photos("test")
    monkeypatch.setattr(gp, "_INDEX", None)
    monkeypatch.setenv("STYLELAB_GCOMPRIS_RCC", str(tmp_path))  # no package: nothing listed, a typed error
    assert gp.list_gcompris_photos() == []
    with pytest.raises(AssetError):
        gp.load_gcompris_photos([held[0]])
    monkeypatch.setattr(gp, "_INDEX", None)


def test_inpaint_data_with_gcompris_photos_draws_more_pictures():
    from stylelab.data.gcompris_photos import list_gcompris_photos
    from stylelab.inpaint.data import InpaintData

    if not list_gcompris_photos():
        pytest.skip("Debian's gcompris-qt-data is not installed here")
    plain, more = InpaintData("photos", 32, seed=0, scale=(48, 64)), InpaintData("photos+gcompris", 32, seed=0, scale=(48, 64))
    assert len(more.pools) == len(plain.pools) + len(list_gcompris_photos("train"))
    x, m = more.batch(3)
    assert x.shape == (3, 3, 32, 32) and m.shape == (3, 1, 32, 32) and 0 <= float(x.min()) and float(x.max()) <= 1


def test_a_run_can_start_from_saved_weights(tmp_path, capsys):
    from stylelab.cli import main
    from stylelab.inpaint.gated_train import GatedTrainConfig, GatedTrainer

    cfg = GatedTrainConfig(width=4, dilations=(2, 4), size=32, large=48, batch=2, batch_large=1, steps=2,
                           perceptual=0.0, adv=0.0)
    run = GatedTrainer(cfg)
    run.step()
    run.step()
    weights = run.save(tmp_path / "w.pt")
    state = tmp_path / "run.pt"
    assert main(["inpaint-gated-train", *_SMALL, "--steps", "0", "--init", str(weights), "--state", str(state)]) == 0
    assert "started from" in capsys.readouterr().out
    saved = torch.load(state, weights_only=True)
    for k, v in run.net.state_dict().items():
        assert torch.equal(saved["state"]["net"][k], v), k
    assert saved["init_from"]["path"] == str(weights)
    other = tmp_path / "other.pt"
    assert main(["inpaint-gated-train", *_SMALL[:-2], "--eval-every", "0", "--width", "8", "--steps", "0",
                 "--init", str(weights), "--state", str(other)]) == 2  # weights of another width: one error line
    assert "does not fit" in capsys.readouterr().err
