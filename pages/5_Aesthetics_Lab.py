"""Aesthetics Lab: measure what makes an image pleasing, compare images, and nudge one toward it.

The page only lays out widgets and calls ``stylelab.aesthetics``; every measure, overlay and the
adjustment loop live there. Session keys start with ``aes_``.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from stylelab.errors import StylelabError
from stylelab.ui import (
    bundled_catalog,
    bundled_label,
    charts,
    download_image,
    download_record,
    equation,
    image_picker,
    keep,
    page_setup,
    push_result,
    shadow_key,
    show_error,
    show_image,
    upload_record,
    view_picker,
)
from stylelab.ui.notebook_link import notebook_link

page_setup("Aesthetics Lab", "🌈")

import pandas as pd  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
import torch  # noqa: E402  (after page_setup: the page frame shows while torch loads)

from stylelab import aesthetics as aes  # noqa: E402
from stylelab.aesthetics import overlays  # noqa: E402
from stylelab.aesthetics.adjustment import PARAM_NAMES, AdjustConfig, Adjuster  # noqa: E402
from stylelab.aesthetics.scorecard import MEASURES  # noqa: E402

SIZES = [192, 256, 320, 384, 512]
GROUPS = {"colour": "🎨 Colour", "tone": "🌗 Tone", "detail": "🔍 Detail", "composition": "📐 Composition",
          "quality": "🧪 No-reference quality", "reference": "⚖️ Full reference"}
TERM_LATEX = {
    "colorfulness": r"\lambda_{col}\,\max(0,\ t_{col} - M(y))/100",
    "contrast": r"\lambda_{con}\,\max(0,\ t_{con} - \sigma_Y(y))",
    "saturation": r"\lambda_{sat}\,\max(0,\ t_{sat} - \bar S(y))",
    "exposure": r"\lambda_{exp}\,(\bar Y(y) - t_{exp})^2",
    "clipping": r"\lambda_{clip}\,\mathrm{clip}_{soft}(y)",
    "content": r"\lambda_{content}\, d(y, x_0)",
}

st.title("🌈 Aesthetics Lab")
st.markdown(
    "What makes a picture pleasing? Nobody has a formula, but photographers and vision scientists "
    "have **measures** that move with it: colourfulness, contrast, exposure, sharpness, composition, "
    "colour harmony, and statistics that tell natural photos from damaged ones. Score an image, compare "
    "several, then let an optimiser **nudge** a photo toward better numbers and see what it costs."
)


# ----------------------------------------------------------------------------- helpers (UI only)
def _digest(img: torch.Tensor) -> str:
    return hashlib.sha1(img.detach().cpu().contiguous().numpy().tobytes()).hexdigest()


def cached_report(img: torch.Tensor, quality: bool) -> dict[str, float | None]:
    """Report of an image, remembered in this session (reruns are instant)."""
    cache: dict = st.session_state.setdefault("aes_report_cache", {})
    key = (_digest(img), tuple(img.shape), quality)
    if key not in cache:
        cache[key] = aes.report(img, quality=quality)
        while len(cache) > 48:
            cache.pop(next(iter(cache)))
    return cache[key]


@st.cache_data(show_spinner=False, max_entries=32)
def load_bundled_image(name: str, size: int) -> torch.Tensor:
    from stylelab.assets import load_bundled

    return load_bundled(name, size=size)


def fmt(name: str, value: float | None) -> str:
    if value is None:
        return "— (image too small)"
    m = MEASURES[name]
    text = f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return f"{text} {m.unit}".strip()


def explain(name: str) -> None:
    """The measure's formula, what moves it and where it comes from."""
    m = MEASURES[name]
    st.markdown(f"**{m.label}**")
    st.latex(m.latex)
    direction = {True: "higher is better", False: "lower is better", None: "neither end is better"}[m.higher_is_better]
    if m.ideal is not None:
        direction = f"best near {m.ideal}"
    st.markdown(f"Usual range **{m.range[0]:g} – {m.range[1]:g}** {m.unit} · {direction}")
    st.markdown(f"*What moves it:* {m.moves}")
    st.caption(f"Reference: {m.reference}")


def radar(reports: dict[str, dict[str, float | None]]) -> go.Figure:
    names = [n for n, m in MEASURES.items() if m.radar and not m.needs_reference
             and any(r.get(n) is not None for r in reports.values())]
    series = {label: {MEASURES[n].short_label: g for n in names if (g := MEASURES[n].goodness(rep.get(n))) is not None}
              for label, rep in reports.items()}
    return charts.radar(series, radial_range=(0.0, 1.0), height=460)


def report_card(rep: dict[str, float | None], key: str) -> None:
    """Every measure: value, a bar (1 = best end of the usual range), and an 'explain' popover."""
    for group, title in GROUPS.items():
        names = [n for n in rep if MEASURES[n].group == group]
        if not names:
            continue
        st.markdown(f"**{title}**")
        for n in names:
            m = MEASURES[n]
            c1, c2, c3, c4 = st.columns([3, 2, 3, 1.4], vertical_alignment="center")
            c1.markdown(m.label)
            c2.markdown(f"`{fmt(n, rep[n])}`")
            g = m.goodness(rep[n])
            if g is not None:
                c3.progress(g)
            else:
                c3.caption("a matter of style" if rep[n] is not None else "")
            with c4.popover("Explain", icon=":material/info:", help=f"What is {m.label}? Formula and what moves it."):
                explain(n)


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
        size = st.select_slider("Analysis size (longer side, px)", SIZES, key=keep("aes_size", 320, SIZES),
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
                rep = cached_report(img, quality)
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
                pal = aes.dominant_palette(img, k=k)
                show_image(overlays.palette_strip(pal.colors[0], pal.weights[0]),
                           caption="Dominant palette (k-means in CIELAB), widths = share of pixels")
                fit = aes.harmony_fit(img)
                st.caption(f"Best harmonic template: **{fit.template[0]}** rotated {float(fit.angle[0]):.0f}°, "
                           f"mean hue deviation {float(fit.deviation[0]):.2f}°")
            with right:
                st.plotly_chart(radar({"image": rep}), key="aes_radar")
                st.caption("Each spoke: 1 = the good end of the measure's usual range (lower-is-better measures "
                           "are flipped). Two-sided and style measures are left out.")
            report_card(rep, key="card")
            push_cols = st.columns(2)
            row = pd.Series(rep, name="image").to_frame().T
            push_cols[0].download_button("Download this report (CSV)", row.to_csv(index_label="image"),
                                         file_name="aesthetics_report.csv", mime="text/csv", key="aes_card_csv")

# ----------------------------------------------------------------------------- compare
if view == "compare":
    st.markdown("Score several images at the same size and compare them measure by measure.")
    catalog = bundled_catalog()
    options = [n for group in ("Photos", "Paintings", "Textures") for n in catalog.get(group, [])]
    session_results = st.session_state.get("stylelab_results", {})
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
                im = load_bundled_image(name, cmp_size)
                label = bundled_label(name)
            reports[label] = cached_report(im, cmp_quality)
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
        st.plotly_chart(radar(reports), key="aes_compare_radar")
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
            explain(pick)

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
    equation(r"\mathcal L(y) = \sum_{\text{terms}} \lambda_i \mathcal L_i(y) + \lambda_{content}\, d(y, x_0)",
             "The objective")
    LRS = [0.005, 0.01, 0.02, 0.05, 0.1]
    defaults = AdjustConfig()
    for k, v in {"aes_adj_mode": "params", "aes_adj_content": "mse", "aes_adj_steps": 60, "aes_adj_lr_params": 0.05,
                 "aes_adj_lr_pixels": 0.01, "aes_t_col": defaults.color_target, "aes_t_con": defaults.contrast_target,
                 "aes_t_sat": defaults.saturation_target, "aes_t_exp": defaults.exposure_target,
                 **{f"aes_w_{t}": float(defaults.weights[t]) for t in TERM_LATEX}}.items():
        keep(k, v)  # widget defaults live here so a record can overwrite them (and a page switch keeps them)
    with st.expander("Reproduce a run from its experiment record (JSON)"):
        rec = upload_record("aesthetics", key="aes_rec_up")
        if rec is not None:
            stamp = f"{rec.created}|{sorted(rec.config.items())}"
            if st.session_state.get("aes_rec_applied") != stamp:
                try:
                    cfg = rec.config_as(AdjustConfig)
                    cfg.validate()
                    st.session_state.update({
                        "aes_adj_mode": cfg.mode, "aes_adj_content": cfg.content,
                        "aes_adj_steps": int(min(200, max(5, round(cfg.steps / 5) * 5))),
                        f"aes_adj_lr_{cfg.mode}": min(LRS, key=lambda v: abs(v - cfg.learning_rate)),
                        "aes_t_col": float(min(120.0, max(0.0, cfg.color_target))),
                        "aes_t_con": float(min(0.4, max(0.0, cfg.contrast_target))),
                        "aes_t_sat": float(min(1.0, max(0.0, cfg.saturation_target))),
                        "aes_t_exp": float(min(0.9, max(0.1, cfg.exposure_target))),
                        **{f"aes_w_{t}": float(min(5.0, cfg.weights.get(t, 0.0))) for t in TERM_LATEX},
                        "aes_rec_applied": stamp,
                    })
                    st.rerun()
                except StylelabError as exc:
                    show_error(exc, "Could not use this record")
            else:
                st.success(f"Settings loaded from the record ({len(rec.metrics)} logged steps, seed {rec.seed}). "
                           "Pick the same photo and press Start to reproduce it.")
    # the picture on the left, first on screen; every control on the right beside it
    pic_col, ctl_col = st.columns([1, 1])
    with ctl_col:
        src = image_picker("Photo to adjust", key="aes_adj_img", default="photo:coffee", size=192, allow_session=True)
        o1, o2 = st.columns(2)
        with o1:
            mode = st.radio("Optimise", ["params", "pixels"], key="aes_adj_mode", horizontal=True,
                        format_func={"params": "global controls", "pixels": "pixels"}.get)
            content = st.radio("Content term d", ["mse", "lpips"], key="aes_adj_content", horizontal=True,
                               format_func={"mse": "MSE (fast)", "lpips": "LPIPS-VGG (~10x slower)"}.get)
        with o2:
            steps = st.slider("Steps", 5, 200, step=5, key="aes_adj_steps")
            lr = st.select_slider("Learning rate", LRS, key=f"aes_adj_lr_{mode}")
        b1, b2, b3 = st.columns(3)
        start = b1.button("▶ Start", key="aes_adj_start", type="primary", disabled=src is None)
        resume = b2.button("⏩ Continue", key="aes_adj_resume", disabled="aes_adjuster" not in st.session_state)
        if b3.button("⏹ Stop", key="aes_adj_stop"):
            st.session_state["aes_adj_running"] = False  # the click itself interrupted the running loop
        st.caption("The adjustment runs only while this view is open: another view or page stops it, "
                   "and ⏩ Continue picks up where it stopped.")
        weights: dict[str, float] = {}
        wcols = st.columns(2)  # two per row: each term's formula fits under its slider
        for i, term in enumerate(TERM_LATEX):
            with wcols[i % 2]:
                weights[term] = st.slider(f"λ {term}", 0.0, 5.0, step=0.1, key=f"aes_w_{term}")
                st.caption(f"${TERM_LATEX[term]}$")
        with st.expander("Targets (the hinge terms stop pushing once reached)"):
            t1, t2 = st.columns(2)
            color_target = t1.slider("t_col (colourfulness)", 0.0, 120.0, step=5.0, key="aes_t_col")
            contrast_target = t2.slider("t_con (RMS contrast)", 0.0, 0.4, step=0.01, key="aes_t_con")
            saturation_target = t1.slider("t_sat (saturation)", 0.0, 1.0, step=0.05, key="aes_t_sat")
            exposure_target = t2.slider("t_exp (mean luma)", 0.1, 0.9, step=0.05, key="aes_t_exp")
    picture = pic_col.container()  # the photo, the live picture, then before / after
    photo = picture.empty()
    if src is not None and "aes_adjuster" not in st.session_state:
        with photo:
            show_image(src, caption="The photo (192 px): press Start", width=384)
    if start and src is not None:
        try:
            cfg = AdjustConfig(mode=mode, steps=steps, lr=lr, weights=weights, content=content,
                               color_target=color_target, contrast_target=contrast_target,
                               saturation_target=saturation_target, exposure_target=exposure_target)
            st.session_state["aes_adjuster"] = Adjuster(src, cfg)
            st.session_state["aes_adj_running"] = True
        except StylelabError as exc:
            show_error(exc, "Could not start")
    if resume:
        st.session_state["aes_adj_running"] = True
    adj: Adjuster | None = st.session_state.get("aes_adjuster")
    if adj is not None and st.session_state.get("aes_adj_running"):
        target = adj.config.steps if start else adj.step_count + steps
        photo.empty()  # the live picture and then before / after take its place
        bar = picture.progress(0.0, text="Adjusting...")
        live = picture.empty()
        first = adj.step_count
        try:
            while adj.step_count < target:
                row = adj.step()
                done = adj.step_count - first
                bar.progress(done / max(1, target - first),
                             text=f"step {adj.step_count}/{target} · total loss {row['total']:.4f}")
                if done % 10 == 0:
                    with live.container():
                        show_image(adj.image[0], caption=f"step {adj.step_count}", width=384)
        except StylelabError as exc:
            show_error(exc, "The adjustment stopped")
        st.session_state["aes_adj_running"] = False
        bar.empty()
        live.empty()
    if adj is not None and adj.history:
        before, after = adj.original[0], adj.image[0]
        c1, c2 = picture.columns(2)
        with c1:
            show_image(before, caption="Before")
        with c2:
            show_image(after, caption=f"After {adj.step_count} steps")
        hist = pd.DataFrame(adj.history).set_index("step")
        raw = [c for c in hist.columns if c.endswith("_raw")]
        fig = go.Figure([go.Scatter(x=hist.index, y=hist[c] * adj.config.weights.get(c[:-4], 0.0), name=c[:-4],
                                    mode="lines") for c in raw])
        fig.add_trace(go.Scatter(x=hist.index, y=hist["total"], name="total", line={"width": 3, "color": "black"}))
        fig.update_layout(title="Weighted loss terms λᵢ·Lᵢ per step", xaxis_title="step", height=340,
                          margin={"t": 40, "b": 20}, colorway=list(charts.PALETTE))
        st.plotly_chart(fig, key="aes_adj_curves")
        meas = [c for c in hist.columns if c.startswith("m_")]
        fig2 = go.Figure([go.Scatter(x=hist.index, y=hist[c], name=c[2:], mode="lines") for c in meas])
        fig2.update_layout(title="The measures themselves (colourfulness on the 0-255 scale)", xaxis_title="step",
                           height=300, margin={"t": 40, "b": 20}, colorway=list(charts.PALETTE))
        charts.log_axis(fig2)
        st.plotly_chart(fig2, key="aes_adj_measures")
        if adj.config.mode == "params":
            params = adj.parameters_now()
            st.dataframe(pd.DataFrame({"control": list(PARAM_NAMES), "value": [params[k] for k in PARAM_NAMES]}),
                         hide_index=True, key="aes_adj_params")
            st.caption("All 0 = unchanged. Exposure in EV (stops); the others are log-factors (0.3 ≈ ×1.35).")
        d1, d2, d3 = st.columns(3)
        with d1:
            download_image(after, "adjusted.png", key="aes_adj_dl")
        with d2:
            download_record(adj.record(), "aesthetics_adjust.json", key="aes_adj_record")
            notebook_link(adj.record(), "aesthetics_adjust.json")
        if d3.button("Share with other labs", key="aes_adj_push"):
            push_result("Aesthetics: adjusted", after)
            st.toast("Added to this session's results.")

# ----------------------------------------------------------------------------- glossary
if view == "glossary":
    st.markdown("Every measure this lab computes: its formula, its usual range and what moves it.")
    for group, title in GROUPS.items():
        st.subheader(title)
        for name, m in MEASURES.items():
            if m.group == group:
                with st.expander(m.label):
                    explain(name)
