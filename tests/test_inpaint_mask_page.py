"""AppTest of the Inpainting Lab's mask reuse and method comparison (the canvas parts: tests/browser)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from stylelab.inpaint.gated_model import shipped_gated
from stylelab.inpaint.methods import METHODS

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "pages" / "4_Inpainting_Lab.py")


@pytest.fixture(autouse=True)
def _live_inline(monkeypatch):
    monkeypatch.setenv("STYLELAB_LIVE", "inline")


@pytest.fixture()
def app():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(PAGE, default_timeout=240)
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_same_mask_on_another_method_adds_to_the_results(app):
    at = app
    at.select_slider(key="inp_size").set_value(64).run()
    at.multiselect(key="inp_methods").set_value(["telea"]).run()
    at.button(key="inp_run").click().run()
    first = dict(at.session_state["inp_results"]["items"])
    assert list(first) == [METHODS["telea"].label]
    at.multiselect(key="inp_methods").set_value(["ns"]).run()
    at.button(key="inp_run").click().run()
    assert not at.exception, at.exception
    items = at.session_state["inp_results"]["items"]
    assert list(items) == [METHODS["telea"].label, METHODS["ns"].label]  # the same hole, one more method
    assert torch.equal(items[METHODS["telea"].label]["image"], first[METHODS["telea"].label]["image"])
    at.slider(key="inp_rw").set_value(10).run()  # another hole: the old results go
    assert not at.session_state["inp_results"]["items"]


def test_every_method_side_by_side(app):
    at = app
    at.select_slider(key="inp_size").set_value(64).run()
    at.button(key="inp_every").click().run()
    assert not at.exception, at.exception
    items = at.session_state["inp_results"]["items"]
    expected = [m for m in METHODS if m != "dip" and (m != "gated" or shipped_gated())]
    assert list(items) == [METHODS[m].label for m in expected]
    assert "The same hole, every method" in " ".join(str(m.value) for m in at.markdown)
    assert len(at.dataframe) >= 1 and list(at.dataframe[0].value.index) == list(items)


def test_last_mask_is_reused_on_another_picture_size(app):
    at = app
    at.radio(key="inp_tool").set_value("Centre hole").run()
    at.slider(key="inp_cf").set_value(0.3).run()
    assert "Last mask" in at.radio(key="inp_tool").options
    at.radio(key="inp_tool").set_value("Last mask").run()
    at.select_slider(key="inp_size").set_value(64).run()
    assert not at.exception, at.exception
    at.multiselect(key="inp_methods").set_value(["telea"]).run()
    at.button(key="inp_run").click().run()
    item = next(iter(at.session_state["inp_results"]["items"].values()))
    assert item["image"].shape[-1] == 64
    last = at.session_state["inp_last_mask"]
    assert last["settings"]["tool"] == "Centre hole" and last["settings"]["fraction"] == 0.3
