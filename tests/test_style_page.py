"""AppTest of the Style Studio page: every method renders cleanly, Gatys runs, records reload, state persists."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from pagecheck import assert_clean, image_captions  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "pages" / "2_Style_Studio.py")


@pytest.fixture(autouse=True)
def _live_inline(monkeypatch):
    """The page steps its runs in its own script here (STYLELAB_LIVE=inline), so step counts are
    exact; tests/test_ui_live.py covers the default path, the classroom scheduler."""
    monkeypatch.setenv("STYLELAB_LIVE", "inline")


@pytest.fixture()
def app():
    at = AppTest.from_file(PAGE, default_timeout=240)
    at.session_state["style_size"] = 64
    return at.run()


def _on(at, method: str):
    at.session_state["style_method"] = method
    return at.run()


def test_page_opens_on_gatys_with_its_controls(app):
    assert_clean(app)
    assert app.slider(key="style_beta").value == 6.0
    assert any("Gatys" in m.value or "pixels" in m.value for m in app.markdown)


def test_default_size_keeps_the_photo_recognisable():
    at = AppTest.from_file(PAGE, default_timeout=240).run()
    assert at.select_slider(key="style_size").value == 256


@pytest.mark.parametrize("method", ["fast", "arbitrary"])
def test_result_block_scores_without_error(app, method):
    at = _on(app, method)
    assert_clean(at)  # the scores used to fail on every result ("Unknown measure 'laplacian_variance'")
    table = at.dataframe[0].value
    assert {"Sharpness (Laplacian variance)", "RMS contrast"} <= set(table.index)
    assert (table["result"] != table["content"]).any()  # the stylised image really scores differently
    assert "Photo" in image_captions(at)  # the chosen photo is shown next to the result
    if method == "arbitrary":
        assert "Painting" in image_captions(at)


def test_pretrained_styles_have_descriptive_names(app):
    from stylelab.style.multistyle import STYLE_NAMES

    at = _on(app, "fast")
    box = at.selectbox(key="style_fast_a")
    assert box.value == 19 and "style 19" not in STYLE_NAMES[19] and len(set(STYLE_NAMES)) == 26
    at.slider(key="style_fast_t").set_value(0.5).run()
    assert_clean(at)
    at.toggle(key="style_fast_sheet").set_value(True).run()
    assert_clean(at)
    assert sum(c in STYLE_NAMES for c in image_captions(at)) == 26


def test_arbitrary_strength(app):
    at = _on(app, "arbitrary")
    at.slider(key="style_arb_strength").set_value(0.3).run()
    assert_clean(at)


def test_gatys_runs_and_stops(app):
    app.slider(key="style_steps").set_value(400)  # far more than a few reruns make: Stop comes mid-run
    app.radio(key="style_levels").set_value(1)
    app.button(key="style_gatys_start").click().run()
    assert not app.exception and app.session_state["style_gatys_running"]
    app.run()  # the live fragment steps a little on every rerun
    run = app.session_state["style_gatys_run"]
    assert run.step_count >= 1 and run.history[-1]["total"] > 0 and not run.done
    app.button(key="style_gatys_stop").click().run()
    assert_clean(app)
    assert not app.session_state["style_gatys_running"]
    stopped_at = run.step_count
    app.run()
    assert run.step_count == stopped_at  # stopped: no more steps on later reruns
    assert not app.button(key="style_gatys_continue").disabled  # ...and it can be continued
    assert any(b.label.startswith("Download experiment") for b in app.get("download_button"))
    assert any("This run: 64 px" in c.value for c in app.caption)  # the result says which settings made it
    assert not any("differ from the run" in i.value for i in app.info)
    app.slider(key="style_beta").set_value(4.0).run()
    assert any("differ from the run" in i.value for i in app.info)  # the controls no longer describe it: said
    assert "Photo" in image_captions(app) and "Painting" in image_captions(app)  # beside the result


def test_gatys_run_finishes_and_its_record_reloads(app):
    app.slider(key="style_steps").set_value(4)
    app.button(key="style_gatys_start").click().run()
    for _ in range(10):
        if app.session_state["style_gatys_run"].done:
            break
        app.run()
    run = app.session_state["style_gatys_run"]
    assert run.done and run.step_count == 4 and not app.session_state["style_gatys_running"]
    assert_clean(app)
    from stylelab.style.gatys import GatysStylizer

    again = GatysStylizer.from_record(run.record(), **run.inputs())  # the downloaded record repeats the run
    again.run()
    assert again.history == run.history


def test_reloading_a_record_sets_the_widgets(app):
    import dataclasses

    from stylelab.record import ExperimentRecord
    from stylelab.style.gatys import GatysConfig

    cfg = GatysConfig(size=96, steps=12, style_weight=1e5, optimizer="adam", seed=7, pyramid_levels=1)
    record = ExperimentRecord(lab="style", config=dataclasses.asdict(cfg), seed=7, summary={"method": "gatys"})
    app.session_state["style_pending_record"] = record.to_json()
    app.run()
    assert not app.exception
    assert app.slider(key="style_beta").value == 5.0
    assert app.slider(key="style_steps").value == 12
    assert app.radio(key="style_opt").value == "adam"
    assert app.number_input(key="style_seed").value == 7
    assert any("Loaded the record" in s.value for s in app.success)

    bad = ExperimentRecord(lab="style", config={"size": 64, "bogus": 1}, summary={"method": "gatys"})
    app.session_state["style_pending_record"] = bad.to_json()
    app.run()
    assert not app.exception and any("bogus" in e.value for e in app.error)


def test_controls_and_method_survive_a_page_switch():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240).run()
    at.switch_page("pages/2_Style_Studio.py").run()
    at.select_slider(key="style_size").set_value(96).run()
    at.selectbox(key="style_style_Paintings").set_value("painting:the-librarian").run()
    at.slider(key="style_beta").set_value(4.5).run()
    at.session_state["style_method"] = "fast"
    at.run()
    at.switch_page("pages/4_Inpainting_Lab.py").run()
    assert_clean(at)
    at.switch_page("pages/2_Style_Studio.py").run()
    assert_clean(at)
    assert at.select_slider(key="style_size").value == 96
    assert at.selectbox(key="style_style_Paintings").value == "painting:the-librarian"
    assert at.session_state["style_method"] == "fast"
    at.session_state["style_method"] = "gatys"
    at.run()
    assert at.slider(key="style_beta").value == 4.5


def test_style_names_work_as_specs_and_thumbnails_come_from_a_large_render(astronaut):
    import torch

    from stylelab.style import multistyle as ms

    for i, name in enumerate(ms.STYLE_NAMES):  # every label is also a valid spec, alone and in a blend
        assert int(ms.parse_style(name).argmax()) == i
    assert torch.equal(ms.parse_style(f"{ms.STYLE_NAMES[3]}:0.5,{ms.STYLE_NAMES[12]}:0.5"), ms.parse_style("3:0.5,12:0.5"))
    thumbs = ms.style_thumbnails(astronaut, size=64)
    assert thumbs.shape == (26, 3, 64, 64)
    from stylelab.imageio import resize_tensor

    big = resize_tensor(ms.stylize_multistyle(resize_tensor(astronaut, 256), 19), 64)
    small = ms.stylize_multistyle(resize_tensor(astronaut, 64), 19)
    assert torch.allclose(thumbs[19], big, atol=1e-5)  # rendered at 256 px, then downscaled
    # ...which keeps the photo: closer to the downscaled astronaut than the direct small render is
    target = resize_tensor(astronaut, 64)
    assert (thumbs[19] - target).abs().mean() < (small - target).abs().mean()


def test_a_record_the_page_cannot_show_is_an_error_not_clamped(app):
    import dataclasses

    from stylelab.record import ExperimentRecord
    from stylelab.style.gatys import GatysConfig

    cfg = GatysConfig(size=96, steps=12, style_weight=1e9, seed=7)  # beta 10^9: beyond the slider's 10^8
    app.session_state["style_pending_record"] = ExperimentRecord(
        lab="style", config={"kind": "gatys", **dataclasses.asdict(cfg)}, seed=7).to_json()
    app.run()
    assert not app.exception and any("style_weight" in e.value and "outside" in e.value for e in app.error)
    assert app.slider(key="style_beta").value == 6.0  # untouched, not moved to the nearest end


def test_training_runs_live_and_downloads_a_usable_network(app, tmp_path):
    at = _on(app, "train")
    at.slider(key="style_tr_steps").set_value(10)
    at.select_slider(key="style_tr_size").set_value(32)
    at.select_slider(key="style_tr_width").set_value(4)
    at.button(key="style_tr_start").click().run()
    assert not at.exception
    for _ in range(40):
        if at.session_state["style_tr_run"].done:
            break
        at.run()
    run = at.session_state["style_tr_run"]
    assert run.done and run.step_count == 10 and not at.session_state["style_tr_running"]
    at.run()
    assert_clean(at)
    assert any(b.label.startswith("Download the trained network") for b in at.get("download_button"))
    from stylelab.style.train_fast import load_fast_style

    (tmp_path / "mine.pt").write_bytes(run.to_bytes())
    net, cfg = load_fast_style(tmp_path / "mine.pt", device="cpu")
    assert cfg == run.config


def test_page_is_layout_only():
    import re

    text = Path(PAGE).read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 300
    assert not re.search(r'r"\\[a-zA-Z]', text) and "\\mathcal" not in text  # no LaTeX literals: stylelab.equations
    assert "torch.save" not in text and "ExperimentRecord(" not in text and "perf_counter" not in text
    assert "st.fragment" not in text  # the one live driver: stylelab.ui.live.live_run
