"""Several browser sessions at once: isolated state, bounded memory, no long stalls.

Three independent browser contexts (three students) use the app at the same time:
- student A uploads a picture in the Aesthetics Lab and shares it with the other labs;
- student B opens the same lab and must see neither A's upload nor A's shared result;
- student C loads the home page repeatedly while A and B work: each load must finish promptly.
The server's resident memory is sampled throughout and written to the artifacts.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from badfiles import bad_uploads

from .helpers import exceptions, goto_lab, open_page, wait_idle, wait_uploaded

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def rss_mb(pid: int) -> float:
    total = 0.0
    for p in [pid] + _children(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return total


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def test_three_students_at_once(server, browser, artifacts):
    pid = server["proc"].pid
    samples: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append(rss_mb(pid))
            time.sleep(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    ctx = [browser.new_context(viewport={"width": 1300, "height": 900}) for _ in range(3)]
    a, b, c = (x.new_page() for x in ctx)
    for p in (a, b, c):
        p.set_default_timeout(120_000)
    try:
        # A: upload + share
        goto_lab(a, server["url"], "Aesthetics Lab")
        a.locator('[data-testid="stRadio"]').filter(has_text="Upload").first.get_by_text("Upload", exact=True).click()
        wait_idle(a)
        a.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(
            files=[{"name": "student_a.png", "mimeType": "image/png", "buffer": bad_uploads()["palette.png"][0]}])
        wait_uploaded(a, "student_a.png")
        assert not exceptions(a)

        # B: same page, fresh session: default image, no upload chip, no shared results
        goto_lab(b, server["url"], "Aesthetics Lab")
        assert b.locator('[data-testid="stFileChipName"]', has_text="student_a.png").count() == 0
        assert b.get_by_text("This session's results").count() == 0

        # A starts a long optimisation (Adjust tab), B re-scores at another size; neither waits.
        a.locator('[data-testid="stButtonGroup"] button', has_text="Adjust").first.click()
        a.get_by_role("button", name="▶ Start", exact=True).click()
        b.locator('[data-testid="stButtonGroup"] button', has_text="Adjust").first.click()
        b.get_by_role("button", name="▶ Start", exact=True).click()
        # C: the home page must still load promptly while A and B compute
        loads: list[float] = []
        for _ in range(3):
            t0 = time.perf_counter()
            open_page(c, server["url"])
            c.get_by_text("required assets").first.wait_for()
            loads.append(time.perf_counter() - t0)
        wait_idle(a, timeout=300)
        wait_idle(b, timeout=300)
        assert not exceptions(a) and not exceptions(b)
        # B still has no trace of A's upload after both ran
        assert b.locator('[data-testid="stFileChipName"]', has_text="student_a.png").count() == 0
        assert not exceptions(c)
        assert max(loads) < 30.0, loads
    finally:
        stop.set()
        sampler.join(timeout=5)
        for x in ctx:
            x.close()
    peak = max(samples) if samples else float("nan")
    (artifacts / "many_users.txt").write_text(
        f"home page loads under load (s): {', '.join(f'{x:.2f}' for x in loads)}\n"
        f"server RSS: start {samples[0]:.0f} MB, peak {peak:.0f} MB, end {samples[-1]:.0f} MB\n")
    assert peak < 8000, f"server RSS peaked at {peak:.0f} MB"
