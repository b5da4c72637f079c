"""Small helpers for driving Streamlit pages in Playwright."""

from __future__ import annotations

import time

from playwright.sync_api import Page


def wait_idle(page: Page, timeout: float = 120.0, settle: float = 0.5) -> None:
    """Wait until Streamlit's script run finished (no 'Running...' status widget), twice in a row."""
    deadline = time.time() + timeout
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout * 1000)
    calm = 0
    while time.time() < deadline:
        running = page.locator('[data-testid="stStatusWidget"]').count() > 0
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
    try:  # the rerun may be too quick to observe; don't fail on that
        page.locator('[data-testid="stStatusWidget"]').first.wait_for(state="visible", timeout=3000)
    except Exception:  # noqa: BLE001 - Playwright TimeoutError: the rerun already finished
        pass
    wait_idle(page, timeout=timeout)
