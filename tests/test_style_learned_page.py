"""AppTest of the Style Studio's "Learn a style" tab: the shipped model, teach it your style, the map, training live."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from pagecheck import assert_clean, image_captions, screen_text  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "pages" / "2_Style_Studio.py")


@pytest.fixture(autouse=True)
def _live_inline(monkeypatch):
    monkeypatch.setenv("STYLELAB_LIVE", "inline")


@pytest.fixture()
def learned():
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.session_state["style_size"] = 64
    at.session_state["style_method"] = "learned"
    return at.run()


def test_shipped_model_stylises_maps_and_ties_controls_to_equations(learned):
    assert_clean(learned)
    captions = image_captions(learned)
    assert "G(photo, code of the picked style)" in captions
    assert "the photo with the code of that point" in captions
    assert any(c.startswith("(1 - 0.5)") for c in captions)  # the interpolation
    text = screen_text(learned)
    for heading in ("Stylise", "Teach it your style", "The style space"):
        assert heading in text
    latex = " ".join(e.body for e in learned.get("latex"))
    for name in ("style.style_encoder", "style.adain", "style.learned_strength", "style.code_optimisation",
                 "style.style_map"):
        from stylelab import equations

        assert equations.get(name).latex in latex, name
    learned.slider(key="style_learn_strength").set_value(0.0).run()
    assert_clean(learned)


def test_teach_it_your_style_compares_the_encoder_and_the_optimised_code(learned):
    learned.slider(key="style_learn_psteps").set_value(5)
    learned.radio(key="style_learn_opt").set_value("adam")
    learned.button(key="style_learn_teach").click().run()
    assert_clean(learned)
    res = learned.session_state["style_learn_taught"]
    assert res.loss <= res.encoder_loss and len(res.history) == 6  # Adam: the start + 5 steps
    learned.radio(key="style_learn_opt").set_value("lbfgs")
    learned.button(key="style_learn_teach").click().run()
    assert_clean(learned)
    lb = learned.session_state["style_learn_taught"]
    assert lb.loss <= lb.encoder_loss and 5 <= len(lb.history) <= 5 + 25  # L-BFGS: its budget (+ a line search)
    assert any("evaluations" in c for c in image_captions(learned))
    captions = image_captions(learned)
    assert any(c.startswith("encoder's code") for c in captions)
    assert any(c.startswith("optimised code") for c in captions)


def test_training_live_shows_curves_and_consistency_scores(learned):
    at = learned
    at.radio(key="style_learn_source").set_value("Train live").run()
    latex = " ".join(e.body for e in at.get("latex"))
    from stylelab import equations

    for name in ("style.learned_objective", "style.code_cycle", "style.consistency_g", "style.learned_realism"):
        assert equations.get(name).latex in latex, name  # every weight slider sits under its term
    at.slider(key="style_learn_steps").set_value(10)
    at.select_slider(key="style_learn_crop").set_value(32)
    at.select_slider(key="style_learn_d").set_value(16)
    at.button(key="style_learn_start").click().run()
    assert not at.exception
    for _ in range(40):
        if at.session_state["style_learn_run"].done:
            break
        at.run()
    run = at.session_state["style_learn_run"]
    assert run.done and run.step_count == 10 and run.kind == "learned-style"
    assert {"score_real_pair", "score_fake_pair", "score_mismatched_pair", "cycle", "consistency"} <= set(run.history[-1])
    at.run()
    assert_clean(at)
    assert "G(photo, code of the picked style)" in image_captions(at)  # the trained model is used below
