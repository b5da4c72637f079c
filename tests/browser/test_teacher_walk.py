"""A teacher's walk: every page at 1400x900, each lab's main actions with their defaults, in ONE
browser session (as a teacher would click through before a class).

What it asserts, at every step: no red error box and no exception; no raw Python object text
(``object at 0x``, a docstring's ``Args:`` block, ``<stylelab.``). Per lab: the main picture is inside
the first screen (top < 900 px with the page scrolled to the top) while it runs; one control keeps
its value across a page switch; the lesson demo makes its point, read from the numbers and images
the page shows. Screenshots of every step go to tests/artifacts/teacher_walk/ (NN_step.png).

The tests run in file order and share the session (module-scoped page); each starts by switching to
its lab through the sidebar, so one failure does not hide the next lab's.
"""

from __future__ import annotations

import math
import re
import time

import numpy as np
import pytest

from .helpers import (
    cut_labels,
    document_top,
    error_boxes,
    image_pixels,
    open_page,
    plotly_traces,
    raw_object_text,
    set_slider,
    slider_value,
    switch_page,
    wait_idle,
    wait_rerun,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDTH, HEIGHT = 1400, 900  # a projector-sized screen
MAIN = '[data-testid="stMain"]'


class Walk:
    """The teacher's tab: one page, numbered screenshots, the checks made after every step."""

    def __init__(self, page, url: str, folder):
        self.page, self.url, self.folder, self.n = page, url, folder, 0
        self.cut: dict[str, list[str]] = {}  # step -> labels cut off by their box (asserted at the end)
        self.numbers: list[str] = []  # what the lesson demos showed, written to lesson_numbers.txt
        self.tops: dict[str, tuple[float, str]] = {}  # lab -> (top of its main picture while it runs, what)

    def shot(self, name: str) -> None:
        self.n += 1
        self.page.screenshot(path=str(self.folder / f"{self.n:02d}_{name}.png"), full_page=False)

    def shot_first_screen(self, name: str) -> None:
        """Scroll every container to the top, screenshot what a freshly opened page shows."""
        self.page.evaluate("() => { for (const el of document.querySelectorAll('*')) "
                           "{ if (el.scrollTop) el.scrollTop = 0; } window.scrollTo(0, 0); }")
        self.shot(f"{name}_first_screen")

    def check(self, name: str) -> None:
        """Screenshot, then: no error box, no exception, no raw object text on screen (cut labels: noted)."""
        self.shot(name)
        cut = cut_labels(self.page)
        if cut:
            self.cut[name] = cut
        errors = error_boxes(self.page)
        assert not errors, f"{name}: error box on the page: {errors}"
        raw = raw_object_text(self.page)
        assert not raw, f"{name}: raw object/docstring text on the page: {raw}"

    def text(self) -> str:
        return self.page.locator(MAIN).inner_text()

    def wait_text(self, pattern: str, timeout: float = 240.0) -> re.Match:
        """Poll the main area's text until the regex matches; return the match."""
        deadline, rx = time.time() + timeout, re.compile(pattern)
        while time.time() < deadline:
            m = rx.search(self.text())
            if m:
                return m
            time.sleep(0.5)
        raise AssertionError(f"never saw {pattern!r} on the page")

    def image(self, caption: str | re.Pattern):
        """The ``<img>`` of the st.image whose caption matches."""
        return self.page.locator('[data-testid="stImage"]', has=self.page.locator(
            '[data-testid="stImageCaption"]', has_text=caption)).locator("img").first

    def measure_first_screen(self, lab: str, locator, what: str) -> None:
        """Where the lab's main picture starts (asserted in test_main_picture_in_the_first_screen)."""
        self.tops[lab] = (document_top(locator), what)

    def tab(self, name: str) -> None:
        """Open a tab (st.tabs) or a segmented-control choice (left as it is when already chosen)."""
        tab = self.page.get_by_role("tab", name=re.compile(name))
        if tab.count():
            tab.first.click()
        else:
            choice = self.page.locator('[data-testid="stButtonGroup"] button', has_text=re.compile(name)).first
            if choice.get_attribute("aria-checked") == "true":
                return
            choice.click()
        wait_rerun(self.page)


@pytest.fixture(scope="module")
def walk(server, browser, artifacts):
    folder = artifacts / "teacher_walk"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    ctx = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    open_page(page, server["url"])
    walk = Walk(page, server["url"], folder)
    yield walk
    (folder / "lesson_numbers.txt").write_text("\n".join(walk.numbers) + "\n")
    ctx.close()


def _survives_switch(walk: Walk, key: str, press: list[str], back: list[str], lab: str,
                     reopen: str | None = None) -> None:
    """Move slider ``key``, go Home and back to ``lab``, check it still shows the moved value; undo."""
    page = walk.page
    before = slider_value(page, key)
    moved = set_slider(page, key, press)
    assert moved != before, f"{key}: pressing {press} did not move it"
    switch_page(page, "Home")
    switch_page(page, lab)
    if reopen:
        walk.tab(reopen)
    walk.shot(f"{key}_after_switch")
    now = slider_value(page, key)
    set_slider(page, key, back)  # leave the lab as the next step expects it
    assert now == moved, f"{key} was {moved!r} before the page switch and {now!r} after"


# ----------------------------------------------------------------------------- home
def test_home(walk):
    walk.check("home")
    assert walk.page.locator('[data-testid="stSidebarNav"]').get_by_text("Loss Lab", exact=True).count() == 1


# ----------------------------------------------------------------------------- Loss Lab
def test_loss_lab_layer_caption_matches_the_bars(walk):
    page = walk.page
    switch_page(page, "Loss Lab")
    walk.tab("See it")
    page.locator(".st-key-loss_bars .js-plotly-plot").first.scroll_into_view_if_needed()
    walk.check("loss_layer_bars")
    content = next(t for t in plotly_traces(page, "loss_bars") if t["name"] == "content")
    layers, values = content["x"], [float(v) for v in content["y"]]
    m = re.search(r"Content loss (grows with depth|falls with depth|peaks at (\w+))", walk.text())
    assert m, "no caption that says what the content-loss bars do"
    walk.numbers.append(f"Loss Lab bars: content loss per layer {dict(zip(layers, values))}; caption: {m.group(0)!r}")
    if m.group(2):
        assert m.group(2) == layers[values.index(max(values))], f"caption {m.group(0)!r} vs bars {dict(zip(layers, values))}"
    else:
        rising = all(b > a for a, b in zip(values, values[1:]))
        assert rising == m.group(1).startswith("grows"), f"caption {m.group(0)!r} vs bars {dict(zip(layers, values))}"


def test_loss_lab_main_run(walk):
    page = walk.page
    switch_page(page, "Loss Lab")
    walk.check("loss_open")
    walk.tab("Mixing desk")
    page.get_by_role("button", name="▶ Start / restart", exact=True).click()
    walk.wait_text(r"step ([3-9]|\d\d+) / \d+ · [\d.]+ s · running", timeout=180)
    result = walk.image(re.compile(r"result after \d+ steps"))
    walk.shot("loss_desk_running")
    walk.measure_first_screen("loss", result, "the mixing-desk result")
    walk.shot_first_screen("loss_desk_running")
    walk.wait_text(r"step (\d+) / \1 · [\d.]+ s · done", timeout=180)  # the default run to its end
    wait_idle(page)
    walk.check("loss_desk_done")


def test_loss_lab_ablation_without_style_looks_like_the_photo(walk):
    page = walk.page
    switch_page(page, "Loss Lab")
    walk.tab("Mixing desk")
    page.get_by_role("button", name="Run the ablation grid").click()
    wait_rerun(page, timeout=300)
    walk.wait_text(r"without style", timeout=300)
    tile = walk.image(re.compile(r"^without style"))
    tile.scroll_into_view_if_needed()
    walk.check("loss_ablation")
    photo = image_pixels(page, walk.image(re.compile(r"^content \d+x\d+")))
    without_style = image_pixels(page, tile)
    assert without_style.shape == photo.shape, (without_style.shape, photo.shape)
    psnr = 10 * math.log10(1.0 / max(1e-12, float(np.mean((without_style - photo) ** 2))))
    noise = _total_variation(without_style) / _total_variation(photo)
    # Content + TV alone, started from the photo, must stay the photo: no added speckle (its total variation
    # at most 1.25x the photo's; rainbow noise doubles it) and close in pixels (>= 25 dB; the noisy tile: ~20 dB).
    walk.numbers.append(f"Loss Lab ablation: 'without style' tile {psnr:.1f} dB from the photo, {noise:.2f}x its TV")
    assert noise <= 1.25 and psnr >= 25.0, (f"the 'without style' tile does not look like the photo: {psnr:.1f} dB "
                                            f"from it, {noise:.2f}x its total variation (speckle)")


def _total_variation(x: np.ndarray) -> float:
    """Mean absolute difference of neighbouring pixels (H, W, 3): high for speckle noise."""
    return float(np.abs(np.diff(x, axis=0)).mean() + np.abs(np.diff(x, axis=1)).mean())


def test_loss_lab_controls_survive_a_page_switch(walk):
    switch_page(walk.page, "Loss Lab")
    walk.tab("Mixing desk")
    _survives_switch(walk, "loss_w_tv", ["End"], ["Home", "ArrowRight", "ArrowRight", "ArrowRight"], "Loss Lab",
                     reopen="Mixing desk")


# ----------------------------------------------------------------------------- Style Studio
def test_style_studio_gatys(walk):
    page = walk.page
    switch_page(page, "Style Studio")
    walk.check("style_open")
    page.get_by_role("button", name="▶ Start", exact=True).click()
    walk.wait_text(r"step ([3-9]|\d\d+) / \d+", timeout=180)
    preview = walk.image("live preview")
    walk.shot("style_gatys_running")
    walk.measure_first_screen("style", preview, "the Gatys live preview")
    walk.shot_first_screen("style_gatys_running")
    page.get_by_role("button", name="■ Stop", exact=True).click()
    wait_idle(page, timeout=180)
    walk.check("style_gatys_result")


def test_style_studio_pretrained_styles(walk):
    page = walk.page
    switch_page(page, "Style Studio")
    walk.tab("Pretrained")
    wait_idle(page, timeout=180)
    walk.check("style_pretrained")
    text = walk.text()
    assert not re.search(r"\bstyle \d\d\b", text), "the pretrained styles are still called 'style NN'"
    assert page.locator(f'{MAIN} [data-testid="stImage"] img').count() >= 2


def test_style_studio_controls_survive_a_page_switch(walk):
    switch_page(walk.page, "Style Studio")
    _survives_switch(walk, "style_size", ["ArrowLeft"], ["ArrowRight"], "Style Studio")
    active = walk.page.locator('.st-key-style_method button[aria-checked="true"]').first.inner_text()
    assert "Pretrained" in active, f"the method went back to {active!r} after a page switch"


# ----------------------------------------------------------------------------- GAN Lab
def _gan_step(page) -> int | None:
    for t in page.locator('[data-testid="stPlotlyChart"] .gtitle').all_text_contents():
        m = re.fullmatch(r"step (\d+)", t.strip())
        if m:
            return int(m.group(1))
    return None


def test_gan_lab_play(walk):
    page = walk.page
    switch_page(page, "GAN Lab")
    walk.check("gan_open")
    page.get_by_role("button", name="▶ Play").click()
    t0, first = time.time(), None
    while time.time() - t0 < 60 and (first is None or (_gan_step(page) or 0) <= first):
        s = _gan_step(page)
        first = s if first is None else first
        time.sleep(0.5)
    drawn, t0 = False, time.time()
    while not drawn and time.time() - t0 < 20:  # the live view redraws each tick: catch it with its points drawn
        drawn = page.locator(".st-key-gan_points_chart .scatterlayer .point").count() > 0
        time.sleep(0.2)
    walk.shot("gan_playing")
    chart = page.locator(".st-key-gan_points_chart").first
    walk.measure_first_screen("gan", chart, "the live 2-D view")
    walk.shot_first_screen("gan_playing")
    page.locator(".st-key-gan_play button").click()
    play = page.locator(".st-key-gan_play button", has_text="Play")
    play.wait_for(timeout=120_000)  # the label turns back to Play once the click's rerun has run
    wait_idle(page, timeout=120)
    walk.check("gan_paused")
    assert drawn, "the live 2-D chart never showed its points in 20 s of playing"
    assert (_gan_step(page) or 0) > (first or 0), "the 2-D GAN did not advance while playing"


def test_gan_lab_controls_survive_a_page_switch(walk):
    switch_page(walk.page, "GAN Lab")
    _survives_switch(walk, "gan_lr_g", ["ArrowLeft"], ["ArrowRight"], "GAN Lab")


def test_gan_lab_compare_two_losses_shows_the_stall(walk):
    page = walk.page
    switch_page(page, "GAN Lab")
    walk.tab("Compare two losses")
    page.get_by_role("button", name="Run the comparison").click()
    wait_rerun(page, timeout=400)
    walk.wait_text(r"after \d+ steps: mean gradient", timeout=300)
    page.locator(".st-key-gan_cmp_chart").first.scroll_into_view_if_needed()
    walk.check("gan_compare")
    # the stall measures the page prints under each run (run A: minimax, saturating; run B: non-saturating)
    text = walk.text()
    runs = {}
    for loss in ("minimax (saturating)", "non-saturating"):
        m = re.search(re.escape(loss) + r" after \d+ steps: mean gradient ([\d.e+-]+), samples moved ([\d.]+)", text)
        assert m, f"no stall measures printed for the {loss} run"
        runs[loss] = (float(m.group(1)), float(m.group(2)))
    (g_mm, moved_mm), (g_ns, moved_ns) = runs["minimax (saturating)"], runs["non-saturating"]
    walk.numbers.append(f"GAN compare: mean gradient minimax {g_mm:.2g} vs non-saturating {g_ns:.2g}; "
                        f"samples moved {moved_mm:.2f} vs {moved_ns:.2f}")
    assert g_mm * 10 <= g_ns and moved_mm * 2 <= moved_ns, (
        f"the saturating loss should visibly stall with the defaults: mean gradient {g_mm:.2g} vs {g_ns:.2g}, "
        f"samples moved {moved_mm:.2f} vs {moved_ns:.2f}")


def test_gan_lab_new_image_run(walk):
    page = walk.page
    switch_page(page, "GAN Lab")
    setup = page.get_by_text(re.compile(r"^Set-up"))
    if page.locator(".st-key-gan_kind").count() == 0 or not page.locator(".st-key-gan_kind").first.is_visible():
        setup.first.click()
    page.locator(".st-key-gan_kind").get_by_text("Images", exact=True).click()
    wait_rerun(page)
    page.get_by_role("button", name=re.compile("New run")).click()
    wait_rerun(page, timeout=400)
    walk.wait_text(r"Step \d+", timeout=300)
    walk.check("gan_images_new_run")
    page.get_by_role("button", name=re.compile(r"^Train \d+$")).click()
    wait_rerun(page, timeout=300)
    walk.check("gan_images_trained")


# ----------------------------------------------------------------------------- Inpainting Lab
def _draw_stroke(page) -> None:
    canvas = page.locator(".st-key-inp_canvas canvas.upper-canvas").first
    canvas.wait_for(timeout=120_000)
    box = canvas.bounding_box()
    x0, y0 = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.4
    page.mouse.move(x0, y0)
    page.mouse.down()
    for i in range(1, 11):
        page.mouse.move(x0 + i * box["width"] * 0.04, y0 + i * box["height"] * 0.02)
    page.mouse.up()
    wait_rerun(page, timeout=120)


def _inpaint_results(walk: Walk) -> int:
    return walk.page.locator('[data-testid="stImageCaption"]', has_text=re.compile(r"Telea|Navier|biharmonic|U-Net",
                                                                                  re.I)).count()


def test_inpainting_fill_with_default_methods(walk):
    page = walk.page
    switch_page(page, "Inpainting Lab")
    walk.check("inpaint_open")
    if page.locator(".st-key-inp_canvas").count():
        _draw_stroke(page)
    page.get_by_role("button", name="Fill the hole").click()
    wait_rerun(page, timeout=300)
    walk.wait_text(r"Telea", timeout=300)
    walk.check("inpaint_filled")
    assert _inpaint_results(walk) >= 3, "fewer than three filled results on the page"
    first = page.locator('[data-testid="stImage"]', has=page.locator('[data-testid="stImageCaption"]',
                                                                      has_text=re.compile("Telea", re.I))).first
    walk.measure_first_screen("inpainting", first, "the first filled result")


def test_inpainting_results_survive_a_page_switch(walk):
    page = walk.page
    switch_page(page, "Inpainting Lab")
    before = _inpaint_results(walk)
    assert before >= 3, "no results to keep (the fill step failed)"
    switch_page(page, "Home")
    switch_page(page, "Inpainting Lab")
    walk.check("inpaint_after_switch")
    assert _inpaint_results(walk) == before, "the filled results vanished after a page switch"


def test_inpainting_controls_survive_a_page_switch(walk):
    switch_page(walk.page, "Inpainting Lab")
    _survives_switch(walk, "inp_size", ["ArrowLeft"], ["ArrowRight"], "Inpainting Lab")


# ----------------------------------------------------------------------------- Aesthetics Lab
def test_aesthetics_score(walk):
    page = walk.page
    switch_page(page, "Aesthetics Lab")
    walk.check("aesthetics_score")
    text = walk.text()
    assert re.search(r"Colou?rfulness", text) and re.search(r"\d+\.\d", text)
    radar = page.locator(".st-key-aes_radar .js-plotly-plot").first
    box = radar.bounding_box()
    for label in radar.locator(".angularaxistick text, .angularaxis text").all():
        b = label.bounding_box()
        if b:  # every axis label is drawn inside the chart, not cut by its edge
            assert box["x"] - 1 <= b["x"] and b["x"] + b["width"] <= box["x"] + box["width"] + 1, \
                f"radar label {label.text_content()!r} is cut by the chart edge"


def test_aesthetics_adjust_raises_the_targeted_measures(walk):
    page = walk.page
    switch_page(page, "Aesthetics Lab")
    walk.tab("Adjust")
    weights = {t: float(slider_value(page, f"aes_w_{t}")) for t in ("colorfulness", "contrast")}
    page.get_by_role("button", name="▶ Start", exact=True).click()
    t0 = time.time()
    while time.time() - t0 < 300:  # a screenshot of the live picture while it runs, after its first step
        if walk.image(re.compile(r"^step [1-9]\d*$")).count():
            walk.shot("aesthetics_adjusting")
            break
        if page.locator(".st-key-aes_adj_measures").count():
            break
        time.sleep(0.3)
    wait_idle(page, timeout=300)
    after = walk.image(re.compile(r"^After \d+ steps"))
    # measured once the page is idle: the run draws inside the script run, while the page above it may be
    # half-drawn, so a mid-run position is not stable; the result stands where the live picture was
    walk.measure_first_screen("aesthetics", after, "the adjusted photo")
    after.scroll_into_view_if_needed()
    walk.check("aesthetics_adjusted")
    traces = {t["name"]: t["y"] for t in plotly_traces(page, "aes_adj_measures")}
    measure = {"colorfulness": "colorfulness", "contrast": "rms_contrast"}
    rises = {}
    for term, w in weights.items():
        if w > 0:
            ys = traces[measure[term]]
            rises[term] = (ys[0], ys[-1])
    assert rises, f"the defaults target neither colourfulness nor contrast: {weights}"
    walk.numbers.append("Aesthetics Adjust: " + ", ".join(f"{k} {a:.4g} -> {b:.4g}" for k, (a, b) in rises.items()))
    page.locator(".st-key-aes_adj_measures .js-plotly-plot").first.scroll_into_view_if_needed()
    walk.shot("aesthetics_measures_chart")
    for term, (a, b) in rises.items():
        assert b >= 1.10 * a, f"{term} only went from {a:.4g} to {b:.4g} with the default adjustment"


def test_aesthetics_controls_survive_a_page_switch(walk):
    switch_page(walk.page, "Aesthetics Lab")
    walk.tab("Report card")
    _survives_switch(walk, "aes_size", ["ArrowLeft"], ["ArrowRight"], "Aesthetics Lab")


# ----------------------------------------------------------------------------- everywhere
FIRST_SCREEN = [
    "loss",
    "style",
    "gan",
    "inpainting",
    "aesthetics",
]


@pytest.mark.parametrize("lab", FIRST_SCREEN)
def test_main_picture_in_the_first_screen(walk, lab):
    """Each lab's main picture, measured above while it ran, starts inside the first 1400x900 screen."""
    assert lab in walk.tops, f"{lab}: the main picture was never measured (its run step failed above)"
    top, what = walk.tops[lab]
    assert top < HEIGHT, f"{lab}: {what} starts at y={top:.0f} px: below the first {HEIGHT} px screen"


def test_no_label_is_cut_off(walk):
    """Every label, button and link seen on the walk shows its whole text (no 'Open Style Studic', no 'New…')."""
    switch_page(walk.page, "Home")
    walk.check("home_again")
    assert not walk.cut, f"text cut off by its box: {walk.cut}"
