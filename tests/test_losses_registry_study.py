"""Registry, distortions and the distortion study, the mixing desk (stop, resume, ablation)."""

from __future__ import annotations

import threading

import pytest
import torch

from stylelab.errors import CheckpointError, ConfigError, RecordError, StopRequested
from stylelab.losses import DISTORTIONS, REGISTRY, distort, distortion_study, get_spec, mse
from stylelab.losses.mixing import MixingConfig, MixingDesk, ablation_study, default_weights, term_names
from stylelab.run import run_to_end
from tests.test_losses_perceptual import tiny_extractor


def test_registry_entries_are_complete():
    for name in ("mse", "l1", "psnr", "ssim", "ms_ssim", "lpips_vgg", "lpips_alex", "content", "style", "gram",
                 "tv_l1", "tv_l2", "tv_isotropic", "colorfulness", "rms_contrast", "saturation", "exposure",
                 "d_minimax", "g_ns", "d_wgan-gp", "gradient_penalty", "weighted_total"):
        spec = get_spec(name)
        assert spec.label and spec.latex and spec.measures and spec.value_range and callable(spec.fn)
        assert spec.latex.count("{") == spec.latex.count("}"), name
    assert get_spec("mse").fn(torch.zeros(1, 1, 2, 2), torch.ones(1, 1, 2, 2)).item() == 1.0
    x = torch.zeros(1, 1, 3, 3)
    x[..., 1:] = 1.0
    assert REGISTRY["tv_l1"].fn(x).item() == 3.0
    assert REGISTRY["g_ns"].fn(torch.zeros(2)).item() == pytest.approx(0.6931, abs=1e-4)
    with pytest.raises(ConfigError, match="Unknown loss"):
        get_spec("perceptual-ish")


@pytest.mark.parametrize("name", list(DISTORTIONS))
def test_each_distortion_keeps_shape_range_and_grows_with_strength(name, astronaut):
    x = astronaut[:, :64, :64]
    assert torch.equal(distort(x, name, 0.0), x)
    weak, strong = distort(x, name, 0.3, seed=1), distort(x, name, 1.0, seed=1)
    assert weak.shape == x.shape and 0 <= strong.min() and strong.max() <= 1
    assert 0 < mse(weak[None], x[None]).item() < mse(strong[None], x[None]).item()
    assert torch.equal(distort(x, name, 0.5, seed=3), distort(x, name, 0.5, seed=3))  # seeded


def test_distortion_bad_inputs(astronaut):
    with pytest.raises(ConfigError, match="strength"):
        distort(astronaut, "blur", 1.5)
    with pytest.raises(ConfigError, match="Unknown distortion"):
        distort(astronaut, "swirl", 0.5)


def test_distortion_study_table(astronaut):
    x = astronaut[:, :48, :48]
    df = distortion_study(x, ["noise", "shift"], strengths=(0.0, 1.0), metrics=("mse", "ssim", "tv"))
    assert list(df.columns) == ["distortion", "strength", "metric", "value"] and len(df) == 2 * 2 * 3
    v = df.set_index(["distortion", "strength", "metric"])["value"]
    assert v[("noise", 0.0, "mse")] == 0 and v[("noise", 0.0, "ssim")] == pytest.approx(1.0, abs=1e-5)
    assert v[("noise", 1.0, "tv")] > 2  # noise makes the image much rougher than it was
    assert v[("noise", 1.0, "ssim")] < 0.5
    with pytest.raises(ConfigError):
        distortion_study(x, [], strengths=(0.5,))


def test_distortion_study_with_vgg_losses(astronaut):
    """Shift vs patch shuffle: style (Gram) barely notices the shift, content notices both."""
    x = astronaut[:, :64, :64]
    df = distortion_study(x, ["shift", "patch shuffle"], strengths=(0.0, 1.0), metrics=("content", "style", "lpips_vgg"))
    v = df.set_index(["distortion", "strength", "metric"])["value"]
    assert v[("shift", 0.0, "content")] == pytest.approx(0.0, abs=1e-6)
    assert v[("shift", 1.0, "content")] > 0 and v[("patch shuffle", 1.0, "lpips_vgg")] > 0


def _tiny_desk(**kw) -> MixingDesk:
    g = torch.Generator().manual_seed(0)
    content, style = torch.rand(3, 24, 24, generator=g), torch.rand(3, 24, 24, generator=g)
    layers = {"content_layers": ("relu2_1",), "style_layers": ("relu1_1", "relu2_1")}
    weights = {**default_weights(layers["style_layers"]), **kw.pop("weights", {})}
    cfg = MixingConfig(size=24, weights=weights, **layers, **kw)
    return MixingDesk(content, style, cfg, extractor=tiny_extractor(torch.float32))


def test_mixing_desk_steps_lower_the_total_and_keep_every_term():
    desk = _tiny_desk(weights={"content": 1.0, "style:relu1_1": 1e3, "style:relu2_1": 1e3, "tv": 0.1}, steps=8)
    rows = []
    assert run_to_end(desk, lambda run, row: rows.append(row)) is True and desk.done
    assert [r["step"] for r in rows] == list(range(1, 9))
    names = term_names(("relu1_1", "relu2_1"))
    assert set(names) <= set(rows[0]) and all(f"{n}_raw" in rows[0] for n in names)
    assert rows[-1]["total"] < rows[0]["total"]
    assert desk.image.shape == (3, 24, 24) and 0 <= desk.image.min() and desk.image.max() <= 1
    assert desk.history == rows and len(desk.history) == 8
    with pytest.raises(StopRequested):
        desk.step()  # finished: extend() makes it longer
    desk.extend(2)
    assert desk.run_all()["step"] == 10 and desk.done


def test_mixing_desk_stops_and_resumes(tmp_path):
    desk = _tiny_desk(steps=5)
    stop = threading.Event()
    assert run_to_end(desk, lambda run, row: stop.set() if row["step"] == 3 else None, stop=stop) is False
    assert desk.step_count == 3
    path = desk.save(tmp_path / "new" / "desk.pt")  # the folder is created
    blob = torch.load(path, weights_only=True)
    assert blob["format"] == "stylelab.run/1" and blob["kind"] == "mixing"
    desk.run_all(2)
    other = _tiny_desk(steps=5)
    other.load(path)
    assert other.step_count == 3
    other.run_all(2)
    assert torch.equal(other.image, desk.image)  # resumed run = uninterrupted run
    assert other.history == desk.history
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(CheckpointError):
        other.load(tmp_path / "junk.pt")


def test_mixing_desk_reads_its_checkpoints_from_before_the_run_contract(tmp_path):
    desk = _tiny_desk(steps=5)
    desk.run_all(3)
    old = {"kind": "stylelab.mixing", "config": {**desk.config.__dict__}, "x": desk.x.detach().cpu(),
           "optimizer": desk.optimizer.state_dict(), "step": 3,
           "history": [{**r, "step": float(r["step"])} for r in desk.history]}
    torch.save(old, tmp_path / "old.pt")
    other = _tiny_desk(steps=5)
    other.load(tmp_path / "old.pt")
    assert other.step_count == 3 and other.history == desk.history
    desk.step()
    other.step()
    assert torch.equal(other.image, desk.image)


def test_mixing_desk_weights_and_config_errors():
    desk = _tiny_desk()
    desk.set_weights({"tv": 0.0})
    assert desk.step()["tv"] == 0.0
    with pytest.raises(ConfigError, match="Unknown term"):
        desk.set_weights({"sharpness": 1.0})
    with pytest.raises(ConfigError):
        MixingConfig(size=4)
    with pytest.raises(ConfigError, match="style layer"):
        MixingConfig(style_layers=())
    with pytest.raises(ConfigError, match=">= 0"):
        MixingConfig(weights={"content": -1.0})
    with pytest.raises(ConfigError, match="steps"):
        MixingConfig(steps=0)
    cfg = MixingConfig(size=24, content_layers=("relu2_1",), style_layers=("relu1_1", "relu2_1"),
                       weights=default_weights(("relu1_1", "relu2_1")))
    _tiny_desk().set_weights({"tv": 5.0})
    assert cfg.weights["tv"] == 1.0  # a desk moves its own copy of the weights, never the caller's


def test_mixing_desk_record_rebuilds_with_its_last_weights():
    desk = _tiny_desk(steps=3)
    desk.set_weights({"tv": 3.0})
    desk.run_all()
    rec = desk.record()
    assert rec.lab == "loss" and rec.config["kind"] == "mixing" and rec.config["weights"]["tv"] == 3.0
    assert rec.config["size"] == 24 and rec.config["lr"] == desk.config.lr  # every setting, not only the weights
    with pytest.raises(RecordError, match="content=..."):
        MixingDesk.from_record(rec)
    with pytest.raises(RecordError):
        MixingDesk.from_record({**rec.to_dict(), "config": {**rec.config, "lr": -1.0}}, **desk.inputs())


def test_ablation_switches_each_active_group_off(monkeypatch):
    import stylelab.losses.mixing as mixing

    monkeypatch.setattr(mixing.MixingDesk, "__init__", _patched_init(mixing.MixingDesk.__init__))
    g = torch.Generator().manual_seed(0)
    cfg = MixingConfig(size=24, content_layers=("relu2_1",), style_layers=("relu1_1", "relu2_1"),
                       weights={"content": 1.0, "style:relu1_1": 1e3, "style:relu2_1": 1e3, "tv": 0.1})
    results = ablation_study(torch.rand(3, 24, 24, generator=g), torch.rand(3, 24, 24, generator=g), cfg, steps=3)
    assert [r.switched_off for r in results] == [None, "content", "style", "tv"]
    off_style = results[2].values
    assert off_style["style:relu1_1"] == 0.0 and off_style["style:relu1_1_raw"] > 0


def _patched_init(init):
    def wrapped(self, content, style, config=None, device="cpu", extractor=None):
        init(self, content, style, config, device, extractor or tiny_extractor(torch.float32))
    return wrapped


def test_mixing_desk_with_real_vgg_small():
    from stylelab.assets import load_bundled

    c = load_bundled("photo:astronaut", size=48)
    s = load_bundled("texture:brick", size=48)
    desk = MixingDesk(c, s, MixingConfig(size=48))
    first = desk.step()
    for _ in range(3):
        last = desk.step()
    assert first["content_raw"] == pytest.approx(0.0, abs=1e-6)  # starts at the content image
    assert last["content_raw"] > 0 and last["total"] < first["total"]


@pytest.mark.parametrize("module", ["pixel", "ssim", "perceptual", "tv", "adversarial", "weighted"])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    mod = importlib.import_module(f"stylelab.losses.{module}")
    result = doctest.testmod(mod, extraglobs={"torch": torch})
    assert result.failed == 0 and result.attempted > 0


def test_module_wrappers_match_the_functions():
    from stylelab.losses import AdversarialLoss, ContentLoss, StyleLoss, content_loss, gram_targets, style_loss

    net = tiny_extractor(torch.float32)
    g = torch.Generator().manual_seed(0)
    c, s, x = (torch.rand(1, 3, 16, 16, generator=g) for _ in range(3))
    layers = ["relu1_1", "relu2_1"]
    assert ContentLoss(net, c, layers)(x).item() == pytest.approx(content_loss(net(x, layers), net(c, layers), layers).item())
    assert StyleLoss(net, s, layers)(x).item() == pytest.approx(style_loss(net(x, layers), gram_targets(net(s, layers))).item())
    adv = AdversarialLoss("hinge")
    assert adv.d(torch.zeros(3), torch.zeros(3)).item() == 2.0 and adv.g(torch.ones(3)).item() == -1.0
    with pytest.raises(ConfigError):
        AdversarialLoss("nsgan")


def test_ablation_grid_is_a_run_that_stops_resumes_and_rebuilds(monkeypatch):
    import io

    import stylelab.losses.mixing as mixing
    from stylelab.losses.mixing import AblationGrid

    monkeypatch.setattr(mixing.MixingDesk, "__init__", _patched_init(mixing.MixingDesk.__init__))
    g = torch.Generator().manual_seed(0)
    content, style = torch.rand(3, 24, 24, generator=g), torch.rand(3, 24, 24, generator=g)
    cfg = MixingConfig(size=24, content_layers=("relu2_1",), style_layers=("relu1_1", "relu2_1"), steps=2,
                       weights={"content": 1.0, "style:relu1_1": 1e3, "style:relu2_1": 1e3, "tv": 0.0})
    grid = AblationGrid(content, style, cfg)
    assert grid.groups == [None, "content", "style"] and grid.total_steps == 6
    assert run_to_end(grid, stop=lambda: grid.step_count >= 3) is False
    assert len(grid.results) == 1 and grid.desk is not None and grid.history[-1]["cell"] == 1
    buf = io.BytesIO()
    torch.save(grid.state_dict(), buf)
    resumed = AblationGrid(content, style, cfg)
    resumed.load_state_dict(torch.load(io.BytesIO(buf.getvalue()), weights_only=True))
    run_to_end(resumed)
    run_to_end(grid)
    assert resumed.history == grid.history and [r.switched_off for r in grid.results] == [None, "content", "style"]
    assert torch.equal(resumed.results[-1].image, grid.results[-1].image)
    assert grid.history[-1]["switched_off"] == "style" and grid.results[2].values["style:relu1_1"] == 0.0
    again = AblationGrid.from_record(grid.record(), **grid.inputs())
    run_to_end(again)
    assert again.history == grid.history
