"""GAN Lab: step mode (one D step, one G step, one iteration or one sub-step at a time, and a slow-motion
play) and your own 2-D distribution (drawn on a canvas, uploaded as a CSV or typed).

Widgets and figures only: the numbers come from :class:`stylelab.gan.stepper.GANStepper` (each sub-step's
:class:`~stylelab.gan.stepper.SubStep`) and :mod:`stylelab.gan.custom` (reading points); the equations
from :mod:`stylelab.equations`. The stepper is a Run played by :func:`stylelab.ui.live.live_run` under
its own key (``gan_steps``), next to the page's run (``gan``), which it copies and never changes.
"""

from __future__ import annotations

import functools
import io
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go
import streamlit as st

from ..errors import StylelabError
from . import equation, show_error
from .charts import GENERATED, REAL
from .live import TICK_S, current_run, is_running, live_run, locked, set_run
from .state import keep

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from ..gan.stepper import GANStepper, SubStep

#: the session key of the step-mode run
KEY = "gan_steps"
#: slow-motion paces (seconds per sub-step)
PACES = [0.3, 0.6, 1.0, 2.0]
#: "train N iterations" choices
TRAIN_N = [50, 200, 1000, 5000]
#: the drawing canvas is this many pixels square
CANVAS_PX = 320
SOURCES = {"run": "A copy of the run above, from where it is", "points": "Your own points"}
METHODS = {"draw": "Draw them", "csv": "Upload a CSV", "text": "Type them"}
TOOLS = {"point": "Dots (one per click)", "freedraw": "Strokes (a point every few pixels)"}


def _canvas_available() -> bool:
    """The drawing canvas needs a real browser session (it cannot run under AppTest or bare mode)."""
    try:
        headers = st.context.headers
        return bool(headers) and any(k.lower() == "user-agent" for k in headers.keys())
    except (AttributeError, RuntimeError):
        return False


@functools.lru_cache(maxsize=1)
def _grid_png() -> bytes:
    """The canvas background: the square [-4, 4]^2 with a line every unit and the two axes."""
    from PIL import Image, ImageDraw

    from ..gan.custom import CANVAS_EXTENT

    im = Image.new("RGB", (CANVAS_PX, CANVAS_PX), "white")
    draw = ImageDraw.Draw(im)
    units = int(2 * CANVAS_EXTENT)
    for i in range(units + 1):
        at = round(i * (CANVAS_PX - 1) / units)
        shade = (150, 150, 150) if i == units // 2 else (225, 225, 225)
        draw.line([(at, 0), (at, CANVAS_PX)], fill=shade)
        draw.line([(0, at), (CANVAS_PX, at)], fill=shade)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def _smile_text() -> str:
    from ..gan.custom import SMILE

    return "x, y\n" + "\n".join(f"{x:.2f}, {y:.2f}" for x, y in SMILE)


def _drawn_points(key: str) -> "torch.Tensor | None":
    from ..gan import custom

    try:
        from streamlit_drawable_canvas import st_canvas
    except Exception as exc:  # the component raises StreamlitAPIException outside a served app
        st.warning(f"The drawing canvas is not available here ({type(exc).__name__}); upload or type the points.")
        return None
    tool = st.radio("Tool", list(TOOLS), format_func=TOOLS.get, horizontal=True, key=keep(f"{key}_tool", "point", TOOLS))
    with st.container(key=f"{key}_canvas"):
        result = st_canvas(fill_color="#1f77b4", stroke_width=2 if tool == "point" else 3, stroke_color="#1f77b4",
                           background_image=_grid_png(), width=CANVAS_PX, height=CANVAS_PX, drawing_mode=tool,
                           point_display_radius=3, key=f"{key}_canvas_{tool}")
    if not (result.json_data or {}).get("objects"):
        st.caption(f"The canvas shows the square [−{custom.CANVAS_EXTENT:g}, {custom.CANVAS_EXTENT:g}]² (a line every "
                   f"unit). Place at least {custom.MIN_POINTS} dots, or draw strokes.")
        return None
    return custom.points_from_canvas(result.json_data, CANVAS_PX, CANVAS_PX)


def points_input(key: str = KEY) -> "torch.Tensor | None":
    """Your own points: drawn (in a browser), uploaded as a CSV or typed; None until there are usable points.

    A bad file or text is shown as a clear message (:class:`stylelab.gan.custom.PointsError`)."""
    from ..gan import custom

    methods = (["draw"] if _canvas_available() else []) + ["csv", "text"]
    how = st.radio("Your points", methods, format_func=METHODS.get, horizontal=True,
                   key=keep(f"{key}_how", methods[0], methods), help="Drawing needs a browser; the others work everywhere.")
    try:
        if how == "draw":
            points = _drawn_points(key)
        elif how == "csv":
            up = st.file_uploader("A CSV of 2-D points: two columns x, y (an optional header row)", type=["csv", "txt"],
                                  key=f"{key}_csv")
            if up is None:
                st.caption(f"{custom.MIN_POINTS} to {custom.MAX_ROWS:,} rows, finite numbers within ±{custom.MAX_ABS:.0e}. "
                           f"The points are centred and scaled into [−{custom.TARGET_EXTENT:g}, {custom.TARGET_EXTENT:g}]² "
                           "(one scale for both axes: the shape is kept).")
                return None
            norm = custom.normalise_points(custom.read_points_csv(up.getvalue()))
            points = custom.check_points(norm.points, "The file's points")
            st.caption(f"{points.shape[0]:,} points from {up.name}: centred at ({norm.centre[0]:.3g}, {norm.centre[1]:.3g}) "
                       f"and scaled ×{norm.scale:.3g} into [−{custom.TARGET_EXTENT:g}, {custom.TARGET_EXTENT:g}]².")
        else:
            text = st.text_area("One point per line: x, y (centred and scaled like a CSV)", key=keep(f"{key}_text", _smile_text()),
                                height=160)
            points = custom.parse_points_text(text)
    except StylelabError as exc:
        show_error(exc, "These points cannot be used")
        return None
    if points is not None:
        st.caption(f"{points.shape[0]:,} points: the GAN learns a small Gaussian (σ = {custom.DEFAULT_CUSTOM_NOISE:g}) "
                   "around each.")
    return points


def _start(source: str, points: "torch.Tensor | None", base_key: str, key: str) -> None:
    from ..gan.custom import custom_run
    from ..gan.stepper import copy_of, step_mode

    try:
        with locked(base_key) as base:  # read the page's run between two of its steps
            base_cfg = base.config if base is not None and base.config.is_toy else None
            trainer = copy_of(base) if source == "run" else custom_run(points, base=base_cfg)
        set_run(key, step_mode(trainer), running=False)
    except StylelabError as exc:
        show_error(exc, "Could not start step mode")


def _act(key: str, what: str) -> None:
    """A step button's callback (before the rerun, so the buttons are drawn for the new position)."""
    try:
        with locked(key) as stepper:
            if stepper is not None:
                getattr(stepper, what)()
    except StylelabError as exc:
        st.session_state[f"{key}_msg"] = f"That step was not taken: {exc}"


def _play(key: str, pace_key: str, iterations: int | None) -> None:
    """Slow motion (``iterations`` None: one sub-step per tick at the pace chosen) or train N iterations at full speed."""
    try:
        with locked(key) as stepper:
            if stepper is None:
                return
            stepper.update(pace_s=0.0 if iterations is not None else float(st.session_state[pace_key]))
            stepper.play_until(None if iterations is None else stepper.iterations_done + iterations)
        set_run(key, stepper, running=True)
    except StylelabError as exc:
        st.session_state[f"{key}_msg"] = f"Could not play: {exc}"


def step_mode_section(base_key: str = "gan", key: str = KEY) -> None:
    """The step-mode section of the GAN Lab: a copy of the page's 2-D run (``base_key``) or a run on your
    own points, stepped by D step / G step / Iteration / Next sub-step or played in slow motion."""
    base = current_run(base_key)
    with st.expander("🔬 Step mode: one step of training at a time, on this run or on your own points",
                     expanded=current_run(key) is not None):
        st.caption("One iteration is D's step(s) then G's step; each step is five sub-steps: sample → D's scores → "
                   "loss → gradients → update. Each shows what it computed on the 2-D view, next to its equation.")
        sources = [s for s in SOURCES if s != "run" or (base is not None and base.config.is_toy)]
        source = st.radio("Step which GAN?", sources, format_func=SOURCES.get, horizontal=True,
                          key=keep(f"{key}_source", sources[0], sources))
        if "run" not in sources:
            st.caption("The run above is an image run: step mode shows a 2-D GAN. Use your own points, or choose "
                       "the 2-D world above.")
        points = points_input(key) if source == "points" else None
        if st.button("🆕 Start step mode", key=f"{key}_new", type="primary",
                     disabled=source == "points" and points is None or is_running(key)):
            _start(source, points, base_key, key)
        stepper: GANStepper | None = current_run(key)
        if stepper is None:
            st.info("Press **Start step mode**: it copies the set-up (and, for the run above, the weights) into a "
                    "run of its own, so the run above is never changed.")
            return
        playing = is_running(key)
        b = st.columns([1, 1, 1, 1.2, 1.3, 1.3], vertical_alignment="bottom")
        b[0].button("D step", key=f"{key}_d", disabled=playing or stepper.next_phase != "D", width="stretch",
                    on_click=_act, args=(key, "d_step"))
        b[1].button("G step", key=f"{key}_g", disabled=playing or stepper.next_phase != "G", width="stretch",
                    on_click=_act, args=(key, "g_step"),
                    help="G's step reuses the codes z of this iteration's last D step, so it comes after D's.")
        b[2].button("Iteration", key=f"{key}_it", disabled=playing, width="stretch", on_click=_act, args=(key, "iteration"))
        b[3].button("Next sub-step", key=f"{key}_sub", disabled=playing, width="stretch", on_click=_act,
                    args=(key, "substep"))
        b[4].select_slider("Seconds per sub-step", PACES, key=keep(f"{key}_pace", 0.6, PACES))
        b[5].button("▶ Slow motion", key=f"{key}_play", disabled=playing, width="stretch", on_click=_play,
                    args=(key, f"{key}_pace", None))
        t = st.columns([1, 1.3, 3.7], vertical_alignment="bottom")
        n = t[0].selectbox("Iterations", TRAIN_N, key=keep(f"{key}_n", TRAIN_N[1], TRAIN_N))
        t[1].button(f"⏩ Train {n} iterations", key=f"{key}_train", disabled=playing, width="stretch", on_click=_play,
                    args=(key, f"{key}_pace", int(n)))
        if st.session_state.get(f"{key}_msg"):
            st.error(st.session_state.pop(f"{key}_msg"))
        stepper = current_run(key)
        live_run(key, None, functools.partial(draw_step, key=key), controls=t[2], show_progress=False,
                 tick_s=stepper.config.pace_s or TICK_S)


# ----------------------------------------------------------------------------- the view
def _numbers_text(s: "SubStep", probabilistic: bool) -> str:
    nums = s.numbers()
    d = "D" if probabilistic else "the D score"
    if s.name == "sample":
        if s.phase == "D":
            return f"A batch of {s.real.shape[0]} real points (blue) and {s.fake.shape[0]} fakes G(z) (orange)."
        return f"The {s.fake.shape[0]} fakes of the last D step's codes z, judged again by the updated D."
    if s.name == "scores":
        real = f"mean {d}(x) on the real points {nums['d_real']:.3f} · " if "d_real" in nums else ""
        return real + f"mean {d}(G(z)) on the fakes {nums['d_fake']:.3f} (points coloured like the background)."
    if s.name == "loss":
        return f"{'L_D' if s.phase == 'D' else 'L_G'} = {s.loss:.4f}"
    if s.name == "gradients":
        if s.phase == "D":
            return (f"‖∇θ_D L_D‖ = {s.grad_norm:.3g}. The loss pushes D's score up on the real points (mean push "
                    f"{nums['push_real']:+.3f}) and down on the fakes ({nums['push_fake']:+.3f}); marker size = push.")
        return (f"‖∇θ_G L_G‖ = {s.grad_norm:.3g}. Black arrows: the direction the loss moves each fake "
                f"(mean length {nums['arrow_length']:.3g}; drawn to scale, longest 0.5).")
    if s.phase == "D":
        return (f"‖Δθ_D‖ = {s.update_norm:.3g}: mean {d}(x) {nums['d_real']:.3f} → {nums['d_real_after']:.3f}, "
                f"mean {d}(G(z)) {nums['d_fake']:.3f} → {nums['d_fake_after']:.3f} (the background is the new D).")
    return f"‖Δθ_G‖ = {s.update_norm:.3g}: the same z now land {nums['moved']:.3g} further on average (grey lines)."


def substep_figure(stepper: "GANStepper", height: int = 430) -> go.Figure:
    """The 2-D view of the current sub-step: D's surface, the batch coloured by D's output, the push or the
    arrows, and the update (points moved by G's step, or D's new surface)."""
    from ..gan import viz
    from ..gan.objectives import loss_spec

    tr, s = stepper.trainer, stepper.current
    bounds = viz.plot_bounds(tr)
    surf = viz.decision_surface(tr, resolution=40, bounds=bounds)
    prob = loss_spec(tr.config.loss).probabilistic
    lo, hi = (0.0, 1.0) if prob else (float(surf.values.min()), float(surf.values.max()))
    scale = dict(colorscale="RdBu", cmin=lo, cmax=hi)
    fig = go.Figure(go.Heatmap(x=surf.xs.numpy(), y=surf.ys.numpy(), z=surf.values.numpy(), zmin=lo, zmax=hi,
                               colorscale="RdBu", opacity=0.45, colorbar=dict(title="D(x)" if prob else "D score")))
    real_all = tr.real[:400].cpu().numpy()
    fig.add_trace(go.Scatter(x=real_all[:, 0], y=real_all[:, 1], mode="markers", name="data",
                             marker=dict(size=3, color="#bbbbbb")))
    if s is not None:
        n = 0 if s.real is None else s.real.shape[0]
        size_r = size_f = 7
        if s.push is not None:
            top = max(1e-8, float(s.push.abs().max()))
            size_r, size_f = (5 + 14 * s.push[:n].abs() / top).tolist(), (5 + 14 * s.push[n:].abs() / top).tolist()
        after = s.d_after
        if s.real is not None:
            colour = after[:n] if after is not None else s.d_real
            fig.add_trace(go.Scatter(x=s.real[:, 0].numpy(), y=s.real[:, 1].numpy(), mode="markers", name="real batch",
                                     marker=dict(size=size_r, line=dict(color=REAL, width=2), symbol="circle",
                                                 color=REAL if colour is None else colour.numpy(),
                                                 **({} if colour is None else scale))))
        colour = after[n:] if after is not None else s.d_fake
        fig.add_trace(go.Scatter(x=s.fake[:, 0].numpy(), y=s.fake[:, 1].numpy(), mode="markers", name="fakes G(z)",
                                 marker=dict(size=size_f, line=dict(color=GENERATED, width=2), symbol="diamond",
                                             color=GENERATED if colour is None else colour.numpy(),
                                             **({} if colour is None else scale))))
        if s.arrows is not None:
            longest = max(1e-8, float(s.arrows.norm(dim=1).max()))
            _segments(fig, s.fake, s.fake + s.arrows * (0.5 / longest), "−∇ₓ L_G", "black")
        if s.moved is not None:
            _segments(fig, s.fake, s.moved, "moved by G's update", "#555555")
            fig.add_trace(go.Scatter(x=s.moved[:, 0].numpy(), y=s.moved[:, 1].numpy(), mode="markers",
                                     name="G(z) after", marker=dict(size=5, color=GENERATED)))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h"),
                      xaxis=dict(range=bounds[:2], constrain="domain"),
                      yaxis=dict(range=bounds[2:], scaleanchor="x", constrain="domain"),
                      title=s.label if s is not None else f"iteration {tr.step_count}")
    return fig


def _segments(fig: go.Figure, start: "torch.Tensor", end: "torch.Tensor", name: str, colour: str) -> None:
    xs: list[Any] = []
    ys: list[Any] = []
    for (x0, y0), (x1, y1) in zip(start.tolist(), end.tolist()):
        xs += [x0, x1, None]
        ys += [y0, y1, None]
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=name, line=dict(color=colour, width=1)))


def draw_step(stepper: "GANStepper", key: str = KEY) -> None:
    """The live view of the step-mode run: where it is, the 2-D view, and the sub-step's equations and numbers."""
    from .. import equations
    from ..gan.objectives import loss_spec

    tr, s = stepper.trainer, stepper.current
    status = "playing" if is_running(key) else "paused"
    done = f"{tr.step_count} iteration{'s' if tr.step_count != 1 else ''} done"
    st.caption(f"{stepper.position()} · {done} ({stepper.iterations_done} here) · {status}"
               + (f" · {tr.config.data} distribution" if tr.config.data != "custom" else " · your own points"))
    left, right = st.columns([1.4, 1])
    left.plotly_chart(substep_figure(stepper), key=f"{key}_chart")
    with right:
        if s is None:
            st.markdown("Nothing computed yet: press **Next sub-step** to see the first one, *sample*.")
            return
        st.markdown(f"**{s.label}**")
        for name in s.equations:
            eq = equations.get(name)
            equation(eq.latex, eq.label)
        st.markdown(_numbers_text(s, loss_spec(tr.config.loss).probabilistic))


__all__ = ["KEY", "draw_step", "points_input", "step_mode_section", "substep_figure"]
