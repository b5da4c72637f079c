"""Small helpers for driving Streamlit pages in Playwright."""

from __future__ import annotations

import time

from playwright.sync_api import Page


def script_state(page: Page) -> str | None:
    """Streamlit's own run state on the app root: ``running`` or ``notRunning``."""
    return page.locator('[data-testid="stApp"]').first.get_attribute("data-test-script-state")


def wait_idle(page: Page, timeout: float = 120.0, settle: float = 0.5) -> None:
    """Wait until Streamlit's script run finished (``notRunning`` and no spinner), twice in a row."""
    deadline = time.time() + timeout
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout * 1000)
    calm = 0
    while time.time() < deadline:
        running = script_state(page) == "running" or page.locator('[data-testid="stSpinner"]').count() > 0
        calm = 0 if running else calm + 1
        if calm >= 2:
            return
        time.sleep(settle)
    raise TimeoutError("Streamlit kept running")


def open_page(page: Page, url: str, path: str = "") -> None:
    page.goto(f"{url}/{path}")
    wait_idle(page)


def exceptions(page: Page) -> list[str]:
    return page.locator('[data-testid="stException"]').all_inner_texts()


def goto_lab(page: Page, url: str, title: str) -> None:
    """Open the app and follow the sidebar link to a lab (robust to URL naming)."""
    open_page(page, url)
    page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
    page.wait_for_load_state()
    time.sleep(0.5)
    wait_idle(page, timeout=180)


def wait_uploaded(page: Page, name: str, timeout: float = 180.0) -> None:
    """After ``set_input_files``: wait until Streamlit lists ``name`` as the uploaded file and
    the rerun it triggers has finished (the status widget shows, then goes away)."""
    page.locator('[data-testid="stFileChipName"]', has_text=name).first.wait_for(timeout=timeout * 1000)
    wait_rerun(page, timeout)


def wait_rerun(page: Page, timeout: float = 180.0) -> None:
    """After an action: give the rerun it triggers a moment to start, then wait until it is done."""
    t0 = time.time()
    while script_state(page) != "running" and time.time() - t0 < 2.0:
        time.sleep(0.1)  # a fast rerun may already be over: then this simply times out
    wait_idle(page, timeout=timeout)
