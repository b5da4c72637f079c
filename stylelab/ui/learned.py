"""The Style Studio's "Learn a style" tab: train live or load the shipped model, teach it your style,
the style-space map. Layout and widgets only; the models and the maths are in :mod:`stylelab.style`
(``learned``, ``learned_losses``, ``learned_train``, ``personalize``, ``style_space``).

Session keys start with ``style_learn``.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import streamlit as st

from .. import equations
from ..errors import StylelabError
from . import equation, live, show_error, show_image
from .state import keep

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from ..style.learned_train import LearnedModel

RUN = "style_learn"  # live_run key
SOURCES = ["Shipped model", "Train live"]


def eq(name: str, label: bool = True) -> None:
    e = equations.get(name)
    equation(e.latex, e.label if label else None)


@functools.cache
def shipped_model() -> "LearnedModel":
    """The shipped model, loaded once per process (frozen: sessions only read it)."""
    from ..style.learned_train import load_learned

    return load_learned()  # on get_device()


def _memo(kind: str, fn, *images, extra: object = None):
    from .style import memo

    return memo(f"learn_{kind}", fn, *images, extra=extra)


# ----------------------------------------------------------------------------- training live
def _weights_controls() -> dict[str, float]:
    """One slider per term, each under its LaTeX."""
    a, b, c = st.columns(3)
    with a:
        beta = 10 ** st.slider("log₁₀ β (style)", 3.0, 6.0, step=0.25, key=keep("style_learn_beta", 5.0))
        eq("style.style_term")
        alpha = 10 ** st.slider("log₁₀ α (content)", -1.0, 1.0, step=0.25, key=keep("style_learn_alpha", 0.0))
        eq("style.content_term")
    with b:
        tv = st.slider("λ_TV", 0.0, 0.1, step=0.005, key=keep("style_learn_tv", 0.01))
        eq("style.tv_term")
        adv = st.slider("λ_adv (realism PatchGAN)", 0.0, 0.5, step=0.01, key=keep("style_learn_adv", 0.05))
        eq("style.learned_realism")
    with c:
        cons = st.slider("λ_cons (style consistency)", 0.0, 0.5, step=0.01, key=keep("style_learn_cons", 0.05))
        eq("style.consistency_g")
        cyc = st.slider("λ_cyc (code cycle)", 0.0, 2.0, step=0.1, key=keep("style_learn_cyc", 0.5))
        eq("style.code_cycle")
    return {"style_weight": beta, "content_weight": alpha, "tv_weight": tv, "adv_weight": adv,
            "consistency_weight": cons, "cycle_weight": cyc}


def training_view(content: "torch.Tensor", style: "torch.Tensor"):
    """The live view: the run's model on the photo with the picked style's code, the per-term curves
    and the consistency D's scores on real, fake and mismatched pairs."""
    from .style import loss_chart

    def draw(run: Any) -> None:
        import torch

        p, c = st.columns([2, 3])
        with p:
            with torch.no_grad():
                run.generator.eval()
                img = run.generator(content.unsqueeze(0).to(run.device), run.encode(style.unsqueeze(0)))[0]
            show_image(img.clamp(0, 1).cpu(), caption="the generator on your photo, with the picked style's code")
        with c:
            loss_chart(run.history, ("content", "style", "tv", "adversarial", "consistency", "cycle", "total"),
                       "weighted loss terms", "style_learn_curves", height=260)
            _score_chart(run.history)

    return draw


def _score_chart(history: list[dict]) -> None:
    import plotly.graph_objects as go

    if not history:
        return
    fig = go.Figure()
    steps = [r["step"] for r in history]
    names = {"score_real_pair": "real pair (two crops of one painting)", "score_fake_pair": "fake pair (output, its style)",
             "score_mismatched_pair": "mismatched pair (two paintings)"}
    for key, label in names.items():
        if key in history[-1]:
            fig.add_scatter(x=steps, y=[r[key] for r in history], mode="lines", name=label)
    fig.update_layout(height=220, margin=dict(l=10, r=10, t=30, b=10), title="consistency D: mean patch logit",
                      xaxis_title="step")
    st.plotly_chart(fig, width="stretch", key="style_learn_scores")


def train_live(content: "torch.Tensor", style: "torch.Tensor", pause_note: str) -> "LearnedModel | None":
    """Sliders, Start/Stop and the live view; returns the trained model once the run has stopped."""
    from ..style.learned_train import LearnedStyleConfig, LearnedStyleRun, load_learned

    eq("style.learned_objective", label=False)
    t1, t2, t3 = st.columns(3)
    with t1:
        steps = st.slider("Training steps", 10, 1000, step=10, key=keep("style_learn_steps", 200))
    with t2:
        crop = st.select_slider("Crop size", [32, 64, 96, 128], key=keep("style_learn_crop", 64))
    with t3:
        code_dim = st.select_slider("Code size d", [16, 32, 64], key=keep("style_learn_d", 32))
    weights = _weights_controls()
    with st.expander("The style-consistency discriminator", expanded=False):
        eq("style.consistency_pairing", label=True)
        eq("style.consistency_d", label=True)
        st.caption("Its scores are drawn live beside the loss curves: real pairs should climb above fake and "
                   "mismatched ones, and the generator's outputs should follow the real pairs up.")
    st.caption(pause_note + " At 64 px a few hundred steps give visible styles; the shipped model trained for "
                            "longer at 128 px.")

    def make() -> LearnedStyleRun:
        cfg = LearnedStyleConfig(size=int(crop), steps=int(steps), code_dim=int(code_dim), style_scale=max(160, 2 * crop),
                                 **weights)
        return LearnedStyleRun(cfg, seed=0)

    run = live.live_run(RUN, make, training_view(content, style), start_label="▶ Train")
    if run is None or run.step_count == 0 or live.is_running(RUN):
        return None
    from ..checkpoint import to_bytes

    return _memo("trained", lambda: load_learned(to_bytes(run.export()), device="cpu"), extra=(id(run), run.step_count))


# ----------------------------------------------------------------------------- the tab
def tab(content: "torch.Tensor", style: "torch.Tensor", pause_note: str) -> None:
    """The whole "Learn a style" tab (the page calls this once)."""
    st.markdown("A **style encoder** reads example paintings into a code of *d* numbers; a **generator** paints "
                "the photo with that code (through adaptive instance norm); a **style-consistency "
                "discriminator** judges whether the result and the style belong together. All are trained "
                "together on the bundled paintings (some held out).")
    c1, c2 = st.columns(2)
    with c1:
        eq("style.style_encoder")
    with c2:
        eq("style.adain")
    source = st.radio("Model", SOURCES, horizontal=True, key=keep("style_learn_source", SOURCES[0], SOURCES))
    if source == "Train live":
        model = train_live(content, style, pause_note)
        if model is None:
            st.info("Train (and stop, or let it finish) to use the model below.")
            return
    else:
        try:
            model = shipped_model()
        except StylelabError as exc:
            show_error(exc, "The shipped learned-style model is missing")
            return
        st.caption(f"The shipped model: {model.steps} training steps on {len(model.styles)} styles "
                   "(see stylelab/style/checkpoints/learned_style.md).")
    stylise_section(model, content, style)
    personalize_section(model, content, style)
    map_section(model, content)


def stylise_section(model: "LearnedModel", content: "torch.Tensor", style: "torch.Tensor") -> None:
    from ..style.personalize import encoder_code
    from ..style.style_space import strength

    st.subheader("Stylise")
    alpha = st.slider("Strength α (toward the photo's own code at 0)", 0.0, 1.0, step=0.05,
                      key=keep("style_learn_strength", 1.0))
    eq("style.learned_strength")
    z = _memo("enc", lambda: encoder_code(model, [style]), style, extra=id(model))
    if alpha < 1.0:
        z = strength(z, _memo("own", lambda: model.encode(content)[0].cpu(), content, extra=id(model)), alpha)
    out = _memo("out", lambda: model.stylize(content, z), content, z, extra=id(model))
    a, b = st.columns(2)
    with a:
        show_image(out, caption="G(photo, code of the picked style)")
    with b:
        if model.d_cons is not None:
            import torch

            with torch.no_grad():
                logit = float(model.d_cons(out.unsqueeze(0), style=style.unsqueeze(0)).mean())
            st.metric("consistency D: does it belong with the style?", f"{torch.sigmoid(torch.tensor(logit)):.2f}",
                      help="sigmoid of the mean patch logit; 1 = a real pair")
        st.caption(f"code: {len(z)} numbers, first five {', '.join(f'{v:.2f}' for v in z[:5].tolist())}")


def personalize_section(model: "LearnedModel", content: "torch.Tensor", style: "torch.Tensor") -> None:
    from ..imageio import load_image
    from ..style.personalize import list_styles, load_style, personalize, save_style

    st.subheader("Teach it your style")
    eq("style.code_optimisation", label=False)
    files = st.file_uploader("1-5 examples of your style (default: the style image picked above)",
                             type=["png", "jpg", "jpeg", "webp"], accept_multiple_files=True, key="style_learn_up")
    try:
        examples = [load_image(f.getvalue(), size=256) for f in files[:5]] if files else [style]
    except StylelabError as exc:
        show_error(exc, "That example could not be read")
        return
    o1, o2 = st.columns([1, 2])
    optimizer = o1.radio("Optimiser", ["lbfgs", "adam"], horizontal=True, key=keep("style_learn_opt", "lbfgs"),
                         format_func={"lbfgs": "L-BFGS", "adam": "Adam"}.get,
                         help="L-BFGS uses curvature from its last steps: on 64 numbers it needs far fewer "
                              "evaluations than Adam")
    steps = o2.slider("Evaluations of the objective (each one G and VGG pass)", 2, 60,
                      key=keep("style_learn_psteps", 5))
    if st.button("🎓 Teach", key="style_learn_teach"):
        try:
            st.session_state["style_learn_taught"] = personalize(model, content, examples, steps=int(steps),
                                                                 optimizer=optimizer)
        except StylelabError as exc:
            show_error(exc, "Could not optimise the code")
    res = st.session_state.get("style_learn_taught")
    if res is not None and res.code.numel() == model.code_dim:
        a, b = st.columns(2)
        with a:
            show_image(model.stylize(content, res.encoder_code), caption=f"encoder's code: style loss {res.encoder_loss:.3g}")
        with b:
            show_image(model.stylize(content, res.code), caption=f"optimised code: style loss {res.loss:.3g} "
                                                                 f"({len(res.history)} evaluations, {res.seconds:.1f} s)")
        n1, n2 = st.columns([3, 1])
        name = n1.text_input("Save it as", key="style_learn_name", placeholder="my style")
        if n2.button("Save", key="style_learn_save") and name:
            try:
                save_style(name, res.code, examples=len(examples), loss=res.loss)
                st.success(f"Saved {name!r}.")
            except StylelabError as exc:
                show_error(exc, "Could not save the style")
    saved = list_styles()
    if saved:
        pick = st.selectbox("Your saved styles", saved, key="style_learn_saved")
        try:
            code = load_style(pick)
            if code.numel() == model.code_dim:
                show_image(model.stylize(content, code), caption=f"{pick} on your photo", width=320)
            else:
                st.caption(f"{pick} was made with a model of another code size.")
        except StylelabError as exc:
            show_error(exc, "Could not load that style")


def _map(model: "LearnedModel"):
    from ..assets import image_catalog
    from ..style.learned_train import HELD_OUT_STYLES
    from ..style.style_space import build_map, style_codes

    cat = image_catalog()
    names = [n for n in cat.get("Paintings", []) + cat.get("Textures", [])]
    return build_map(style_codes(model, names, size=192), held_out=HELD_OUT_STYLES)


def map_section(model: "LearnedModel", content: "torch.Tensor") -> None:
    import plotly.graph_objects as go

    from ..style.style_space import interpolate, point_to_code

    st.subheader("The style space")
    eq("style.style_map", label=False)
    try:
        smap = _memo("map", lambda: _map(model), extra=(id(model), model.steps))
    except StylelabError as exc:
        show_error(exc, "Could not build the style map")
        return
    xs, ys = smap.coords[:, 0].tolist(), smap.coords[:, 1].tolist()
    lo_x, hi_x, lo_y, hi_y = min(xs), max(xs), min(ys), max(ys)
    m1, m2 = st.columns([3, 2])
    with m2:
        px = st.slider("map x", float(lo_x), float(hi_x), float((lo_x + hi_x) / 2), key="style_learn_px")
        py = st.slider("map y", float(lo_y), float(hi_y), float((lo_y + hi_y) / 2), key="style_learn_py")
        show_image(model.stylize(content, point_to_code([px, py], smap.mean, smap.components)),
                   caption="the photo with the code of that point")
    with m1:
        fig = go.Figure()
        for held, label in ((False, "training style"), (True, "held out")):
            idx = [i for i, h in enumerate(smap.held_out) if h == held]
            fig.add_scatter(x=[xs[i] for i in idx], y=[ys[i] for i in idx], mode="markers", name=label,
                            text=[smap.names[i].split(":", 1)[1] for i in idx], marker=dict(size=10))
        fig.add_scatter(x=[px], y=[py], mode="markers", name="your point", marker=dict(symbol="x", size=14))
        fig.update_layout(height=380, margin=dict(l=10, r=10, t=30, b=10),
                          title=f"PCA of the codes ({100 * sum(smap.explained):.0f}% of the variance)")
        st.plotly_chart(fig, width="stretch", key="style_learn_map")
    i1, i2, i3 = st.columns([2, 2, 1])
    a = i1.selectbox("From", smap.names, key="style_learn_ia")
    b = i2.selectbox("To", smap.names, index=min(1, len(smap.names) - 1), key="style_learn_ib")
    t = i3.slider("t", 0.0, 1.0, 0.5, step=0.1, key="style_learn_it")
    za, zb = smap.codes[smap.names.index(a)], smap.codes[smap.names.index(b)]
    show_image(model.stylize(content, interpolate(za, zb, t)), caption=f"(1 - {t:.1f}) {a} + {t:.1f} {b}", width=360)


__all__ = ["RUN", "tab", "train_live", "training_view", "stylise_section", "personalize_section", "map_section",
           "shipped_model"]
