"""GAN Lab page (AppTest): it renders, trains on demand, shows its charts, keeps its controls."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from pagecheck import assert_clean  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "pages" / "3_GAN_Lab.py")


@pytest.fixture(autouse=True)
def _live_inline(monkeypatch):
    """The page steps its runs in its own script here (STYLELAB_LIVE=inline), so step counts are
    exact; tests/test_ui_live.py covers the default path, the classroom scheduler."""
    monkeypatch.setenv("STYLELAB_LIVE", "inline")


def _charts(at) -> int:
    return len(at.get("plotly_chart"))


def _finish(at, key: str = "gan", rounds: int = 60):
    """The live driver steps a run in time-boxed chunks (one per rerun of its fragment) until it stops."""
    for _ in range(rounds):
        if not at.session_state[f"{key}_running"]:
            break
        at.run()
    assert not at.session_state[f"{key}_running"], "the run did not stop"
    return at


def test_gan_page_points_step_and_train():
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert_clean(at)
    run = at.session_state["gan_run"]
    assert run.config.is_toy and run.step_count == 0
    assert not any("differs" in i.value for i in at.info)  # widgets and run agree at start
    at.slider(key="gan_n_points").set_value(500).run()
    assert any("differs" in i.value for i in at.info)  # a set-up change asks for a new run
    at.button(key="gan_new").click().run()
    assert at.session_state["gan_run"].config.n_points == 500
    _finish(at.button(key="gan_step").click().run())
    assert_clean(at)
    assert at.session_state["gan_run"].step_count == 1
    at.number_input(key="gan_n").set_value(30).run()
    _finish(at.button(key="gan_train_n").click().run())
    assert_clean(at)
    run = at.session_state["gan_run"]
    assert run.step_count == 31 and len(run.history) == 31
    assert _charts(at) >= 2  # the 2-D view and the curves
    # live hyper-parameter: the next steps use the hinge loss
    at.selectbox(key="gan_loss").set_value("hinge").run()
    assert at.session_state["gan_run"].config.loss == "hinge"
    assert any("max(0" in lx.value for lx in at.latex)
    assert any("pauses" in c.value for c in at.caption)  # the page says runs pause off-page


def test_gan_page_compare_uses_the_stall_regime():
    from stylelab.gan.compare import STALL_SETTINGS

    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert at.select_slider(key="gan_cmp_lr_d").value == STALL_SETTINGS["lr_d"]
    assert at.slider(key="gan_cmp_d_steps").value == STALL_SETTINGS["d_steps"]
    at.number_input(key="gan_cmp_steps").set_value(20).run()
    _finish(at.button(key="gan_cmp_start").click().run(), "gan_cmp")
    assert_clean(at)
    comparison = at.session_state["gan_cmp_run"]
    assert comparison.kind == "gan-compare" and comparison.done
    results = comparison.arms
    assert list(results) == ["minimax", "ns"]
    assert all(arm.trainer.step_count == 20 and arm.trainer.config.lr_d == STALL_SETTINGS["lr_d"] for arm in results.values())
    assert _charts(at) >= 4


def test_gan_page_images_run_prints_no_internals():
    at = AppTest.from_file(PAGE, default_timeout=180).run()
    at.radio(key="gan_kind").set_value("Images").run()
    at.selectbox(key="gan_data_img").set_value("digits8").run()
    at.select_slider(key="gan_base").set_value(8).run()
    at.button(key="gan_new").click().run()
    assert_clean(at)  # the bare `trainer.evaluator` once printed the ImageEvaluator object here
    run = at.session_state["gan_run"]
    assert run.config.data == "digits8"
    at.number_input(key="gan_n").set_value(3).run()
    _finish(at.button(key="gan_train_n").click().run())
    assert_clean(at)
    assert at.session_state["gan_run"].step_count == 3
    assert at.session_state["gan_run"].config.lr_g == 2e-4  # image defaults, not the 2-D learning rate
    assert not any("differs" in i.value for i in at.info)
    assert len(at.get("image")) >= 1


def test_gan_controls_survive_a_page_switch_and_show_the_run():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.switch_page("pages/3_GAN_Lab.py").run()
    at.select_slider(key="gan_lr_d").set_value(5e-3).run()
    at.slider(key="gan_d_steps").set_value(3).run()
    at.selectbox(key="gan_data_toy").set_value("grid").run()
    at.button(key="gan_new").click().run()
    assert at.session_state["gan_run"].config.data == "grid"
    at.switch_page("pages/4_Inpainting_Lab.py").run()
    at.switch_page("pages/3_GAN_Lab.py").run()
    assert_clean(at)
    assert at.select_slider(key="gan_lr_d").value == 5e-3
    assert at.slider(key="gan_d_steps").value == 3
    assert at.selectbox(key="gan_data_toy").value == "grid"
    run = at.session_state["gan_run"]
    assert run.config.lr_d == 5e-3 and run.config.d_steps == 3  # the controls describe the run
    assert not any("differs" in i.value for i in at.info)


def test_a_loaded_run_puts_its_own_configuration_on_the_controls():
    """After 'Start a run from this record' / 'Resume from this checkpoint' the controls describe that run."""
    from stylelab.gan.train import GANConfig, GANTrainer

    at = AppTest.from_file(PAGE, default_timeout=120).run()  # the controls show the default ring run first
    assert at.selectbox(key="gan_data_toy").value == "ring" and at.slider(key="gan_d_steps").value == 1
    loaded = GANTrainer(GANConfig(data="grid", loss="hinge", lr_g=5e-4, lr_d=5e-3, d_steps=3, batch_size=128, seed=7))
    at.session_state["gan_run"] = loaded  # what the two load buttons do (stylelab.ui.live.set_run), before their rerun
    at.session_state["gan_running"] = False
    at.session_state["gan_show_config"] = True
    at.run()
    assert_clean(at)
    assert at.selectbox(key="gan_data_toy").value == "grid" and at.selectbox(key="gan_loss").value == "hinge"
    assert at.select_slider(key="gan_lr_g").value == 5e-4 and at.select_slider(key="gan_lr_d").value == 5e-3
    assert at.slider(key="gan_d_steps").value == 3 and at.select_slider(key="gan_batch").value == 128
    assert at.number_input(key="gan_seed").value == 7
    assert at.session_state["gan_run"] is loaded and loaded.config.lr_d == 5e-3  # the widgets did not overwrite it
    assert not any("differs" in i.value for i in at.info)


def test_gan_page_export_import_and_a_bad_record():
    """Export: record and checkpoint bytes from the run; import: a record rebuilds the run, a bad value is an error."""
    import io

    import torch

    from stylelab.gan.train import GANTrainer

    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.session_state["gan_section"] = "io"
    at.run()
    assert_clean(at)
    run = at.session_state["gan_run"]
    blob = torch.load(io.BytesIO(run.to_bytes()), weights_only=True)  # what the download button serves
    assert blob["kind"] == "gan" and GANTrainer.load(run.to_bytes()).config == run.config
    rec = run.record().to_dict()
    again = GANTrainer.from_record(rec)
    assert again.config == run.config
    bad = {**rec, "config": {**rec["config"], "d_steps": 10**6}}
    from stylelab.errors import RecordError

    with pytest.raises(RecordError):  # what the page shows with st.error (never clamped)
        GANTrainer.from_record(bad)


def test_gan_page_latent_space_of_a_conditional_run():
    from stylelab.gan.train import GANConfig, GANTrainer

    at = AppTest.from_file(PAGE, default_timeout=180).run()
    loaded = GANTrainer(GANConfig(data="digits8", base_channels=8, latent_dim=16, conditional=True, classes=(1, 2, 3)))
    at.session_state["gan_run"] = loaded
    at.session_state["gan_running"] = False
    at.session_state["gan_show_config"] = True
    at.session_state["gan_section"] = "latent"
    at.run()
    assert_clean(at)
    assert len(at.get("image")) >= 4  # fixed noise, interpolation, walk, one row per class


def test_gan_page_play_then_pause():
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.button(key="gan_play").click().run()
    assert at.session_state["gan_running"] and at.button(key="gan_play").label == "⏸ Pause"
    assert any("playing" in c.value for c in at.caption)
    at.run()  # one more tick of the live view
    assert at.session_state["gan_run"].step_count > 0 and at.session_state["gan_run"].total_steps is None
    at.button(key="gan_play").click().run()
    assert not at.session_state["gan_running"] and at.button(key="gan_play").label == "▶ Play"
    steps = at.session_state["gan_run"].step_count
    at.run()
    assert at.session_state["gan_run"].step_count == steps  # paused: no more steps
    assert_clean(at)


def test_gan_page_stylegan_section_every_view():
    """A StyleGAN-lite run made with the Set-up controls; the section shows mixing, psi, paths (PPL) and noise."""
    at = AppTest.from_file(PAGE, default_timeout=240).run()
    at.radio(key="gan_kind").set_value("Images").run()
    at.selectbox(key="gan_data_img").set_value("digits8").run()
    at.selectbox(key="gan_model").set_value("stylegan").run()
    at.select_slider(key="gan_base").set_value(8).run()
    at.button(key="gan_new").click().run()
    assert_clean(at)
    run = at.session_state["gan_run"]
    assert run.config.model == "stylegan" and run.is_style
    assert not any("differs" in i.value for i in at.info)
    at.number_input(key="gan_n").set_value(2).run()
    _finish(at.button(key="gan_train_n").click().run())
    at.session_state["gan_section"] = "stylegan"
    at.session_state["gan_sg_source"] = "run"
    at.run()
    assert_clean(at)
    assert any(r"\psi" not in lx.value and "MLP" in lx.value for lx in at.latex)  # the mapping equation
    assert len(at.get("image")) >= 2  # the fixed-noise grid and the style-mixing grid
    at.session_state["gan_sg_view"] = "psi"
    at.run()
    assert any(r"\psi" in lx.value for lx in at.latex)
    at.button(key="gan_sg_curve").click().run()
    assert_clean(at)
    assert _charts(at) >= 1 and any("ψ" in c.value for c in at.caption)
    at.session_state["gan_sg_view"] = "path"
    at.run()
    at.button(key="gan_sg_ppl").click().run()
    assert_clean(at)
    assert any("PPL in z" in c.value and "PPL in w" in c.value for c in at.caption)
    at.session_state["gan_sg_view"] = "noise"
    at.run()
    assert_clean(at)
    assert len(at.get("image")) >= 4  # fixed noise, noise off, three draws, where the noise acts
    assert at.session_state["gan_run"].step_count == 2  # looking never trains


def test_gan_page_stylegan_section_shows_the_shipped_model():
    from stylelab.gan.stylegan import SHIPPED

    if not SHIPPED.is_file():
        pytest.skip("no shipped StyleGAN-lite checkpoint")
    at = AppTest.from_file(PAGE, default_timeout=240).run()
    at.session_state["gan_section"] = "stylegan"
    at.run()
    assert_clean(at)
    assert at.radio(key="gan_sg_source").value == "shipped"  # the page's 2-D run is no StyleGAN: the shipped model
    assert any("StyleGAN-lite after" in c.value for c in at.caption)
    assert len(at.get("image")) >= 1  # the style-mixing grid
    at.session_state["gan_sg_view"] = "psi"
    at.run()
    at.slider(key="gan_sg_psi").set_value(0.0).run()
    assert_clean(at)


def test_gan_page_r1_penalty_is_a_live_setting_with_its_equation():
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.slider(key="gan_r1").set_value(2.0).run()
    assert_clean(at)
    assert at.session_state["gan_run"].config.r1_weight == 2.0
    assert any(r"\nabla_x D(x)" in lx.value for lx in at.latex)
    at.selectbox(key="gan_loss").set_value("wgan-gp").run()  # WGAN-GP has its own penalty: R1 is off there
    assert_clean(at)
    assert at.session_state["gan_run"].config.r1_weight == 0.0 and at.slider(key="gan_r1").disabled
