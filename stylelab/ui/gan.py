"""The GAN Lab page's figures: plotly figures built from a run's numbers (no science here).

Every number comes from :mod:`stylelab.gan` (the trainer's history and samples, the decision
surface, the gradient arrows, the loss comparison's measures); this module only lays them out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .charts import GENERATED, PALETTE, REAL, colour, fraction_axis, log_axis

if TYPE_CHECKING:  # pragma: no cover
    from ..gan.compare import LossComparison
    from ..gan.train import GANTrainer

#: at most this many points per curve (keeps a redraw fast on a long run)
MAX_POINTS = 1500


def points_figure(trainer: "GANTrainer", height: int = 470) -> go.Figure:
    """D's decision surface, real and generated points, and the arrows ``-grad_x L_G`` (2-D runs)."""
    from ..gan import viz

    bounds = viz.plot_bounds(trainer)
    surf = viz.decision_surface(trainer, resolution=50, bounds=bounds)
    pts, arrows = viz.generator_gradients(trainer, n=150, seed=trainer.config.seed + 5)
    fake = trainer.sample(500).cpu().numpy()
    real = trainer.real[:500].cpu().numpy()
    fig = go.Figure()
    label = "D(x)" if surf.kind == "probability" else "D score"
    fig.add_trace(go.Heatmap(x=surf.xs.numpy(), y=surf.ys.numpy(), z=surf.values.numpy(), colorscale="RdBu",
                             opacity=0.55, colorbar=dict(title=label), zmid=0.5 if surf.kind == "probability" else 0))
    fig.add_trace(go.Scatter(x=real[:, 0], y=real[:, 1], mode="markers", name="real", marker=dict(size=4, color=REAL)))
    fig.add_trace(go.Scatter(x=fake[:, 0], y=fake[:, 1], mode="markers", name="generated",
                             marker=dict(size=4, color=GENERATED)))
    scale = 0.3 / max(1e-8, float(arrows.norm(dim=1).max()))  # longest arrow 0.3 units: directions, relative size
    xs: list[Any] = []
    ys: list[Any] = []
    for (x, y), (dx, dy) in zip(pts.tolist(), (arrows * scale).tolist()):
        xs += [x, x + dx, None]
        ys += [y, y + dy, None]
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name="−∇ G loss", line=dict(color="black", width=1)))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), xaxis=dict(range=bounds[:2], constrain="domain"),
                      yaxis=dict(range=bounds[2:], scaleanchor="x", constrain="domain"),
                      title=f"step {trainer.step_count}", legend=dict(orientation="h"))
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
    """Losses, D's outputs and the evaluation measures along the run (three panels)."""
    from ..gan.objectives import loss_spec

    hist = trainer.history
    rows = hist[:: max(1, len(hist) // MAX_POINTS)]
    steps = [r["step"] for r in rows]
    evals = [r for r in hist if "fid" in r or "energy_distance" in r]
    dlabel = "D(x), D(G(z))" if loss_spec(trainer.config.loss).probabilistic else "mean D score"
    titles = ("losses", dlabel, "FID / KID (classifier features)" if not trainer.config.is_toy else "energy distance / coverage")
    fig = make_subplots(rows=1, cols=3, subplot_titles=titles, specs=[[{}, {}, {"secondary_y": True}]])
    for key, name, col in (("loss_d", "loss D", 1), ("loss_g", "loss G", 1), ("d_real", "D(x) real", 2),
                           ("d_fake", "D(G(z)) fake", 2)):
        fig.add_trace(go.Scatter(x=steps, y=[r[key] for r in rows], name=name), 1, col)
    es = [r["step"] for r in evals]
    if trainer.config.is_toy:
        fig.add_trace(go.Scatter(x=es, y=[r["energy_distance"] for r in evals], name="energy distance", mode="lines+markers"), 1, 3)
        if evals and "coverage" in evals[-1]:
            fig.add_trace(go.Scatter(x=es, y=[r["coverage"] for r in evals], name="mode coverage", mode="lines+markers",
                                     line=dict(dash="dot")), 1, 3, secondary_y=True)
            fraction_axis(fig, row=1, col=3, secondary_y=True)  # 0-100 % ticks, not 1.031 ... -0.024
    else:
        fig.add_trace(go.Scatter(x=es, y=[r["fid"] for r in evals], name="FID", mode="lines+markers"), 1, 3)
        fig.add_trace(go.Scatter(x=es, y=[r["kid"] for r in evals], name="KID", mode="lines+markers",
                                 line=dict(dash="dot")), 1, 3, secondary_y=True)
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


__all__ = ["class_histogram_figure", "comparison_figure", "curves_figure", "evaluation_caption", "points_figure",
           "scatter_figure"]
