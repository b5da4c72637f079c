"""Style Studio: Gatys optimisation (live), 26 pretrained styles (blendable), arbitrary style codes, train your own.

The page only lays out widgets and calls ``stylelab.style``; the optimisation, networks and loss
functions live there. Session keys start with ``style_``.
"""

from __future__ import annotations

import dataclasses
import math
import time

import streamlit as st

from stylelab.errors import StylelabError
from stylelab.ui import (
    download_image,
    download_record,
    equation,
    image_picker,
    keep,
    page_setup,
    push_result,
    show_error,
    show_image,
    upload_record,
    view_picker,
)
from stylelab.ui.charts import PALETTE, log_axis
from stylelab.ui.notebook_link import notebook_link

page_setup("Style Studio", "🎨")

import plotly.graph_objects as go  # noqa: E402
import torch  # noqa: E402  (after page_setup: the page frame shows while torch loads)

from stylelab.losses import REGISTRY  # noqa: E402
from stylelab.style import arbitrary, gatys, multistyle  # noqa: E402
from stylelab.style.compare import wipe  # noqa: E402

SIZES = [64, 96, 128, 192, 256, 384, 512]
TICK_SECONDS = 1.0  # work per rerun of the live fragment: the page stays responsive


def _latex(name: str) -> str:
    return REGISTRY[name].latex


def _picked(key: str) -> str:
    """What a picker currently shows, for the experiment record (e.g. ``painting:mona-lisa`` or ``upload``)."""
    src = st.session_state.get(f"{key}_src", "")
    if src == "Upload":
        return "upload"
    if src == "This session":
        return f"session:{st.session_state.get(f'{key}_session', '')}"
    return str(st.session_state.get(f"{key}_{src}", src))


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, (time.perf_counter() - t0) * 1000


def _memo(kind: str, fn, *images: torch.Tensor, extra: object = None):
    """Reuse a result for the same images + settings within this session (tabs all render on every rerun)."""
    import hashlib

    h = hashlib.sha1(kind.encode())
    for img in images:
        h.update(img.detach().contiguous().numpy().tobytes())
    h.update(repr(extra).encode())
    memo: dict = st.session_state.setdefault("style_memo", {})
    key = h.hexdigest()
    if key not in memo:
        if len(memo) > 32:
            memo.pop(next(iter(memo)))
        memo[key] = fn()
    return memo[key]


st.title("🎨 Style Studio")
st.markdown(
    "Three ways to paint a photo in the style of a painting. **Gatys** optimises one image "
    "until its VGG features match the photo's *content* and its Gram matrices match the painting's *style*. "
    "**Feed-forward** networks learn to do that in one pass, for 26 styles at once (blend them!). The "
    "**arbitrary** network reads *any* painting into a 100-number style code, then paints with it."
)


def _apply_pending_record() -> None:
    """Put a re-loaded record's settings into the widgets (must run before they are created)."""
    text = st.session_state.pop("style_pending_record", None)
    if text is None:
        return
    from stylelab.record import ExperimentRecord

    try:
        cfg0 = gatys.config_from_record(ExperimentRecord.from_json(text, lab="style"))
    except StylelabError as exc:
        show_error(exc, "Could not reproduce this record")
        return
    st.session_state.update({
        "style_alpha": min(2.0, max(-2.0, math.log10(max(cfg0.content_weight, 1e-2)))),
        "style_beta": min(8.0, max(3.0, math.log10(max(cfg0.style_weight, 1e3)))),
        "style_tv": min(1.0, max(-4.0, math.log10(max(cfg0.tv_weight, 1e-4)))),
        "style_col": float(cfg0.colorfulness_weight), "style_con": float(cfg0.contrast_weight),
        "style_steps": int(min(400, max(4, cfg0.steps))), "style_seed": int(cfg0.seed), "style_opt": cfg0.optimizer,
        "style_init": cfg0.init, "style_color": cfg0.color, "style_levels": int(cfg0.pyramid_levels),
        "style_net": cfg0.network, "style_param": cfg0.param, "style_param_colour": cfg0.param_colour != "none",
    })
    if cfg0.size in SIZES:
        st.session_state["style_size"] = cfg0.size
    st.session_state["style_loaded_msg"] = (f"Loaded the record's settings (size {cfg0.size}, seed {cfg0.seed}); "
                                            "pick the same images and press Start to reproduce it.")


_apply_pending_record()

# ----------------------------------------------------------------------------- pickers
left, right = st.columns(2)
with left:  # no sub-headings: the pickers' labels say which is which, and the views below start higher
    size = st.select_slider("Working size (longer side, px)", SIZES, key=keep("style_size", 256, SIZES),
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
            st.image(str(p.path), caption=f"{p.title} — {p.artist}", width="stretch")
    if paintings:
        st.caption("Choose one with the *Style image* picker above (Paintings).")

if content is None or style is None:
    st.info("Pick a content image and a style image to start.")
    st.stop()

METHODS = {"gatys": "🐢 Gatys (optimisation)", "fast": "⚡ Pretrained (26 styles)", "arbitrary": "🎯 Arbitrary style",
           "train": "🏋️ Train your own"}
# A segmented control, not st.tabs: the chosen method survives a page switch, and only it is computed.
method = view_picker("Method", METHODS, "style_method", "gatys")
PAUSE_NOTE = ("A run advances only while this page is open: switching page pauses it, coming back resumes it "
              "with the settings shown.")


def _aesthetics(before: torch.Tensor, after: torch.Tensor) -> None:
    """The result's aesthetic scores next to the content's."""
    import pandas as pd

    try:
        from stylelab.aesthetics import report

        names = ("colorfulness", "saturation", "rms_contrast", "brightness", "sharpness_laplacian", "entropy")
        rows = {"content": report(before, quality=False, names=names), "result": report(after, quality=False, names=names)}
    except StylelabError as exc:
        show_error(exc, "Could not score the images")
        return
    from stylelab.aesthetics.scorecard import MEASURES

    table = pd.DataFrame(rows)
    table["change"] = table["result"] - table["content"]
    table.index = [MEASURES[n].label for n in table.index]  # "Sharpness (Laplacian variance)", not the registry key
    st.dataframe(table.style.format("{:.3f}"), width="stretch")


def _before_after(before: torch.Tensor, after: torch.Tensor, key: str) -> None:
    split = st.slider("Before ◀ ▶ after", 0.0, 1.0, step=0.05, key=keep(f"{key}_wipe", 0.5))
    show_image(wipe(before, after, split), caption="left: content · right: result")


def _result_block(before: torch.Tensor, after: torch.Tensor, key: str, name: str, record=None,
                  painting: torch.Tensor | None = None, style_label: str = "Painting", note: str = "") -> None:
    """Photo and painting (small) | the result with a before/after wipe | scores and downloads."""
    src, a, b = st.columns([1, 2, 2])
    with src:
        show_image(before, caption="Photo")
        if painting is not None:
            show_image(painting, caption=style_label)
        elif style_label:
            st.caption(style_label)
    with a:
        _before_after(before, after, key)
        if note:
            st.caption(note)
    with b:
        st.markdown("**Aesthetics: content vs result**")
        _aesthetics(before, after)
        download_image(after, f"{name}.png", key=f"{key}_png")
        if record is not None:
            download_record(record, f"{name}.json", key=f"{key}_json")
            notebook_link(record, f"{name}.json")
        if st.button("Share with the other labs", key=f"{key}_share"):
            push_result(name, after)
            st.success(f"Shared as {name!r}: pick it under *This session* in any lab.")


# ----------------------------------------------------------------------------- Gatys
if method == "gatys":
    # Start/Stop, the live preview and the result come first (in the first screen while it runs); the
    # controls below them are drawn first, as the buttons read them, each into its own place.
    head = st.container()
    st.markdown("Minimise a weighted sum of terms over the image (by default written as a scaled Fourier "
                "transform, which reaches a given loss in fewer steps than raw **pixels**: see *Optimise in*):")
    equation(r"\mathcal{L}(x) = \alpha\,\mathcal{L}_{content} + \beta\,\mathcal{L}_{style} + "
             r"\lambda_{TV}\,\tfrac{TV(x)}{HW} - \lambda_{col}\,M(x) - \lambda_{con}\,\sigma_Y(x)")
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
        equation(_latex("content"), "content term (VGG relu4_2)")
        beta = 10 ** st.slider("log₁₀ β (style)", 3.0, 8.0, step=0.25, key=keep("style_beta", 6.0))
        equation(_latex("style"), "style term (Grams of relu1_1 … relu5_1)")
    with w2:
        tv = 10 ** st.slider("log₁₀ λ_TV (smoothness)", -4.0, 1.0, step=0.25, key=keep("style_tv", -2.0))
        equation(_latex("tv_l2") + r"\ \big/\ HW", "total variation")
        col_w = st.slider("λ_col (colourfulness reward)", 0.0, 200.0, step=5.0, key=keep("style_col", 0.0))
        equation(r"-\tfrac{1}{100}\big(" + _latex("colorfulness") + r"\big)", "colourfulness term (as in the Loss Lab)")
        con_w = st.slider("λ_con (contrast reward)", 0.0, 500.0, step=10.0, key=keep("style_con", 0.0))
        equation(r"-\," + _latex("rms_contrast"), "contrast term")
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
        from stylelab.assets import get_asset

        nets = ["vgg16"] + (["vgg19"] if get_asset("vgg19").present else [])
        net_name = st.radio("Feature network", nets, horizontal=True, key=keep("style_net", "vgg16", nets),
                            help="VGG19 appears only where torchvision's VGG19 weights are already cached.")
        seed = st.number_input("Seed", 0, 2**31 - 1, key=keep("style_seed", 0))

    config = gatys.GatysConfig(size=size, steps=int(steps), optimizer=opt, content_weight=alpha, style_weight=beta,
                               tv_weight=tv, colorfulness_weight=col_w, contrast_weight=con_w, init=init,
                               color=color, pyramid_levels=int(levels) if size / 2 ** (int(levels) - 1) >= 16 else 1,
                               network=net_name, seed=int(seed), param=space,
                               param_colour="imagenet" if decor else "none")
    head_buttons, head_note = head.container(), head.container()
    shown_run = st.session_state.get("style_gatys_run")
    if shown_run is not None and shown_run.config != config:
        head_note.info("The settings shown differ from the run on screen (its own settings are listed under its result): "
                "press **Start** to run them.")
    b1, b2, note = head_buttons.columns([1, 1, 4], vertical_alignment="center")
    note.caption(PAUSE_NOTE)
    if b1.button("▶ Start", type="primary", key="style_start"):
        try:
            st.session_state["style_gatys_run"] = gatys.GatysStylizer(content, style, config)
            twin = twin_on and (space != "pixels" or decor)
            st.session_state["style_gatys_twin"] = (gatys.GatysStylizer(
                content, style, dataclasses.replace(config, param="pixels", param_colour="none")) if twin else None)
            st.session_state["style_gatys_running"] = True
            st.session_state["style_gatys_content"] = content
            st.session_state["style_gatys_style"] = style
            st.session_state["style_gatys_names"] = {"content": _picked("style_content"), "style": _picked("style_style")}
        except StylelabError as exc:
            with head_note:
                show_error(exc, "Could not start")
    if b2.button("■ Stop", key="style_stop"):
        st.session_state["style_gatys_running"] = False

    running = bool(st.session_state.get("style_gatys_running"))

    @st.fragment(run_every=0.2 if running else None)
    def _gatys_live() -> None:
        run: gatys.GatysStylizer | None = st.session_state.get("style_gatys_run")
        if run is None:
            st.info("Press **Start**. Each step is one forward + backward pass through VGG.")
            return
        twin: gatys.GatysStylizer | None = st.session_state.get("style_gatys_twin")
        if st.session_state.get("style_gatys_running") and not run.done:
            t0 = time.perf_counter()
            try:
                while not run.done and time.perf_counter() - t0 < TICK_SECONDS:
                    run.run(1)
                    if twin is not None and not twin.done:
                        twin.run(1)  # the pixel run advances evaluation for evaluation with the other
            except StylelabError as exc:
                st.session_state["style_gatys_running"] = False
                show_error(exc, "The optimisation stopped")
            if run.done:
                st.session_state["style_gatys_running"] = False
                st.rerun(scope="app")
        st.progress(run.step / run.total_steps,
                    text=f"step {run.step}/{run.total_steps} · {run.seconds:.1f} s · "
                         f"scale {run.plan[run.level][0]} px" + (" · running" if st.session_state.get("style_gatys_running") else ""))
        src, p, c = st.columns([1, 2, 3])
        with src:  # what is being combined, next to the live result
            show_image(st.session_state.get("style_gatys_content", content), caption="Photo")
            if st.session_state.get("style_gatys_style") is not None:
                show_image(st.session_state["style_gatys_style"], caption="Painting")
        with p:
            if twin is None:
                show_image(run.image(), caption="live preview")
            else:
                q1, q2 = st.columns(2)
                with q1:
                    show_image(run.image(), caption=f"{run.config.param_config().label}, step {run.step}")
                with q2:
                    show_image(twin.image(), caption=f"pixels, step {twin.step}")
        with c:
            if run.history:
                fig = go.Figure()
                for term in ("content", "style", "tv", "colorfulness", "contrast", "total"):
                    if term in run.history[-1]:
                        fig.add_scatter(x=[r["step"] for r in run.history], y=[r[term] for r in run.history],
                                        mode="lines", name=term)
                if twin is not None and twin.history:
                    fig.add_scatter(x=[r["step"] for r in twin.history], y=[r["total"] for r in twin.history],
                                    mode="lines", name="total (pixels)", line=dict(dash="dash", color="black"))
                fig.update_layout(height=320, margin=dict(l=10, r=10, t=30, b=10), title="weighted loss terms",
                                  xaxis_title="step", colorway=list(PALETTE))
                log_axis(fig)
                st.plotly_chart(fig, width="stretch", key="style_curves")

    with head:
        _gatys_live()
        run = st.session_state.get("style_gatys_run")
        if run is not None and run.step > 0 and not st.session_state.get("style_gatys_running"):
            st.markdown("#### Result")
            names = st.session_state.get("style_gatys_names", {})
            c = run.config
            _result_block(st.session_state.get("style_gatys_content", content), run.image(), "style_gatys_res",
                          f"gatys_seed{run.config.seed}", run.record(**names, stopped=not run.done),
                          painting=st.session_state.get("style_gatys_style"), style_label=f"Painting: {names.get('style', '')}",
                          note=f"This run: {c.size} px, {c.optimizer}, {c.steps} steps, α={c.content_weight:.3g}, "
                               f"β={c.style_weight:.3g}, λ_TV={c.tv_weight:.3g}, seed {c.seed}.")

# ----------------------------------------------------------------------------- pretrained 26 styles
elif method == "fast":
    st.markdown("One network, 26 styles: each style owns the scale and shift of every **conditional instance "
                "norm** layer; a blend mixes them (Dumoulin et al. 2017).")
    equation(r"\mathrm{CIN}(x; w) = \Big(\sum_s w_s\gamma_s\Big)\frac{x-\mu(x)}{\sigma(x)} + \sum_s w_s\beta_s")
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
        out, ms = _memo("fast", lambda: _timed(lambda: multistyle.stylize_multistyle(content, spec)), content, extra=spec)
        from stylelab.record import ExperimentRecord

        rec = ExperimentRecord(lab="style", config={"method": "fast", "style_weights": multistyle.parse_style(spec).tolist(),
                                                    "size": size}, summary={"method": "fast", "milliseconds": ms})
        label = multistyle.STYLE_NAMES[a_idx] if len(spec) == 1 or t == 0 else multistyle.STYLE_NAMES[b_idx] if t == 1 else \
            f"{1 - t:.0%} {multistyle.STYLE_NAMES[a_idx]} + {t:.0%} {multistyle.STYLE_NAMES[b_idx]}"
        _result_block(content, out, "style_fast_res", f"fast_{a_idx}_{b_idx}_{t:.2f}", rec, style_label=f"Style: {label}",
                      note=f"{ms:.0f} ms on {content.shape[-1]}x{content.shape[-2]} px")
        if st.toggle("Show all 26 styles on your content", key=keep("style_fast_sheet", False)):
            thumbs = _memo("thumbs", lambda: multistyle.style_thumbnails(content, size=160), content)
            cols = st.columns(7)
            for i in range(multistyle.NUM_STYLES):
                with cols[i % 7]:
                    show_image(thumbs[i], caption=multistyle.STYLE_NAMES[i])
    except StylelabError as exc:
        show_error(exc, "The pretrained network is not available")

# ----------------------------------------------------------------------------- arbitrary
elif method == "arbitrary":
    st.markdown("A style **encoder** turns any painting into a 100-number code; the **transformer** paints "
                "with it (Ghiasi et al. 2017). Codes can be mixed like colours.")
    equation(r"S = \alpha\,\big[(1-t)\,S(\text{style}) + t\,S(\text{style}_2)\big] + (1-\alpha)\,S(\text{content})")
    try:
        a1, a2 = st.columns(2)
        with a1:
            strength = st.slider("Strength α (0 = the photo's own style)", 0.0, 1.0, step=0.05,
                                 key=keep("style_arb_strength", 1.0))
            use_second = st.checkbox("Interpolate toward a second style", key=keep("style_arb_two", False))
            t2 = 0.0
            code = _memo("code", lambda: arbitrary.style_code(style), style)
            if use_second:
                second = image_picker("Second style", key="style_style2", default="painting:composition-viii", size=256,
                                      groups=("Paintings", "Photos", "Textures"))
                t2 = st.slider("t (0 = first style, 1 = second)", 0.0, 1.0, step=0.05, key=keep("style_arb_t", 0.5))
                if second is not None:
                    code = arbitrary.interpolate_codes(code, _memo("code", lambda: arbitrary.style_code(second), second), t2)
            own = _memo("code", lambda: arbitrary.style_code(content), content)
            code = arbitrary.with_strength(code, own, strength)
            fig = go.Figure(go.Bar(y=code.tolist()))
            fig.update_layout(height=200, margin=dict(l=10, r=10, t=30, b=10), title="the 100-d style code")
            st.plotly_chart(fig, width="stretch", key="style_code_bars")
        out = _memo("arbitrary", lambda: arbitrary.transfer(content, code), content, code)
        with a2:
            show_image(out, caption=f"strength {strength:.2f}" + (f", t = {t2:.2f}" if use_second else ""))
        from stylelab.record import ExperimentRecord

        rec = ExperimentRecord(lab="style", config={"method": "arbitrary", "strength": strength, "t": t2, "size": size},
                               summary={"method": "arbitrary", "code": code.tolist()})
        _result_block(content, out, "style_arb_res", f"arbitrary_{strength:.2f}", rec, painting=style,
                      style_label="Painting" + (" (first of two)" if use_second else ""))
    except StylelabError as exc:
        show_error(exc, "The arbitrary-style networks are not available")

# ----------------------------------------------------------------------------- train your own
else:
    st.markdown("Train a small **feed-forward** network (Johnson et al. 2016) on the bundled photos for the "
                "style picked above: the same perceptual loss as Gatys, but minimised over the network's "
                "weights, so later a single forward pass does the job.")
    equation(r"\min_W\ \mathbb{E}_c\big[\alpha\mathcal{L}_{content}(f_W(c), c) + \beta\mathcal{L}_{style}(f_W(c), s)"
             r" + \lambda_{TV}TV + \lambda_{adv}\mathcal{L}_G(D(f_W(c)))\big]")
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
    c1, c2, note = st.columns([1, 1, 4], vertical_alignment="center")
    note.caption(PAUSE_NOTE)
    if c1.button("▶ Train", key="style_tr_start", type="primary"):
        try:
            cfg = FastStyleConfig(style_name=_picked("style_style"), size=int(tr_size), steps=int(tr_steps),
                                  style_weight=tr_beta, adv_weight=tr_adv, width=int(tr_width), seed=int(tr_seed))
            st.session_state["style_trainer"] = FastStyleTrainer(style, cfg)
            st.session_state["style_training"] = True
        except StylelabError as exc:
            show_error(exc, "Could not start training")
    if c2.button("■ Stop", key="style_tr_stop"):
        st.session_state["style_training"] = False
    training = bool(st.session_state.get("style_training"))

    @st.fragment(run_every=0.2 if training else None)
    def _train_live() -> None:
        tr = st.session_state.get("style_trainer")
        if tr is None:
            st.info("Press **Train**. A few hundred steps at 64 px give a visible style in minutes on a CPU.")
            return
        if st.session_state.get("style_training") and tr.step_count < tr.config.steps:
            t0 = time.perf_counter()
            while tr.step_count < tr.config.steps and time.perf_counter() - t0 < TICK_SECONDS:
                tr.step()
            if tr.step_count >= tr.config.steps:
                st.session_state["style_training"] = False
                st.rerun(scope="app")
        st.progress(tr.step_count / max(1, tr.config.steps), text=f"step {tr.step_count}/{tr.config.steps}")
        p, c = st.columns([2, 3])
        with p:
            show_image(tr.stylize(content), caption="the network on your content")
        with c:
            if tr.history:
                fig = go.Figure()
                for term in ("content", "style", "tv", "adversarial", "total"):
                    if term in tr.history[-1]:
                        fig.add_scatter(x=[r["step"] for r in tr.history], y=[r[term] for r in tr.history],
                                        mode="lines", name=term)
                fig.update_layout(height=300, margin=dict(l=10, r=10, t=30, b=10), colorway=list(PALETTE),
                                  title="training loss terms")
                log_axis(fig)
                st.plotly_chart(fig, width="stretch", key="style_train_curves")

    _train_live()
    tr = st.session_state.get("style_trainer")
    if tr is not None and tr.step_count > 0 and not st.session_state.get("style_training"):
        import io

        buf = io.BytesIO()
        torch.save(tr.state(), buf)
        st.download_button("Download the trained network (.pt)", buf.getvalue(), file_name="my_style.pt",
                           key="style_tr_download")
        st.caption("Use it later with `python -m stylelab stylize photo.jpg my_style.pt -o out.png --method fast`.")
