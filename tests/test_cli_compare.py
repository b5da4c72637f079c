"""``python -m stylelab compare A B [--json] [--size N]``."""

from __future__ import annotations

import json

import pytest

from stylelab.cli import main
from stylelab.losses.compare import COMPARE_METRICS


def test_compare_json_has_every_key_and_says_it_resized(capsys):
    assert main(["compare", "photo:astronaut", "photo:coffee", "--json", "--size", "64"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(COMPARE_METRICS) <= set(out["metrics"])
    assert {"mse", "l1", "psnr", "ssim", "ms_ssim", "lpips_vgg", "lpips_alex", "content", "style", "tv_a", "tv_b"} <= set(out["metrics"])
    assert out["size"] == [64, 64]
    assert "B resized from (400, 600)" in out["resized"]
    m = out["metrics"]
    assert 0 < m["mse"] < 1 and -1 <= m["ssim"] < 0.5 and 0.3 < m["lpips_vgg"] < 1.2 and m["content"] > 0


def test_compare_identical_files_text_output(tmp_path, capsys, astronaut):
    from stylelab.imageio import to_pil

    path = tmp_path / "a.png"
    to_pil(astronaut[:, :64, :64]).save(path)
    assert main(["compare", str(path), str(path)]) == 0
    text = capsys.readouterr().out
    assert "resized: no (same size)" in text
    lines = {line.split()[0]: float(line.split()[1]) for line in text.splitlines() if line.startswith("  ")}
    assert lines["mse"] == 0.0 and lines["ssim"] == pytest.approx(1.0, abs=1e-5)
    assert lines["lpips_vgg"] == pytest.approx(0.0, abs=1e-6) and lines["tv_a"] == lines["tv_b"] > 0


def test_compare_bad_inputs_exit_2(tmp_path, capsys):
    assert main(["compare", "photo:astronaut", str(tmp_path / "missing.png")]) == 2
    assert "error:" in capsys.readouterr().err
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    assert main(["compare", str(bad), "photo:coffee"]) == 2
    assert main(["compare", "photo:astronaut", "photo:coffee", "--size", "4"]) == 2
