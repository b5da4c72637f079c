"""``python -m stylelab stylize | styles | train-style``: outputs, records, clear errors."""

from __future__ import annotations

import json

import pytest

from stylelab.cli import main


def test_styles_lists_26(capsys):
    assert main(["styles", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 26 and rows[7]["index"] == 7


@pytest.mark.parametrize("method,style", [("fast", "3:0.5,12:0.5"), ("arbitrary", "texture:brick"), ("gatys", "texture:brick")])
def test_stylize_writes_image_and_record(tmp_path, method, style):
    from stylelab.imageio import load_image
    from stylelab.record import ExperimentRecord

    out, rec = tmp_path / "out.png", tmp_path / "run.json"
    args = ["stylize", "photo:astronaut", style, "-o", str(out), "--method", method, "--size", "48",
            "--steps", "2", "--levels", "1", "--record", str(rec)]
    assert main(args) == 0
    img = load_image(out)
    assert max(img.shape[-2:]) == 48
    record = ExperimentRecord.load(rec, lab="style")
    assert record.summary["content"] == "photo:astronaut" and record.summary["style"] == style
    if method == "gatys":
        from stylelab.style.gatys import config_from_record

        assert config_from_record(record).steps == 2 and len(record.metrics) == 2
        assert record.config["kind"] == "gatys" and record.metrics[-1]["step"] == 2
    elif method == "fast":  # the same keys as the Style Studio's record of the same pass
        assert set(record.config) == {"method", "style_weights", "size"} and record.config["style_weights"][3] == 0.5
    else:  # the code used, so the record replays without the painting
        assert set(record.config) == {"method", "strength", "t", "size"} and len(record.summary["code"]) == 100


def test_train_style_cli(tmp_path):
    from stylelab.style.train_fast import load_fast_style

    out = tmp_path / "mine.pt"
    assert main(["train-style", "texture:brick", "--steps", "2", "--size", "32", "--width", "4", "--n-res", "1",
                 "--quiet", "-o", str(out)]) == 0
    net, cfg = load_fast_style(out)
    assert cfg.steps == 2
    png = tmp_path / "o.png"
    assert main(["stylize", "photo:astronaut", str(out), "-o", str(png), "--method", "fast", "--size", "40"]) == 0
    assert png.exists()


@pytest.mark.parametrize("args", [
    ["stylize", "photo:astronaut", "99", "-o", "x.png", "--method", "fast"],
    ["stylize", "photo:nope", "3", "-o", "x.png", "--method", "fast"],
    ["stylize", "/no/such/file.png", "texture:brick", "-o", "x.png"],
    ["stylize", "photo:astronaut", "texture:brick", "-o", "x.png", "--size", "4"],
    ["stylize", "photo:astronaut", "texture:brick", "-o", "x.png", "--size", "32", "--style-weight", "-1"],
    ["train-style", "texture:brick", "--size", "30", "--quiet"],
])
def test_bad_inputs_exit_2(tmp_path, monkeypatch, capsys, args):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err


def test_train_style_dry_run_saves_nothing(tmp_path, capsys):
    out = tmp_path / "dry.pt"
    assert main(["train-style", "texture:brick", "--steps", "50", "--size", "32", "--width", "4", "--n-res", "1",
                 "--quiet", "--dry-run", "-o", str(out)]) == 0
    assert not out.exists() and "dry run: 1 step" in capsys.readouterr().out


def test_flags_come_from_the_configs():
    from stylelab.cli import build_parser
    from stylelab.style.configs import FastStyleConfig, GatysConfig

    parser = build_parser()
    train = parser.parse_args(["train-style", "texture:brick"])
    stylize = parser.parse_args(["stylize", "a", "b", "-o", "x.png"])
    assert train.lr == FastStyleConfig.lr and train.adv_kind == FastStyleConfig.adv_kind and not train.dry_run
    assert stylize.style_weight == GatysConfig.style_weight and stylize.pyramid_levels == GatysConfig.pyramid_levels
    assert parser.parse_args(["stylize", "a", "b", "-o", "x.png", "--levels", "2"]).pyramid_levels == 2
