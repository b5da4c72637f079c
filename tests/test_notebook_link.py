"""The "Open this run in a notebook" cell of every lab: it runs, and rebuilds the run it came from."""

from __future__ import annotations

import os

import pytest

from stylelab.errors import RecordError
from stylelab.record import ExperimentRecord
from stylelab.ui.notebook_link import notebook_cell


def test_the_cell_of_a_gan_run_replays_it(tmp_path, monkeypatch):
    from stylelab.gan.train import GANConfig, GANTrainer

    t = GANTrainer(GANConfig(data="ring", seed=1, metrics_every=0))
    t.train(8)
    t.record().save(tmp_path / "gan_lab_record.json")
    cell = notebook_cell(t.record(), "gan_lab_record.json")
    assert len(cell.splitlines()) == 3 and "run.replay()" in cell
    monkeypatch.chdir(tmp_path)  # the notebook's folder, where the download was put
    scope: dict = {}
    exec(compile(cell, "<cell>", "exec"), scope)  # noqa: S102 - the exact text the page shows
    assert scope["result"].history[-1]["loss_d"] == t.history[-1]["loss_d"]


def test_the_cell_names_the_pictures_a_record_lacks(tmp_path):
    rec = ExperimentRecord(lab="loss", config={"size": 32})
    cell = notebook_cell(rec, "loss_lab_mixing.json")
    assert "content='your_photo.png', style='your_painting.png'" in cell and "your pictures (content, style)" in cell
    cell = notebook_cell(rec, "loss_lab_mixing.json", {"content": "photo:astronaut", "style": "texture:brick"})
    assert "content='photo:astronaut', style='texture:brick')" in cell and "your pictures" not in cell
    drawn = ExperimentRecord(lab="inpaint", config={"mask": {"tool": "Draw"}, "methods": ["telea"]})
    assert "image='your_photo.png', mask='your_mask.png'" in notebook_cell(drawn, "inpainting_record.json")
    with pytest.raises(RecordError, match="No stylelab lab"):
        notebook_cell(ExperimentRecord(lab="elsewhere", config={}), "x.json")


def test_the_expander_shows_the_cell():
    from streamlit.testing.v1 import AppTest

    def page():
        from stylelab.record import ExperimentRecord
        from stylelab.ui.notebook_link import notebook_link

        notebook_link(ExperimentRecord(lab="gan", config={"data": "ring"}), "gan_lab_record.json")
        notebook_link(ExperimentRecord(lab="nowhere", config={}), "x.json")

    os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
    at = AppTest.from_function(page).run(timeout=60)
    assert not at.exception
    assert [e.label for e in at.expander] == ["📓 Open this run in a notebook"] * 2
    assert "load('gan_lab_record.json')" in at.code[0].value
    assert "cannot be replayed" in at.caption[0].value


def test_the_cell_of_every_run_kind_says_what_it_returns():
    from stylelab.record import RUN_CLASSES
    from stylelab.ui.notebook_link import _RESULT

    assert set(_RESULT) >= set(RUN_CLASSES)  # every run kind a record can hold (the catalogue's, by kind)
    rec = ExperimentRecord(lab="style", config={"kind": "gatys", "size": 32})
    cell = notebook_cell(rec, "style_studio_gatys.json", {"content": "photo:astronaut"})
    assert "content='photo:astronaut', style='your_painting.png'" in cell and "GatysStylizer" in cell
    dip = ExperimentRecord(lab="inpaint", config={"kind": "dip"})
    assert "image='your_photo.png', mask='your_mask.png'" in notebook_cell(dip, "dip.json")
