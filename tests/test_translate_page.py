"""Translate page (AppTest): the 2-D run trains live with its arrows, the weight sliders act on it and on
the LaTeX, the shipped translator shows digits and their round trips, with and without the cycle term."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from pagecheck import assert_clean, image_captions, screen_text  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "pages" / "8_Translate.py")


@pytest.fixture(autouse=True)
def _live_inline(monkeypatch):
    """The page steps its run in its own script here (STYLELAB_LIVE=inline), so step counts are exact."""
    monkeypatch.setenv("STYLELAB_LIVE", "inline")


def _finish(at, key: str = "translate2d", rounds: int = 80):
    for _ in range(rounds):
        if not at.session_state[f"{key}_running"]:
            break
        at.run()
    assert not at.session_state[f"{key}_running"], "the run did not stop"
    return at


def test_points_view_trains_live_and_the_sliders_act_on_run_and_latex():
    at = AppTest.from_file(PAGE, default_timeout=180).run()
    assert_clean(at)
    assert any("10" in lx.value and "mathcal{L}_{cyc}" in lx.value for lx in at.latex)  # lambda_cyc = 10 written in
    at.number_input(key="tr_steps").set_value(100).run()
    _finish(at.button(key="translate2d_start").click().run())
    assert_clean(at)
    run = at.session_state["translate2d_run"]
    assert run.step_count == 100 and run.config.lambda_cyc == 10.0
    assert len(at.get("plotly_chart")) >= 3  # arrows, loss terms, measures
    assert "round trips back at their own ring centre" in screen_text(at)
    at.slider(key="tr_lambda_cyc").set_value(0.0).run()
    assert at.session_state["translate2d_run"].config.lambda_cyc == 0.0  # live: the next step uses it
    assert any("lambda_{cyc} = 0" in lx.value for lx in at.latex)
    assert at.warning  # what the cycle term was for


def test_images_view_shows_the_shipped_translator_round_trips():
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.session_state["tr_view"] = "images"
    at.run()
    assert_clean(at)
    assert any("x / G(x) / F(G(x))" in c for c in image_captions(at))
    assert len(at.dataframe) == 1
    at.radio(key="tr_direction").set_value("F").run()
    assert_clean(at)
    assert any("y / F(y) / G(F(y))" in c for c in image_captions(at))


def test_without_the_cycle_term_view_compares_both_models():
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.session_state["tr_view"] = "nocycle"
    at.run()
    assert_clean(at)
    caps = image_captions(at)
    assert any("λ_cyc = 0" in c for c in caps) and any("λ_cyc = 10" in c for c in caps)
    assert "brings back the digit" in screen_text(at)
