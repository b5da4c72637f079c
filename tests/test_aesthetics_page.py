"""AppTest of pages/5_Aesthetics_Lab.py: report card, overlays, compare, adjust, bad upload."""

from __future__ import annotations

from pathlib import Path

import pytest

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "5_Aesthetics_Lab.py")


@pytest.fixture(autouse=True)
def _live_inline(monkeypatch):
    """The page steps its runs in its own script here (STYLELAB_LIVE=inline), so step counts are
    exact; tests/test_ui_live.py covers the default path, the classroom scheduler."""
    monkeypatch.setenv("STYLELAB_LIVE", "inline")


def _app():
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(PAGE, default_timeout=240)


def _view(at, view: str):
    at.session_state["aes_view"] = view
    return at.run()


@pytest.mark.slow
def test_page_renders_report_card_and_compare():
    at = _app().run()
    assert not at.exception, at.exception
    assert any("Aesthetics Lab" in t.value for t in at.title)
    labels = [m.value for m in at.markdown]
    assert "Colourfulness" in labels and "Rule of thirds" in labels and "BRISQUE" in labels
    assert len(at.get("plotly_chart")) >= 1  # the report-card radar
    for overlay in ("Thirds grid", "Saliency", "Clipped pixels"):
        at.radio(key="aes_overlay").set_value(overlay).run()
        assert not at.exception, at.exception
    at.select_slider(key="aes_size").set_value(192).run()
    assert not at.exception
    _view(at, "compare")
    assert not at.exception and not at.error
    assert len(at.get("plotly_chart")) >= 2  # compare radar + one-measure bars


@pytest.mark.slow
def test_page_adjust_runs_and_shows_curves():
    at = _view(_app(), "adjust")
    at.slider(key="aes_adj_steps").set_value(5).run()
    at.button(key="aes_adj_start").click().run()
    assert not at.exception, at.exception
    for _ in range(20):  # live_run steps the run a little per tick, never blocking the page
        if at.session_state["aes_adj_run"].done:
            break
        at.run()
    adj = at.session_state["aes_adj_run"]
    assert adj.step_count == 5 and adj.done and not at.session_state["aes_adj_running"]
    assert [r["step"] for r in adj.history] == [1, 2, 3, 4, 5]
    at.run()
    assert any(c.proto.spec and "Weighted loss terms" in c.proto.spec for c in at.get("plotly_chart"))
    # one curve per weighted term weighted_sum logged (named without _raw), plus the total
    import json

    spec = json.loads(next(c.proto.spec for c in at.get("plotly_chart") if "Weighted loss terms" in c.proto.spec))
    names = [t["name"] for t in spec["data"]]
    assert names == [k[:-4] for k in adj.history[-1] if k.endswith("_raw")] + ["total"]
    at.button(key="aes_adj_more").click().run()  # a finished run can be made longer
    for _ in range(20):
        if at.session_state["aes_adj_run"].done:
            break
        at.run()
    assert at.session_state["aes_adj_run"].step_count == 10
    at.run()
    at.button(key="aes_adj_push").click().run()
    assert "Aesthetics: adjusted" in at.session_state["stylelab_results"]
    assert not at.exception


@pytest.mark.slow
def test_page_scores_results_of_this_session_even_a_one_pixel_one():
    import torch

    at = _app()
    at.session_state["stylelab_results"] = {"tiny": torch.rand(3, 1, 1), "noise": torch.rand(3, 64, 64)}
    at.run()
    at.radio(key="aes_img_src").set_value("This session").run()
    assert not at.exception, at.exception
    at.selectbox(key="aes_img_session").set_value("tiny").run()
    assert not at.exception, at.exception
    # image_picker brings session results to the analysis size, so a 1x1 result is scored as a flat image
    assert "Colourfulness" in [m.value for m in at.markdown]
    assert any("`0 `" == m.value or m.value.startswith("`0") for m in at.markdown)


def test_picked_image_and_view_survive_a_page_switch():
    from pagecheck import assert_clean
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(PAGE).parents[1] / "app.py"), default_timeout=240).run()
    at.switch_page("pages/5_Aesthetics_Lab.py")
    at.session_state["aes_quality"] = False  # keeps the test quick
    at.run()
    at.selectbox(key="aes_img_Photos").set_value("photo:chelsea").run()  # the issue saw Chelsea -> Astronaut
    at.switch_page("pages/4_Inpainting_Lab.py").run()
    at.switch_page("pages/5_Aesthetics_Lab.py").run()
    assert_clean(at)
    assert at.selectbox(key="aes_img_Photos").value == "photo:chelsea"
    assert at.checkbox(key="aes_quality").value is False
