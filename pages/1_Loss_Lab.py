"""Loss Lab: every loss of the field, and what each one sees.

Layout only: every number comes from ``stylelab.losses`` (the same functions the notebook checks
by hand and the Style Studio optimises). Four tabs: see the features and Grams, the distortion
study, the mixing desk (a live optimisation with one curve per term), the equations.
"""

from __future__ import annotations

import streamlit as st

from stylelab.errors import StylelabError
from stylelab.ui import (
    charts,
    download_image,
    download_record,
    equation,
    image_picker,
    keep,
    page_setup,
    push_result,
    show_error,
    upload_record,
    view_picker,
)

page_setup("Loss Lab", "📐")
st.title("📐 Loss Lab")
st.caption("Every loss of the field as one function. Pick two images, then look at what each loss sees.")

ALL_LAYERS = ["relu1_1", "relu1_2", "relu2_1", "relu2_2", "relu3_1", "relu3_2", "relu3_3",
              "relu4_1", "relu4_2", "relu4_3", "relu5_1", "relu5_2", "relu5_3"]
STYLE_LAYERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]  # Gatys' choice (DEFAULT_STYLE_LAYERS)
WEIGHT_STEPS = {
    "content": [0.0, 0.1, 0.3, 1.0, 3.0, 10.0],
    "style": [0.0, 1e2, 1e3, 1e4, 3e4, 1e5, 3e5, 1e6, 1e7],
    "tv": [0.0, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0],
    "colorfulness": [0.0, 0.1, 0.3, 1.0, 3.0, 10.0],
    "contrast": [0.0, 0.1, 0.3, 1.0, 3.0, 10.0],
}


@st.cache_data(show_spinner=False, max_entries=32)
def features_for(digest: str, layers: tuple[str, ...], _image):
    from stylelab.losses.visual import extract_features

    return extract_features(_image, layers)


@st.cache_data(show_spinner=False, max_entries=16)
def layer_table(digests: tuple[str, ...], layers: tuple[str, ...], _x, _content, _style):
    from stylelab.losses.visual import layer_report

    return layer_report(_x, _content, _style, layers)


@st.cache_data(show_spinner=False, max_entries=8)
def study_table(digest: str, names: tuple[str, ...], strengths: tuple[float, ...], metrics: tuple[str, ...], _image):
    from stylelab.losses.distortions import distortion_study

    return distortion_study(_image, names, strengths, metrics)


def fmt_weight(v: float) -> str:
    return "off" if v == 0 else (f"{v:.0e}" if v >= 1000 else f"{v:g}")


# ----------------------------------------------------------------------------- pick images
size = st.sidebar.select_slider("Working size (px, longer side)", [96, 128, 160, 192],
                                key=keep("loss_size", 128, [96, 128, 160, 192]),
                                help="Small keeps every rerun quick on a classroom laptop.")
left, right = st.columns(2)
with left:
    content = image_picker("Content image", key="loss_content", default="photo:astronaut", size=size)
with right:
    style = image_picker("Style image", key="loss_style", default="painting:the-great-wave-off-kanagawa", size=size)
if content is None or style is None:
    st.info("Pick a content image and a style image to start.")
    st.stop()

from stylelab.imageio import image_grid, resize_tensor  # noqa: E402  (torch loads after the pickers render)
from stylelab.losses import REGISTRY  # noqa: E402
from stylelab.losses.visual import image_digest  # noqa: E402

style = resize_tensor(style, tuple(content.shape[-2:]))  # one size for both: per-pixel comparisons need it
c_digest, s_digest = image_digest(content), image_digest(style)
# small previews, so the views below (the mixing desk's live result) start inside the first screen
left.image(content.permute(1, 2, 0).numpy(), caption=f"content {content.shape[2]}x{content.shape[1]}", width=160)
right.image(style.permute(1, 2, 0).numpy(), caption="style (resized to the content's size)", width=160)

# A segmented control, not st.tabs: the chosen view survives a page switch (and only it is computed).
VIEWS = {"see": "👁 See it", "study": "🔬 What does each loss see?", "desk": "🎚 Mixing desk", "eq": "∑ Equations"}
view = view_picker("View", VIEWS, "loss_view", "see")

# ----------------------------------------------------------------------------- see it
if view == "see":
    import plotly.express as px

    st.markdown("A frozen **VGG16** turns each image into feature maps. The **content loss** compares those maps "
                "position by position; the **style loss** compares their **Gram matrices**: which channels fire "
                "together, wherever it happens.")
    layer = st.select_slider("Layer", ALL_LAYERS, key=keep("loss_layer", "relu3_1", ALL_LAYERS))
    try:
        fc = features_for(c_digest, (layer,), content)[layer]
        fs = features_for(s_digest, (layer,), style)[layer]
        from stylelab.losses.visual import feature_tiles, gram_heatmap

        a, b = st.columns(2)
        a.image(image_grid(feature_tiles(fc, 8), nrow=4).permute(1, 2, 0).numpy(), width="stretch",
                caption=f"content: 8 strongest of {fc.shape[1]} channels at {layer} ({fc.shape[3]}x{fc.shape[2]})")
        b.image(image_grid(feature_tiles(fs, 8), nrow=4).permute(1, 2, 0).numpy(), width="stretch",
                caption=f"style: 8 strongest of {fs.shape[1]} channels at {layer}")
        channels = st.slider("Gram channels shown", 8, 64, step=8, key=keep("loss_gram_channels", 32))
        g1, g2 = st.columns(2)
        for col, feats, name in ((g1, fc, "content"), (g2, fs, "style")):
            fig = px.imshow(gram_heatmap(feats, channels), color_continuous_scale="viridis",
                            title=f"Gram matrix of the {name} image, {layer} (first {channels} channels)")
            fig.update_layout(height=360, margin=dict(l=10, r=10, t=40, b=10))
            col.plotly_chart(fig, key=f"loss_gram_{name}")
        equation(REGISTRY["gram"].latex, "Gram matrix (normalised by C·H·W)")
        bar_layers = st.multiselect("Layers for the per-layer bars", ALL_LAYERS,
                                    key=keep("loss_bar_layers", STYLE_LAYERS + ["relu4_2"], ALL_LAYERS))
        if not bar_layers:
            st.warning("Choose at least one layer for the bars.")
        else:
            ordered = tuple(sorted(bar_layers, key=ALL_LAYERS.index))
            job = st.session_state.get("loss_desk")
            choices = ["the style image"] + (["the mixing-desk result"] if job else [])
            which = st.radio("Measure", choices, horizontal=True, key=keep("loss_bar_subject", choices[0], choices),
                             help="The style image: how far it is from the content image, layer by layer. "
                                  "The mixing-desk result: its content loss (vs the content image) and style loss "
                                  "(vs the style image).")
            if which == "the mixing-desk result" and job:
                result = job["desk"].image
                result = resize_tensor(result, tuple(content.shape[-2:])) if result.shape != content.shape else result
                table = layer_table((image_digest(result), c_digest, s_digest), ordered, result, content, style)
            else:  # both distances between the two images: features of one vs the other, Grams likewise
                table = layer_table((s_digest, c_digest, c_digest), ordered, style, content, content)
            long = table.melt(id_vars="layer", var_name="loss", value_name="value")
            fig = px.bar(long, x="layer", y="value", color="loss", facet_col="loss", log_y=True,
                         color_discrete_sequence=charts.PALETTE, facet_col_spacing=0.08,  # room for the tick labels
                         title=f"Per-layer content loss and style (Gram) loss of {which} (log scale)")
            fig.update_yaxes(matches=None, showticklabels=True)
            fig.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))
            charts.log_axis(fig)
            st.plotly_chart(fig, key="loss_bars")
            st.caption(" ".join(charts.trend_caption(table["layer"], table[col], name) for col, name in
                                (("content", "Content loss"), ("style", "Style loss")))
                       + " Deep layers encode *what* is where; the style loss per layer shows at which scale the "
                         "textures differ most.")
    except StylelabError as exc:
        show_error(exc)

# ----------------------------------------------------------------------------- distortion study
if view == "study":
    import plotly.express as px

    from stylelab.losses.distortions import DISTORTIONS, STUDY_METRICS, distort

    st.markdown("Distort the content image by a growing amount and watch each loss respond. "
                "Which losses forgive a small **shift**? Which ones cannot tell **patch shuffle** apart from the original?")
    names = st.multiselect("Distortions", list(DISTORTIONS), key=keep("loss_study_names", list(DISTORTIONS), DISTORTIONS))
    metrics = st.multiselect("Losses", list(STUDY_METRICS), key=keep("loss_study_metrics", list(STUDY_METRICS), STUDY_METRICS),
                             help="tv is the distorted image's total variation divided by the original's.")
    n_strengths = st.slider("Strength steps", 2, 6, key=keep("loss_study_steps", 4))
    preview = st.slider("Preview strength", 0.0, 1.0, step=0.05, key=keep("loss_study_preview", 0.5))
    if names:
        strip = [distort(content, n, preview, seed=0) for n in names]
        import torch

        st.image(image_grid(torch.stack(strip), nrow=len(strip)).permute(1, 2, 0).numpy(),
                 caption=" · ".join(names) + f" at strength {preview:.2f}")
    strengths = tuple(round(i / (n_strengths - 1), 3) for i in range(n_strengths))
    params = (c_digest, tuple(names), strengths, tuple(metrics))
    if st.button("Run the study", type="primary", key="loss_study_run"):
        if not names or not metrics:
            st.warning("Choose at least one distortion and one loss.")
        else:
            try:
                with st.spinner("Measuring every loss on every distorted image..."):
                    st.session_state["loss_study"] = {"params": params, "df": study_table(*params, content)}
            except StylelabError as exc:
                show_error(exc)
    study = st.session_state.get("loss_study")
    if study:
        if study["params"] != params:
            st.caption("The settings changed since this study ran: press **Run the study** to update it.")
        fig = px.line(study["df"], x="strength", y="value", color="distortion", facet_col="metric", facet_col_wrap=3,
                      markers=True, height=620, color_discrete_sequence=charts.PALETTE)
        fig.update_yaxes(matches=None, showticklabels=True)
        fig.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))
        st.plotly_chart(fig, key="loss_study_chart")
        st.caption("SSIM goes *down* as images differ (1 = identical); every other curve goes up.")

# ----------------------------------------------------------------------------- mixing desk
if view == "desk":
    import plotly.graph_objects as go

    from stylelab.losses.mixing import MixingConfig, MixingDesk, ablation_study

    # Two columns, so the live picture is in the first screen while it runs: the controls (narrow) on the
    # left, the progress, the result and its curves on the right. Drawn in this order (record upload before
    # the sliders, the sliders before the buttons that read them), each into its own place.
    ctrl, live = st.columns([1, 2], gap="medium")
    with ctrl:
        st.markdown("Start from the content image and let **Adam** change its pixels to lower the weighted sum "
                    "of terms. Every slider weighs one term; each term gets its own curve.")
        buttons = st.container()  # Start on its own row: three buttons in this column would cut their labels
    below = st.container()  # under both columns: the objective and the record upload
    with below:
        equation(REGISTRY["weighted_total"].latex, "The objective: the weighted sum of the terms above")
        record = upload_record("loss", key="loss_desk_record_upload")
    if record is not None and st.session_state.get("loss_record_applied") != record.created:
        # put the record's weights on the sliders (nearest allowed value), before they are drawn
        for term, value in dict(record.config.get("weights", {})).items():
            group = "style" if term.startswith("style:") else term
            key = f"loss_w_style_{term.split(':', 1)[1]}" if group == "style" else f"loss_w_{term}"
            if group in WEIGHT_STEPS and isinstance(value, (int, float)):
                st.session_state[key] = min(WEIGHT_STEPS[group], key=lambda v: abs(v - float(value)))
        st.session_state["loss_record_applied"] = record.created
        below.success(f"Loaded the weights of a run made {record.created}.")
    defaults = {"loss_w_content": 1.0, "loss_w_tv": 1.0, "loss_w_colorfulness": 0.0, "loss_w_contrast": 0.0,
                **{f"loss_w_style_{layer}": 1e5 for layer in STYLE_LAYERS}}
    for key, value in defaults.items():  # defaults through session state, so a loaded record can move the sliders
        keep(key, value)  # restores the value a page switch dropped
    weights: dict[str, float] = {}
    with ctrl:
        steps_target = st.slider("Steps per run", 10, 200, step=10, key=keep("loss_desk_steps", 40))
        lr = st.select_slider("Adam learning rate", [0.005, 0.01, 0.02, 0.03, 0.05, 0.1], key=keep("loss_desk_lr", 0.03))
        weights["content"] = st.select_slider("λ content", WEIGHT_STEPS["content"], format_func=fmt_weight,
                                              key="loss_w_content")
        equation(REGISTRY["content"].latex)
        for layer in STYLE_LAYERS:
            weights[f"style:{layer}"] = st.select_slider(f"λ style {layer}", WEIGHT_STEPS["style"],
                                                         format_func=fmt_weight, key=f"loss_w_style_{layer}")
        equation(REGISTRY["style_layer"].latex, "style term of each layer l")
        weights["tv"] = st.select_slider("λ TV", WEIGHT_STEPS["tv"], format_func=fmt_weight, key="loss_w_tv")
        equation(r"\frac{1}{HW}" + REGISTRY["tv_l2"].latex, "squared TV per pixel")
        weights["colorfulness"] = st.select_slider("λ colourfulness", WEIGHT_STEPS["colorfulness"],
                                                   format_func=fmt_weight, key="loss_w_colorfulness")
        equation(REGISTRY["colorfulness_loss"].latex)
        weights["contrast"] = st.select_slider("λ contrast", WEIGHT_STEPS["contrast"], format_func=fmt_weight,
                                               key="loss_w_contrast")
        equation(REGISTRY["contrast_loss"].latex)

    signature = (c_digest, s_digest, lr)
    b1 = buttons.container()  # created first: Start stands above Stop and Continue
    b2, b3 = buttons.columns(2)
    if b1.button("▶ Start / restart", type="primary", key="loss_desk_start"):
        try:
            desk = MixingDesk(content, style, MixingConfig(size=max(content.shape[-2:]), lr=lr, weights=weights))
            st.session_state["loss_desk"] = {"desk": desk, "running": True, "target": steps_target, "sig": signature}
        except StylelabError as exc:
            with buttons:
                show_error(exc)
    job = st.session_state.get("loss_desk")
    if b2.button("⏹ Stop", key="loss_desk_stop") and job:
        job["running"] = False
    if b3.button("➕ Continue", key="loss_desk_continue") and job:
        job["target"] = job["desk"].step_count + steps_target
        job["running"] = True
    buttons.caption("A run advances only while this view is open: another view or page pauses it; "
                    "coming back resumes it.")
    if job and job["sig"] != signature:
        buttons.caption("The images or the learning rate changed: press Start to begin again with them.")

    def desk_running() -> bool:
        j = st.session_state.get("loss_desk")
        return bool(j and j["running"])

    @st.fragment(run_every=0.5 if desk_running() else None)
    def desk_view() -> None:
        j = st.session_state.get("loss_desk")
        if not j:
            st.info("Press **Start** to run the optimisation.")
            return
        desk = j["desk"]
        desk.set_weights(weights)  # sliders act live, between steps
        if j["running"]:
            try:
                for _ in range(2):  # a few steps per rerun keeps the page responsive
                    if desk.step_count >= j["target"]:
                        j["running"] = False
                        st.rerun(scope="app")  # the whole page again: the fragment stops its timer
                    desk.step()
            except StylelabError as exc:
                j["running"] = False
                show_error(exc, "The optimisation stopped")
        st.progress(min(1.0, desk.step_count / max(1, j["target"])),
                    text=f"step {desk.step_count} / {j['target']}" + (" (running)" if j["running"] else ""))
        img_col, chart_col = st.columns([2, 3])
        img_col.image(desk.image.permute(1, 2, 0).numpy(), caption=f"result after {desk.step_count} steps",
                      width="stretch")
        if desk.history:
            fig = go.Figure()
            steps = [h["step"] for h in desk.history]
            for term in [k for k in desk.history[-1] if not k.endswith("_raw") and k not in ("step",)]:
                fig.add_trace(go.Scatter(x=steps, y=[h[term] for h in desk.history], name=term, mode="lines",
                                         line=dict(width=3, color=charts.TOTAL) if term == "total" else dict(width=1.5)))
            charts.use_palette(fig)
            fig.update_layout(height=380, xaxis_title="step", yaxis_title="λ·term", margin=dict(l=10, r=10, t=30, b=10),
                              title="One curve per weighted term",
                              legend=dict(orientation="h", yanchor="top", y=-0.2, x=0))
            chart_col.plotly_chart(fig, key="loss_desk_chart")
        if not j["running"] and desk.step_count:
            push_result("Loss Lab: mixing desk", desk.image)
            d1, d2 = st.columns(2)
            with d1:
                download_image(desk.image, "loss_lab_mixing.png", key="loss_desk_png")
            with d2:
                from stylelab.record import ExperimentRecord

                rec = ExperimentRecord(lab="loss", config=desk.config, seed=desk.config.seed, metrics=desk.history,
                                       summary={k: v for k, v in desk.history[-1].items()})
                download_record(rec, "loss_lab_mixing.json", key="loss_desk_record")
                from stylelab.ui.notebook_link import notebook_link

                notebook_link(rec, "loss_lab_mixing.json")

    with live:
        desk_view()

    st.subheader("Ablation grid")
    st.caption("Rerun from the content image with each active term group switched off, to see what each one does.")
    abl_steps = st.slider("Steps per ablation run", 5, 60, step=5, key=keep("loss_abl_steps", 20))
    if st.button("Run the ablation grid", key="loss_abl_run"):
        bar = st.progress(0.0, text="ablation")
        try:
            cfg = MixingConfig(size=max(content.shape[-2:]), lr=lr, weights=weights)
            results = ablation_study(content, style, cfg, abl_steps,
                                     progress=lambda f: bar.progress(f, text=f"ablation {f:.0%}"))
            st.session_state["loss_ablation"] = results
        except StylelabError as exc:
            show_error(exc)
    results = st.session_state.get("loss_ablation")
    if results:
        grid = st.columns(len(results))
        for col, r in zip(grid, results, strict=True):
            label = "all terms on" if r.switched_off is None else f"without {r.switched_off}"
            col.image(r.image.permute(1, 2, 0).numpy(), caption=f"{label} (total {r.values['total']:.3g})",
                      width="stretch")

# ----------------------------------------------------------------------------- equations
if view == "eq":
    st.markdown("Each loss is one function in `stylelab.losses`; its formula, what it measures and its range:")
    for spec in REGISTRY.values():
        with st.container(border=True):
            a, b = st.columns([1, 2])
            a.markdown(f"**{spec.label}**  \n`{spec.name}` · {spec.measures}  \nrange: {spec.value_range}")
            with b:
                equation(spec.latex)
    st.info("A discriminator loss is sometimes printed as E[log D(x)] + E[1 − log D(G(z))]: the 1 − belongs inside "
            "the log, and the sign is flipped. D *maximises* E[log D(x)] + E[log(1 − D(G(z)))], so its loss is "
            "the negative. And a 'content loss' is a distance between VGG feature maps, not pixel MSE.")
