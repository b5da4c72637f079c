"""Aesthetics Lab: measure what makes an image pleasing, compare images, and nudge one toward it.

The page only lays out widgets and calls ``stylelab.aesthetics``; every measure, overlay and the
adjustment loop live there. Session keys start with ``aes_``.
"""

from __future__ import annotations

import streamlit as st

from stylelab import equations
from stylelab.errors import StylelabError
from stylelab.ui import (
    RESULTS_KEY,
    bundled_catalog,
    bundled_label,
    charts,
    classroom,
    equation,
    image_picker,
    keep,
    page_setup,
    shadow_key,
    show_error,
    show_image,
    upload_record,
    view_picker,
)
from stylelab.ui import aesthetics as ui
from stylelab.ui.live import current_run, live_run, more_steps

page_setup("Aesthetics Lab", "🌈")
classroom_row = classroom.classroom_slot("aesthetics")  # a shared link's set-up, before any control

import pandas as pd  # noqa: E402
import plotly.graph_objects as go  # noqa: E402

from stylelab import aesthetics as aes  # noqa: E402
from stylelab.aesthetics import overlays  # noqa: E402
from stylelab.aesthetics.adjustment import AdjustConfig, Adjuster  # noqa: E402
from stylelab.aesthetics.scorecard import MEASURES  # noqa: E402

st.title("🌈 Aesthetics Lab")
st.markdown(
    "What makes a picture pleasing? Nobody has a formula, but photographers and vision scientists "
    "have **measures** that move with it: colourfulness, contrast, exposure, sharpness, composition, "
    "colour harmony, and statistics that tell natural photos from damaged ones. Score an image, compare "
    "several, then let an optimiser **nudge** a photo toward better numbers and see what it costs."
)


# ----------------------------------------------------------------------------- layout
# A segmented control, not st.tabs: the open view survives a page switch (and only it is computed).
VIEWS = {"card": "📋 Report card", "compare": "🆚 Compare", "batch": "📦 Batch", "adjust": "🎚️ Adjust",
         "glossary": "📖 Every measure"}
view = view_picker("View", VIEWS, "aes_view", "card")
analysis_size = st.session_state.get(shadow_key("aes_size"), 320)  # set in the report card, used by every view

# ----------------------------------------------------------------------------- report card
if view == "card":
    c_pick, c_opts = st.columns([3, 2])
    with c_opts:
        size = st.select_slider("Analysis size (longer side, px)", ui.SIZES, key=keep("aes_size", 320, ui.SIZES),
                                help="Sharpness, noise and NIQE depend on scale: compare images at one size.")
        quality = st.checkbox("Include BRISQUE and NIQE", key=keep("aes_quality", True),
                              help="No-reference quality models: ~0.1-0.3 s each at 320 px on this CPU.")
    with c_pick:
        img = image_picker("Image", key="aes_img", size=size, allow_session=True)
    if img is None:
        st.info("Pick or upload an image to score it.")
    else:
        try:
            with st.spinner("Measuring..."):
                rep = ui.cached_report(img, quality)
        except StylelabError as exc:
            show_error(exc, "Could not score this image")
            rep = None
        if rep is not None:
            left, right = st.columns([1, 1])
            with left:
                overlay = st.radio("Overlay", ["None", "Thirds grid", "Saliency", "Clipped pixels"],
                                   horizontal=True, key=keep("aes_overlay", "None"))
                shown = {"None": lambda t: t, "Thirds grid": overlays.thirds_overlay, "Saliency": overlays.saliency_overlay,
                         "Clipped pixels": overlays.clipping_overlay}[overlay](img)
                show_image(shown, caption={
                    "None": f"{img.shape[-1]}x{img.shape[-2]} px as scored",
                    "Thirds grid": "Thirds lines, power points (white), salient centroid (red) and peak (yellow)",
                    "Saliency": "Spectral-residual saliency (Hou & Zhang 2007): bright = unexpected",
                    "Clipped pixels": "Blue: crushed to black (Y ≤ 2/255) · red: blown out (Y ≥ 253/255)"}[overlay])
                k = st.slider("Palette colours", 2, 8, key=keep("aes_palette_k", 5))
                pal = ui.cached_palette(img, k)
                show_image(overlays.palette_strip(pal.colors[0], pal.weights[0]),
                           caption="Dominant palette (k-means in CIELAB), widths = share of pixels")
                fit = ui.cached_harmony(img)
                st.caption(f"Best harmonic template: **{fit.template[0]}** rotated {float(fit.angle[0]):.0f}°, "
                           f"mean hue deviation {float(fit.deviation[0]):.2f}°")
            with right:
                st.plotly_chart(ui.radar({"image": rep}), key="aes_radar")
                st.caption("Each spoke: 1 = the good end of the measure's usual range (lower-is-better measures "
                           "are flipped). Two-sided and style measures are left out.")
            ui.report_card(rep)
            push_cols = st.columns(2)
            row = pd.Series(rep, name="image").to_frame().T
            push_cols[0].download_button("Download this report (CSV)", row.to_csv(index_label="image"),
                                         file_name="aesthetics_report.csv", mime="text/csv", key="aes_card_csv")

# ----------------------------------------------------------------------------- compare
if view == "compare":
    st.markdown("Score several images at the same size and compare them measure by measure.")
    catalog = bundled_catalog()
    options = [n for group in ("Photos", "Paintings", "Textures") for n in catalog.get(group, [])]
    session_results = st.session_state.get(RESULTS_KEY, {})
    options += [f"session:{n}" for n in session_results]
    default = [n for n in ("photo:astronaut", "photo:coffee", "photo:chelsea") if n in options]
    chosen = st.multiselect("Images", options, key=keep("aes_compare_pick", default, options),
                            format_func=lambda n: f"This session: {n[8:]}" if n.startswith("session:") else bundled_label(n))
    cmp_quality = st.checkbox("Include BRISQUE and NIQE", key=keep("aes_compare_quality", False))
    cmp_size = analysis_size
    reports: dict[str, dict[str, float | None]] = {}
    thumbs = []
    progress = st.progress(0.0, text="Scoring...") if chosen else None
    for i, name in enumerate(chosen):
        try:
            if name.startswith("session:"):
                from stylelab.imageio import resize_tensor

                im = resize_tensor(session_results[name[8:]], cmp_size)
                label = name[8:]
            else:
                im = ui.bundled_image(name, cmp_size)
                label = bundled_label(name)
            reports[label] = ui.cached_report(im, cmp_quality)
            thumbs.append((label, im))
        except StylelabError as exc:
            show_error(exc, f"Could not score {name}")
        progress.progress((i + 1) / len(chosen), text=f"Scored {i + 1}/{len(chosen)}")
    if progress is not None:
        progress.empty()
    if reports:
        cols = st.columns(min(len(thumbs), 6))
        for c, (label, im) in zip(cols * 10, thumbs):
            with c:
                show_image(im, caption=label)
        table = pd.DataFrame(reports)
        table.index = [MEASURES[n].label for n in table.index]
        st.plotly_chart(ui.radar(reports), key="aes_compare_radar")
        st.dataframe(table.style.format("{:.4g}", na_rep="—"), key="aes_compare_table")
        measures = list(reports[next(iter(reports))])
        pick = st.selectbox("Bar chart of one measure", measures, key=keep("aes_compare_measure", measures[0], measures),
                            format_func=lambda n: MEASURES[n].label)
        fig = go.Figure(go.Bar(x=list(reports), y=[r.get(pick) for r in reports.values()],
                               marker_color=[charts.colour(i) for i in range(len(reports))]))  # as in the radar
        fig.update_layout(yaxis_title=f"{MEASURES[pick].label} {MEASURES[pick].unit}".strip(), height=320,
                          margin={"t": 20, "b": 20})
        st.plotly_chart(fig, key="aes_compare_bar")
        with st.popover(f"Explain {MEASURES[pick].label}", icon=":material/info:"):
            ui.explain(pick)

# ----------------------------------------------------------------------------- batch
if view == "batch":
    st.markdown("Upload many images, score them all, download the table as CSV.")
    ups = st.file_uploader("Images", accept_multiple_files=True, key="aes_batch_up",
                           help="Each image is resized to the analysis size first, so sharpness compares fairly.")
    b_quality = st.checkbox("Include BRISQUE and NIQE", key=keep("aes_batch_quality", True))
    if st.button("Score the batch", key="aes_batch_go", disabled=not ups, type="primary"):
        bar = st.progress(0.0, text="Scoring...")
        try:
            df = aes.score_batch([u.getvalue() for u in ups], names=[u.name for u in ups],
                                 size=analysis_size, quality=b_quality, on_error="record",
                                 progress=lambda d, t: bar.progress(d / t, text=f"Scored {d}/{t}"))
            st.session_state["aes_batch_df"] = df
        except StylelabError as exc:
            show_error(exc, "Could not score the batch")
        bar.empty()
    df = st.session_state.get("aes_batch_df")
    if df is not None:
        bad = df[df["error"] != ""]
        for name, msg in bad["error"].items():
            st.warning(f"{name}: {msg}")
        st.dataframe(df, key="aes_batch_table")
        st.download_button("Download CSV", df.to_csv(index_label="image"), file_name="aesthetics_scores.csv",
                           mime="text/csv", key="aes_batch_csv")

# ----------------------------------------------------------------------------- adjust
if view == "adjust":
    st.markdown(
        "Let Adam **nudge** a photo: raise colourfulness and contrast, pull exposure to mid-grey, avoid "
        "clipping, while a content term keeps it recognisable. In *global controls* mode only four photo-editor "
        "sliders move (exposure, gamma, contrast, saturation: always a plausible edit; white balance stays put, "
        "because a colour cast is the cheapest way to raise colourfulness); in *pixels* mode every pixel may change.")
    equation(equations.latex("aesthetics.adjust_objective"), "The objective")
    defaults = AdjustConfig()
    record_box = st.expander("Reproduce a run from its experiment record (JSON)")
    with record_box:
        rec = upload_record("aesthetics", key="aes_rec_up")
    # the picture on the left, first on screen; every control on the right beside it
    pic_col, ctl_col = st.columns([1, 1])
    with ctl_col:
        src = image_picker("Photo to adjust", key="aes_adj_img", default="photo:coffee", size=ui.ADJUST_SIZE,
                           allow_session=True)
        o1, o2 = st.columns(2)
        with o1:
            mode = st.radio("Optimise", ["params", "pixels"], key=keep("aes_adj_mode", "params"), horizontal=True,
                            format_func={"params": "global controls", "pixels": "pixels"}.get)
            content = st.radio("Content term d", ["mse", "lpips"], key=keep("aes_adj_content", "mse"), horizontal=True,
                               format_func={"mse": "MSE (fast)", "lpips": "LPIPS-VGG (~10x slower)"}.get)
        with o2:
            steps = st.slider("Steps", 5, 200, step=5, key=keep("aes_adj_steps", 60))
            lr_default = {"params": 0.05, "pixels": 0.01}[mode]
            lr = st.select_slider("Learning rate", ui.LRS, key=keep(f"aes_adj_lr_{mode}", lr_default, ui.LRS))
        buttons = st.container()
        st.caption("The adjustment runs only while this view is open: another view or page pauses it, "
                   "and Continue picks up where it stopped.")
        weights = ui.term_sliders(defaults.weights)
        with st.expander("Targets (the hinge terms stop pushing once reached)"):
            t1, t2 = st.columns(2)
            color_target = t1.slider("t_col (colourfulness)", 0.0, 120.0, step=5.0,
                                     key=keep("aes_t_col", defaults.color_target))
            contrast_target = t2.slider("t_con (RMS contrast)", 0.0, 0.4, step=0.01,
                                        key=keep("aes_t_con", defaults.contrast_target))
            saturation_target = t1.slider("t_sat (saturation)", 0.0, 1.0, step=0.05,
                                          key=keep("aes_t_sat", defaults.saturation_target))
            exposure_target = t2.slider("t_exp (mean luma)", 0.1, 0.9, step=0.05,
                                        key=keep("aes_t_exp", defaults.exposure_target))
    if rec is not None:
        ui.load_adjust_record(rec, src, record_box)

    def make_adjuster() -> Adjuster:
        if src is None:
            raise StylelabError("Pick a photo to adjust first.")
        return Adjuster(src, AdjustConfig(mode=mode, steps=steps, lr=lr, weights=weights, content=content,
                                          color_target=color_target, contrast_target=contrast_target,
                                          saturation_target=saturation_target, exposure_target=exposure_target))

    with pic_col:
        photo = st.empty()  # the photo until a run exists; then the run's live picture, before / after
        live_run(ui.ADJUST_KEY, make_adjuster, ui.draw_adjust, controls=buttons)
        if current_run(ui.ADJUST_KEY) is None and src is not None:
            with photo:
                show_image(src, caption=f"The photo ({ui.ADJUST_SIZE} px): press Start", width=384)
    more_steps(ui.ADJUST_KEY, buttons, steps)

# ----------------------------------------------------------------------------- glossary
if view == "glossary":
    st.markdown("Every measure this lab computes: its formula, its usual range and what moves it.")
    for group, title in ui.GROUPS.items():
        st.subheader(title)
        for name, m in MEASURES.items():
            if m.group == group:
                with st.expander(m.label):
                    ui.explain(name)

classroom.classroom_bar("aesthetics", where=classroom_row, runs=ui.ADJUST_KEY)  # share · lessons · publish (drawn at the top)
