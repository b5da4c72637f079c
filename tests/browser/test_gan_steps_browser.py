"""GAN Lab step mode in a real browser: draw your own points on the canvas (streamlit-drawable-canvas runs
only in a browser), start step mode on them, take a sub-step and an iteration, and read the view's text."""

from __future__ import annotations

import re
import time

import pytest

from .helpers import error_boxes, exceptions, goto_lab, raw_object_text, wait_rerun

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def _wait_text(page, pattern: str, timeout: float = 120.0) -> re.Match:
    deadline = time.time() + timeout
    rx = re.compile(pattern)
    while time.time() < deadline:
        m = rx.search(_main_text(page))
        if m:
            return m
        time.sleep(0.5)
    raise AssertionError(f"never saw {pattern!r}")


def test_draw_points_then_step_through_an_iteration(server, page, artifacts):
    goto_lab(page, server["url"], "GAN Lab")
    assert not exceptions(page)
    page.get_by_text(re.compile("Step mode: one step of training at a time")).first.click()
    page.get_by_text("Your own points", exact=True).first.click()
    wait_rerun(page)
    canvas = page.locator(".st-key-gan_steps_canvas canvas.upper-canvas").first
    canvas.wait_for(timeout=120_000)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box and box["width"] >= 300
    spots = [(0.25, 0.3), (0.75, 0.3), (0.5, 0.5), (0.3, 0.75), (0.5, 0.8), (0.7, 0.75)]  # a face
    for fx, fy in spots:
        page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
        wait_rerun(page, timeout=60)
    m = _wait_text(page, r"([\d,]+) points: the GAN learns a small Gaussian")
    assert int(m.group(1)) == len(spots), m.group(0)
    page.get_by_role("button", name="🆕 Start step mode").click()
    wait_rerun(page)
    _wait_text(page, r"iteration 1 · D step 1 of 1 · next: sample · 0 iterations done .* your own points")
    page.get_by_role("button", name="Next sub-step").click()
    wait_rerun(page)
    _wait_text(page, r"iteration 1 · D step 1 of 1 · next: scores")
    assert "A batch of" in _main_text(page)
    page.get_by_role("button", name="Iteration", exact=True).click()
    wait_rerun(page)
    _wait_text(page, r"iteration 2 · D step 1 of 1 · next: sample · 1 iteration done")
    assert "‖Δθ_G‖" in _main_text(page)  # the G update's size, next to the update's equation
    assert page.locator(".st-key-gan_steps_chart .js-plotly-plot").count() == 1
    assert not exceptions(page) and not error_boxes(page) and not raw_object_text(page)
    page.locator(".st-key-gan_steps_chart").first.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "lab_gan_steps.png"), full_page=False)
