"""The Translate page's figures and widgets: plotly views of a cycle run and of the shipped translators.

Every number comes from :mod:`stylelab.translate` (the run's round trips and history, the shipped
translators and their measures); this module only lays them out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go

from .charts import GENERATED, PALETTE, REAL, fraction_axis, log_axis, thin_rows
from .gan import show_grid  # noqa: F401 - the Translate page shows its grids as the GAN Lab does

if TYPE_CHECKING:  # pragma: no cover
    from ..translate.run import CycleRun
    from ..translate.translator import Translator

#: at most this many points per curve
MAX_POINTS = 500
RETURNED = PALETTE[2]  # F(G(x)): green
TARGET = "#bbbbbb"  # the real points of Y, faint
#: the loss terms drawn along a run: history key -> label
TERMS = {"adv_g": "adversarial G (D_Y)", "adv_f": "adversarial F (D_X)", "cycle_x": "cycle |F(G(x)) − x|",
         "cycle_y": "cycle |G(F(y)) − y|", "identity": "identity", "loss_d": "D_X + D_Y"}
#: the measures of an image translator: key -> label (stylelab.translate.metrics)
MEASURES = {"clothing_rate": "G(x) called clothing", "fashion_confidence": "Fashion classifier's confidence on G(x)",
            "digit_kept": "F(G(x)) read as the same digit", "digit_rate": "F(y) called a digit",
            "clothes_kept": "G(F(y)) given the same clothing class", "cycle_error_x": "|F(G(x)) − x| (pixels in [−1, 1])"}


def _segments(start: Any, end: Any) -> tuple[list[Any], list[Any], list[float]]:
    """Line segments start -> end as one trace (None between), with an arrow-head marker at each end."""
    xs: list[Any] = []
    ys: list[Any] = []
    sizes: list[float] = []
    for (x0, y0), (x1, y1) in zip(start.tolist(), end.tolist()):
        xs += [x0, x1, None]
        ys += [y0, y1, None]
        sizes += [0, 9, 0]
    return xs, ys, sizes


def points_figure(run: "CycleRun", n: int = 60, height: int = 440) -> go.Figure:
    """Where G sends ``n`` held-out ring points (orange arrows) and where F brings them back (green)."""
    x = run.x_test[:n]
    gx, fgx = run.round_trip(x)
    x, gx, fgx = x.cpu(), gx.cpu(), fgx.cpu()
    y = run.y_train[:600].cpu().numpy()
    ring = run.x_train[:300].cpu().numpy()
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=y[:, 0], y=y[:, 1], mode="markers", name="Y: grid (real)",
                             marker=dict(size=3, color=TARGET)))
    fig.add_trace(go.Scatter(x=ring[:, 0], y=ring[:, 1], mode="markers", name="X: ring (real)",
                             marker=dict(size=3, color=REAL, opacity=0.35)))
    for a, b, name, col, dash in ((x, gx, "x → G(x)", GENERATED, "solid"), (gx, fgx, "G(x) → F(G(x))", RETURNED, "dot")):
        xs, ys, sizes = _segments(a, b)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=name, line=dict(color=col, width=1.2, dash=dash),
                                 marker=dict(symbol="arrow", angleref="previous", size=sizes, color=col)))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), title=f"step {run.step_count}",
                      xaxis=dict(range=[-5.5, 5.5], constrain="domain", title="x₁"),
                      yaxis=dict(range=[-5.5, 5.5], scaleanchor="x", constrain="domain", title="x₂"),
                      legend=dict(orientation="h", y=-0.12))
    return fig


def curves_figure(run: "CycleRun", height: int = 300) -> go.Figure:
    """The loss terms along the run (log axis), one colour each."""
    hist = run.history
    rows = thin_rows(hist, MAX_POINTS)
    steps = [r["step"] for r in rows]
    fig = go.Figure()
    for i, (key, label) in enumerate(TERMS.items()):
        if key == "identity" and not any(r.get(key) for r in rows):
            continue
        fig.add_trace(go.Scatter(x=steps, y=[max(1e-4, r[key]) for r in rows], name=label,
                                 line=dict(color=PALETTE[i % len(PALETTE)])))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), title="loss terms (log scale)",
                      xaxis_title="step", legend=dict(orientation="v", x=1.02, y=1, font=dict(size=11)))
    return log_axis(fig, "y", "value")


def measures_figure(run: "CycleRun", height: int = 300) -> go.Figure:
    """The 2-D measures at each evaluation: G(x) on a grid centre, and the round trip back at x's ring centre."""
    evals = [r for r in run.history if "mode_kept" in r]
    es = [r["step"] for r in evals]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=es, y=[r["in_target"] for r in evals], name="G(x) near a grid centre", mode="lines+markers",
                             line=dict(color=GENERATED)))
    fig.add_trace(go.Scatter(x=es, y=[r["mode_kept"] for r in evals], name="F(G(x)) back at x's ring centre",
                             mode="lines+markers", line=dict(color=RETURNED, dash="dot")))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), title="held-out measures",
                      xaxis_title="step", legend=dict(orientation="h", y=-0.35))
    return fraction_axis(fig, "share of held-out points")


def draw_points(run: "CycleRun") -> None:
    """The live view of a 2-D run: the arrows, the loss terms and the measures."""
    import streamlit as st

    left, right = st.columns([1, 1])
    left.plotly_chart(points_figure(run), key="tr_points_chart")
    if run.history:
        right.plotly_chart(curves_figure(run), key="tr_curves_chart")
        if any("mode_kept" in r for r in run.history):
            right.plotly_chart(measures_figure(run), key="tr_measures_chart")
            last = next(r for r in reversed(run.history) if "mode_kept" in r)
            from ..translate.metrics import start_distance

            right.caption(f"step {last['step']}: {last['in_target']:.0%} of G(x) near a grid centre "
                          f"({last['target_modes']} of 25 centres reached); energy distance of G(x) to the grid "
                          f"{last['target_distance']:.3f} (the ring itself: {start_distance(run):.3f}); "
                          f"{last['mode_kept']:.0%} of round trips back at their own ring centre; cycle error "
                          f"{last['cycle_error']:.3f}.")


def one_per_class(images: Any, i: int) -> Any:
    """The ``i``-th held-out image of each of the 10 classes (``stylelab.translate.metrics.held_out`` order)."""
    return images[10 * i : 10 * i + 10]  # (10, 1, 28, 28): classes 0..9


def round_trip_grid(model: "Translator", x: Any, direction: str = "G") -> Any:
    """Rows x / G(x) / F(G(x)) (or y / F(y) / G(F(y))) as one ``(1, H', W')`` grid in [0, 1]."""
    import torch

    from ..gan.data import to_unit
    from ..imageio import image_grid

    there, back = model.round_trip(x, direction)  # (n, 1, 28, 28) each
    return image_grid(to_unit(torch.cat([x, there, back])), nrow=x.shape[0])


def measures_rows(models: dict[str, "Translator"]) -> list[dict[str, Any]]:
    """One table row per measure, one column per translator (its model file's held-out measures)."""
    rows = []
    for key, label in MEASURES.items():
        row: dict[str, Any] = {"measure": label}
        for name, m in models.items():
            value = m.measures.get(key)
            row[name] = "–" if value is None else (f"{value:.3f}" if key == "cycle_error_x" else f"{value:.0%}")
        rows.append(row)
    return rows


__all__ = ["MEASURES", "TERMS", "show_grid", "curves_figure", "draw_points", "measures_figure", "measures_rows", "one_per_class", "points_figure",
           "round_trip_grid"]


def weighted_objective(lambda_cyc: float, lambda_id: float) -> str:
    """The LaTeX of the generators' objective (``translate.objective``) with the weights in use written in."""
    from .. import equations

    tex = equations.latex("translate.objective")
    return tex.replace(r"\lambda_{cyc}", f"{lambda_cyc:g}\\,").replace(r"\lambda_{id}", f"{lambda_id:g}\\,")


__all__ += ["weighted_objective"]
