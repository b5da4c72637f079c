"""The classroom in a real browser: a shared link sets up a lab, the share box gives it back (without the
session token), the gallery shows a published entry escaped, the teacher page refuses a wrong key.

Its own server (the gallery in a temp file, a teacher key, the public address), so nothing of a
teacher's real gallery is touched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import parse_qsl, urlsplit

import pytest
import torch

from stylelab.classroom import urlstate
from stylelab.classroom.gallery import Gallery
from stylelab.record import ExperimentRecord

from .conftest import ROOT, free_port, wait_healthy
from .helpers import error_boxes, open_page, raw_object_text, slider_value, switch_page, wait_idle, wait_rerun

pytestmark = [pytest.mark.browser, pytest.mark.slow]
KEY = "projector-key-42"


@pytest.fixture(scope="module")
def classroom_server(tmp_path_factory, artifacts):
    db = tmp_path_factory.mktemp("classroom") / "gallery.sqlite3"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false", STYLELAB_GALLERY_DB=str(db),
               STYLELAB_TEACHER_KEY=KEY, STYLELAB_PUBLIC_URL=url)
    log = open(artifacts / "classroom-server.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        wait_healthy(url, proc)
        yield {"url": url, "db": db}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_a_link_sets_up_the_style_studio_and_shares_back(classroom_server, page):
    url = classroom_server["url"]
    query = urlstate.encode("style", {"style_beta": 7.0, "style_steps": 120, "style_style": "painting:spring"})
    path = "Style_Studio?" + "&".join(f"{k}={v}" for k, v in query.items())
    open_page(page, url, path)
    wait_idle(page, timeout=240)
    assert not error_boxes(page) and not raw_object_text(page)
    assert slider_value(page, "style_beta").startswith("7")
    assert slider_value(page, "style_steps") == "120"
    page.get_by_text("Share this set-up").first.click()
    code = page.locator('[data-testid="stPopoverBody"] code').first
    code.wait_for()
    link = code.inner_text().strip()
    assert link.startswith(f"{url}/Style_Studio?")
    token = dict(parse_qsl(urlsplit(page.url).query)).get("sid", "")
    values = urlstate.decode("style", dict(parse_qsl(urlsplit(link).query)))
    assert values["style_beta"] == 7.0 and values["style_steps"] == 120
    assert values["style_style"] == "painting:spring"  # the link's picture survives the session token
    if len(token) == 43:
        assert token not in link
    page.keyboard.press("Escape")
    page.reload()
    wait_idle(page, timeout=240)
    assert slider_value(page, "style_beta").startswith("7")
    switch_page(page, "Loss Lab")  # the Style Studio's link is not read as a (bad) Loss Lab link
    assert not error_boxes(page)


def test_gallery_shows_an_entry_escaped_and_teacher_refuses_a_wrong_key(classroom_server, page):
    rec = ExperimentRecord(lab="style", config={"kind": "gatys", "size": 128, "steps": 60, "style_weight": 1e7})
    picture = torch.rand(3, 64, 64, generator=torch.Generator().manual_seed(0))
    Gallery(classroom_server["db"]).publish(picture, rec, caption="<b>bold?</b> [link](http://evil.example)")
    url = classroom_server["url"]
    open_page(page, url, "Class_Gallery")
    main = page.locator('[data-testid="stMain"]')
    main.get_by_text("<b>bold?</b> [link](http://evil.example)").first.wait_for()
    page.get_by_role("link", name="Open in the lab").first.wait_for()  # drawn after the caption on a busy box
    assert main.locator("a[href*='evil']").count() == 0  # no link, no autolinked URL
    assert page.get_by_role("link", name="Open in the lab").count() == 1
    assert not error_boxes(page)
    open_page(page, url, "Teacher")
    page.get_by_label("Teacher key").fill("not the key")
    page.get_by_text("Open the teacher's page").click()
    wait_rerun(page)
    assert any("not the teacher key" in e for e in error_boxes(page))
    assert page.get_by_text("The class server").count() == 0
    page.get_by_label("Teacher key").fill(KEY)
    page.get_by_text("Open the teacher's page").click()
    wait_rerun(page)
    page.get_by_text("The class server").first.wait_for()
