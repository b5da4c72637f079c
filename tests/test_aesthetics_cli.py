"""``python -m stylelab score``: JSON, CSV, table, bad files."""

from __future__ import annotations

import csv
import io
import json

import pytest

from stylelab.aesthetics import CLI_KEYS
from stylelab.cli import main


@pytest.fixture()
def files(tmp_path, astronaut, coffee):
    from stylelab.imageio import to_pil

    a, c = tmp_path / "astro.png", tmp_path / "coffee.jpg"
    to_pil(astronaut).save(a)
    to_pil(coffee).save(c)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG garbage")
    return a, c, bad


def test_score_json_has_the_required_keys(files, capsys):
    a, c, _ = files
    assert main(["score", str(a), str(c), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [o["image"] for o in out] == ["astro.png", "coffee.jpg"]
    for obj in out:
        assert set(CLI_KEYS) <= set(obj)
        assert obj["width"] == 128 and isinstance(obj["width"], int)
        assert obj["brisque"] is not None and obj["niqe"] is not None


def test_score_csv_and_table(files, capsys):
    a, _, _ = files
    assert main(["score", str(a), "--csv", "--no-quality", "--size", "64"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["image"] == "astro.png" and rows[0]["width"] == "64"
    assert float(rows[0]["colorfulness"]) > 30 and "brisque" not in rows[0]
    assert main(["score", str(a), "--no-quality"]) == 0
    table = capsys.readouterr().out
    assert "sharpness_laplacian" in table and "astro.png" in table


def test_score_bad_files(files, capsys):
    a, _, bad = files
    assert main(["score", str(bad), "--json"]) == 2
    assert "bad.png" in capsys.readouterr().err
    assert main(["score", str(a), str(bad), "--json", "--no-quality"]) == 1  # partial failure
    captured = capsys.readouterr()
    assert len(json.loads(captured.out)) == 1 and "bad.png" in captured.err
    assert main(["score", str(a), "--size", "2"]) == 2
    assert main(["score", "/no/such/file.png"]) == 2


@pytest.mark.slow
def test_bench_quick_rows():
    from stylelab.aesthetics.bench import run

    rows = run(quick=True)
    names = {r["name"] for r in rows}
    assert {"report, 256 px, all measures", "BRISQUE, 256 px", "NIQE, 256 px"} <= names
    for r in rows:
        assert r["lab"] == "aesthetics" and r["value"] > 0 and r["unit"] == "ms"
