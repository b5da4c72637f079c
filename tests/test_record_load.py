"""``stylelab.record.load``: a record exported by any lab rebuilds the same run (same numbers)."""

from __future__ import annotations

import json

import pytest
import torch

from stylelab import run as runlib
from stylelab.errors import RecordError, ShapeError
from stylelab.record import KINDS, LEGACY_KINDS, OPTIONAL, RUN_CLASSES, ExperimentRecord, load


def _roundtrip(rec: ExperimentRecord, tmp_path, name: str = "run.json"):
    """Export like the app's download button (JSON file), then load it back from disk."""
    path = rec.save(tmp_path / name)
    return load(path)


def test_gan_record_replays_the_same_curves(tmp_path):
    from stylelab.gan.train import GANConfig, GANTrainer

    t = GANTrainer(GANConfig(data="ring", loss="hinge", seed=3, metrics_every=10, eval_samples=128))
    t.train(20)
    run = _roundtrip(t.record(), tmp_path)
    assert run.kind == "gan" and run.needs == () and run.steps == 20 and run.config == t.config
    again = run.replay()
    assert again.step_count == 20
    assert json.loads(json.dumps(again.record().metrics)) == json.loads(json.dumps(t.record().metrics))


def test_gatys_record_replays_the_same_image(tmp_path, astronaut):
    from stylelab.assets import load_bundled
    from stylelab.style.gatys import GatysConfig, GatysStylizer

    style = load_bundled("texture:brick", size=48)
    cfg = GatysConfig(size=32, steps=4, optimizer="adam", precision="fp32")
    first = GatysStylizer(astronaut, style, cfg)
    first.run(3)  # stopped after 3 of 4 steps: the replay stops there too
    run = _roundtrip(first.record(), tmp_path)
    assert run.kind == "gatys" and run.is_run and run.needs == ("content", "style") and run.steps == 3
    with pytest.raises(RecordError, match=r"content=\.\.\., style=\.\.\."):
        run.replay()
    again = run.replay(content=astronaut, style=style)
    assert isinstance(again, GatysStylizer) and again.step_count == 3 and not again.done
    assert len(again.history) == 3
    assert again.history[-1]["total"] == pytest.approx(first.history[-1]["total"], rel=1e-6)
    assert torch.allclose(again.image(), first.image(), atol=1e-6)


def test_gatys_record_from_before_the_run_contract_still_replays(tmp_path, astronaut):
    """An old Style Studio record: no "kind", "method": "gatys", no parameterisation fields (pixels)."""
    from stylelab.assets import load_bundled
    from stylelab.style.gatys import GatysConfig, GatysStylizer

    style = load_bundled("texture:brick", size=48)
    cfg = GatysConfig(size=32, steps=3, optimizer="adam", precision="fp32", param="pixels", param_colour="none")
    first = GatysStylizer(astronaut, style, cfg)
    first.run()
    old = first.record().to_dict()
    old["config"] = {k: v for k, v in old["config"].items() if k not in ("kind", "param", "param_colour", "param_levels",
                                                                         "param_decay")}
    old["config"]["method"] = "gatys"
    run = load(json.dumps(old))
    assert run.kind == "gatys" and run.config.param == "pixels"
    again = run.replay(content=astronaut, style=style)
    assert [r["total"] for r in again.history] == pytest.approx([r["total"] for r in first.history], rel=1e-6)


def test_mixing_desk_record_replays(tmp_path, astronaut, coffee):
    from stylelab.losses.mixing import MixingConfig, MixingDesk

    desk = MixingDesk(astronaut, coffee, MixingConfig(size=32))
    desk.run_all(3)
    for rec in (desk.record(),  # what the Loss Lab page exports now
                ExperimentRecord(lab="loss", config=desk.config, seed=desk.config.seed, metrics=desk.history,
                                 summary=dict(desk.history[-1]))):  # a record from before the Run contract
        run = _roundtrip(rec, tmp_path)
        assert run.kind == "mixing" and run.needs == ("content", "style")
        again = run.replay(content=astronaut, style=coffee)
        assert isinstance(again, MixingDesk) and again.step_count == 3
        assert again.history[-1]["total"] == pytest.approx(desk.history[-1]["total"], rel=1e-6)


def test_adjustment_record_replays(tmp_path, coffee):
    from stylelab.aesthetics.adjustment import AdjustConfig, Adjuster

    adj = Adjuster(coffee, AdjustConfig(steps=4, content="mse"))
    adj.run()
    run = _roundtrip(adj.record(), tmp_path)
    assert run.kind == "adjust" and run.steps == 4
    again = run.replay(image=coffee)
    assert again.history[-1]["total"] == pytest.approx(adj.history[-1]["total"], rel=1e-6)
    assert again.parameters_now() == pytest.approx(adj.parameters_now(), rel=1e-5)


def test_inpaint_record_rebuilds_the_mask_and_the_scores(tmp_path):
    from stylelab import inpaint as ip
    from stylelab.assets import load_bundled

    truth = load_bundled("photo:astronaut", size=64)  # (3, 64, 64), what the page's picker gives
    settings = {"tool": "Rectangle", "size": [64, 64], "x": 20, "y": 14, "w": 24, "h": 18, "feather": 2}
    mask = ip.feather(ip.rect_mask(64, 64, 20, 14, 24, 18), 2)
    damaged = truth * (1 - ip.hole(mask))
    summary = {ip.METHODS[m].label: ip.hole_scores(ip.inpaint(damaged, mask, m), truth, mask) for m in ("telea", "ns")}
    rec = ExperimentRecord(lab="inpaint", config={"mask": settings, "methods": ["telea", "ns"], "checkpoint": "x",
                                                  "dip_iterations": 400}, summary=summary)
    run = _roundtrip(rec, tmp_path)
    out = run.replay(image="photo:astronaut")  # a bundled name loads at the record's working size
    assert set(out) == set(summary)
    for label, r in out.items():
        assert r["scores"] == pytest.approx(summary[label], rel=1e-5, abs=1e-6)
    with pytest.raises(ShapeError, match="64x64"):
        run.replay(image=torch.rand(3, 64, 48))
    drawn = dict(settings, tool="Draw")
    with pytest.raises(RecordError, match="mask="):
        load(ExperimentRecord(lab="inpaint", config={"mask": drawn, "methods": ["telea"]})).replay(image=truth)


def test_fast_and_arbitrary_style_records_replay(tmp_path, astronaut):
    pytest.importorskip("onnx")
    from stylelab.imageio import resize_tensor
    from stylelab.style import arbitrary, multistyle

    content = resize_tensor(astronaut, 64)
    weights = multistyle.parse_style({3: 0.25, 12: 0.75}).tolist()
    out = multistyle.stylize_multistyle(content, weights)
    rec = ExperimentRecord(lab="style", config={"method": "fast", "style_weights": weights, "size": 64})
    again = _roundtrip(rec, tmp_path, "fast.json").replay(content=astronaut)
    assert torch.allclose(again, out, atol=1e-5)

    code = arbitrary.style_code(astronaut)
    out = arbitrary.transfer(content, code)
    rec = ExperimentRecord(lab="style", config={"method": "arbitrary", "strength": 1.0, "t": 0.0, "size": 64},
                           summary={"method": "arbitrary", "code": code.tolist()})
    assert torch.allclose(_roundtrip(rec, tmp_path, "arb.json").replay(content=content), out, atol=1e-5)


def _gan_json(**config) -> str:
    return ExperimentRecord(lab="gan", config={"data": "ring", **config}).to_json()


@pytest.mark.parametrize(("source", "match"), [
    (json.dumps({"schema": "other/1", "lab": "gan", "config": {}}), "Not a stylelab experiment record"),
    (json.dumps({"schema": "stylelab.record/1", "lab": "painting", "config": {}}), "No stylelab lab"),
    (json.dumps({"schema": "stylelab.record/1", "lab": "style", "config": {"method": "magic"}}), "magic"),
    (_gan_json(loss="softmax"), "not a valid|does not fit"),
    (_gan_json(batch_size=0), "does not fit|batch"),
    (_gan_json(hidden=64, wibble=1), "wibble"),
    (_gan_json().replace('"seed": 0', '"seed": NaN'), "NaN"),
    (_gan_json(lr_g=1e-3).replace("0.001", "Infinity"), "Infinity"),
    ("/no/such/record.json", "No experiment record"),
    (b"\xff\xfe", "UTF-8"),
])
def test_records_from_elsewhere_or_with_bad_values_are_refused(source, match):
    with pytest.raises(RecordError, match=match):
        load(source)


@pytest.mark.parametrize(("config", "summary", "match"), [
    ({"method": "arbitrary", "strength": 1.5, "t": 0.0, "size": 64}, {"code": [0.0] * 100}, r"strength.*outside"),
    ({"method": "arbitrary", "strength": 1.0, "t": 0.0, "size": 64}, {}, "style code"),
    ({"method": "fast", "style_weights": [-1.0, 2.0], "size": 64}, {}, "non-negative"),
    ({"method": "fast", "style_weights": [1.0], "size": 8}, {}, r"size.*outside"),
    ({"size": 64, "steps": -3}, {}, r"not a valid gatys run.*-3"),
])
def test_out_of_range_style_values_are_errors_never_clamped(config, summary, match):
    with pytest.raises(RecordError, match=match):
        load(ExperimentRecord(lab="style", config=config, summary=summary))


def test_lab_filter_inputs_and_device_are_checked(tmp_path):
    text = _gan_json()
    with pytest.raises(RecordError, match="made by the 'gan' lab"):
        load(text, lab="style")
    run = load(json.loads(text), lab="gan")
    with pytest.raises(RecordError, match="takes no inputs"):
        run.replay(content="photo:astronaut")
    if not torch.cuda.is_available():
        with pytest.raises(RecordError, match="device='cpu'"):
            load(_gan_json(device="cuda"))
        assert load(_gan_json(device="cuda"), device="cpu").kind == "gan"
    inp = ExperimentRecord(lab="inpaint", config={"mask": {"tool": "Centre hole", "size": [64, 64], "fraction": 0.2,
                                                           "feather": 0}, "methods": ["telea", "nope"]})
    with pytest.raises(RecordError, match="nope"):
        load(inp)
    # the old kinds of records still read (as their run kind where they hold a Run), every Run kind is known
    assert set(KINDS) == set(RUN_CLASSES) | {"style/fast", "style/arbitrary", "inpaint"}
    assert set(LEGACY_KINDS) == {"gan", "style/gatys", "loss/mixing", "aesthetics/adjust"}
    # catalogue names that build a run of another kind: the GAN factories (2-D, image, StyleGAN-lite) build
    # "gan", the two translation factories build "cycle"
    builds = {"gan-2d": "gan", "gan-image": "gan", "gan-stylegan": "gan", "cycle-2d": "cycle", "cycle-image": "cycle"}
    assert set(RUN_CLASSES) == {builds.get(name, name) for name in runlib.CATALOG}


def test_record_kind_must_be_known_and_fit_its_lab():
    with pytest.raises(RecordError, match="Unknown run kind 'nope'"):
        load(ExperimentRecord(lab="style", config={"kind": "nope"}))
    with pytest.raises(RecordError, match="belongs to the 'style' lab"):
        load(ExperimentRecord(lab="gan", config={"kind": "gatys", "size": 32}))
    with pytest.raises(RecordError, match="not a valid gan run|does not fit"):
        load(ExperimentRecord(lab="gan", config={"kind": "gan", "data": "ring", "batch_size": -10**12}))


@pytest.mark.parametrize("name", sorted(set(runlib.CATALOG)))
def test_every_run_kind_replays_through_load(name, tmp_path):
    """record -> JSON file -> load -> replay(**inputs) makes the same rows as the run itself."""
    run = runlib.catalog()[name](seed=1)
    for _ in range(2):
        run.step()
    replay = _roundtrip(run.record(), tmp_path)
    assert replay.kind == run.kind and replay.is_run and replay.steps == 2
    assert set(replay.needs) <= set(run.inputs()) | set(OPTIONAL.get(run.kind, ()))
    again = replay.replay(**run.inputs())
    assert type(again) is type(run) and again.step_count == 2
    assert json.loads(json.dumps(again.history)) == json.loads(json.dumps(run.history))
