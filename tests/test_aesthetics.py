"""Known answers and bad inputs for stylelab.aesthetics (measures, report, batch scorer, adjustment)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from stylelab.aesthetics import (
    CLI_KEYS,
    MEASURES,
    AdjustConfig,
    Adjuster,
    adjust,
    aggd_fit,
    apply_tone,
    balance,
    brightness,
    clipped_highlights,
    clipped_shadows,
    colorfulness,
    dominant_palette,
    entropy,
    fit_max_side,
    ggd_fit,
    harmony_fit,
    hue_harmony,
    laplacian_variance,
    michelson_contrast,
    noise_sigma,
    report,
    report_row,
    rms_contrast,
    rule_of_thirds,
    saturation,
    score_batch,
    spectral_residual_saliency,
    symmetry,
    tenengrad,
)
from stylelab.aesthetics.harmony import template_distance_table
from stylelab.errors import ConfigError, EmptyImageError, ImageError, NonFiniteError, ShapeError


def grey(h: int = 32, w: int = 32, v: float = 0.5) -> torch.Tensor:
    return torch.full((1, 3, h, w), v)


def checkerboard(h: int = 32, w: int = 32, cell: int = 4, lo: float = 0.0, hi: float = 1.0) -> torch.Tensor:
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    board = ((yy // cell + xx // cell) % 2).float() * (hi - lo) + lo  # (H, W)
    return board.expand(1, 3, h, w).clone()


def blur(x: torch.Tensor, sigma: float = 2.0) -> torch.Tensor:
    import torchvision.transforms.functional as TF

    k = int(6 * sigma) | 1
    return TF.gaussian_blur(x, [k, k], [sigma, sigma])


# ----------------------------------------------------------------------------- tone and colour
def test_grey_image_has_no_colour_and_no_contrast():
    x = grey()
    assert float(colorfulness(x)) == pytest.approx(0.0, abs=1e-4)
    assert float(saturation(x)) == pytest.approx(0.0, abs=1e-6)
    assert float(rms_contrast(x)) == pytest.approx(0.0, abs=1e-5)
    assert float(michelson_contrast(x)) == pytest.approx(0.0, abs=1e-6)
    assert float(entropy(x)) == pytest.approx(0.0, abs=1e-12)
    assert float(laplacian_variance(x)) == 0.0 and float(tenengrad(x)) == 0.0
    assert float(noise_sigma(x)) == pytest.approx(0.0, abs=1e-5)
    assert float(hue_harmony(x)) == 0.0 and harmony_fit(x).template == ["N"]


def test_checkerboard_contrast_known_answers():
    bw = checkerboard()
    # half black, half white: sigma_Y = 0.5, Michelson (1 - 0) / (1 + 0) = 1, entropy 1 bit
    assert float(rms_contrast(bw)) == pytest.approx(0.5, abs=1e-4)
    assert float(michelson_contrast(bw)) == pytest.approx(1.0, abs=1e-6)
    assert float(entropy(bw)) == pytest.approx(1.0, abs=1e-9)
    mid = checkerboard(lo=0.25, hi=0.75)
    # sigma = 0.25; Michelson (0.75 - 0.25) / (0.75 + 0.25) = 0.5
    assert float(rms_contrast(mid)) == pytest.approx(0.25, abs=1e-4)
    assert float(michelson_contrast(mid)) == pytest.approx(0.5, abs=1e-5)


def test_entropy_of_all_256_levels_is_8_bits():
    ramp = (torch.arange(256).float() / 255).view(1, 1, 16, 16).expand(1, 3, 16, 16)
    assert float(entropy(ramp)) == pytest.approx(8.0, abs=1e-9)


def test_michelson_quantile_ignores_a_hot_pixel():
    x = grey(40, 40, 0.3)
    x[..., 0, 0] = 1.0
    assert float(michelson_contrast(x, q=0.0)) > 0.5
    assert float(michelson_contrast(x, q=0.01)) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ConfigError):
        michelson_contrast(x, q=0.7)


def test_saturation_and_colourfulness_respond_to_desaturation(coffee):
    x = coffee[None]
    washed = 0.5 * x + 0.5 * x.mean(dim=1, keepdim=True)  # halfway to grey
    assert float(saturation(washed)) < float(saturation(x))
    assert float(colorfulness(washed)) < float(colorfulness(x))
    boosted = apply_tone(x, {**_zero_params(), "saturation": torch.tensor(0.5)})
    assert float(saturation(boosted)) > float(saturation(x))


def test_exposure_edits_move_brightness_and_clipping(astronaut):
    x = astronaut[None]
    dark, bright = x * 0.4, (x * 1.8).clamp(0, 1)
    assert float(brightness(dark)) < float(brightness(x)) < float(brightness(bright))
    assert float(clipped_shadows(dark)) > float(clipped_shadows(x))
    assert float(clipped_highlights(bright)) > float(clipped_highlights(x))
    r = report(x[0], quality=False)
    assert r["exposure_error"] == pytest.approx((r["brightness"] - 0.5) ** 2, rel=1e-4)


# ----------------------------------------------------------------------------- detail
def test_blur_lowers_sharpness(astronaut):
    x = astronaut[None]
    xb = blur(x)
    assert float(laplacian_variance(xb)) < 0.2 * float(laplacian_variance(x))
    assert float(tenengrad(xb)) < float(tenengrad(x))


def test_laplacian_variance_by_hand():
    x = torch.rand(1, 3, 9, 11, generator=torch.Generator().manual_seed(0))
    y = (0.299 * x[0, 0] + 0.587 * x[0, 1] + 0.114 * x[0, 2]).double().numpy() * 255
    lap = y[:-2, 1:-1] + y[2:, 1:-1] + y[1:-1, :-2] + y[1:-1, 2:] - 4 * y[1:-1, 1:-1]
    assert float(laplacian_variance(x)) == pytest.approx(lap.var(), rel=1e-4)


def test_noise_estimate_reads_added_noise():
    g = torch.Generator().manual_seed(0)
    x = grey(128, 128) + 0.04 * torch.randn(1, 1, 128, 128, generator=g)  # same noise in R, G, B
    assert float(noise_sigma(x.clamp(0, 1))) == pytest.approx(0.04 * 255, rel=0.1)


# ----------------------------------------------------------------------------- composition
def blob(cx: float, cy: float, h: int = 120, w: int = 180) -> torch.Tensor:
    x = torch.full((1, 3, h, w), 0.3)
    r, c = int(cy * h), int(cx * w)
    x[..., r - 5:r + 5, c - 5:c + 5] = 1.0
    return x


def test_rule_of_thirds_prefers_a_power_point():
    on = rule_of_thirds(blob(1 / 3, 1 / 3))
    centre = rule_of_thirds(blob(0.5, 0.5))
    corner = rule_of_thirds(blob(0.08, 0.9))
    assert float(on.score) > 0.9
    assert float(on.score) > float(centre.score) > float(corner.score)
    assert on.centroid[0].tolist() == pytest.approx([1 / 3, 1 / 3], abs=0.03)


def test_saliency_is_a_unit_map_and_flat_images_are_uniform(astronaut):
    s = spectral_residual_saliency(astronaut)
    assert s.shape == (1, *astronaut.shape[-2:]) and float(s.min()) >= 0 and float(s.max()) <= 1
    assert torch.allclose(spectral_residual_saliency(grey()), torch.ones(1, 32, 32))


def test_balance_and_symmetry_known_answers():
    assert float(balance(blob(0.5, 0.5))) > 0.95
    assert float(balance(blob(0.1, 0.5))) < float(balance(blob(0.3, 0.5))) < float(balance(blob(0.5, 0.5)))
    assert float(balance(blob(0.1, 0.5))) < 0.5
    half = torch.zeros(1, 3, 40, 40)
    half[..., 20:] = 1.0
    assert float(symmetry(half)) == pytest.approx(-1.0, abs=1e-4)
    x = torch.rand(1, 3, 40, 40, generator=torch.Generator().manual_seed(1))
    assert float(symmetry(torch.cat([x, x.flip(-1)], dim=-1))) == pytest.approx(1.0, abs=1e-4)
    assert float(symmetry(grey())) == 1.0


# ----------------------------------------------------------------------------- colour palette and harmony
def test_palette_recovers_two_colours():
    x = torch.zeros(1, 3, 20, 20)
    x[:, 0, :, :10] = 1.0  # red left half
    x[:, 2, :, 10:] = 1.0  # blue right half
    pal = dominant_palette(x, k=3)
    assert pal.colors.shape == (1, 3, 3) and pal.weights.shape == (1, 3)
    assert pal.weights[0].tolist() == pytest.approx([0.5, 0.5, 0.0], abs=1e-6)
    got = {tuple(round(v) for v in c) for c in pal.colors[0, :2].tolist()}
    assert got == {(1, 0, 0), (0, 0, 1)}
    with pytest.raises(ConfigError):
        dominant_palette(x, k=0)


def test_harmony_templates():
    table = template_distance_table("i")  # one 18 degree sector centred on the rotation angle
    assert float(table[100, 100]) == 0.0  # hue 100.5 inside the sector at 100 (+-9)
    assert float(table[100, 120]) == pytest.approx(20.5 - 9, abs=1e-9)
    one_hue = torch.tensor([1.0, 0.5, 0.0]).view(1, 3, 1, 1).expand(1, 3, 8, 8)  # orange only
    assert float(hue_harmony(one_hue)) == pytest.approx(0.0, abs=1e-9)
    hsv_wheel = torch.linspace(0, 1, 64)
    import colorsys

    wheel = torch.tensor([colorsys.hsv_to_rgb(float(h), 1.0, 1.0) for h in hsv_wheel]).T.reshape(1, 3, 8, 8)
    assert float(hue_harmony(wheel)) > 10.0  # every hue at once fits no template


# ----------------------------------------------------------------------------- NSS fits
def test_ggd_and_aggd_fits_recover_shapes():
    rng = np.random.default_rng(0)
    g = ggd_fit(rng.normal(0, 2.0, 200_000))
    assert g.alpha == pytest.approx(2.0, abs=0.05) and g.sigma == pytest.approx(2.0, rel=0.01)
    lap = ggd_fit(rng.laplace(0, 1.0, 200_000))
    assert lap.alpha == pytest.approx(1.0, abs=0.05)
    a = aggd_fit(rng.normal(0, 1.0, 200_000))
    assert a.alpha == pytest.approx(2.0, abs=0.1) and a.mean == pytest.approx(0.0, abs=0.02)
    assert aggd_fit(np.zeros(10)).std_left == 0.0


# ----------------------------------------------------------------------------- registry, report, batch
def test_registry_is_complete():
    for m in MEASURES.values():
        assert m.label and m.latex and m.reference and m.moves
        assert m.range[0] < m.range[1]
        g = m.goodness((m.range[0] + m.range[1]) / 2)
        assert g is None or 0.0 <= g <= 1.0
    assert MEASURES["brisque"].goodness(0.0) == 1.0 and MEASURES["brisque"].goodness(100.0) == 0.0
    assert MEASURES["brightness"].goodness(0.5) == 1.0
    assert set(CLI_KEYS) <= set(MEASURES)


def test_report_has_every_key_and_report_row(astronaut):
    r = report(astronaut, quality=False)
    assert set(CLI_KEYS) - {"brisque", "niqe"} <= set(r)
    assert all(isinstance(v, float) and math.isfinite(v) for v in r.values())
    row = report_row(astronaut, name="astro", quality=False)
    assert row.name == "astro" and row["colorfulness"] == pytest.approx(r["colorfulness"])
    assert r["colorfulness"] == pytest.approx(float(colorfulness(astronaut[None])), rel=1e-6)


def test_report_with_reference(astronaut):
    r = report(astronaut, reference=astronaut, quality=False, names=["psnr", "ssim", "colorfulness"])
    assert set(r) == {"psnr", "ssim", "colorfulness"}
    assert r["ssim"] == pytest.approx(1.0, abs=1e-5) and r["psnr"] > 60
    with pytest.raises(ShapeError):
        report(astronaut, reference=astronaut[:, :64], quality=False)


def test_score_batch_tensors_and_files(tmp_path, astronaut, coffee):
    from stylelab.imageio import to_pil

    path = tmp_path / "coffee.png"
    to_pil(coffee).save(path)
    (tmp_path / "broken.png").write_bytes(b"not an image")
    df = score_batch([astronaut, str(path), str(tmp_path / "broken.png")], quality=False, on_error="record", size=64)
    assert list(df.index) == ["image 1", "coffee.png", "broken.png"]
    assert df.loc["coffee.png", "width"] == 64 and df.loc["coffee.png", "error"] == ""
    assert "not an image format" in df.loc["broken.png", "error"]
    assert df.loc["image 1", "colorfulness"] > 30
    with pytest.raises(ImageError):
        score_batch([str(tmp_path / "broken.png")])


# ----------------------------------------------------------------------------- bad inputs
def test_one_pixel_image():
    px = torch.tensor([0.2, 0.4, 0.6]).view(3, 1, 1)
    with pytest.raises(ShapeError, match="at least 8x8"):
        report(px)
    with pytest.raises(ShapeError, match="at least 3x3"):
        laplacian_variance(px)
    assert float(michelson_contrast(px)) == pytest.approx(0.0, abs=1e-6)  # global measures are defined
    assert float(entropy(px)) == 0.0


def test_single_channel_is_treated_as_grey(astronaut):
    g = astronaut.mean(dim=0, keepdim=True)  # (1, H, W)
    r1 = report(g, quality=False)
    r3 = report(g.expand(3, -1, -1), quality=False)
    assert r1 == pytest.approx(r3)
    assert r1["saturation"] == pytest.approx(0.0, abs=1e-6)


def test_bad_shapes_values_and_types():
    with pytest.raises(ShapeError, match="alpha"):
        report(torch.rand(4, 16, 16))
    with pytest.raises(ShapeError):
        report(torch.rand(16, 16))
    with pytest.raises(ShapeError, match="one image"):
        report(torch.rand(2, 3, 16, 16))
    with pytest.raises(EmptyImageError):
        report(torch.rand(3, 0, 16))
    nan = torch.rand(3, 16, 16)
    nan[0, 3, 3] = float("nan")
    with pytest.raises(NonFiniteError):
        report(nan)
    with pytest.raises(ImageError, match="255"):
        report(torch.rand(3, 16, 16) * 255)
    with pytest.raises(ImageError):
        report(torch.randint(0, 255, (3, 16, 16), dtype=torch.uint8))
    with pytest.raises(ImageError):
        report(np.zeros((16, 16, 3)))


def test_huge_image_is_scored_on_a_resized_copy():
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 1600), torch.linspace(0, 1, 1200), indexing="ij")
    huge = torch.stack([xx, yy, (xx + yy) / 2])  # (3, 1600, 1200), 1.9 MP
    assert fit_max_side(huge[None]).shape[-2:] == (1024, 768)
    r = report(huge, quality=False)
    assert r["colorfulness"] == pytest.approx(float(colorfulness(huge[None])), rel=0.01)


def test_small_image_gets_none_for_niqe():
    x = torch.rand(3, 40, 40, generator=torch.Generator().manual_seed(0))
    r = report(x, names=["niqe", "brisque", "entropy"])
    assert r["niqe"] is None and isinstance(r["brisque"], float) and r["entropy"] > 0


# ----------------------------------------------------------------------------- adjustment
def _zero_params() -> dict[str, torch.Tensor]:
    from stylelab.aesthetics.adjustment import PARAM_NAMES

    return {k: torch.tensor(0.0) for k in PARAM_NAMES}


def test_apply_tone_identity_and_gradcheck(coffee):
    x = coffee[None, :, :16, :16]
    assert torch.allclose(apply_tone(x, _zero_params()), x.clamp(1e-6, 1), atol=1e-5)
    xd = (x.double() * 0.6 + 0.2)  # away from the clamps

    def f(*vals: torch.Tensor) -> torch.Tensor:
        from stylelab.aesthetics.adjustment import PARAM_NAMES

        return apply_tone(xd, dict(zip(PARAM_NAMES, vals)))

    params = tuple(torch.tensor(0.05 * (i + 1), dtype=torch.float64, requires_grad=True) for i in range(6))
    assert torch.autograd.gradcheck(f, params, eps=1e-6, atol=1e-5)


def test_adjust_raises_colourfulness_and_contrast_of_a_washed_out_photo(coffee):
    from stylelab.imageio import resize_tensor

    washed = resize_tensor(coffee, 64) * 0.5 + 0.25
    res = adjust(washed, steps=25, content="mse")
    assert len(res.history) == 25
    assert float(colorfulness(res.image[None])) > float(colorfulness(washed[None])) + 5
    assert float(rms_contrast(res.image[None])) > float(rms_contrast(washed[None]))
    assert res.history[-1]["total"] < res.history[0]["total"]
    assert {"colorfulness_raw", "content_raw", "m_colorfulness", "p_exposure"} <= set(res.history[0])
    rec = res.adjuster.record()
    from stylelab.record import ExperimentRecord

    back = ExperimentRecord.from_json(rec.to_json(), lab="aesthetics")
    assert back.config["kind"] == "adjust" and back.seed == rec.seed == 0
    again = Adjuster.from_record(back, image=washed, device=res.adjuster.device)
    assert again.config.steps == 25 and again.config == res.adjuster.config and len(back.metrics) == 25
    assert [r["step"] for r in back.metrics] == list(range(1, 26))  # the row of step k says k (logged after it)
    again.run()
    assert again.history == res.history  # nothing random: the same photo and record give the same rows


def test_adjust_pixels_mode_stays_in_range_and_stops(coffee):
    seen = []
    res = adjust(coffee[:, :32, :32], steps=50, mode="pixels", content="mse",
                 callback=lambda row: seen.append(row) or len(seen) < 4)
    assert len(res.history) == 4  # stopped by the callback
    assert float(res.image.min()) >= 0 and float(res.image.max()) <= 1
    adj = Adjuster(coffee[:, :32, :32], AdjustConfig(content="mse"))
    adj.run(steps=10, should_stop=lambda: adj.step_count >= 2)
    assert adj.step_count == 2


def test_adjust_bad_config(coffee):
    with pytest.raises(ConfigError):
        adjust(coffee, mode="magic")
    with pytest.raises(ConfigError):
        adjust(coffee, weights={"beauty": 1.0})
    with pytest.raises(ConfigError):
        adjust(coffee, weights={"content": -1.0})
    with pytest.raises(ShapeError):
        adjust(torch.rand(3, 4, 4))


def test_adjust_record_values_out_of_range_are_errors_not_clamped(coffee):
    from stylelab.errors import RecordError

    small = coffee[:, :32, :32]
    adj = Adjuster(small, AdjustConfig(steps=2, content="mse", exposure_target=0.4))
    rec = adj.record().to_dict()
    again = Adjuster.from_record(rec, image=small)
    assert again.config.exposure_target == 0.4 and again.config.steps == 2
    for key, value in (("exposure_target", 1.5), ("steps", -1), ("mode", "magic"), ("lr", "fast")):
        with pytest.raises(RecordError):
            Adjuster.from_record({**rec, "config": {**rec["config"], key: value}}, image=small)
    with pytest.raises(RecordError, match="image="):
        Adjuster.from_record(rec)
