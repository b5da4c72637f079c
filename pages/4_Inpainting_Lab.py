"""Inpainting Lab: draw a hole, fill it five ways, and see which loss does what.

The page only lays out widgets and calls ``stylelab.inpaint``; every equation lives there.
Session keys start with ``inp_``.
"""

from __future__ import annotations

import hashlib

import streamlit as st
from streamlit.errors import StreamlitAPIException

from stylelab.errors import StylelabError
from stylelab.ui import (
    download_image,
    download_record,
    equation,
    image_picker,
    keep,
    page_setup,
    push_result,
    select_result,
    show_error,
    show_image,
    upload_record,
    view_picker,
)
from stylelab.ui.charts import PALETTE, series_colours
from stylelab.ui.notebook_link import notebook_link

page_setup("Inpainting Lab", "🩹")

import torch  # noqa: E402  (after page_setup: the page frame shows while torch loads)

from stylelab import inpaint as ip  # noqa: E402

STYLE_STUDIO = "pages/2_Style_Studio.py"
MASK_TOOLS = ["Rectangle", "Random strokes", "Centre hole", "Upload a mask"]

st.title("🩹 Inpainting Lab")
st.markdown(
    "Cut a hole in a picture, fill it with classical algorithms, an untrained network "
    "(Deep Image Prior) and a trained U-Net, and compare them **inside the hole**. Then see what each "
    "training loss does to the same U-Net."
)
with st.expander("The mask convention and the composite", expanded=False):
    st.markdown("A mask holds **1 in the hole** (missing pixels) and **0 where the image is known**. "
                "Every method's prediction is pasted into the hole only, so known pixels never change:")
    equation(r"y = m \odot \hat x + (1 - m) \odot x", "Composite")


# ----------------------------------------------------------------------------- helpers (UI only)
def _canvas_available() -> bool:
    """The drawing canvas needs a real browser session (it cannot run under AppTest or bare mode)."""
    try:
        headers = st.context.headers
        return bool(headers) and any(k.lower() == "user-agent" for k in headers.keys())
    except (AttributeError, RuntimeError):
        return False


#: The last drawn mask (and the drawing it came from): the canvas itself forgets its strokes on a page switch.
DRAWN = "inp_drawn"
CANVAS_KEY = "inp_canvas_widget"


def _clear_drawing() -> None:
    st.session_state.pop(DRAWN, None)
    st.session_state["inp_canvas_gen"] = st.session_state.get("inp_canvas_gen", 0) + 1  # a new, empty canvas


def _draw_mask(image: torch.Tensor, area) -> torch.Tensor | None:
    """Brush / rectangle canvas over the image (streamlit-drawable-canvas) in ``area``, imported lazily.

    The last mask drawn is kept in session state with its drawing: the canvas comes back empty after a
    page switch, so it is handed its drawing back and, until new strokes arrive, the stored mask is used
    (the results stay). Only new strokes or "Clear mask" change it."""
    try:
        from streamlit_drawable_canvas import st_canvas
    except Exception as exc:  # the component raises StreamlitAPIException outside a served app
        st.warning(f"The drawing canvas is not available here ({type(exc).__name__}); use another mask tool.")
        return None
    from stylelab.imageio import to_pil

    h, w = image.shape[-2:]
    scale = max(1, 384 // max(h, w))
    mode = st.radio("Tool", ["freedraw", "rect"], horizontal=True, key=keep("inp_canvas_mode", "freedraw"),
                    format_func={"freedraw": "Brush", "rect": "Rectangle"}.get)
    brush = st.slider("Brush width (screen px)", 4, 60, key=keep("inp_canvas_brush", 24))
    stored = st.session_state.get(DRAWN)
    st.button("Clear mask", key="inp_clear_mask", on_click=_clear_drawing, disabled=stored is None,
              help="Forget the drawn hole and start a new drawing.")
    key = f"{CANVAS_KEY}_{st.session_state.get('inp_canvas_gen', 0)}"
    if key not in st.session_state:  # a fresh canvas (first visit, page switch, cleared): seed it once
        st.session_state["inp_canvas_seed"] = stored["drawing"] if stored else None
    with area, st.container(key="inp_canvas"):
        result = st_canvas(
            fill_color="rgba(255, 0, 255, 0.7)", stroke_width=brush, stroke_color="rgba(255, 0, 255, 0.7)",
            background_image=to_pil(image).resize((w * scale, h * scale)), width=w * scale, height=h * scale,
            drawing_mode=mode, return_image_data=True, initial_drawing=st.session_state["inp_canvas_seed"],
            key=key,
        )
    drawing = result.json_data or {}
    if drawing.get("objects") and (stored is None or drawing["objects"] != stored["drawing"].get("objects")):
        pixels = result.image_data
        if pixels is not None:  # new strokes: they replace the stored mask (and so clear the results)
            stored = {"drawing": {"objects": drawing["objects"]}, "pixels": pixels}
            st.session_state[DRAWN] = stored
    if stored is None:
        return None
    return ip.mask_from_image(stored["pixels"], size=(h, w))


def _make_mask(image: torch.Tensor, area) -> tuple[torch.Tensor | None, dict]:
    """The mask tool's controls where this is called (the sidebar); the drawing canvas and hints in ``area``."""
    h, w = image.shape[-2:]
    tools = (["Draw"] if _canvas_available() else []) + MASK_TOOLS
    tool = st.radio("Mask", tools, horizontal=True, key=keep("inp_tool", tools[0], tools),
                    help="Draw needs a browser; the other tools work everywhere.")
    settings: dict = {"tool": tool, "size": [h, w]}
    mask = None
    if tool == "Draw":
        mask = _draw_mask(image, area)
        if mask is None or not mask.any():
            area.info("Paint over the part of the picture you want to remove.")
            return None, settings
    elif tool == "Rectangle":
        c1, c2 = st.columns(2)
        x = c1.slider("Left (x)", 0, w - 2, key=keep("inp_rx", w // 3, range(w - 1)))
        y = c2.slider("Top (y)", 0, h - 2, key=keep("inp_ry", h // 3, range(h - 1)))
        rw = c1.slider("Width", 1, w, key=keep("inp_rw", w // 3, range(1, w + 1)))
        rh = c2.slider("Height", 1, h, key=keep("inp_rh", h // 4, range(1, h + 1)))
        settings.update(x=x, y=y, w=rw, h=rh)
        mask = ip.rect_mask(h, w, x, y, rw, rh)
    elif tool == "Random strokes":
        import numpy as np

        c1, c2 = st.columns(2)
        seed = c1.number_input("Seed", 0, 10_000, key=keep("inp_seed", 0))
        width = c2.slider("Brush width (share of the image)", 0.04, 0.25, key=keep("inp_sw", 0.12))
        settings.update(seed=int(seed), width=width)
        mask = ip.random_strokes(h, w, max_width=width, rng=np.random.default_rng(int(seed)))
    elif tool == "Centre hole":
        frac = st.slider("Hole area (share of the image)", 0.05, 0.6, key=keep("inp_cf", 0.2))
        settings.update(fraction=frac)
        mask = ip.center_mask(h, w, frac)
    else:
        up = st.file_uploader("Mask picture (white or painted = hole)", key="inp_mask_upload")
        invert = st.checkbox("Invert (black = hole)", key=keep("inp_invert", False))
        if up is None:
            area.info("Upload a black-and-white picture: white pixels become the hole.")
            return None, settings
        try:
            mask = ip.mask_from_image(up.getvalue(), size=(h, w), invert=invert)
        except StylelabError as exc:  # name the file; the previous results stay on the page
            show_error(exc, f"Could not use {up.name!r} as a mask")
            return None, settings
        settings.update(upload=up.name, invert=invert)
    radius = st.slider("Feather the edge (px)", 0, 8, key=keep("inp_feather", 0),
                       help="A soft band blends the fill into its surroundings.")
    settings["feather"] = radius
    ip.validate_mask(mask, size=(h, w))
    if radius:
        mask = ip.feather(mask, radius)
    return mask, settings


def _signature(image: torch.Tensor, mask: torch.Tensor) -> str:
    h = hashlib.sha1(image.detach().cpu().numpy().tobytes())
    h.update(mask.detach().cpu().numpy().tobytes())
    return h.hexdigest()[:16]


@st.cache_resource(show_spinner="Loading the trained inpainter...")
def _inpainter(name: str) -> ip.Inpainter:
    return ip.load_inpainter(name)


#: Score columns: key -> (human name, format, better: "max" / "min" / "target" = closest to the original's value).
SCORE_COLUMNS = {
    "psnr_hole": ("PSNR hole (dB) ↑", "{:.2f}", "max"),
    "ssim_hole": ("SSIM hole ↑", "{:.3f}", "max"),
    "lpips_hole": ("LPIPS hole ↓", "{:.3f}", "min"),
    "psnr_band": ("PSNR edge (dB) ↑", "{:.2f}", "max"),
    "ssim_band": ("SSIM edge ↑", "{:.3f}", "max"),
    "lpips_band": ("LPIPS edge ↓", "{:.3f}", "min"),
    "seam": ("Seam jump", "{:.3f}", "target"),
    "seconds": ("Time (s) ↓", "{:.2f}", "min"),
}


def _score_table(results: dict[str, dict]) -> None:
    """One row per method, human column names, the best value of each column highlighted."""
    import pandas as pd

    from stylelab.ui.tables import score_table

    truth_seam = next(iter(results.values()))["scores"].get("seam_truth")
    df = pd.DataFrame({name: {**r["scores"], "seconds": r["seconds"]} for name, r in results.items()}).T
    columns = dict(SCORE_COLUMNS)
    if truth_seam is not None:
        columns["seam"] = (f"Seam (original {truth_seam:.3f})", "{:.3f}", "target")
    else:
        columns.pop("seam")
    st.dataframe(score_table(df, columns, {"seam": truth_seam} if truth_seam is not None else None), width="stretch")
    st.caption("Best of each column in green (↑ higher is better, ↓ lower). **Hole**: the filled pixels; **edge**: a "
               "4 px band on both sides of the hole's border; **seam**: the mean step across the border (the original "
               "has one too: the closest to it is the least visible seam).")


def _score_chart(results: dict[str, dict], key: str) -> None:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    names = list(results)
    fig = make_subplots(rows=1, cols=3, subplot_titles=("PSNR in hole (dB) ↑", "SSIM in hole ↑", "LPIPS in hole ↓"))
    for col, key_ in enumerate(("psnr_hole", "ssim_hole", "lpips_hole"), start=1):
        fig.add_trace(go.Bar(x=names, y=[results[n]["scores"].get(key_, 0.0) for n in names], showlegend=False,
                             marker_color=list(series_colours(names).values())),  # a method: one colour in all three
                      row=1, col=col)
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=40, b=10))
    st.plotly_chart(fig, key=key)


def _show_pictures(results: dict[str, dict], per_row: int = 5) -> None:
    cols = st.columns(min(len(results), per_row))
    for i, (name, r) in enumerate(results.items()):
        with cols[i % len(cols)]:
            show_image(r["image"], caption=f"{name} · LPIPS {r['scores'].get('lpips_hole', float('nan')):.3f}")


def _show_results(results: dict[str, dict], prefix: str) -> None:
    _show_pictures(results)
    _score_table(results)
    _score_chart(results, key=f"{prefix}_chart")


def _result(image: torch.Tensor, truth: torch.Tensor, mask: torch.Tensor, seconds: float) -> dict:
    return {"image": image.detach().cpu(), "scores": ip.hole_scores(image, truth, mask), "seconds": seconds}


# ----------------------------------------------------------------------------- 1. image and mask
# On screen first: the hole (canvas) on the left, the filled results beside it; every control in the sidebar.
hole_col, fill_col = st.columns([1, 1])
with st.sidebar:
    st.subheader("1 · Picture and hole")
    size = st.select_slider("Working size (longer side, px)", [64, 96, 128, 192], key=keep("inp_size", 128, [64, 96, 128, 192]))
    truth = image_picker("Picture", key="inp_img", default="photo:astronaut", size=size)
if truth is None:
    hole_col.info("Pick or upload a picture in the sidebar to start.")
    st.stop()
with st.sidebar:
    try:
        mask, mask_settings = _make_mask(truth, hole_col)
    except StylelabError as exc:
        show_error(exc, "This mask cannot be used")
        st.stop()
if mask is None:
    st.stop()

damaged = truth * (1 - ip.hole(mask))  # the hole is blanked: no method can peek into it
sig = _signature(truth, mask)
with_hole = damaged + ip.hole(mask) * torch.tensor([1.0, 0.0, 1.0])[:, None, None]
if mask_settings["tool"] != "Draw":  # the canvas already shows the hole over the picture
    with hole_col:
        show_image(with_hole, "With the hole (magenta)")

# ----------------------------------------------------------------------------- 2. fill it
labels = {k: v.label for k, v in ip.METHODS.items()}
shipped = ip.list_checkpoints()
with st.sidebar:
    st.subheader("2 · Fill the hole")
    methods = st.multiselect("Methods", list(labels), format_func=labels.get,
                             key=keep("inp_methods", ["telea", "ns", "biharmonic"] + (["unet"] if shipped else []), labels))
    dip_iters = st.slider("DIP iterations", 50, 1200, step=50, key=keep("inp_dip_iters", 400),
                          help="Deep Image Prior optimises a fresh U-Net on this picture: more iterations, more detail.")
run_col, ckpt_col = fill_col.columns([1, 2], vertical_alignment="bottom")  # the checkpoint's long name needs room
ckpt = ckpt_col.selectbox("Trained U-Net", shipped, key=keep("inp_ckpt", ip.default_checkpoint(), shipped),
                          disabled=not shipped) if shipped else None

state = st.session_state.setdefault("inp_results", {"sig": None, "items": {}})
if state["sig"] != sig:
    state.update(sig=sig, items={})
    st.session_state.pop("inp_dip", None)

if run_col.button("Fill the hole", type="primary", key="inp_run"):
    import time

    state["items"] = {}
    for name in methods:
        if name == "dip":
            continue
        t0 = time.perf_counter()
        try:
            opts = {"model": _inpainter(ckpt)} if name == "unet" else {}
            out = ip.inpaint(damaged, mask, name, **opts)
        except StylelabError as exc:
            show_error(exc, f"{labels[name]} failed")
            continue
        state["items"][labels[name]] = _result(out, truth, mask, time.perf_counter() - t0)
    if "dip" in methods:
        st.session_state["inp_dip"] = {"fit": ip.DeepImagePrior(damaged, mask, ip.DIPConfig(iterations=dip_iters)),
                                       "sig": sig, "stopped": False}


def finished_now(job: dict) -> bool:
    return job["fit"].done or job["stopped"]


def _dip_running() -> bool:
    job = st.session_state.get("inp_dip")
    return bool(job) and not job["fit"].done and not job["stopped"]


@st.fragment(run_every=0.5 if _dip_running() else None)
def dip_progress() -> None:
    """Advance the Deep Image Prior for ~1 s per tick and show it live; stoppable."""
    import time

    job = st.session_state.get("inp_dip")
    if not job:
        return
    fit = job["fit"]
    if not fit.done and not job["stopped"]:
        if st.button("Stop Deep Image Prior", key="inp_dip_stop"):
            job["stopped"] = True
        else:
            t0 = time.perf_counter()
            while not fit.done and time.perf_counter() - t0 < 1.0:
                fit.step()
    st.progress(fit.iteration / fit.config.iterations,
                text=f"Deep Image Prior: {fit.iteration}/{fit.config.iterations} iterations, "
                     f"loss on known pixels {fit.losses[-1] if fit.losses else float('nan'):.4f}, {fit.elapsed:.0f} s")
    c1, c2 = st.columns([1, 2])
    with c1:
        show_image(fit.current()[0], "Deep Image Prior so far")
    with c2:
        if fit.losses:
            st.line_chart({"MSE on the known pixels": fit.losses}, height=220)
        if not finished_now(job):
            st.caption("Deep Image Prior runs only while this page is open: switching page pauses it.")
    finished = fit.done or job["stopped"]
    if finished and "Deep Image Prior" not in state["items"] and job["sig"] == state["sig"]:
        state["items"]["Deep Image Prior"] = _result(fit.current()[0], truth, mask, fit.elapsed)
        st.rerun()


fill_area = fill_col.container()  # the filled results, beside the hole
if not state["items"]:
    fill_area.caption("Pick the methods in the sidebar, then fill the hole: the results appear here.")

c1, c2, c3 = st.columns(3)
with c1:
    show_image(truth, "Original")
with c2:
    show_image(with_hole, "With the hole (magenta)")
with c3:
    show_image(mask.expand(3, -1, -1), f"Mask · {ip.coverage(mask):.0%} of the pixels")
with st.expander("What each method does"):
    for spec in ip.METHODS.values():
        st.markdown(f"**{spec.label}** ({spec.family}): {spec.summary}")
    if ckpt:
        st.markdown("---\n**Model card of the selected U-Net**")
        st.markdown(ip.model_card(ckpt))

dip_progress()
if state["items"]:
    with fill_area:
        _show_pictures(state["items"], per_row=2)
    _score_table(state["items"])
    _score_chart(state["items"], key="inp_fill_chart")

    # ------------------------------------------------------------------------- repair, then stylise
    st.markdown("#### Repair, then stylise")
    c1, c2 = st.columns([2, 1])
    picks = list(state["items"])
    pick = c1.selectbox("Result to pass on", picks, key=keep("inp_pick", picks[0], picks))
    with c2:
        download_image(state["items"][pick]["image"], "inpainted.png", key="inp_dl")
    if st.button("Repair, then stylise → open the Style Studio with this result", key="inp_to_style"):
        push_result(f"Inpainted: {pick}", state["items"][pick]["image"])
        select_result("style_content", f"Inpainted: {pick}")  # the Style Studio opens with it as its content
        try:
            st.switch_page(STYLE_STUDIO)
        except StreamlitAPIException:  # this page was started on its own, not through app.py
            st.info(f"Saved as 'Inpainted: {pick}' in this session's results: open the Style Studio from the "
                    "sidebar and pick it under 'This session'.")

    from stylelab.record import ExperimentRecord

    record = ExperimentRecord(lab="inpaint", config={"mask": mask_settings, "methods": methods, "checkpoint": ckpt,
                                                     "dip_iterations": dip_iters},
                              summary={name: r["scores"] for name, r in state["items"].items()})
    download_record(record, "inpainting_record.json", key="inp_record")
    notebook_link(record, "inpainting_record.json")

with st.expander("Load an experiment record"):
    rec = upload_record("inpaint", key="inp_record_upload")
    if rec is not None:
        st.json(rec.config)
        if rec.summary:
            import pandas as pd

            st.dataframe(pd.DataFrame(rec.summary).T, width="stretch")

# ----------------------------------------------------------------------------- 3. loss study
st.subheader("3 · Which loss does what?")
st.markdown("The same U-Net, trained on the same crops and masks, with more and more loss terms. "
            "MSE averages all plausible fills (blur); SSIM adds local structure; the perceptual term "
            "compares VGG features; the adversarial term (a PatchGAN judge) pushes for texture.")
for choice in ip.LOSS_CHOICES.values():
    equation(choice.latex, choice.label)

STUDY = {"shipped": "Shipped checkpoints (instant)", "live": "Train live (small)"}
study_view = view_picker("Loss study", STUDY, "inp_study_view", "shipped")
if study_view == "shipped":
    study = [n for n in (f"unet64-{c}" for c in ip.LOSS_CHOICES) if n in shipped]
    if not study:
        st.info("No shipped loss-study checkpoints in this build.")
    else:
        cache = st.session_state.setdefault("inp_study_shipped", {})
        if cache.get("sig") != sig:
            import time

            items = {}
            for name in study:
                t0 = time.perf_counter()
                out = _inpainter(name)(damaged, mask)
                items[ip.LOSS_CHOICES[name.removeprefix("unet64-")].label] = _result(out, truth, mask, time.perf_counter() - t0)
            cache.update(sig=sig, items=items)
        _show_results(cache["items"], "inp_study_shipped")
        for name in study:
            with st.expander(f"Model card: {name}"):
                st.markdown(ip.model_card(name))

else:
    st.caption("Training runs only while this page is open: switching page pauses it, coming back resumes it.")
    c1, c2, c3 = st.columns(3)
    live_losses = c1.multiselect("Losses", list(ip.LOSS_CHOICES), key=keep("inp_live_losses", ["mse", "mse+ssim"], ip.LOSS_CHOICES),
                                 format_func=lambda n: ip.LOSS_CHOICES[n].label)
    live_data = c2.selectbox("Training data", ["photos", "faces", "fashion"], key=keep("inp_live_data", "photos"),
                             format_func={"photos": "Photo and painting crops", "faces": "LFW faces",
                                          "fashion": "Fashion-MNIST"}.get)
    live_steps = c3.slider("Steps", 10, 400, step=10, key=keep("inp_live_steps", 60))
    st.caption("Small on purpose (U-Net 8-16-32 channels, 32 px crops, batch 8) so it trains on a laptop CPU; "
               "the shipped checkpoints above are the same idea, trained longer.")
    b1, b2 = st.columns(2)
    if b1.button("Start training", key="inp_live_start", disabled=not live_losses):
        from stylelab.inpaint.study import LossStudy
        from stylelab.inpaint.train import TrainConfig

        try:
            st.session_state["inp_live"] = {
                "study": LossStudy(live_losses, TrainConfig(data=live_data, size=32, batch=8, steps=live_steps, base=8, depth=3)),
                "stopped": False}
        except StylelabError as exc:
            show_error(exc, "Could not start the study")
    if b2.button("Stop", key="inp_live_stop") and st.session_state.get("inp_live"):
        st.session_state["inp_live"]["stopped"] = True

    def _live_running() -> bool:
        job = st.session_state.get("inp_live")
        return bool(job) and not job["study"].done and not job["stopped"]

    @st.fragment(run_every=0.5 if _live_running() else None)
    def live_study() -> None:
        """Advance the study ~1.5 s per tick; plot MSE in the hole per loss; show results at the end."""
        job = st.session_state.get("inp_live")
        if not job:
            return
        study_ = job["study"]
        if not study_.done and not job["stopped"]:
            study_.advance(1.5)
        st.progress(study_.steps_done / study_.config.steps, text=f"step {study_.steps_done}/{study_.config.steps}")
        curves = study_.curves()
        if any(curves.values()):
            import plotly.graph_objects as go

            fig = go.Figure([go.Scatter(x=[s for s, _ in c], y=[v for _, v in c], name=ip.LOSS_CHOICES[n].label)
                             for n, c in curves.items()])
            fig.update_layout(height=280, xaxis_title="step", yaxis_title="MSE in the hole (training batch)",
                              margin=dict(l=10, r=10, t=10, b=10), colorway=list(PALETTE))
            st.plotly_chart(fig, key="inp_live_curve")
        if study_.done or job["stopped"]:
            outs = study_.inpaint(damaged, mask)
            _show_results({ip.LOSS_CHOICES[n].label: _result(o, truth, mask, 0.0) for n, o in outs.items()}, "inp_live")
            if _live_running() is False and job.get("announced") is None:
                job["announced"] = True
                st.rerun()

    live_study()
