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


# ----------------------------------------------------------------------------- what a teacher sees
#: Text that must never reach the screen: a Python repr, a docstring section, a module path.
RAW_OBJECT_PATTERNS = (r"object at 0x[0-9a-fA-F]+", r"<stylelab\.", r"(?m)^\s*(Args|Returns|Raises|Shape):\s*$")


def switch_page(page: Page, title: str, timeout: float = 180.0) -> None:
    """Follow the sidebar link to ``title`` inside the same session (no reload: session state stays)."""
    page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
    page.wait_for_load_state()
    time.sleep(0.5)
    wait_idle(page, timeout=timeout)


def error_boxes(page: Page) -> list[str]:
    """The text of every red error box (``st.error``) and every exception block on the page."""
    return (page.locator('[data-testid="stAlertContentError"]').all_inner_texts()
            + page.locator('[data-testid="stException"]').all_inner_texts())


def raw_object_text(page: Page) -> list[str]:
    """Fragments of the page text that look like a Python object or a docstring printed by mistake."""
    import re

    text = page.locator('[data-testid="stApp"]').inner_text()
    return [m.group(0) for p in RAW_OBJECT_PATTERNS for m in re.finditer(p, text)]


def document_top(locator) -> float:
    """Top of the element in page coordinates with every scroll container at its top: where it
    appears on a freshly opened page (``< viewport height`` = inside the first screen)."""
    return float(locator.evaluate(
        """el => { let top = el.getBoundingClientRect().top; let p = el.parentElement;
                   while (p) { top += p.scrollTop; p = p.parentElement; }
                   return top + window.scrollY; }"""))


def plotly_traces(page: Page, key: str) -> list[dict]:
    """The traces (name, x, y) of the plotly chart made with ``st.plotly_chart(..., key=key)``, as drawn."""
    return page.locator(f".st-key-{key} .js-plotly-plot").first.evaluate("""gd => {
        const types = {f8: Float64Array, f4: Float32Array, i4: Int32Array, i2: Int16Array, i1: Int8Array,
                       u4: Uint32Array, u2: Uint16Array, u1: Uint8Array};
        const values = v => {  // plotly.py sends numpy arrays as {dtype, bdata (base64)}
            if (!v) return [];
            if (v.bdata === undefined) return Array.from(v);  // numbers, or category names
            const bin = atob(v.bdata), buf = new Uint8Array(bin.length);
            for (let i = 0; i < bin.length; i++) buf[i] = bin.charCodeAt(i);
            return Array.from(new types[v.dtype](buf.buffer), Number);
        };
        return gd.data.map(t => ({name: t.name || '', x: values(t.x), y: values(t.y)}));
    }""")


def image_pixels(page: Page, img_locator):
    """The pixels of a displayed ``<img>`` (fetched from the server), as a float array in [0, 1]."""
    import io
    from urllib.parse import urljoin

    import numpy as np
    from PIL import Image

    src = img_locator.get_attribute("src")
    if src.startswith("data:"):
        import base64

        data = base64.b64decode(src.split(",", 1)[1])
    else:
        data = page.request.get(urljoin(page.url, src)).body()
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.float64) / 255.0


def set_slider(page: Page, key: str, keys: list[str]) -> str:
    """Focus the slider widget ``key`` and press ``keys`` (e.g. ["ArrowRight"]); return the value it shows."""
    thumb = page.locator(f".st-key-{key} input[type='range']").first
    thumb.focus()
    for k in keys:
        thumb.press(k)
    wait_rerun(page)
    return slider_value(page, key)


def slider_value(page: Page, key: str) -> str:
    """The value a slider widget shows on its thumb (its ``aria-valuetext``, also readable when hidden)."""
    return page.locator(f".st-key-{key} input[type='range']").first.get_attribute("aria-valuetext").strip()


def cut_labels(page: Page) -> list[str]:
    """Visible text cut off by its box (wider than it, overflow hidden/clip): '🆕 New…', 'Open Style Studic',
    a select box showing 'minimax (satura'."""
    return page.evaluate("""() => {
        const out = [];
        for (const el of document.querySelectorAll('[data-testid="stApp"] p, [data-testid="stApp"] span, '
                                                   + '[data-testid="stApp"] label, [data-testid="stApp"] button, '
                                                   + '[data-testid="stApp"] a, [data-testid="stApp"] div[value]')) {
            if (!el.offsetParent || !el.innerText || !el.innerText.trim()) continue;
            if (el.clientWidth <= 2 || el.closest('.katex')) continue;  // screen-reader-only text, MathML twins
            const cs = getComputedStyle(el);
            const clipped = ['hidden', 'clip'].includes(cs.overflowX) || cs.textOverflow === 'ellipsis';
            if (clipped && el.scrollWidth > el.clientWidth + 1) out.push(el.innerText.trim().slice(0, 80));
        }
        for (const el of document.querySelectorAll('[data-testid="stApp"] input[role="combobox"]')) {
            // a select box shows its choice in an <input>: cut when the text is wider than the box
            if (el.offsetParent && el.value && el.scrollWidth > el.clientWidth + 1) out.push(el.value.slice(0, 80));
        }
        return [...new Set(out)];
    }""")
