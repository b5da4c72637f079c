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
