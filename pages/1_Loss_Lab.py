"""Loss Lab: every loss of the field, and what each one sees.

Layout only: every number comes from ``stylelab.losses`` (the same functions the notebook checks
by hand and the Style Studio optimises). Four tabs: see the features and Grams, the distortion
study, the mixing desk (a live optimisation with one curve per term), the equations.
"""

from __future__ import annotations

import streamlit as st

from stylelab import equations
from stylelab.errors import StylelabError
from stylelab.ui import (
    charts,
    classroom,
    equation,
    image_picker,
    keep,
    page_setup,
    show_error,
    upload_record,
    view_picker,
)
from stylelab.ui import losses as ui
from stylelab.ui.live import current_run, live_run, more_steps

page_setup("Loss Lab", "📐")
classroom_row = classroom.classroom_slot("loss")  # a shared link's set-up, before any control
st.title("📐 Loss Lab")
st.caption("Every loss of the field as one function. Pick two images, then look at what each loss sees.")

# ----------------------------------------------------------------------------- pick images
size = st.sidebar.select_slider("Working size (px, longer side)", ui.SIZES, key=keep("loss_size", 128, ui.SIZES),
                                help="Small keeps every rerun quick on a classroom laptop.")
left, right = st.columns(2)
with left:
    content = image_picker("Content image", key="loss_content", default="photo:astronaut", size=size)
with right:
    style = image_picker("Style image", key="loss_style", default="painting:the-great-wave-off-kanagawa", size=size)
if content is None or style is None:
    st.info("Pick a content image and a style image to start.")
    st.stop()

from stylelab.features import VGG16_RELUS as ALL_LAYERS  # noqa: E402  (torch loads after the pickers render)
from stylelab.imageio import image_grid, resize_tensor  # noqa: E402
from stylelab.losses.perceptual import DEFAULT_STYLE_LAYERS  # noqa: E402
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
        fc = ui.features_for(c_digest, (layer,), content)[layer]
        fs = ui.features_for(s_digest, (layer,), style)[layer]
        from stylelab.losses.visual import feature_tiles, gram_heatmap

        a, b = st.columns(2)
        a.image(image_grid(feature_tiles(fc, 8), nrow=4).permute(1, 2, 0).numpy(), width="stretch",
                caption=f"content: 8 strongest of {fc.shape[1]} channels at {layer} ({fc.shape[3]}x{fc.shape[2]})")
        b.image(image_grid(feature_tiles(fs, 8), nrow=4).permute(1, 2, 0).numpy(), width="stretch",
                caption=f"style: 8 strongest of {fs.shape[1]} channels at {layer}")
        channels = st.slider("Gram channels shown", 8, 64, step=8, key=keep("loss_gram_channels", 32))
        g1, g2 = st.columns(2)
        def gram_figure(feats, name):
            fig = px.imshow(gram_heatmap(feats, channels), color_continuous_scale="viridis",
                            title=f"Gram matrix of the {name} image, {layer} (first {channels} channels)")
            return fig.update_layout(height=360, margin=dict(l=10, r=10, t=40, b=10))

        for col, feats, name, digest in ((g1, fc, "content", c_digest), (g2, fs, "style", s_digest)):
            fig = charts.shared_figure("loss_gram", (digest, layer, channels, name), lambda f=feats, n=name: gram_figure(f, n))
            col.plotly_chart(fig, key=f"loss_gram_{name}")
        equation(equations.latex("loss.gram"), "Gram matrix (normalised by C·H·W)")
        bar_layers = st.multiselect("Layers for the per-layer bars", ALL_LAYERS,
                                    key=keep("loss_bar_layers", [*DEFAULT_STYLE_LAYERS, "relu4_2"], ALL_LAYERS))
        if not bar_layers:
            st.warning("Choose at least one layer for the bars.")
        else:
            ordered = tuple(sorted(bar_layers, key=ALL_LAYERS.index))
            desk = current_run(ui.DESK_KEY)
            choices = ["the style image"] + (["the mixing-desk result"] if desk is not None and desk.step_count else [])
            which = st.radio("Measure", choices, horizontal=True, key=keep("loss_bar_subject", choices[0], choices),
                             help="The style image: how far it is from the content image, layer by layer. "
                                  "The mixing-desk result: its content loss (vs the content image) and style loss "
                                  "(vs the style image).")
            if which == "the mixing-desk result":
                result = desk.image
                result = resize_tensor(result, tuple(content.shape[-2:])) if result.shape != content.shape else result
                table = ui.layer_table((image_digest(result), c_digest, s_digest), ordered, result, content, style)
            else:  # both distances between the two images: features of one vs the other, Grams likewise
                table = ui.layer_table((s_digest, c_digest, c_digest), ordered, style, content, content)
            def bars_figure():
                long = table.melt(id_vars="layer", var_name="loss", value_name="value")
                fig = px.bar(long, x="layer", y="value", color="loss", facet_col="loss", log_y=True,
                             color_discrete_sequence=charts.PALETTE, facet_col_spacing=0.08,  # room for the tick labels
                             title=f"Per-layer content loss and style (Gram) loss of {which} (log scale)")
                fig.update_yaxes(matches=None, showticklabels=True)
                fig.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))
                return charts.log_axis(fig)

            # keyed by the numbers it shows: the same table draws the same figure, built once per server
            st.plotly_chart(charts.shared_figure("loss_bars", (which, table.to_json()), bars_figure), key="loss_bars")
            st.caption(" ".join(charts.trend_caption(table["layer"], table[col], name) for col, name in
                                (("content", "Content loss"), ("style", "Style loss")))
                       + " Deep layers encode *what* is where; the style loss per layer shows at which scale the "
                         "textures differ most.")
    except StylelabError as exc:
        show_error(exc)

# ----------------------------------------------------------------------------- distortion study
if view == "study":
    import plotly.express as px

    from stylelab.losses.distortions import DISTORTIONS, STUDY_METRICS, distortion_strip, strength_grid

    st.markdown("Distort the content image by a growing amount and watch each loss respond. "
                "Which losses forgive a small **shift**? Which ones cannot tell **patch shuffle** apart from the original?")
    names = st.multiselect("Distortions", list(DISTORTIONS), key=keep("loss_study_names", list(DISTORTIONS), DISTORTIONS))
    metrics = st.multiselect("Losses", list(STUDY_METRICS), key=keep("loss_study_metrics", list(STUDY_METRICS), STUDY_METRICS),
                             help="tv is the distorted image's total variation divided by the original's.")
    n_strengths = st.slider("Strength steps", 2, 6, key=keep("loss_study_steps", 4))
    preview = st.slider("Preview strength", 0.0, 1.0, step=0.05, key=keep("loss_study_preview", 0.5))
    if names:
        st.image(image_grid(distortion_strip(content, names, preview), nrow=len(names)).permute(1, 2, 0).numpy(),
                 caption=" · ".join(names) + f" at strength {preview:.2f}")
    strengths = strength_grid(n_strengths)
    params = (c_digest, tuple(names), strengths, tuple(metrics))
    if st.button("Run the study", type="primary", key="loss_study_run"):
        if not names or not metrics:
            st.warning("Choose at least one distortion and one loss.")
        else:
            try:
                with st.spinner("Measuring every loss on every distorted image..."):
                    st.session_state["loss_study"] = {"params": params, "df": ui.study_table(*params, content)}
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
    from stylelab.losses.mixing import AblationGrid, MixingConfig, MixingDesk

    # Two columns, so the live picture is in the first screen while it runs: the controls (narrow) on the
    # left, the buttons, progress, the result and its curves on the right.
    ctrl, live = st.columns([1, 2], gap="medium")
    with ctrl:
        st.markdown("Start from the content image and let **Adam** change its pixels to lower the weighted sum "
                    "of terms. Every slider weighs one term; each term gets its own curve.")
    below = st.container()  # under both columns: the objective and the record upload
    with below:
        equation(equations.latex("loss.mixing_objective"), "The objective: the weighted sum of the terms above")
        record = upload_record("loss", key="loss_desk_record_upload")
    if record is not None:  # before the sliders are drawn: it puts the record's exact weights on them
        ui.load_desk_record(record, content, style, below)
    ui.seed_weight_defaults()
    with ctrl:
        steps_target = st.slider("Steps per run", 10, 200, step=10, key=keep("loss_desk_steps", 40))
        lr = st.select_slider("Adam learning rate", ui.DESK_LRS, key=keep("loss_desk_lr", 0.03, ui.DESK_LRS))
        weights = ui.weight_sliders()
    desk = current_run(ui.DESK_KEY)
    if desk is not None:
        try:
            desk.set_weights(weights)  # sliders act live, between steps
        except StylelabError as exc:
            show_error(exc)

    def make_desk() -> MixingDesk:
        return MixingDesk(content, style, MixingConfig(size=max(content.shape[-2:]), lr=lr, weights=weights,
                                                       steps=steps_target))

    with live:
        buttons = st.container()
        live_run(ui.DESK_KEY, make_desk, ui.draw_desk, controls=buttons, start_label="▶ Start / restart")
        below_run = st.container()  # under the picture, so the picture stays in the first screen
        more_steps(ui.DESK_KEY, below_run, steps_target, f"➕ {steps_target} more steps")
        below_run.caption("A run advances only while this view is open: another view or page pauses it; "
                          "coming back resumes it.")
        desk = current_run(ui.DESK_KEY)
        if desk is None:
            st.info("Press **Start** to run the optimisation.")
        elif desk.inputs()["content"].shape != content.shape or desk.config.lr != lr:
            buttons.caption("The images or the learning rate changed: press Start to begin again with them.")

    st.subheader("Ablation grid")
    st.caption("Rerun from the content image with each active term group switched off, to see what each one does.")
    abl_steps = st.slider("Steps per ablation run", 5, 60, step=5, key=keep("loss_abl_steps", 20))

    def make_grid() -> AblationGrid:
        return AblationGrid(content, style, MixingConfig(size=max(content.shape[-2:]), lr=lr, weights=weights,
                                                         steps=abl_steps))

    live_run(ui.ABLATION_KEY, make_grid, ui.show_ablation, start_label="Run the ablation grid")

# ----------------------------------------------------------------------------- equations
if view == "eq":
    st.markdown("Each loss is one function in `stylelab.losses`; its formula, what it measures and its range:")
    ui.equation_cards()
    st.info("A discriminator loss is sometimes printed as E[log D(x)] + E[1 − log D(G(z))]: the 1 − belongs inside "
            "the log, and the sign is flipped. D *maximises* E[log D(x)] + E[log(1 − D(G(z)))], so its loss is "
            "the negative. And a 'content loss' is a distance between VGG feature maps, not pixel MSE.")

classroom.classroom_bar("loss", where=classroom_row, runs=ui.DESK_KEY)  # share · lessons · publish (drawn at the top)
