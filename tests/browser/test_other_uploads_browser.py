"""Hostile uploads in a real browser, beyond the shared image picker.

``test_uploads_browser.py`` covers every image picker and the GAN Lab's record and checkpoint.
Here: the experiment-record uploaders of the other labs (broken JSON, a record of another lab),
the Inpainting Lab's mask picture, and the Aesthetics Lab's batch upload (good and bad files
mixed). Each bad file must get a clear message naming it, no traceback, and the server must stay up.
"""

from __future__ import annotations

import urllib.request

import pytest
from badfiles import bad_uploads

from stylelab.record import ExperimentRecord

from .helpers import exceptions, goto_lab, wait_idle, wait_uploaded
from .test_uploads_browser import _poll_alerts

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# (lab title, record lab, uploader key, how to reach it: ("tab" | "radio" | "expander", label) steps)
RECORD_UPLOADERS = [
    ("Loss Lab", "loss", "loss_desk_record_upload", [("tab", "Mixing desk")]),
    ("Style Studio", "style", "style_record_upload", []),
    # the Draw tool (the default where the canvas is installed) stops the page until a mask is painted
    ("Inpainting Lab", "inpaint", "inp_record_upload", [("radio", "Rectangle"), ("expander", "Load an experiment record")]),
    ("Aesthetics Lab", "aesthetics", "aes_rec_up",
     [("tab", "Adjust"), ("expander", "Reproduce a run from its experiment record")]),
]


def _reach(page, steps) -> None:
    for kind, label in steps:
        if kind == "tab":
            page.locator('[data-testid="stButtonGroup"] button').filter(has_text=label).first.click()  # views: segmented controls
        elif kind == "radio":
            page.locator('[data-testid="stRadio"]').filter(has_text=label).get_by_text(label, exact=True).first.click()
        else:
            page.locator('[data-testid="stExpander"] summary').filter(has_text=label).first.click()
        wait_idle(page)


def _upload(page, key: str, name: str, data: bytes, mime: str) -> None:
    page.locator(f'.st-key-{key} input[type="file"]').set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": data}])
    wait_uploaded(page, name)


def _server_up(server) -> None:
    with urllib.request.urlopen(server["url"] + "/_stcore/health", timeout=10) as r:
        assert r.status == 200


@pytest.mark.parametrize("title, lab, key, steps", RECORD_UPLOADERS, ids=[r[0] for r in RECORD_UPLOADERS])
def test_record_uploaders_refuse_junk_and_other_labs(server, page, artifacts, title, lab, key, steps):
    goto_lab(page, server["url"], title)
    _reach(page, steps)
    _upload(page, key, "notes.json", b"{not json", "application/json")
    alerts = _poll_alerts(page, lambda a: "Could not load 'notes.json'" in a)
    assert "Could not load 'notes.json'" in alerts and "JSON" in alerts, alerts
    other = "gan" if lab != "gan" else "loss"
    foreign = ExperimentRecord(lab=other, config={"steps": 1}, seed=0).to_json().encode()
    _upload(page, key, "foreign.json", foreign, "application/json")
    alerts = _poll_alerts(page, lambda a: "Could not load 'foreign.json'" in a)
    assert "Could not load 'foreign.json'" in alerts and f"'{other}' lab" in alerts, alerts
    assert not exceptions(page), exceptions(page)[0][:300]
    _server_up(server)
    page.screenshot(path=str(artifacts / f"records_{lab}.png"), full_page=False)


def _png(array) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "PNG")
    return buf.getvalue()


def test_inpainting_mask_upload_refuses_bad_pictures(server, page, artifacts):
    import numpy as np

    goto_lab(page, server["url"], "Inpainting Lab")
    _reach(page, [("radio", "Upload a mask")])
    files = bad_uploads()
    square = np.zeros((64, 64), np.uint8)
    square[16:40, 20:44] = 255  # white = hole
    # (file, bytes, the message expected, None for a good mask)
    cases = [("square.png", _png(square), None),
             ("black.png", _png(np.zeros((64, 64), np.uint8)), "This mask cannot be used: The mask is empty"),
             *[(n, files[n][0], f"Could not use '{n}' as a mask") for n in ("empty.png", "notes.png", "truncated.png",
                                                                           "bomb.png")],
             ("square_again.png", _png(square), None)]  # a good mask after the bad ones: the page recovers
    report = []
    for name, data, want in cases:
        _upload(page, "inp_mask_upload", name, data, "image/png")
        bad = want is not None
        alerts = _poll_alerts(page, lambda a, w=want: (w in a) if w else ("mask" not in a.lower()), timeout=30)
        report.append(f"{name}: expect {'error' if bad else 'ok'}; alerts={alerts[:160]!r}")
        assert not exceptions(page), f"{name}: traceback shown: {exceptions(page)[0][:300]}"
        if bad:
            assert want in alerts, f"{name}: no clear message ({alerts!r})"
        else:
            assert "Could not use" not in alerts and "cannot be used" not in alerts, f"{name}: refused: {alerts}"
            assert page.get_by_role("button", name="Fill the hole").count() == 1
        _server_up(server)
    (artifacts / "uploads_inpaint_mask.txt").write_text("\n".join(report) + "\n")
    page.screenshot(path=str(artifacts / "uploads_inpaint_mask.png"), full_page=False)


def test_aesthetics_batch_scores_the_good_files_and_names_the_bad_ones(server, page, artifacts):
    goto_lab(page, server["url"], "Aesthetics Lab")
    _reach(page, [("tab", "Batch")])
    files = bad_uploads()
    chosen = ["tiny.png", "cmyk.jpg", "truncated.png", "notes.png", "empty.png"]
    mime = {"png": "image/png", "jpg": "image/jpeg"}
    page.locator('.st-key-aes_batch_up input[type="file"]').set_input_files(
        files=[{"name": n, "mimeType": mime[n.rsplit(".", 1)[1]], "buffer": files[n][0]} for n in chosen])
    wait_uploaded(page, chosen[-1])
    page.get_by_role("button", name="Score the batch").click()
    alerts = _poll_alerts(page, lambda a: all(f"{n}:" in a for n in ("truncated.png", "notes.png", "empty.png")),
                          timeout=120)
    for bad in ("truncated.png", "notes.png", "empty.png"):
        assert f"{bad}:" in alerts, f"no message for {bad}: {alerts!r}"
    for good in ("tiny.png", "cmyk.jpg"):
        assert f"{good}:" not in alerts, f"{good} was refused: {alerts!r}"
    table = page.locator('[data-testid="stDataFrame"]').filter(visible=True)
    table.first.wait_for(timeout=60_000)  # the warnings come first in the same run: on a busy CPU the table lags
    assert table.count() >= 1  # the table of scores
    assert not exceptions(page), exceptions(page)[0][:300]
    _server_up(server)
    page.screenshot(path=str(artifacts / "uploads_aesthetics_batch.png"), full_page=False)
