"""Hostile uploads in a real browser, on every lab page that takes an image.

For each page: choose "Upload" in the first image picker, upload a good image, then every file
of ``tests/badfiles.py``. Bad files must produce a clear message (no traceback), good-but-odd
files (CMYK, 16-bit, palette, RGBA, animated GIF, EXIF-rotated, 1x1, 12 MP) must be accepted,
the page must keep its previous image after a bad file, and the server must stay up.
"""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

import pytest
from badfiles import bad_uploads

from stylelab.ui import LABS

from .helpers import exceptions, goto_lab, wait_idle, wait_uploaded

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
# pages that take pictures through the shared image picker (the GAN Lab trains on datasets instead)
PAGES = [title for path, title, _, _ in LABS if (ROOT / path).exists() and "image_picker(" in (ROOT / path).read_text()]
MIME = {".png": "image/png", ".jpg": "image/jpeg", ".gif": "image/gif"}


def _alerts(page) -> str:
    return " ".join(page.locator('[data-testid="stAlert"]').all_inner_texts())


def _poll_alerts(page, done, timeout: float = 60.0) -> str:
    """Alerts text once ``done(text)`` holds (reruns finish asynchronously), or at the timeout."""
    deadline = time.time() + timeout
    text = _alerts(page)
    while not done(text) and time.time() < deadline:
        time.sleep(0.5)
        text = _alerts(page)
    return text


@pytest.mark.parametrize("title", PAGES)
def test_hostile_uploads(server, page, artifacts, title):
    goto_lab(page, server["url"], title)
    picker = page.locator('[data-testid="stRadio"]').filter(has_text="Upload").first
    picker.get_by_text("Upload", exact=True).click()
    wait_idle(page)
    uploader = page.locator('[data-testid="stFileUploader"] input[type="file"]').first
    files = bad_uploads()
    report = []
    # a good image first, so that "keeps the previous image" can be observed
    uploader.set_input_files(files=[{"name": "first.png", "mimeType": "image/png", "buffer": files["tiny.png"][0]}])
    wait_uploaded(page, "first.png")
    for name, (data, expect) in files.items():
        uploader.set_input_files(files=[{"name": name, "mimeType": MIME[Path(name).suffix], "buffer": data}])
        wait_uploaded(page, name)
        want_error = f"Could not use '{name}'"
        alerts = _poll_alerts(page, lambda a, w=want_error, e=expect: (w in a) if e == "error" else ("Could not use" not in a))
        errs = exceptions(page)
        report.append(f"{name}: expect {expect}; alerts={alerts[:160]!r}; exceptions={len(errs)}")
        assert not errs, f"{title}/{name}: traceback shown: {errs[0][:300]}"
        if expect == "error":
            assert want_error in alerts, f"{title}/{name}: no clear message ({alerts!r})"
            assert page.get_by_text("Keeping the previous image").count() >= 1
        else:
            assert "Could not use" not in alerts, f"{title}/{name}: a valid image was refused: {alerts}"
        with urllib.request.urlopen(server["url"] + "/_stcore/health", timeout=10) as r:
            assert r.status == 200
    slug = title.lower().replace(" ", "_")
    page.screenshot(path=str(artifacts / f"uploads_{slug}.png"), full_page=False)
    (artifacts / f"uploads_{slug}.txt").write_text("\n".join(report) + "\n")


def test_gan_lab_refuses_foreign_records_and_checkpoints(server, page, artifacts):
    """The GAN Lab's uploads are a record (JSON) and a checkpoint (.pt): junk gets a clear message."""
    goto_lab(page, server["url"], "GAN Lab")
    page.locator('[data-testid="stButtonGroup"] button', has_text="Export / import").first.click()
    inputs = page.locator('[data-testid="stFileUploader"] input[type="file"]')
    inputs.nth(0).set_input_files(files=[{"name": "notes.json", "mimeType": "application/json", "buffer": b"{not json"}])
    wait_uploaded(page, "notes.json")
    alerts = _poll_alerts(page, lambda a: "Could not load 'notes.json'" in a)
    assert "not valid JSON" in alerts, alerts
    inputs.nth(1).set_input_files(files=[{"name": "evil.pt", "mimeType": "application/octet-stream",
                                          "buffer": b"PK\x03\x04 this is not a torch checkpoint"}])
    wait_uploaded(page, "evil.pt")
    page.get_by_role("button", name="Resume from this checkpoint").click()
    alerts = _poll_alerts(page, lambda a: "Could not load 'evil.pt'" in a)
    assert "Could not load 'evil.pt'" in alerts, alerts
    assert not exceptions(page)
    page.screenshot(path=str(artifacts / "uploads_gan_lab.png"), full_page=False)
