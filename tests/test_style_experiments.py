"""The Style Studio's library pieces behind the page: a space beside plain pixels, record -> widgets."""

from __future__ import annotations

import dataclasses
import io

import pytest
import torch

from stylelab.errors import ConfigError, RecordError
from stylelab.style.configs import GatysConfig
from stylelab.style.experiments import GatysPair, arbitrary_record, pixels_config, pretrained_record
from stylelab.style.gatys import GatysStylizer


@pytest.fixture(scope="module")
def pair_images():
    from stylelab.assets import load_bundled

    return load_bundled("photo:astronaut", size=32), load_bundled("texture:brick", size=32)


def test_pair_steps_both_evaluation_for_evaluation(pair_images):
    content, style = pair_images
    cfg = GatysConfig(size=32, steps=4, param="fourier", param_colour="imagenet", seed=1)
    pair = GatysPair(content, style, cfg)
    for _ in range(4):
        pair.step()
    alone = GatysStylizer(content, style, pixels_config(cfg))
    alone.run()
    assert pair.done and pair.main.step_count == pair.twin.step_count == 4
    assert [r["pixels_total"] for r in pair.history] == [r["total"] for r in alone.history]
    assert [{k: v for k, v in r.items() if k != "pixels_total"} for r in pair.history] == pair.main.history
    assert pair.record().config["kind"] == "gatys"  # the main run's record: it reloads into Gatys
    with pytest.raises(ConfigError):
        GatysPair(content, style, pixels_config(cfg))


def test_pair_resumes_bit_for_bit(pair_images):
    content, style = pair_images
    cfg = GatysConfig(size=32, steps=4, param="laplacian", seed=2)
    whole = GatysPair(content, style, cfg)
    for _ in range(4):
        whole.step()
    half = GatysPair(content, style, cfg)
    half.step(), half.step()
    buf = io.BytesIO()
    torch.save(half.state_dict(), buf)
    again = GatysPair(content, style, cfg)
    again.load_state_dict(torch.load(io.BytesIO(buf.getvalue()), weights_only=True))
    again.step(), again.step()
    assert again.history == whole.history and torch.equal(again.twin.preview(), whole.twin.preview())


def test_one_pass_records():
    rec = pretrained_record({3: 0.5, 12: 0.5}, 128, 31.24)
    assert rec.config["method"] == "fast" and rec.config["style_weights"][3] == 0.5 and rec.summary["milliseconds"] == 31.2
    rec = arbitrary_record(torch.zeros(100), 0.3, 0.0, 64)
    assert rec.config == {"method": "arbitrary", "strength": 0.3, "t": 0.0, "size": 64} and len(rec.summary["code"]) == 100


def test_widget_values_refuse_what_the_page_cannot_show():
    pytest.importorskip("streamlit")
    from stylelab.ui.style import gatys_widget_values

    values = gatys_widget_values(GatysConfig(size=96, steps=12, style_weight=1e5, optimizer="adam", seed=7))
    assert values["style_beta"] == pytest.approx(5.0) and values["style_steps"] == 12 and values["style_size"] == 96
    for bad, word in (({"steps": 500}, "steps"), ({"content_weight": 0.0}, "content_weight"), ({"size": 100}, "size"),
                      ({"lbfgs_history": 5}, "lbfgs_history"), ({"pyramid_levels": 4, "size": 256}, "pyramid_levels"),
                      ({"param_colour": "content"}, "param_colour")):
        with pytest.raises(RecordError, match=word):
            gatys_widget_values(dataclasses.replace(GatysConfig(size=96), **bad))
    with pytest.raises(RecordError, match="vgg19"):
        gatys_widget_values(GatysConfig(size=96, network="vgg19"), networks=("vgg16",))


def test_style_equations_are_registered():
    from stylelab import equations

    for name in ("gatys_objective", "content_term", "style_term", "tv_term", "colorfulness_term", "contrast_term",
                 "cin", "arbitrary_code", "johnson_objective"):
        assert equations.get(f"style.{name}").lab == "style"
    assert equations.latex("style.content_term") == equations.latex("loss.content")  # one formula, written once
