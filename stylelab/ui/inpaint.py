"""Widgets of the Inpainting Lab page: the mask tools (with the drawing canvas), result pictures and score tables.

Layout only: every mask, fill and score comes from :mod:`stylelab.inpaint`. Session keys start with ``inp_``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import streamlit as st

from ..errors import StylelabError
from . import keep, show_error, show_image
from .charts import series_colours

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["MASK_TOOLS", "REUSE", "SCORE_COLUMNS", "every_method", "mask_controls", "show_pictures", "show_results",
           "score_chart", "score_table"]

MASK_TOOLS = ["Rectangle", "Random strokes", "Centre hole", "Upload a mask"]
#: The last drawn mask (and the drawing it came from): the canvas itself forgets its strokes on a page switch.
DRAWN = "inp_drawn"
CANVAS_KEY = "inp_canvas_widget"
#: The last mask made with any other tool (reused by the REUSE tool on another picture or size).
LAST_MASK = "inp_last_mask"
REUSE = "Last mask"

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


# ----------------------------------------------------------------------------- mask tools
def _canvas_available() -> bool:
    """The drawing canvas needs a real browser session (it cannot run under AppTest or bare mode)."""
    try:
        headers = st.context.headers
        return bool(headers) and any(k.lower() == "user-agent" for k in headers.keys())
    except (AttributeError, RuntimeError):
        return False


def _clear_drawing() -> None:
    st.session_state.pop(DRAWN, None)
    st.session_state["inp_canvas_gen"] = st.session_state.get("inp_canvas_gen", 0) + 1  # a new, empty canvas


def _undo_drawing() -> None:
    """Drop the last stroke or box: the canvas is redrawn from the shorter drawing."""
    stored = st.session_state.get(DRAWN)
    if stored is None:
        return
    objects = list(stored["drawing"].get("objects", []))[:-1]
    st.session_state[DRAWN] = {"drawing": {"objects": objects}} if objects else None
    st.session_state["inp_canvas_gen"] = st.session_state.get("inp_canvas_gen", 0) + 1  # reseeded below


CANVAS_MODES = {"freedraw": "Brush", "rect": "Rectangle", "eraser": "Eraser"}


def _draw_mask(image: "torch.Tensor", area: Any) -> "torch.Tensor | None":
    """Brush / rectangle / eraser canvas over the image (streamlit-drawable-canvas) in ``area``, imported lazily.

    The mask is computed from the drawing's objects (:func:`stylelab.inpaint.mask_edit.mask_from_drawing`):
    eraser strokes give pixels back, Undo drops the last object, Clear starts afresh. The drawing is kept in
    session state: the canvas comes back empty after a page switch, so it is handed its drawing back."""
    from ..inpaint.mask_edit import ERASE_STROKE, HOLE_STROKE, mask_from_drawing

    try:
        from streamlit_drawable_canvas import st_canvas
    except Exception as exc:  # the component raises StreamlitAPIException outside a served app
        st.warning(f"The drawing canvas is not available here ({type(exc).__name__}); use another mask tool.")
        return None
    from ..imageio import to_pil

    h, w = image.shape[-2:]
    scale = max(1, 384 // max(h, w))
    mode = st.radio("Tool", list(CANVAS_MODES), horizontal=True, key=keep("inp_canvas_mode", "freedraw", CANVAS_MODES),
                    format_func=CANVAS_MODES.get, help="The eraser (green strokes) gives painted pixels back.")
    brush = st.slider("Brush width (screen px)", 4, 60, key=keep("inp_canvas_brush", 24))
    stored = st.session_state.get(DRAWN)
    c1, c2 = st.columns(2)
    c1.button("Undo", key="inp_undo_mask", on_click=_undo_drawing, disabled=stored is None,
              help="Remove the last stroke or rectangle.")
    c2.button("Clear mask", key="inp_clear_mask", on_click=_clear_drawing, disabled=stored is None,
              help="Forget the drawn hole and start a new drawing.")
    key = f"{CANVAS_KEY}_{st.session_state.get('inp_canvas_gen', 0)}"
    if key not in st.session_state:  # a fresh canvas (first visit, page switch, cleared, undone): seed it once
        st.session_state["inp_canvas_seed"] = stored["drawing"] if stored else None
    colour = ERASE_STROKE if mode == "eraser" else HOLE_STROKE
    with area, st.container(key="inp_canvas"):
        result = st_canvas(
            fill_color=HOLE_STROKE, stroke_width=brush, stroke_color=colour,
            background_image=to_pil(image).resize((w * scale, h * scale)), width=w * scale, height=h * scale,
            drawing_mode="freedraw" if mode == "eraser" else mode, return_image_data=False,
            initial_drawing=st.session_state["inp_canvas_seed"], key=key,
        )
    drawing = result.json_data or {}
    if drawing.get("objects") and (stored is None or drawing["objects"] != stored["drawing"].get("objects")):
        stored = {"drawing": {"objects": drawing["objects"]}}  # new strokes replace the stored drawing
        st.session_state[DRAWN] = stored
    if stored is None:
        return None
    return mask_from_drawing(stored["drawing"]["objects"], h, w, scale=scale)


def mask_controls(image: "torch.Tensor", area: Any) -> "tuple[torch.Tensor | None, dict[str, Any]]":
    """The mask tool's controls where this is called (the sidebar); the drawing canvas and hints in ``area``.

    Returns ``(mask or None, settings)``: the ``(1, H, W)`` mask (validated, feathered as asked) and the
    tool's settings (what a record stores to rebuild it).

    Raises:
        StylelabError: a mask the convention refuses (empty, the whole image).
    """
    import numpy as np

    from .. import inpaint as ip

    h, w = image.shape[-2:]
    last = st.session_state.get(LAST_MASK)
    tools = (["Draw"] if _canvas_available() else []) + MASK_TOOLS + ([REUSE] if last is not None else [])
    tool = st.radio("Mask", tools, horizontal=True, key=keep("inp_tool", tools[0], tools),
                    help="Draw needs a browser; the other tools work everywhere.")
    settings: dict[str, Any] = {"tool": tool, "size": [h, w]}
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
        c1, c2 = st.columns(2)
        seed = c1.number_input("Seed", 0, 10_000, key=keep("inp_seed", 0))
        width = c2.slider("Brush width (share of the image)", 0.04, 0.25, key=keep("inp_sw", 0.12))
        settings.update(seed=int(seed), width=width)
        mask = ip.random_strokes(h, w, max_width=width, rng=np.random.default_rng(int(seed)))
    elif tool == "Centre hole":
        frac = st.slider("Hole area (share of the image)", 0.05, 0.6, key=keep("inp_cf", 0.2))
        settings.update(fraction=frac)
        mask = ip.center_mask(h, w, frac)
    elif tool == REUSE:
        from ..inpaint.mask_edit import fit_mask

        mask = fit_mask(last["mask"], h, w)  # the last mask of another tool, on this picture
        settings.update(reused=last["settings"])
        area.caption(f"Reusing the last mask ({last['settings'].get('tool', '?')}) on this picture.")
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
    if tool != REUSE:  # remembered for the "last mask" tool: the same hole on another picture, size or method
        st.session_state[LAST_MASK] = {"mask": mask.detach().cpu().clone(), "settings": dict(settings)}
    if radius:
        mask = ip.feather(mask, radius)
    return mask, settings


# ----------------------------------------------------------------------------- results
def score_table(results: dict[str, dict[str, Any]]) -> None:
    """One row per method, human column names, the best value of each column highlighted."""
    import pandas as pd

    from .tables import score_table as styled_table

    truth_seam = next(iter(results.values()))["scores"].get("seam_truth")
    df = pd.DataFrame({name: {**r["scores"], "seconds": r["seconds"]} for name, r in results.items()}).T
    columns = dict(SCORE_COLUMNS)
    if truth_seam is not None:
        columns["seam"] = (f"Seam (original {truth_seam:.3f})", "{:.3f}", "target")
    else:
        columns.pop("seam")
    st.dataframe(styled_table(df, columns, {"seam": truth_seam} if truth_seam is not None else None), width="stretch")
    st.caption("Best of each column in green (↑ higher is better, ↓ lower). **Hole**: the filled pixels; **edge**: a "
               "4 px band on both sides of the hole's border; **seam**: the mean step across the border (the original "
               "has one too: the closest to it is the least visible seam).")


def score_chart(results: dict[str, dict[str, Any]], key: str) -> None:
    """PSNR, SSIM and LPIPS in the hole, one bar per method (one colour per method in all three)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    names = list(results)
    fig = make_subplots(rows=1, cols=3, subplot_titles=("PSNR in hole (dB) ↑", "SSIM in hole ↑", "LPIPS in hole ↓"))
    for col, key_ in enumerate(("psnr_hole", "ssim_hole", "lpips_hole"), start=1):
        fig.add_trace(go.Bar(x=names, y=[results[n]["scores"].get(key_, 0.0) for n in names], showlegend=False,
                             marker_color=list(series_colours(names).values())), row=1, col=col)
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=40, b=10))
    st.plotly_chart(fig, key=key)


def show_pictures(results: dict[str, dict[str, Any]], per_row: int = 5) -> None:
    """The filled pictures, each captioned with its LPIPS in the hole."""
    cols = st.columns(min(len(results), per_row))
    for i, (name, r) in enumerate(results.items()):
        with cols[i % len(cols)]:
            show_image(r["image"], caption=f"{name} · LPIPS {r['scores'].get('lpips_hole', float('nan')):.3f}")


def show_results(results: dict[str, dict[str, Any]], prefix: str) -> None:
    """Pictures, score table and bar chart of a set of results."""
    show_pictures(results)
    score_table(results)
    score_chart(results, key=f"{prefix}_chart")


def every_method(results: dict[str, dict[str, Any]]) -> None:
    """The same mask filled by every method, side by side in one row (the hole's own crop under each)."""
    st.markdown("#### The same hole, every method")
    show_pictures(results, per_row=max(1, len(results)))
