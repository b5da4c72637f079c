"""GAN Lab page (AppTest): it renders, trains on demand, and shows its charts."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "3_GAN_Lab.py")


def _charts(at) -> int:
    return len(at.get("plotly_chart"))


def _finish(at, rounds: int = 40):
    """The page trains requested steps in time-boxed chunks (one per rerun of its live view)."""
    for _ in range(rounds):
        if not at.session_state["gan_pending"]:
            break
        at.run()
    return at


def test_gan_page_points_step_and_train():
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception, at.exception
    run = at.session_state["gan_run"]
    assert run.config.is_toy and run.step_count == 0
    assert not any("differs" in i.value for i in at.info)  # widgets and run agree at start
    at.slider(key="gan_n_points").set_value(500).run()
    assert any("differs" in i.value for i in at.info)  # a set-up change asks for a new run
    at.button(key="gan_new").click().run()
    assert at.session_state["gan_run"].config.n_points == 500
    _finish(at.button(key="gan_step").click().run())
    assert not at.exception, at.exception
    assert at.session_state["gan_run"].step_count == 1
    at.number_input(key="gan_n").set_value(30).run()
    _finish(at.button(key="gan_train_n").click().run())
    assert not at.exception, at.exception
    run = at.session_state["gan_run"]
    assert run.step_count == 31 and len(run.history) == 31
    assert _charts(at) >= 2  # the 2-D view and the curves
    # live hyper-parameter: the next steps use the hinge loss
    at.selectbox(key="gan_loss").set_value("hinge").run()
    assert at.session_state["gan_run"].config.loss == "hinge"
    assert any("max(0" in lx.value for lx in at.latex)


def test_gan_page_compare_and_bad_setting():
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.number_input(key="gan_cmp_steps").set_value(20).run()
    at.button(key="gan_cmp_run").click().run()
    assert not at.exception, at.exception
    results = at.session_state["gan_compare"]
    assert len(results) == 2 and all(t.step_count == 20 for t, _ in results.values())
    assert _charts(at) >= 4


def test_gan_page_images_run():
    at = AppTest.from_file(PAGE, default_timeout=180).run()
    at.radio(key="gan_kind").set_value("Images").run()
    at.selectbox(key="gan_data_img").set_value("digits8").run()
    at.select_slider(key="gan_base").set_value(8).run()
    at.button(key="gan_new").click().run()
    assert not at.exception, at.exception
    run = at.session_state["gan_run"]
    assert run.config.data == "digits8"
    at.number_input(key="gan_n").set_value(3).run()
    _finish(at.button(key="gan_train_n").click().run())
    assert not at.exception, at.exception
    assert at.session_state["gan_run"].step_count == 3
    assert at.session_state["gan_run"].config.lr_g == 2e-4  # image defaults, not the 2-D learning rate
    assert not any("differs" in i.value for i in at.info)
    assert len(at.get("imgs")) >= 1 or len(at.get("image")) >= 1
