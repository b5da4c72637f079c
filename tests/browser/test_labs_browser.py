"""Every lab in a real browser: open it, run its main action, check the picture and the numbers
that come back, and save a screenshot (tests/artifacts/lab_*.png, also used in the README)."""

from __future__ import annotations

import re
import time

import pytest

from .helpers import exceptions, goto_lab, wait_idle, wait_rerun

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _shot(page, artifacts, name: str) -> None:
    page.screenshot(path=str(artifacts / f"lab_{name}.png"), full_page=False)


def _wait_text(page, pattern: str, timeout: float = 240.0) -> str:
    """Poll the page text until ``pattern`` (a regex) matches; return the match."""
    deadline = time.time() + timeout
    rx = re.compile(pattern)
    while time.time() < deadline:
        m = rx.search(page.locator('[data-testid="stMain"]').inner_text())
        if m:
            return m.group(0)
        time.sleep(1.0)
    raise AssertionError(f"never saw {pattern!r}")


def _charts(page) -> int:
    return page.locator('[data-testid="stPlotlyChart"]').count()


def _images(page) -> int:
    return page.locator('[data-testid="stImage"] img, [data-testid="stFullScreenFrame"] img').count()


def _at_least(count, page, n: int, timeout: float = 60.0) -> int:
    """``count(page)`` once it reaches ``n``, or its last value after ``timeout`` seconds.

    The script run can be over before the browser shows what it sent: Streamlit loads its plotly
    component lazily (a few MB of JavaScript, parsed on first use in a tab), so a chart's element
    appears some time after the run's last message on a busy machine. A chart that never comes
    still fails the assertion that follows."""
    deadline = time.time() + timeout
    while (c := count(page)) < n and time.time() < deadline:
        time.sleep(0.25)
    return c


def test_loss_lab(server, page, artifacts):
    goto_lab(page, server["url"], "Loss Lab")
    assert not exceptions(page)
    assert _at_least(_images, page, 1) >= 1  # the picked images / feature maps
    page.locator('[data-testid="stButtonGroup"] button', has_text=re.compile("What does each loss see")).first.click()
    page.get_by_role("button", name="Run the study").click()
    wait_rerun(page, timeout=300)
    assert not exceptions(page)
    assert _at_least(_charts, page, 1) >= 1
    page.locator('[data-testid="stButtonGroup"] button', has_text=re.compile("Mixing desk")).first.click()
    page.get_by_role("button", name="▶ Start / restart", exact=True).click()
    step = _wait_text(page, r"step ([3-9]|\d\d+) / \d+")
    page.get_by_role("button", name="■ Stop", exact=True).first.click()  # the desk's (the ablation grid has one too)
    wait_idle(page, timeout=120)
    assert not exceptions(page)
    assert int(step.split()[1]) >= 3
    assert _at_least(_charts, page, 1) >= 1 and _at_least(_images, page, 1) >= 1
    _shot(page, artifacts, "loss")


def test_aesthetics_lab(server, page, artifacts):
    goto_lab(page, server["url"], "Aesthetics Lab")
    assert not exceptions(page)
    text = page.locator('[data-testid="stMain"]').inner_text()
    assert "Colourfulness" in text or "Colorfulness" in text
    assert _at_least(_charts, page, 1) >= 1  # the radar chart
    assert re.search(r"\d+\.\d", text), "no numbers in the report card"
    _shot(page, artifacts, "aesthetics")
    page.locator('[data-testid="stButtonGroup"] button', has_text=re.compile("Adjust")).first.click()
    page.get_by_role("button", name="▶ Start", exact=True).click()
    wait_rerun(page, timeout=300)
    # the live view redraws on the browser's timer and the script is idle in between: wait for the
    # curves (they come with the run's first drawn rows), not for the first quiet moment
    deadline = time.time() + 300
    while _charts(page) < 2 and time.time() < deadline:
        time.sleep(0.5)
    wait_idle(page, timeout=300)
    assert not exceptions(page)
    assert _charts(page) >= 2  # per-term curves appear


def _gan_step(page) -> int | None:
    texts = page.locator('[data-testid="stPlotlyChart"] .gtitle').all_text_contents()
    for t in texts:
        m = re.fullmatch(r"step (\d+)", t.strip())
        if m:
            return int(m.group(1))
    return None


def test_gan_lab(server, page, artifacts):
    goto_lab(page, server["url"], "GAN Lab")
    assert not exceptions(page)
    page.get_by_role("button", name=re.compile(r"^Train \d+$")).click()
    wait_rerun(page, timeout=300)
    deadline = time.time() + 120
    while (_gan_step(page) or 0) < 100 and time.time() < deadline:
        time.sleep(1)
    start = _gan_step(page)
    assert start is not None and start >= 100, start
    # Play: the 2-D view must keep redrawing while it trains; measure how often
    page.get_by_role("button", name="▶ Play").click()
    seen, t0 = [], time.time()
    while time.time() - t0 < 8.0:
        s = _gan_step(page)
        if s is not None and (not seen or s != seen[-1]):
            seen.append(s)
        time.sleep(0.05)
    page.get_by_role("button", name="⏸ Pause").click()
    wait_idle(page, timeout=60)
    assert not exceptions(page)
    redraws_per_s = (len(seen) - 1) / 8.0
    (artifacts / "gan_redraw_rate.txt").write_text(
        f"2-D GAN page while playing: {redraws_per_s:.2f} redraws/s over 8 s (steps seen: {seen[:5]} ... {seen[-3:]})\n")
    assert len(seen) >= 3 and seen[-1] > start, seen
    _shot(page, artifacts, "gan")


def test_style_studio(server, page, artifacts):
    goto_lab(page, server["url"], "Style Studio")
    assert not exceptions(page)
    page.get_by_role("button", name="▶ Start", exact=True).click()
    step = _wait_text(page, r"step ([3-9]|\d\d+) / \d+")
    page.get_by_role("button", name="■ Stop", exact=True).click()
    wait_idle(page, timeout=120)
    assert not exceptions(page)
    assert int(step.split()[1]) >= 3
    assert _at_least(_charts, page, 1) >= 1 and _at_least(_images, page, 2) >= 2  # live preview + pickers
    _shot(page, artifacts, "style")
    page.locator('[data-testid="stButtonGroup"] button', has_text=re.compile("Pretrained")).first.click()
    wait_idle(page, timeout=180)
    assert not exceptions(page)
    assert _at_least(_images, page, 2) >= 2
    _shot(page, artifacts, "style_fast")


def test_inpainting_lab_canvas_fill_and_hand_over(server, page, artifacts):
    goto_lab(page, server["url"], "Inpainting Lab")
    assert not exceptions(page)
    # Draw a stroke on the streamlit-drawable-canvas (a real browser is the only place it runs)
    canvas = page.locator(".st-key-inp_canvas canvas.upper-canvas").first
    canvas.wait_for(timeout=120_000)
    box = canvas.bounding_box()
    assert box and box["width"] > 100
    x0, y0 = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.4
    page.mouse.move(x0, y0)
    page.mouse.down()
    for i in range(1, 11):
        page.mouse.move(x0 + i * box["width"] * 0.04, y0 + i * box["height"] * 0.02)
    page.mouse.up()
    wait_rerun(page, timeout=120)
    coverage = _wait_text(page, r"Mask · (\d+)% of the pixels", timeout=120)
    assert int(re.search(r"(\d+)%", coverage).group(1)) >= 1, coverage
    # Fill it with the default methods (classical + the shipped U-Net) and read the scores
    page.get_by_role("button", name="Fill the hole").click()
    wait_rerun(page, timeout=300)
    assert not exceptions(page)
    text = page.locator('[data-testid="stMain"]').inner_text()
    assert "Telea" in text and "seam" in text
    assert _at_least(_images, page, 6) >= 6
    _shot(page, artifacts, "inpainting")
    # Repair, then stylise: the result appears in the Style Studio's "This session" source
    page.get_by_role("button", name=re.compile("Repair, then stylise")).click()
    wait_rerun(page, timeout=180)
    page.get_by_text("Style Studio").first.wait_for()
    wait_idle(page, timeout=180)
    assert "This session's results: Inpainted" in page.locator('[data-testid="stSidebar"]').inner_text()
    assert page.get_by_text("This session", exact=True).count() >= 1
    assert not exceptions(page)
