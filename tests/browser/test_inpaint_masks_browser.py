"""Mask editing on the Inpainting Lab's canvas in a real browser: brush, eraser, undo, clear, every method."""

from __future__ import annotations

import re
import time

import pytest

from .helpers import error_boxes, exceptions, goto_lab, wait_idle, wait_rerun

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MASK_CAPTION = re.compile(r"Mask · (\d+)% of the pixels")
EMPTY_HINT = "Paint over the part of the picture you want to remove."


def _main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def _coverage(page, timeout: float = 120.0) -> int | None:
    """The mask's coverage in % from its caption, or None once the page asks to paint (empty mask)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        text = _main_text(page)
        m = MASK_CAPTION.search(text)
        if m:
            return int(m.group(1))
        if EMPTY_HINT in text:
            return None
        time.sleep(1.0)
    raise AssertionError(f"neither the mask caption nor the empty-mask hint appeared: {_main_text(page)[:1500]!r} "
                         f"{exceptions(page)} {error_boxes(page)}")


def _stroke(page, y_share: float = 0.4) -> None:
    canvas = page.locator(".st-key-inp_canvas canvas.upper-canvas").first
    canvas.wait_for(timeout=120_000)
    box = canvas.bounding_box()
    assert box and box["width"] > 100
    x0, y0 = box["x"] + box["width"] * 0.2, box["y"] + box["height"] * y_share
    page.mouse.move(x0, y0)
    page.mouse.down()
    for i in range(1, 16):
        page.mouse.move(x0 + i * box["width"] * 0.04, y0)
    page.mouse.up()
    wait_rerun(page, timeout=120)


def _sidebar_radio(page, label: str) -> None:
    page.locator('[data-testid="stSidebar"] label', has_text=re.compile(f"^{label}$")).first.click()
    wait_rerun(page, timeout=120)


def _sidebar_button(page, name: str) -> None:
    page.locator('[data-testid="stSidebar"]').get_by_role("button", name=name).click()
    wait_rerun(page, timeout=120)


def test_brush_eraser_undo_clear_and_every_method(server, page, artifacts):
    goto_lab(page, server["url"], "Inpainting Lab")
    assert not exceptions(page)
    assert _coverage(page) is None  # nothing drawn yet
    _stroke(page, 0.4)
    painted = _coverage(page)
    assert painted is not None and painted >= 2, painted
    _stroke(page, 0.7)  # a second stroke elsewhere
    two = _coverage(page)
    assert two is not None and two > painted, (painted, two)
    _sidebar_button(page, "Undo")  # drops the second stroke
    assert _coverage(page) == painted
    _sidebar_radio(page, "Eraser")
    _stroke(page, 0.4)  # erase exactly the first stroke: nothing is left
    assert _coverage(page) is None
    _sidebar_button(page, "Undo")  # the erasing undone: the first stroke is back
    assert _coverage(page) == painted
    page.screenshot(path=str(artifacts / "inpaint_masks_undo.png"))
    # the same mask on every method, side by side
    page.get_by_role("button", name="Every method, side by side").click()
    wait_rerun(page, timeout=400)
    wait_idle(page, timeout=400)
    text = _main_text(page)
    assert "The same hole, every method" in text and "Telea" in text and "Biharmonic" in text
    assert not exceptions(page)
    page.screenshot(path=str(artifacts / "inpaint_masks_every.png"), full_page=True)
    _sidebar_button(page, "Clear mask")
    assert _coverage(page) is None
    assert not exceptions(page)
