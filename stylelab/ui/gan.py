"""The GAN Lab page's widgets and figures: plotly figures built from a run's numbers (no science here).

Every number comes from :mod:`stylelab.gan` (the trainer's history and samples, the decision
surface, the gradient arrows, the loss comparison's measures); this module only lays them out,
and maps a run's config onto the page's controls (:func:`widget_values`, :func:`setup_controls`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .charts import GENERATED, PALETTE, REAL, colour, fraction_axis, log_axis, skeleton_figure, thin_rows
from .state import keep

if TYPE_CHECKING:  # pragma: no cover
    from ..gan.compare import LossComparison
    from ..gan.train import GANTrainer

#: at most this many points per curve (keeps a redraw fast on a long run)
MAX_POINTS = 500
#: the choices of the page's controls
LR_CHOICES = [1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2]
KINDS = ["2-D points", "Images"]
WIDTHS, TOY_Z, IMG_BASES, IMG_Z = [16, 32, 64, 128, 256], [1, 2, 4, 8, 16], [8, 16, 32, 64], [8, 16, 32, 64, 128]
BATCHES, BETA2S = [16, 32, 64, 128, 256], [0.9, 0.99, 0.999]


def _near(value: float, options: list) -> Any:
    return min(options, key=lambda c: abs(c - value))


def _pick(value: Any, options: list, fallback: Any) -> Any:
    return value if value in options else fallback


def widget_values(cfg: Any) -> dict[str, Any]:
    """What every control shows for run config ``cfg`` (the controls describe the run on screen)."""
    from ..gan.data import DEFAULT_NOISE

    out = {"gan_kind": KINDS[0] if cfg.is_toy else KINDS[1], "gan_seed": int(cfg.seed),
           "gan_batch": _pick(cfg.batch_size, BATCHES, 64), "gan_loss": cfg.loss,
           "gan_lr_g": _near(cfg.lr_g_value, LR_CHOICES), "gan_lr_d": _near(cfg.lr_d_value, LR_CHOICES),
           "gan_beta1": float(min(0.99, max(0.0, round(cfg.beta1 / 0.05) * 0.05))), "gan_beta2": _pick(cfg.beta2, BETA2S, 0.999),
           "gan_d_steps": int(min(10, max(1, cfg.d_steps))), "gan_smooth": float(cfg.label_smoothing),
           "gan_inoise": float(cfg.instance_noise), "gan_idecay": int(cfg.instance_noise_decay), "gan_gp": float(cfg.gp_weight),
           "gan_r1": float(cfg.r1_weight)}
    if cfg.is_toy:
        out.update(gan_data_toy=cfg.data, gan_n_points=int(min(10_000, max(200, round(cfg.n_points / 100) * 100))),
                   gan_noise=float(cfg.data_noise if cfg.data_noise is not None else DEFAULT_NOISE[cfg.data]),
                   gan_hidden=_pick(cfg.hidden, WIDTHS, 64), gan_latent_toy=_pick(cfg.z_dim, TOY_Z, 2))
    else:
        out.update(gan_data_img=cfg.data, gan_classes=list(cfg.classes), gan_conditional=bool(cfg.conditional),
                   gan_base=_pick(cfg.base_channels, IMG_BASES, 32), gan_latent_img=_pick(cfg.z_dim, IMG_Z, 64),
                   gan_model=cfg.model)
    return out


def setup_controls(toy: bool, data_name: str, defaults: dict[str, Any]) -> dict[str, Any]:
    """The set-up controls of a new run (data size and noise, model widths, z, classes): GANConfig fields."""
    import streamlit as st

    from ..gan.config import MODEL_LABELS, MODELS
    from ..gan.data import DEFAULT_NOISE, class_names

    if toy:
        return dict(
            data=data_name, classes=(), conditional=False,
            n_points=st.slider("Training points", 200, 10_000, step=100, key=keep("gan_n_points", defaults.get("gan_n_points", 2000))),
            data_noise=st.slider("Spread (noise std)", 0.0, 1.0, step=0.01,
                                 key=keep("gan_noise", defaults.get("gan_noise", float(DEFAULT_NOISE[data_name])))),
            hidden=st.select_slider("MLP width", WIDTHS, key=keep("gan_hidden", defaults.get("gan_hidden", 64), WIDTHS)),
            latent_dim=st.select_slider("Size of z", TOY_Z, key=keep("gan_latent_toy", defaults.get("gan_latent_toy", 2), TOY_Z)))
    names = class_names(data_name)
    model = st.selectbox("Generator", MODELS, format_func=MODEL_LABELS.get, key=keep("gan_model", defaults.get("gan_model", "dcgan"), MODELS),
                         help="StyleGAN-lite: mapping network, modulated convolutions, noise inputs (not class-conditional)")
    return dict(
        data=data_name, model=model,
        classes=tuple(st.multiselect("Classes (empty: all)", list(range(10)), format_func=lambda i: names[i],
                                     key=keep("gan_classes", defaults.get("gan_classes", []), range(10)))),
        conditional=st.checkbox("Class-conditional G and D", key=keep("gan_conditional", defaults.get("gan_conditional", False)),
                                disabled=model == "stylegan") and model != "stylegan",
        base_channels=st.select_slider("Width c", IMG_BASES, key=keep("gan_base", defaults.get("gan_base", 32), IMG_BASES)),
        latent_dim=st.select_slider("Size of z", IMG_Z, key=keep("gan_latent_img", defaults.get("gan_latent_img", 64), IMG_Z)))


def show_grid(grid: Any, zoom: int = 3, caption: str | None = None, where: Any = None) -> None:
    """A ``(C, H, W)`` grid in [0, 1] shown ``zoom`` times larger (nearest neighbour: pixels stay sharp)."""
    import streamlit as st

    from ..imageio import to_pil

    im = to_pil(grid)
    (where or st).image(im.resize((im.width * zoom, im.height * zoom), 0), caption=caption, width="stretch")


def draw_images(trainer: "GANTrainer") -> None:
    """An image run: the fixed-noise grid, and the class histogram / FID / KID of the last evaluation."""
    import streamlit as st

    from ..gan.classifier import DESCRIPTION

    left, right = st.columns([1, 1])
    show_grid(trainer.sample_grid(), 3, f"fixed noise, step {trainer.step_count}", where=left)
    evals = [r for r in trainer.history if "class_hist" in r]
    with right:
        if evals:
            st.plotly_chart(class_histogram_figure(trainer, evals[-1]), key="gan_hist_chart")
            st.caption(f"FID {evals[-1]['fid']:.3f} · KID {evals[-1]['kid']:.4f} · class coverage {evals[-1]['coverage']:.0%}")
        else:
            st.caption(f"Class histogram, FID and KID appear at the first evaluation (every {trainer.config.metrics_every} steps).")
        st.caption(f"{DESCRIPTION} Its held-out accuracy on {trainer.config.data}: {trainer.evaluator.classifier.accuracy:.1%}.")


def points_figure(trainer: "GANTrainer", height: int = 470) -> go.Figure:
    """D's decision surface, real and generated points, and the arrows ``-grad_x L_G`` (2-D runs).

    Redrawn live: the figure's skeleton is built (and validated) once per kind of surface
    (:func:`stylelab.ui.charts.skeleton_figure`); each redraw fills in the numbers."""
    from ..gan import viz

    bounds = viz.plot_bounds(trainer)
    surf = viz.decision_surface(trainer, resolution=50, bounds=bounds)
    pts, arrows = viz.generator_gradients(trainer, n=150, seed=trainer.config.seed + 5)
    fake = trainer.sample(500).cpu().numpy()
    real = trainer.real[:500].cpu().numpy()
    scale = 0.3 / max(1e-8, float(arrows.norm(dim=1).max()))  # longest arrow 0.3 units: directions, relative size
    xs: list[Any] = []
    ys: list[Any] = []
    for (x, y), (dx, dy) in zip(pts.tolist(), (arrows * scale).tolist()):
        xs += [x, x + dx, None]
        ys += [y, y + dy, None]
    series = [{"x": surf.xs.numpy(), "y": surf.ys.numpy(), "z": surf.values.numpy()},
              {"x": real[:, 0], "y": real[:, 1]}, {"x": fake[:, 0], "y": fake[:, 1]}, {"x": xs, "y": ys}]
    layout = {"xaxis": {"range": list(bounds[:2])}, "yaxis": {"range": list(bounds[2:])},
              "title": {"text": f"step {trainer.step_count}"}}
    return skeleton_figure("gan_points", (surf.kind, height), lambda: _points_skeleton(surf.kind, height), series, layout)


def _points_skeleton(kind: str, height: int) -> go.Figure:
    """:func:`points_figure` without its numbers (surface ``kind``: ``"probability"`` or a score)."""
    fig = go.Figure()
    label = "D(x)" if kind == "probability" else "D score"
    fig.add_trace(go.Heatmap(x=[], y=[], z=[], colorscale="RdBu", opacity=0.55, colorbar=dict(title=label),
                             zmid=0.5 if kind == "probability" else 0))
    fig.add_trace(go.Scatter(x=[], y=[], mode="markers", name="real", marker=dict(size=4, color=REAL)))
    fig.add_trace(go.Scatter(x=[], y=[], mode="markers", name="generated", marker=dict(size=4, color=GENERATED)))
    fig.add_trace(go.Scatter(x=[], y=[], mode="lines", name="−∇ G loss", line=dict(color="black", width=1)))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), xaxis=dict(range=[0, 1], constrain="domain"),
                      yaxis=dict(range=[0, 1], scaleanchor="x", constrain="domain"), title="step 0",
                      legend=dict(orientation="h"))
    return fig


def scatter_figure(trainer: "GANTrainer", height: int = 300) -> go.Figure:
    """500 real and 500 generated points, no surface (the comparison's small panels)."""
    fake = trainer.sample(500).cpu().numpy()
    real = trainer.real[:500].cpu().numpy()
    fig = go.Figure([go.Scatter(x=real[:, 0], y=real[:, 1], mode="markers", name="real", marker=dict(size=3, color=REAL)),
                     go.Scatter(x=fake[:, 0], y=fake[:, 1], mode="markers", name="generated",
                                marker=dict(size=3, color=GENERATED))])
    fig.update_layout(height=height, margin=dict(l=5, r=5, t=5, b=5), yaxis=dict(scaleanchor="x"), showlegend=False)
    return fig


def curves_figure(trainer: "GANTrainer") -> go.Figure:
    """Losses, D's outputs and the evaluation measures along the run (three panels).

    Redrawn live: the three-panel skeleton (``make_subplots``) is built once per kind of run
    (:func:`stylelab.ui.charts.skeleton_figure`); each redraw fills in the curves."""
    from ..gan.objectives import loss_spec

    hist = trainer.history
    rows = thin_rows(hist, MAX_POINTS)
    steps = [r["step"] for r in rows]
    evals = [r for r in hist if "fid" in r or "energy_distance" in r]
    dlabel = "D(x), D(G(z))" if loss_spec(trainer.config.loss).probabilistic else "mean D score"
    toy = bool(trainer.config.is_toy)
    coverage = toy and bool(evals) and "coverage" in evals[-1]
    series = [{"x": steps, "y": [r[key] for r in rows]} for key in ("loss_d", "loss_g", "d_real", "d_fake")]
    es = [r["step"] for r in evals]
    for key in (("energy_distance", "coverage")[:1 + coverage] if toy else ("fid", "kid")):
        series.append({"x": es, "y": [r[key] for r in evals]})
    return skeleton_figure("gan_curves", (dlabel, toy, coverage), lambda: _curves_skeleton(dlabel, toy, coverage), series)


def _curves_skeleton(dlabel: str, toy: bool, coverage: bool) -> go.Figure:
    """:func:`curves_figure` without its numbers."""
    titles = ("losses", dlabel, "FID / KID (classifier features)" if not toy else "energy distance / coverage")
    fig = make_subplots(rows=1, cols=3, subplot_titles=titles, specs=[[{}, {}, {"secondary_y": True}]])
    for name, col in (("loss D", 1), ("loss G", 1), ("D(x) real", 2), ("D(G(z)) fake", 2)):
        fig.add_trace(go.Scatter(x=[], y=[], name=name), 1, col)
    if toy:
        fig.add_trace(go.Scatter(x=[], y=[], name="energy distance", mode="lines+markers"), 1, 3)
        if coverage:
            fig.add_trace(go.Scatter(x=[], y=[], name="mode coverage", mode="lines+markers", line=dict(dash="dot")),
                          1, 3, secondary_y=True)
            fraction_axis(fig, row=1, col=3, secondary_y=True)  # 0-100 % ticks, not 1.031 ... -0.024
    else:
        fig.add_trace(go.Scatter(x=[], y=[], name="FID", mode="lines+markers"), 1, 3)
        fig.add_trace(go.Scatter(x=[], y=[], name="KID", mode="lines+markers", line=dict(dash="dot")), 1, 3,
                      secondary_y=True)
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h"), colorway=list(PALETTE))
    return fig


def class_histogram_figure(trainer: "GANTrainer", row: dict[str, Any]) -> go.Figure:
    """The classes of the generated samples at one evaluation (the run's classes in blue)."""
    from ..gan.data import class_names

    names = class_names(trainer.config.data)
    colours = ["#1f77b4" if i in trainer.images.classes else "#bbbbbb" for i in range(10)]
    fig = go.Figure(go.Bar(x=names, y=row["class_hist"], marker_color=colours))
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=30, b=10),
                      title=f"classes of generated samples (step {row['step']}, mean confidence {row['confidence']:.2f})")
    return fig


def comparison_figure(comparison: "LossComparison") -> go.Figure:
    """D(G(z)), the gradient norm at the samples (log) and how far they moved, one colour per arm."""
    fig = make_subplots(rows=1, cols=3, subplot_titles=("D(G(z)) (fakes)", "‖∇ₓ L_G‖ at the samples (log)",
                                                        "how far G's samples moved"))
    for i, (name, arm) in enumerate(comparison.arms.items()):
        hist = arm.trainer.history
        line = dict(color=colour(i))  # one colour per run in all three panels
        fig.add_trace(go.Scatter(x=[r["step"] for r in hist], y=[r["d_fake"] for r in hist], name=f"{name}: D(G(z))",
                                 line=line), 1, 1)
        fig.add_trace(go.Scatter(x=[g[0] for g in arm.grad_norms], y=[g[1] for g in arm.grad_norms],
                                 name=f"{name}: gradient", mode="lines+markers", line=dict(line, dash="dot")), 1, 2)
        fig.add_trace(go.Scatter(x=[g[0] for g in arm.travel], y=[g[1] for g in arm.travel],
                                 name=f"{name}: distance moved", mode="lines+markers", line=dict(line, dash="dash")), 1, 3)
    log_axis(fig, row=1, col=2)
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h"))
    return fig


def evaluation_caption(trainer: "GANTrainer", ev: dict[str, Any]) -> str:
    """One line of an evaluation's numbers (energy distance / modes, or FID / KID)."""
    if trainer.config.is_toy:
        return (f"energy distance {ev['energy_distance']:.3f}"
                + (f" · modes covered {ev['modes_covered']}" if "modes_covered" in ev else "")
                + (f" · samples on a mode {ev['high_quality']:.0%}" if "high_quality" in ev else ""))
    return f"FID {ev['fid']:.2f} · KID {ev['kid']:.3f}"


# ----------------------------------------------------------------------------- the page's "More" sections
def latent_section(run: "GANTrainer") -> None:
    """Latent space of an image run: A -> B interpolation, a walk along one direction, class rows."""
    import streamlit as st

    from ..gan import viz
    from . import push_result

    if run.config.is_toy:
        st.caption("Latent-space tools are for image runs; in 2-D the scatter above *is* G's image of the noise.")
        return
    l1, l2, l3 = st.columns(3)
    seed_a = int(l1.number_input("Sample A (seed)", 0, 10_000, key=keep("gan_lat_a", 1)))
    seed_b = int(l1.number_input("Sample B (seed)", 0, 10_000, key=keep("gan_lat_b", 2)))
    mode = l2.radio("Interpolation", ["spherical", "linear"], horizontal=True, key=keep("gan_lat_mode", "spherical"))
    dim = int(l3.number_input("Walk along latent direction", 0, run.config.z_dim - 1,
                              key=keep("gan_lat_dim", 0, range(run.config.z_dim))))
    cls = None
    if run.conditional:
        cls = l2.selectbox("Class", list(range(run.num_classes)), format_func=lambda i: run.images.class_names[i],
                           key=keep("gan_lat_class", 0, range(run.num_classes)))
    for caption, grid in viz.latent_strips(run, seed_a, seed_b, mode, dim, cls):
        show_grid(grid, 3, caption)
    if run.conditional:
        show_grid(viz.class_rows(run, seed_a), 2, "one row per class (conditional G)")
    push_result("GAN Lab: samples", run.sample_grid().repeat(3, 1, 1))


def compare_section(run: "GANTrainer") -> None:
    """Two runs, same set-up, two losses, in the regime where D wins early (a LossComparison played live)."""
    import streamlit as st

    from .. import equations
    from ..gan import compare as gcompare
    from ..gan import objectives as gobj
    from .live import is_running, live_run

    losses = tuple(gobj.LOSSES)
    st.markdown("Two runs, **same data, seed and set-up**, different generator losses, in the regime where D "
                "wins early (it learns faster and takes several steps per G step). With the saturating minimax loss "
                f"G's gradient ${equations.latex('gan.minimax_g_grad')}$ vanishes while D confidently rejects the early "
                f"fakes (D(G(z)) ≈ 0), so G barely moves; the non-saturating loss ${equations.latex('gan.ns_g')}$ has "
                "the same fixed point but strong gradients exactly there.")
    k1, k2, k3 = st.columns(3)  # two rows of three: a loss's full name fits its select box
    k4, k5, k6 = st.columns(3)
    stall = gcompare.STALL_SETTINGS
    cmp = dict(
        losses=(k1.selectbox("Run A loss", losses, format_func=gobj.loss_label, key=keep("gan_cmp_a", "minimax", losses)),
                k2.selectbox("Run B loss", losses, format_func=gobj.loss_label, key=keep("gan_cmp_b", "ns", losses))),
        steps=int(k3.number_input("Steps", 10, 20_000, step=50,
                                  key=keep("gan_cmp_steps", gcompare.DEFAULT_STEPS if run.config.is_toy else 100))),
        lr_g=k4.select_slider("G learning rate", LR_CHOICES, key=keep("gan_cmp_lr_g", stall["lr_g"], LR_CHOICES)),
        lr_d=k5.select_slider("D learning rate", LR_CHOICES, key=keep("gan_cmp_lr_d", stall["lr_d"], LR_CHOICES),
                              help="A D that learns much faster than G rejects the early fakes confidently: "
                                   "the regime where minimax stalls."),
        d_steps=k6.slider("D steps per G step", 1, 10, key=keep("gan_cmp_d_steps", stall["d_steps"])))

    def draw_comparison(comparison: "LossComparison") -> None:
        st.plotly_chart(comparison_figure(comparison), key="gan_cmp_chart")
        st.caption("Read the gradient and the distance moved first: a run whose G has not moved is stalled, whatever "
                   "its score. The energy distance compares whole clouds, so early on a frozen blob in the middle of "
                   "the ring can score about as well as samples that have reached a few of its modes.")
        if is_running("gan_cmp"):
            return  # the per-run panels (an evaluation each) once it stops
        for col, (name, arm) in zip(st.columns(len(comparison.arms)), comparison.arms.items()):
            t = arm.trainer
            with col:
                st.markdown(f"**{gobj.loss_label(t.config.loss)}** after {t.step_count} steps: mean gradient "
                            f"{arm.mean_grad_norm:.2g}, samples moved {arm.final_travel:.2f}")
                if t.config.is_toy:
                    st.plotly_chart(scatter_figure(t), key=f"gan_cmp_pts_{name}")
                else:
                    show_grid(t.sample_grid(32), 2)
                st.caption(evaluation_caption(t, t.evaluate()))

    live_run("gan_cmp", lambda: gcompare.LossComparison(gcompare.CompareConfig(base=run.config, **cmp)),
             draw_comparison, start_label="Run the comparison")


def io_section(run: "GANTrainer") -> None:
    """Export / import: the experiment record and the checkpoint, both ways."""
    import streamlit as st

    from ..errors import StylelabError
    from ..gan.train import GANTrainer
    from . import download_record, show_error, upload_record
    from .live import locked, set_run
    from .notebook_link import notebook_link

    st.markdown("The **experiment record** (config + seed + every step's numbers) reproduces a run; the "
                "**checkpoint** resumes it exactly (weights, optimisers and random-number state).")
    with locked("gan") as held:  # one consistent step of a run a worker may be training
        held = held if held is not None else run
        record, blob = held.record(), held.to_bytes()
    x1, x2 = st.columns(2)
    with x1:
        download_record(record, "gan_lab_record.json", key="gan_dl_record")
        notebook_link(record, "gan_lab_record.json")
        st.download_button("Download checkpoint (.pt)", blob, file_name="gan_lab_checkpoint.pt",
                           mime="application/octet-stream", key="gan_dl_ckpt")
    with x2:
        rec = upload_record("gan", key="gan_up_record")
        if rec is not None and st.button("Start a run from this record's config", key="gan_apply_record"):
            try:
                loaded = GANTrainer.from_record(rec)
                if not loaded.config.is_toy:
                    _ = loaded.evaluator
                set_run("gan", loaded)
                st.session_state["gan_show_config"] = True  # the controls show the loaded run's configuration
                st.rerun()
            except StylelabError as exc:
                show_error(exc, "Could not use the record")
        up = st.file_uploader("Load a checkpoint (.pt)", type=["pt"], key="gan_up_ckpt")
        if up is not None and st.button("Resume from this checkpoint", key="gan_apply_ckpt"):
            try:
                set_run("gan", GANTrainer.load(up.getvalue()))
                st.session_state["gan_show_config"] = True
                st.rerun()
            except StylelabError as exc:
                show_error(exc, f"Could not load {up.name!r}")


__all__ = ["class_histogram_figure", "comparison_figure", "curves_figure", "draw_images", "evaluation_caption",
           "compare_section", "io_section", "latent_section", "points_figure", "scatter_figure", "setup_controls",
           "show_grid", "widget_values"]
