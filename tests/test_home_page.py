"""AppTest of the home page, and the CLI entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def test_home_page_renders_labs_device_and_assets():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    for lab in ("Loss Lab", "Style Studio", "GAN Lab", "Inpainting Lab", "Aesthetics Lab", "Translate"):
        assert lab in text
    assert any("Computing on" in m.value for m in at.markdown)
    assert len(at.dataframe) == 1
    assert at.success and "required assets are present" in at.success[0].value
    assert [e.label for e in at.expander] == ["Offline assets: where every model and picture comes from, and its licence"]
    assert len(at.expander[0].dataframe) == 1  # the licence table sits in the expander, not on the page
    links = [el.proto.label for el in at.get("page_link")]
    assert links == [f"Open {lab}" for lab in ("Loss Lab", "Style Studio", "GAN Lab", "Inpainting Lab", "Aesthetics Lab",
                                               "Translate")]
    assert len(at.columns) <= 6  # cards in rows of three (five in one row cut the labels)


def test_cli_help_lists_subcommands():
    out = subprocess.run([sys.executable, "-m", "stylelab", "--help"], capture_output=True, text=True, check=True).stdout
    assert "assets" in out
    bad = subprocess.run([sys.executable, "-m", "stylelab", "nope"], capture_output=True, text=True)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
