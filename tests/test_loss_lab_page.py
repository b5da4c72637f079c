"""AppTest drives the Loss Lab page: pickers, feature/Gram views, the distortion study, the mixing desk."""

from __future__ import annotations

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

PAGE = "pages/1_Loss_Lab.py"


@pytest.fixture(autouse=True)
def _live_inline(monkeypatch):
    """The page steps its runs in its own script here (STYLELAB_LIVE=inline), so step counts are
    exact; tests/test_ui_live.py covers the default path, the classroom scheduler."""
    monkeypatch.setenv("STYLELAB_LIVE", "inline")


def _view(at, view: str):
    """Open one of the page's views (a segmented control that survives page switches)."""
    at.session_state["loss_view"] = view
    return at.run()


@pytest.fixture()
def app(root, monkeypatch):
    monkeypatch.chdir(root)
    at = AppTest.from_file(str(root / PAGE), default_timeout=240)
    at.run()
    assert not at.exception, at.exception
    at.select_slider(key="loss_size").set_value(96).run()  # small images keep the test quick
    assert not at.exception, at.exception
    return at


def test_page_renders_tabs_features_grams_and_equations(app):
    at = app
    assert not at.error
    assert at.session_state["loss_view"] == "see"
    charts = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("Gram matrix of the content image" in s for s in charts)
    assert any("Per-layer content loss and style (Gram) loss" in s for s in charts)
    latex = [m.value for m in _view(at, "desk").latex]
    assert any(r"\sum_l w_l \frac{1}{C_lH_lW_l}\|F^l(x) - F^l(c)\|_2^2" in v for v in latex)  # content slider's term
    assert any("G^l(x) - A^l" in v for v in latex)
    # empty layer selection -> a clear warning, not a crash
    _view(at, "see")
    at.multiselect(key="loss_bar_layers").set_value([]).run()
    assert not at.exception and any("at least one layer" in w.value for w in at.warning)


def test_distortion_study_runs_and_plots(app):
    at = _view(app, "study")
    at.multiselect(key="loss_study_names").set_value(["noise", "shift"])
    at.multiselect(key="loss_study_metrics").set_value(["mse", "ssim", "tv"])
    at.slider(key="loss_study_steps").set_value(2)
    at.button(key="loss_study_run").click().run()
    assert not at.exception, at.exception
    spec = [c.proto.spec for c in at.get("plotly_chart") if "strength" in c.proto.spec]
    assert spec and "noise" in spec[0] and "shift" in spec[0]


@pytest.mark.slow
def test_mixing_desk_runs_a_few_steps_stops_and_ablates(app):
    at = _view(app, "desk")
    at.select_slider(key="loss_w_tv").set_value(3.0)
    at.button(key="loss_desk_start").click().run()
    assert not at.exception, at.exception
    desk = at.session_state["loss_desk_run"]  # the run live_run holds (stylelab.ui.live)
    first = desk.step_count
    assert first >= 1 and desk.config.weights["tv"] == 3.0
    at.run()  # each rerun advances the run by a few steps
    assert at.session_state["loss_desk_run"].step_count > first
    at.button(key="loss_desk_stop").click().run()
    assert not at.exception
    stopped = at.session_state["loss_desk_run"].step_count
    at.run()
    assert at.session_state["loss_desk_run"].step_count == stopped  # really stopped
    at.select_slider(key="loss_w_tv").set_value(10.0).run()  # a slider acts on the paused run, between steps
    assert at.session_state["loss_desk_run"].config.weights["tv"] == 10.0
    at.button(key="loss_desk_continue").click().run()
    assert at.session_state["loss_desk_run"].step_count > stopped and not at.exception
    at.run()  # (live_run draws Stop before it reads Continue: Stop is enabled from the next run on)
    at.button(key="loss_desk_stop").click().run()
    assert any("One curve per weighted term" in c.proto.spec for c in at.get("plotly_chart"))
    rec = at.session_state["loss_desk_run"].record()
    assert rec.config["kind"] == "mixing" and rec.config["weights"]["tv"] == 10.0
    # the per-layer bars can now measure the desk's result against the content and style images
    _view(at, "see")
    at.radio(key="loss_bar_subject").set_value("the mixing-desk result").run()
    assert not at.exception, at.exception
    assert any("of the mixing-desk result" in c.proto.spec for c in at.get("plotly_chart"))
    # ablation grid: switch off colour terms (already 0) -> all on + content, style, tv off
    _view(at, "desk")
    at.slider(key="loss_abl_steps").set_value(5)
    at.button(key="loss_abl_start").click().run()
    assert not at.exception, at.exception
    for _ in range(200):  # stepped a little per tick by live_run: the page never blocks
        if at.session_state["loss_abl_run"].done:
            break
        at.run()
    grid = at.session_state["loss_abl_run"]
    assert [r.switched_off for r in grid.results] == [None, "content", "style", "tv"]
    at.run()
    captions = [img.caption for el in at.get("image") for img in el.proto.imgs]
    assert any(c.startswith("without style (total") for c in captions), captions


def test_study_shows_nothing_until_run_and_warns_on_empty_selection(app):
    at = _view(app, "study")
    assert "loss_study" not in at.session_state
    at.multiselect(key="loss_study_names").set_value([])
    at.button(key="loss_study_run").click().run()
    assert not at.exception and any("at least one distortion" in w.value for w in at.warning)


def test_weights_size_and_view_survive_a_page_switch(root):
    from pagecheck import assert_clean

    at = AppTest.from_file(str(root / "app.py"), default_timeout=240).run()
    at.switch_page(PAGE).run()
    at.select_slider(key="loss_size").set_value(96).run()
    _view(at, "desk")
    at.select_slider(key="loss_w_tv").set_value(3.0).run()  # (the issue saw 30 -> 1 after a switch)
    chosen = at.select_slider(key="loss_w_tv").value
    assert chosen == 3.0
    at.switch_page("pages/4_Inpainting_Lab.py").run()
    at.switch_page(PAGE).run()
    assert_clean(at)
    assert at.session_state["loss_view"] == "desk"
    assert at.select_slider(key="loss_w_tv").value == chosen and at.select_slider(key="loss_size").value == 96

