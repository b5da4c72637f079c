"""AppTest of the Style Studio page: renders, runs Gatys a few steps, blends, bad record upload."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "2_Style_Studio.py")


@pytest.fixture()
def app():
    at = AppTest.from_file(PAGE, default_timeout=240)
    at.session_state["style_size"] = 64
    return at.run()


def test_page_renders_every_tab(app):
    assert not app.exception
    assert len(app.tabs) >= 4
    assert app.slider(key="style_beta").value == 6.0
    assert any("CIN" in m.body for m in app.latex)


def test_gatys_runs_and_stops(app):
    app.slider(key="style_steps").set_value(4)
    app.radio(key="style_levels").set_value(1)
    app.button(key="style_start").click().run()
    assert not app.exception
    for _ in range(6):  # the live fragment does ~1 s of steps per rerun
        run = app.session_state["style_gatys_run"]
        if run.done:
            break
        app.run()
    run = app.session_state["style_gatys_run"]
    assert run.step >= 1 and run.history[-1]["total"] > 0
    app.button(key="style_stop").click().run()
    assert not app.exception and not app.session_state["style_gatys_running"]
    assert any(b.label.startswith("Download experiment") for b in app.get("download_button"))


def test_blend_slider(app):
    app.slider(key="style_fast_t").set_value(0.5).run()
    assert not app.exception
    app.slider(key="style_arb_strength").set_value(0.3).run()
    assert not app.exception


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
