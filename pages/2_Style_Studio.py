"""Style Studio: Gatys optimisation (live), 26 pretrained styles (blendable), arbitrary style codes, train your own.

Layout only: the optimisation, networks, records and equations live in ``stylelab.style``, the
shared widgets in ``stylelab.ui.style``, the live driver in ``stylelab.ui.live``. Session keys start
with ``style_``.
"""

from __future__ import annotations

import streamlit as st

from stylelab import equations
from stylelab.errors import StylelabError
from stylelab.ui import (
    classroom,
    equation,
    image_picker,
    keep,
    live,
    page_setup,
    show_error,
    show_image,
    show_image_file,
    upload_record,
    view_picker,
)

page_setup("Style Studio", "🎨")
classroom_row = classroom.classroom_slot("style")  # a shared link's set-up, before any control

import plotly.graph_objects as go  # noqa: E402

from stylelab.assets import get_asset  # noqa: E402
from stylelab.style import arbitrary, gatys, multistyle  # noqa: E402  (after page_setup: the frame shows first)
from stylelab.style.experiments import GatysPair, arbitrary_record, has_pixel_twin, pretrained_record  # noqa: E402
from stylelab.ui import style as ui  # noqa: E402

GATYS, TRAIN = "style_gatys", "style_tr"  # live_run keys
NETS = ["vgg16"] + (["vgg19"] if get_asset("vgg19").present else [])


def eq(name: str, label: bool = True) -> None:
    e = equations.get(name)
    equation(e.latex, e.label if label else None)


st.title("🎨 Style Studio")
st.markdown(
    "Three ways to paint a photo in the style of a painting. **Gatys** optimises one image "
    "until its VGG features match the photo's *content* and its Gram matrices match the painting's *style*. "
    "**Feed-forward** networks learn to do that in one pass, for 26 styles at once (blend them!). The "
    "**arbitrary** network reads *any* painting into a 100-number style code, then paints with it."
)
ui.apply_pending_record(tuple(NETS))

# ----------------------------------------------------------------------------- pickers
left, right = st.columns(2)
with left:  # no sub-headings: the pickers' labels say which is which, and the views below start higher
    size = st.select_slider("Working size (longer side, px)", ui.SIZES, key=keep("style_size", 256, ui.SIZES),
                            help="256 px keeps the photo recognisable (the pretrained styles take ~30 ms there); "
                                 "Gatys is faster at 128 px.")
    content = image_picker("Content image", key="style_content", default="photo:astronaut", size=size)
with right:
    style = image_picker("Style image", key="style_style", default="painting:the-great-wave-off-kanagawa", size=256,
                         groups=("Paintings", "Photos", "Textures"))

with right, st.expander("🖼️ The paintings gallery", expanded=False):  # under the shorter column: no extra height
    try:
        from stylelab.paintings import list_paintings

        paintings = list_paintings()
    except StylelabError as exc:
        paintings = []
        show_error(exc, "Paintings are not available")
    cols = st.columns(3)
    for i, p in enumerate(paintings):
        with cols[i % 3]:
            show_image_file(p.path, caption=f"{p.title} — {p.artist}")
    if paintings:
        st.caption("Choose one with the *Style image* picker above (Paintings).")

if content is None or style is None:
    st.info("Pick a content image and a style image to start.")
    st.stop()

METHODS = {"gatys": "🐢 Gatys (optimisation)", "fast": "⚡ Pretrained (26 styles)", "arbitrary": "🎯 Arbitrary style",
           "train": "🏋️ Train your own", "learned": "🧬 Learn a style"}
# A segmented control, not st.tabs: the chosen method survives a page switch, and only it is computed.
method = view_picker("Method", METHODS, "style_method", "gatys")
PAUSE_NOTE = live.away_note()

# ----------------------------------------------------------------------------- Gatys
if method == "gatys":
    # Start/Stop, the live preview and the result come first (in the first screen while it runs); the
    # controls below them are drawn first, as the buttons read them, each into its own place.
    head = st.container()
    st.markdown("Minimise a weighted sum of terms over the image (by default written as a scaled Fourier "
                "transform, which reaches a given loss in fewer steps than raw **pixels**: see *Optimise in*):")
    eq("style.gatys_objective", label=False)
    loaded = upload_record("style", key="style_record_upload")
    if loaded is not None and st.session_state.get("style_loaded_created") != loaded.created:
        st.session_state["style_loaded_created"] = loaded.created
        st.session_state["style_pending_record"] = loaded.to_json()
        st.rerun()  # the settings are applied at the top of the page, before the widgets exist
    if "style_loaded_msg" in st.session_state:
        st.success(st.session_state.pop("style_loaded_msg"))

    w1, w2, w3 = st.columns(3)
    with w1:
        alpha = 10 ** st.slider("log₁₀ α (content)", -2.0, 2.0, step=0.25, key=keep("style_alpha", 0.0))
        eq("style.content_term")
        beta = 10 ** st.slider("log₁₀ β (style)", 3.0, 8.0, step=0.25, key=keep("style_beta", 6.0))
        eq("style.style_term")
    with w2:
        tv = 10 ** st.slider("log₁₀ λ_TV (smoothness)", -4.0, 1.0, step=0.25, key=keep("style_tv", -2.0))
        eq("style.tv_term")
        col_w = st.slider("λ_col (colourfulness reward)", 0.0, 200.0, step=5.0, key=keep("style_col", 0.0))
        eq("style.colorfulness_term")
        con_w = st.slider("λ_con (contrast reward)", 0.0, 500.0, step=10.0, key=keep("style_con", 0.0))
        eq("style.contrast_term")
    with w3:
        steps = st.slider("Steps (loss evaluations)", 4, 400, step=4, key=keep("style_steps", 60))
        opt = st.radio("Optimizer", ["lbfgs", "adam"], horizontal=True, key=keep("style_opt", "lbfgs"))
        init = st.radio("Start from", ["content", "noise", "style"], horizontal=True, key=keep("style_init", "content"))
        color = st.radio("Colour preservation", ["none", "luminance", "histogram"], horizontal=True,
                         key=keep("style_color", "none"),
                         help="luminance: transfer style on Y only and keep the photo's chroma (YIQ); "
                              "histogram: recolour the painting to the photo's colour statistics first.")
        levels = st.radio("Coarse-to-fine scales", [1, 2, 3], horizontal=True, key=keep("style_levels", 1),
                          help="2 = start at half size (4x cheaper steps), then finish at full size from the "
                               "content plus the upsampled change. Measured at 256 px: the coarse steps fix the "
                               "layout but the fine textures still need full-size steps, so 1 scale reaches a "
                               "given loss sooner; compare the loss curves.")
        space = st.radio("Optimise in", list(gatys.PARAM_KINDS), horizontal=True, key=keep("style_param", "fourier"),
                         help=gatys.PARAM_HELP)
        decor = st.checkbox("Decorrelated colour", key=keep("style_param_colour", False),
                            help="Optimise in a fixed decorrelated colour basis (the square root of the ImageNet "
                                 "colour covariance) instead of R, G, B.")
        twin_on = st.checkbox("Also run plain pixels side by side", key=keep("style_param_twin", False),
                              disabled=space == "pixels" and not decor,
                              help="The same loss, weights and optimiser, optimised over the pixels: both pictures "
                                   "and both loss curves, evaluation by evaluation (each tick steps both).")
        net_name = st.radio("Feature network", NETS, horizontal=True, key=keep("style_net", "vgg16", NETS),
                            help="VGG19 appears only where torchvision's VGG19 weights are already cached.")
        seed = st.number_input("Seed", 0, 2**31 - 1, key=keep("style_seed", 0))

    config = gatys.GatysConfig(size=size, steps=int(steps), optimizer=opt, content_weight=alpha, style_weight=beta,
                               tv_weight=tv, colorfulness_weight=col_w, contrast_weight=con_w, init=init,
                               color=color, pyramid_levels=int(levels),  # (64 px / 2**2 = 16: every choice fits)
                               network=net_name, seed=int(seed), param=space,
                               param_colour="imagenet" if decor else "none")

    def make_gatys():
        if twin_on and has_pixel_twin(config):
            return GatysPair(content, style, config)
        return gatys.GatysStylizer(content, style, config)

    def started(run) -> None:
        st.session_state["style_gatys_twin"] = getattr(run, "twin", None)
        st.session_state["style_gatys_names"] = {"content": ui.picked("style_content"), "style": ui.picked("style_style")}

    with head:
        buttons, note_box = st.container(), st.container()
        shown_run = live.current_run(GATYS)
        if shown_run is not None and shown_run.config != config:
            note_box.info("The settings shown differ from the run on screen (its own settings are listed under its "
                          "result): press **Start** to run them.")
        st.caption(PAUSE_NOTE + " Each step is one forward + backward pass through VGG.")
        run = live.live_run(GATYS, make_gatys, ui.draw_gatys, controls=buttons, on_start=started)
        if run is not None and run.step_count > 0 and not live.is_running(GATYS):
            st.markdown("#### Result")
            names = st.session_state.get("style_gatys_names", {})
            c = run.config
            main = getattr(run, "main", run)
            ui.result_block(main.content, main.preview(), "style_gatys_res", f"gatys_seed{c.seed}",
                            run.record(**names), painting=main.style, style_label=f"Painting: {names.get('style', '')}",
                            note=f"This run: {c.size} px, {c.optimizer}, {c.steps} steps, α={c.content_weight:.3g}, "
                                 f"β={c.style_weight:.3g}, λ_TV={c.tv_weight:.3g}, seed {c.seed}.")

# ----------------------------------------------------------------------------- pretrained 26 styles
elif method == "fast":
    st.markdown("One network, 26 styles: each style owns the scale and shift of every **conditional instance "
                "norm** layer; a blend mixes them (Dumoulin et al. 2017).")
    eq("style.cin", label=False)
    try:
        styles = list(range(multistyle.NUM_STYLES))
        f1, f2, f3 = st.columns([2, 2, 3])
        a_idx = f1.selectbox("Style A", styles, key=keep("style_fast_a", 19, styles),
                             format_func=lambda i: multistyle.STYLE_NAMES[i])
        b_idx = f2.selectbox("Style B (for blending)", styles, key=keep("style_fast_b", 7, styles),
                             format_func=lambda i: multistyle.STYLE_NAMES[i])
        t = f3.slider("Blend: 0 = A, 1 = B", 0.0, 1.0, step=0.05, key=keep("style_fast_t", 0.0))
        st.caption(multistyle.STYLE_NAMES_SOURCE)
        if size < multistyle.RECOMMENDED_SIZE:
            st.info(f"At {size} px the strokes (sized for ~500 px photos) swallow the picture: "
                    f"{multistyle.RECOMMENDED_SIZE} px or more keeps it recognisable.")
        spec = {int(a_idx): 1.0} if a_idx == b_idx else {int(a_idx): 1.0 - t, int(b_idx): t}
        out, ms = ui.memo("fast", lambda: ui.timed(lambda: multistyle.stylize_multistyle(content, spec)), content,
                          extra=spec)
        names = multistyle.STYLE_NAMES
        label = names[a_idx] if len(spec) == 1 or t == 0 else names[b_idx] if t == 1 else \
            f"{1 - t:.0%} {names[a_idx]} + {t:.0%} {names[b_idx]}"
        ui.result_block(content, out, "style_fast_res", f"fast_{a_idx}_{b_idx}_{t:.2f}", pretrained_record(spec, size, ms),
                        style_label=f"Style: {label}", note=f"{ms:.0f} ms on {content.shape[-1]}x{content.shape[-2]} px")
        if st.toggle("Show all 26 styles on your content", key=keep("style_fast_sheet", False)):
            thumbs = ui.memo("thumbs", lambda: multistyle.style_thumbnails(content, size=160), content)
            cols = st.columns(7)
            for i in range(multistyle.NUM_STYLES):
                with cols[i % 7]:
                    show_image(thumbs[i], caption=names[i])
    except StylelabError as exc:
        show_error(exc, "The pretrained network is not available")

# ----------------------------------------------------------------------------- arbitrary
elif method == "arbitrary":
    st.markdown("A style **encoder** turns any painting into a 100-number code; the **transformer** paints "
                "with it (Ghiasi et al. 2017). Codes can be mixed like colours.")
    eq("style.arbitrary_code", label=False)
    try:
        a1, a2 = st.columns(2)
        with a1:
            strength = st.slider("Strength α (0 = the photo's own style)", 0.0, 1.0, step=0.05,
                                 key=keep("style_arb_strength", 1.0))
            use_second = st.checkbox("Interpolate toward a second style", key=keep("style_arb_two", False))
            t2 = 0.0
            code = ui.memo("code", lambda: arbitrary.style_code(style), style)
            if use_second:
                second = image_picker("Second style", key="style_style2", default="painting:composition-viii", size=256,
                                      groups=("Paintings", "Photos", "Textures"))
                t2 = st.slider("t (0 = first style, 1 = second)", 0.0, 1.0, step=0.05, key=keep("style_arb_t", 0.5))
                if second is not None:
                    code = arbitrary.interpolate_codes(code, ui.memo("code", lambda: arbitrary.style_code(second), second), t2)
            own = ui.memo("code", lambda: arbitrary.style_code(content), content)
            code = arbitrary.with_strength(code, own, strength)
            fig = go.Figure(go.Bar(y=code.tolist()))
            fig.update_layout(height=200, margin=dict(l=10, r=10, t=30, b=10), title="the 100-d style code")
            st.plotly_chart(fig, width="stretch", key="style_code_bars")
        out = ui.memo("arbitrary", lambda: arbitrary.transfer(content, code), content, code)
        with a2:
            show_image(out, caption=f"strength {strength:.2f}" + (f", t = {t2:.2f}" if use_second else ""))
        ui.result_block(content, out, "style_arb_res", f"arbitrary_{strength:.2f}", arbitrary_record(code, strength, t2, size),
                        painting=style, style_label="Painting" + (" (first of two)" if use_second else ""))
    except StylelabError as exc:
        show_error(exc, "The arbitrary-style networks are not available")

# ----------------------------------------------------------------------------- learn a style
elif method == "learned":
    from stylelab.ui import learned as ui_learned

    ui_learned.tab(content, style, PAUSE_NOTE)

# ----------------------------------------------------------------------------- train your own
else:
    st.markdown("Train a small **feed-forward** network (Johnson et al. 2016) on the bundled photos for the "
                "style picked above: the same perceptual loss as Gatys, but minimised over the network's "
                "weights, so later a single forward pass does the job.")
    eq("style.johnson_objective", label=False)
    from stylelab.style.train_fast import FastStyleConfig, FastStyleTrainer

    t1, t2c, t3 = st.columns(3)
    with t1:
        tr_steps = st.slider("Training steps", 10, 600, step=10, key=keep("style_tr_steps", 200))
        tr_size = st.select_slider("Crop size", [32, 64, 96, 128], key=keep("style_tr_size", 64))
    with t2c:
        tr_beta = 10 ** st.slider("log₁₀ β (style)", 3.0, 7.0, step=0.25, key=keep("style_tr_beta", 5.0))
        tr_adv = st.slider("λ_adv (PatchGAN term, 0 = off)", 0.0, 1.0, step=0.05, key=keep("style_tr_adv", 0.0))
    with t3:
        tr_width = st.select_slider("Width", [4, 8, 16, 32], key=keep("style_tr_width", 16))
        tr_seed = st.number_input("Seed", 0, 2**31 - 1, key=keep("style_tr_seed", 0))
    st.caption(PAUSE_NOTE + " A few hundred steps at 64 px give a visible style in minutes on a CPU.")

    def make_trainer() -> FastStyleTrainer:
        cfg = FastStyleConfig(style_name=ui.picked("style_style"), size=int(tr_size), steps=int(tr_steps),
                              style_weight=tr_beta, adv_weight=tr_adv, width=int(tr_width), seed=int(tr_seed))
        return FastStyleTrainer(style, cfg)

    tr = live.live_run(TRAIN, make_trainer, ui.training_view(content), start_label="▶ Train")
    if tr is not None and tr.step_count > 0 and not live.is_running(TRAIN):
        st.download_button("Download the trained network (.pt)", tr.to_bytes(), file_name="my_style.pt",
                           key="style_tr_download")
        st.caption("Use it later with `python -m stylelab stylize photo.jpg my_style.pt -o out.png --method fast`.")

classroom.classroom_bar("style", where=classroom_row, runs=GATYS)  # share · lessons · publish (drawn at the top)
