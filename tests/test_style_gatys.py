"""Gatys optimisation: losses fall, the result moves toward the style, callbacks/stop/seed, bad input."""

from __future__ import annotations

import threading

import pytest
import torch

from stylelab.errors import ConfigError, NonFiniteError, ShapeError
from stylelab.losses import gram_targets, style_loss
from stylelab.style.gatys import GatysConfig, GatysStylizer, feature_net, stylize_gatys

SMALL = dict(size=64, steps=8, pyramid_levels=1)


@pytest.fixture(scope="module")
def pair():
    from stylelab.assets import load_bundled
    from stylelab.imageio import resize_tensor

    content = resize_tensor(load_bundled("photo:astronaut"), (64, 64))
    style = resize_tensor(load_bundled("texture:brick"), (64, 64))
    return content, style


def test_losses_decrease_and_result_moves_toward_style(pair):
    content, style = pair
    cfg = GatysConfig(**SMALL)
    result = stylize_gatys(content, style, cfg)
    first, last = result.history[0], result.history[-1]
    assert len(result.history) == cfg.steps
    assert last["total"] < 0.5 * first["total"]
    assert last["style_raw"] < first["style_raw"]
    assert result.image.shape == (3, 64, 64) and 0 <= result.image.min() and result.image.max() <= 1

    # Gram distance to the style: the result is closer than the content photo was
    net = feature_net(cfg)
    layers = list(cfg.style_layers)
    targets = gram_targets(net(style[None], layers))
    d_content = style_loss(net(content[None], layers), targets)
    d_result = style_loss(net(result.image[None], layers), targets)
    assert d_result < 0.5 * d_content


def test_adam_pyramid_callback_and_every_term(pair):
    content, style = pair
    seen = []
    cfg = GatysConfig(size=64, steps=6, optimizer="adam", adam_lr=0.05, pyramid_levels=2, coarse_fraction=0.5,
                      colorfulness_weight=1e-3, contrast_weight=1.0)
    assert cfg.schedule() == [(32, 3), (64, 3)]
    result = stylize_gatys(content, style, cfg, callback=lambda step, img, terms: seen.append((step, img.shape, terms)))
    assert [s for s, _, _ in seen] == [1, 2, 3, 4, 5, 6]
    assert seen[0][1][-1] == 32 and seen[-1][1][-1] == 64  # coarse then fine
    for key in ("content", "style", "tv", "colorfulness", "contrast", "total", "content_raw", "style_raw"):
        assert key in seen[-1][2]
    assert result.image.shape == (3, 64, 64)


@pytest.mark.parametrize("mode", ["residual", "image"])
def test_coarse_to_fine_starts_the_fine_scale_as_documented(pair, mode):
    # residual: x0 = c_fine + up(x_coarse - c_coarse) keeps the photo's fine detail; image: up(x_coarse)
    import torch.nn.functional as F

    content, style = pair
    run = GatysStylizer(content, style, GatysConfig(size=64, steps=4, pyramid_levels=2, upsample=mode))
    run.run(2)  # the coarse level (32 px)
    coarse_x, coarse_c = run.x.detach().clone(), run._level_content.clone()
    run._prepare_level(1)  # the fine level's start, before any step there
    fine_c = run._level_content
    up = lambda t: F.interpolate(t, size=(64, 64), mode="bilinear", align_corners=False)  # noqa: E731
    want = (fine_c + up(coarse_x - coarse_c) if mode == "residual" else up(coarse_x)).clamp(0, 1)
    assert run.x.shape == (1, 3, 64, 64) and torch.allclose(run.x.detach(), want, atol=1e-6)
    if mode == "residual":  # closer to the photo's detail than the blurry upsampled image
        assert (run.x.detach() - fine_c).abs().mean() < (up(coarse_x).clamp(0, 1) - fine_c).abs().mean()


def test_stop_and_resume(pair):
    content, style = pair
    stop = threading.Event()

    def cb(step, img, terms):
        if step == 2:
            stop.set()

    result = stylize_gatys(content, style, GatysConfig(**SMALL), callback=cb, stop=stop)
    assert result.stopped and len(result.history) == 2

    run = GatysStylizer(content, style, GatysConfig(size=64, steps=4, pyramid_levels=1))
    assert run.run(2) is False and run.step_count == 2 and not run.done
    run.run(5)
    assert run.step_count == 4 and run.done
    assert [r["step"] for r in run.history] == [1, 2, 3, 4]


def test_resume_across_scales_equals_continuous(pair):
    import io

    content, style = pair
    cfg = GatysConfig(size=64, steps=6, pyramid_levels=2, init="noise", seed=2)
    whole = GatysStylizer(content, style, cfg)
    whole.run()
    first = GatysStylizer(content, style, cfg)
    first.run(4)  # 3 coarse steps (32 px) and 1 at full size: the state holds the fine scale's L-BFGS memory
    buf = io.BytesIO()
    torch.save(first.state_dict(), buf)
    again = GatysStylizer(content, style, cfg)
    again.load_state_dict(torch.load(io.BytesIO(buf.getvalue()), weights_only=True))
    again.run()
    assert again.history == whole.history and torch.equal(again.preview(), whole.preview())
    assert [r["size"] for r in whole.history] == [32, 32, 32, 64, 64, 64]


def test_record_round_trip_and_old_records(pair):
    from stylelab.errors import RecordError
    from stylelab.record import ExperimentRecord

    content, style = pair
    run = GatysStylizer(content, style, GatysConfig(size=32, steps=2, pyramid_levels=1, init="noise", seed=9))
    run.run()
    rec = ExperimentRecord.from_json(run.record(content="photo:astronaut").to_json())
    assert rec.config["kind"] == "gatys" and rec.seed == 9 and rec.summary["content"] == "photo:astronaut"
    again = GatysStylizer.from_record(rec, **run.inputs())
    again.run()
    assert again.history == run.history
    with pytest.raises(RecordError, match="Steps must be at least 1"):  # out of range: refused, never clamped
        GatysStylizer.from_record({**rec.to_dict(), "config": {**rec.config, "steps": 0}}, **run.inputs())
    with pytest.raises(RecordError):
        GatysStylizer.from_record({**rec.to_dict(), "config": {**rec.config, "kind": "fast-style"}}, **run.inputs())


def test_the_global_rng_is_not_touched(pair):
    content, style = pair
    state = torch.get_rng_state()
    stylize_gatys(content, style, GatysConfig(size=32, steps=2, pyramid_levels=1, init="noise", seed=1))
    assert torch.equal(torch.get_rng_state(), state)


def test_same_seed_same_result_and_init_modes(pair):
    content, style = pair
    cfg = GatysConfig(size=48, steps=3, pyramid_levels=1, init="noise", seed=3)
    a = stylize_gatys(content, style, cfg).image
    b = stylize_gatys(content, style, cfg).image
    assert torch.equal(a, b)
    c = stylize_gatys(content, style, GatysConfig(size=48, steps=3, pyramid_levels=1, init="noise", seed=4)).image
    assert not torch.equal(a, c)
    s = stylize_gatys(content, style, GatysConfig(size=48, steps=1, pyramid_levels=1, init="style")).image
    assert s.shape == (3, 48, 48)


@pytest.mark.parametrize("color", ["luminance", "histogram"])
def test_colour_preservation_runs(pair, color):
    from stylelab.style.colour import rgb_to_yiq

    content, style = pair
    out = stylize_gatys(content, style, GatysConfig(size=48, steps=2, pyramid_levels=1, color=color)).image
    assert out.shape == (3, 48, 48)
    if color == "luminance":  # chroma comes from the content
        from stylelab.imageio import resize_tensor

        ref = rgb_to_yiq(resize_tensor(content, 48))[1:]
        assert torch.allclose(rgb_to_yiq(out)[1:], ref, atol=0.08)


@pytest.mark.parametrize("kwargs", [
    {"size": 8}, {"steps": 0}, {"optimizer": "sgd"}, {"init": "zeros"}, {"color": "sepia"},
    {"style_weight": -1.0}, {"tv_weight": float("nan")}, {"pyramid_levels": 9}, {"upsample": "nearest"}, {"content_layers": ()},
    {"style_layer_weights": (1.0,)}, {"precision": "fp16"},
])
def test_bad_config(kwargs):
    with pytest.raises(ConfigError):
        GatysConfig(**kwargs).validate()


def test_bad_layers_and_images(pair):
    content, style = pair
    with pytest.raises(ConfigError):
        GatysStylizer(content, style, GatysConfig(size=32, steps=1, content_layers=("relu9_9",)))
    with pytest.raises(ShapeError):
        GatysStylizer(content[0], style, GatysConfig(size=32, steps=1))
    with pytest.raises(ShapeError):
        GatysStylizer(content[:, :8, :8], style, GatysConfig(size=32, steps=1))
    with pytest.raises(ShapeError):  # two pictures where one is expected
        GatysStylizer(torch.stack([content, content]), style, GatysConfig(size=32, steps=1))
    from stylelab.errors import ImageError

    with pytest.raises(ImageError):  # 0-255 pixels: refused with a hint, never clamped
        GatysStylizer(content * 255, style, GatysConfig(size=32, steps=1))
    bad = content.clone()
    bad[0, 0, 0] = float("nan")
    with pytest.raises(NonFiniteError):
        GatysStylizer(bad, style, GatysConfig(size=32, steps=1))
