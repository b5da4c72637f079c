"""AppTest of pages/4_Inpainting_Lab.py (the canvas needs a browser: the slider tools are driven here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from pagecheck import assert_clean

from stylelab.errors import RecordError

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "pages" / "4_Inpainting_Lab.py")


@pytest.fixture(autouse=True)
def _live_inline(monkeypatch):
    """The page steps its runs in its own script here (STYLELAB_LIVE=inline), so step counts are
    exact; tests/test_ui_live.py covers the default path, the classroom scheduler."""
    monkeypatch.setenv("STYLELAB_LIVE", "inline")


@pytest.fixture()
def app():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(PAGE, default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    return at


def _texts(at) -> str:
    return " ".join(str(m.value) for m in list(at.markdown) + list(at.caption) + list(at.info) + list(at.error))


def test_page_renders_with_slider_mask_and_shipped_study(app):
    at = app
    assert "Draw" not in at.radio(key="inp_tool").options  # no canvas outside a browser
    assert at.radio(key="inp_tool").value == "Rectangle"
    assert not at.error
    assert "Which loss does what" in " ".join(s.value for s in at.subheader)
    assert len(at.latex) >= 5  # the composite + one equation per loss choice
    # The shipped loss study runs at once on the same mask: one score row per checkpoint.
    from stylelab.ui.cache import shared

    study = shared("inp_study_shipped", 16)  # one server-wide entry per picture and mask, not one per student
    assert len(study) >= 1 and study.computed >= 1
    computed = study.computed
    at.run()
    assert study.computed == computed  # the same picture and mask: the scores are reused, not recomputed


def test_fill_with_classical_and_unet_then_hand_to_style_studio(app):
    at = app
    at.multiselect(key="inp_methods").set_value(["telea", "ns", "unet"]).run()
    at.button(key="inp_run").click().run()
    assert not at.exception, at.exception
    items = at.session_state["inp_results"]["items"]
    assert set(items) == {"Telea (fast marching)", "Navier-Stokes", "Trained U-Net"}
    for r in items.values():
        assert r["scores"]["psnr_hole"] > 8 and 0 <= r["scores"]["lpips_hole"] < 1
    assert_clean(at)
    table = at.dataframe[0].value
    assert "seam_truth" not in " ".join(map(str, table.columns)) and "PSNR hole (dB) ↑" in table.columns
    assert list(table.index) == list(items)
    at.selectbox(key="inp_pick").set_value("Navier-Stokes").run()
    at.button(key="inp_to_style").click().run()
    assert not at.exception, at.exception
    assert "Inpainted: Navier-Stokes" in at.session_state["stylelab_results"]


def test_score_table_highlights_the_best_method_per_column():
    import pandas as pd

    from stylelab.ui.tables import BEST_CSS, score_table

    df = pd.DataFrame({"psnr_hole": [20.0, 25.0, 22.0], "lpips_hole": [0.3, 0.2, 0.1], "seam": [0.5, 0.11, 0.2],
                       "seam_truth": [0.1, 0.1, 0.1]}, index=["a", "b", "c"])
    cols = {"psnr_hole": ("PSNR ↑", "{:.1f}", "max"), "lpips_hole": ("LPIPS ↓", "{:.2f}", "min"),
            "seam": ("Seam", "{:.2f}", "target")}
    styled = score_table(df, cols, {"seam": 0.1})
    assert list(styled.data.columns) == ["PSNR ↑", "LPIPS ↓", "Seam"]  # seam_truth dropped, names human
    html = styled.to_html()
    ctx = styled._compute().ctx  # (row, col) -> [(css property, value)]
    green = {cell for cell, props in ctx.items() if ("background-color", BEST_CSS.split(": ")[1].split(";")[0]) in props}
    assert green == {(1, 0), (2, 1), (1, 2)}  # b has the best PSNR, c the best LPIPS, b the seam closest to 0.1
    assert "25.0" in html and "0.11" in html


def test_repair_then_stylise_selects_the_repaired_image():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240).run()
    at.switch_page("pages/4_Inpainting_Lab.py").run()
    at.multiselect(key="inp_methods").set_value(["telea", "ns"]).run()
    at.button(key="inp_run").click().run()
    at.selectbox(key="inp_pick").set_value("Navier-Stokes").run()
    at.button(key="inp_to_style").click().run()
    assert_clean(at)
    assert at.radio(key="style_content_src").value == "This session"  # we are on the Style Studio now
    assert at.selectbox(key="style_content_session").value == "Inpainted: Navier-Stokes"


def test_results_and_mask_survive_a_page_switch():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240).run()
    at.switch_page("pages/4_Inpainting_Lab.py").run()
    at.slider(key="inp_rw").set_value(30).run()
    at.multiselect(key="inp_methods").set_value(["telea"]).run()
    at.button(key="inp_run").click().run()
    assert at.session_state["inp_results"]["items"]
    at.switch_page("pages/2_Style_Studio.py").run()
    at.switch_page("pages/4_Inpainting_Lab.py").run()
    assert_clean(at)
    assert at.slider(key="inp_rw").value == 30
    assert at.multiselect(key="inp_methods").value == ["telea"]
    assert set(at.session_state["inp_results"]["items"]) == {"Telea (fast marching)"}  # not wiped
    assert len(at.dataframe) >= 1


def test_mask_tools_and_bad_masks(app):
    at = app
    at.radio(key="inp_tool").set_value("Random strokes").run()
    assert not at.exception and not at.error
    at.number_input(key="inp_seed").set_value(5).run()
    at.radio(key="inp_tool").set_value("Centre hole").run()
    at.slider(key="inp_cf").set_value(0.4).run()
    assert not at.exception and not at.error
    at.radio(key="inp_tool").set_value("Rectangle").run()
    # A rectangle pushed past the corner still holds pixels; a full-image one is refused clearly.
    at.slider(key="inp_rx").set_value(0)
    at.slider(key="inp_ry").set_value(0)
    at.slider(key="inp_rw").set_value(at.slider(key="inp_rw").max)
    at.slider(key="inp_rh").set_value(at.slider(key="inp_rh").max)
    at.run()
    assert not at.exception
    assert any("whole image" in e.value for e in at.error)


def test_deep_image_prior_progress_and_stop(app):
    at = app
    at.select_slider(key="inp_size").set_value(64).run()
    at.multiselect(key="inp_methods").set_value(["dip"]).run()
    # the most iterations: 50 at 64 px now finish inside the first ~1 s chunk, before Stop is drawn
    at.slider(key="inp_dip_iters").set_value(1200).run()
    at.button(key="inp_run").click().run()
    assert not at.exception, at.exception
    run = at.session_state["inp_dip_run"]  # a Run driven by stylelab.ui.live.live_run
    assert 0 < run.step_count < 1200 and not run.done and at.session_state["inp_dip_running"]  # one tick only
    assert "Deep Image Prior" not in at.session_state["inp_results"]["items"]
    at.button(key="inp_dip_stop").click().run()
    assert not at.exception, at.exception
    assert not at.session_state["inp_dip_running"]
    item = at.session_state["inp_results"]["items"]["Deep Image Prior"]
    assert torch.equal(item["image"], run.preview())  # the fit so far, scored like the others
    assert not at.button(key="inp_dip_continue").disabled  # it can be continued


def test_dip_record_round_trip_and_bad_values():
    """What the page's record import calls (AppTest cannot upload a file): from_record, RecordError on bad values."""
    from stylelab.inpaint import DeepImagePrior, DIPConfig, center_mask, damage
    from stylelab.record import ExperimentRecord

    img = torch.rand(3, 32, 32, generator=torch.Generator().manual_seed(0))
    run = DeepImagePrior(damage(img, center_mask(32, 32)), center_mask(32, 32), DIPConfig(iterations=7, base=4, depth=2),
                         seed=5)
    run.step()
    good = run.record().to_json()
    rec = ExperimentRecord.from_json(good)
    assert DeepImagePrior.from_record(rec, **run.inputs()).config == run.config
    bad = json.loads(good)
    bad["config"]["iterations"] = -3
    with pytest.raises(RecordError):  # never clamped
        DeepImagePrior.from_record(bad, **run.inputs())


@pytest.mark.slow
def test_live_loss_study_trains_and_compares(app):
    at = app
    at.select_slider(key="inp_size").set_value(64).run()
    at.session_state["inp_study_view"] = "live"
    at.run()
    at.multiselect(key="inp_live_losses").set_value(["mse", "mse+ssim"]).run()
    at.slider(key="inp_live_steps").set_value(10).run()
    at.button(key="inp_live_start").click().run()
    for _ in range(60):  # each run of the page is one tick of the live driver (~0.7 s of training)
        if at.session_state["inp_live_run"].done:
            break
        at.run()
    assert not at.exception, at.exception
    study = at.session_state["inp_live_run"]
    assert study.done and set(study.curves()) == {"mse", "mse+ssim"}
    at.run()  # the finished study: each model's fill of the page's hole, scored
    assert not at.exception, at.exception
    (table,) = at.dataframe  # nothing was filled above: the one table is the study's
    assert list(table.value.index) == ["MSE only", "MSE + SSIM"]
