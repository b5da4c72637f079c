"""Widgets of the Loss Lab page: cached feature views, the mixing desk's sliders, its live view and record.

Layout helpers only: every number comes from :mod:`stylelab.losses` (features, Grams, the
distortion study, :class:`~stylelab.losses.mixing.MixingDesk`), every formula from
:mod:`stylelab.equations`. Session keys start with ``loss_``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import streamlit as st

from .. import equations
from ..errors import StylelabError
from . import charts, download_image, download_record, equation, keep, push_result, show_error
from .live import set_run

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from ..losses.mixing import MixingDesk
    from ..record import ExperimentRecord

#: the working sizes of the page (longer side, px)
SIZES = (96, 128, 160, 192)
#: the Adam learning rates the desk offers
DESK_LRS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.1)
#: the values each weight slider offers, by term group (``style`` for every ``style:<layer>``)
WEIGHT_STEPS: dict[str, tuple[float, ...]] = {
    "content": (0.0, 0.1, 0.3, 1.0, 3.0, 10.0),
    "style": (0.0, 1e2, 1e3, 1e4, 3e4, 1e5, 3e5, 1e6, 1e7),
    "tv": (0.0, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0),
    "colorfulness": (0.0, 0.1, 0.3, 1.0, 3.0, 10.0),
    "contrast": (0.0, 0.1, 0.3, 1.0, 3.0, 10.0),
}
#: the live_run keys of the mixing desk and of the ablation grid
DESK_KEY = "loss_desk"
ABLATION_KEY = "loss_abl"
#: the equation shown under each slider group
TERM_EQUATIONS = {"content": "loss.content", "style": "loss.style_layer", "tv": "loss.tv_per_pixel",
                  "colorfulness": "loss.colorfulness_loss", "contrast": "loss.contrast_loss"}


def fmt_weight(v: float) -> str:
    return "off" if v == 0 else (f"{v:.0e}" if v >= 1000 else f"{v:g}")


@st.cache_data(show_spinner=False, max_entries=32)
def features_for(digest: str, layers: tuple[str, ...], _image: "torch.Tensor") -> dict[str, "torch.Tensor"]:
    """VGG16 activations of one picture (cached by its digest)."""
    from ..losses.visual import extract_features

    return extract_features(_image, layers)


@st.cache_data(show_spinner=False, max_entries=16)
def layer_table(digests: tuple[str, ...], layers: tuple[str, ...], _x, _content, _style):  # noqa: ANN001
    """Per-layer content and style losses (cached by the pictures' digests)."""
    from ..losses.visual import layer_report

    return layer_report(_x, _content, _style, layers)


@st.cache_data(show_spinner=False, max_entries=8)
def study_table(digest: str, names: tuple[str, ...], strengths: tuple[float, ...], metrics: tuple[str, ...], _image):  # noqa: ANN001
    """The distortion study of one picture (cached)."""
    from ..losses.distortions import distortion_study

    return distortion_study(_image, names, strengths, metrics)


def _slider_key(term: str) -> str:
    from ..losses.mixing import STYLE_PREFIX

    return f"loss_w_style_{term[len(STYLE_PREFIX):]}" if term.startswith(STYLE_PREFIX) else f"loss_w_{term}"


def _group(term: str) -> str:
    from ..losses.mixing import STYLE_PREFIX

    return "style" if term.startswith(STYLE_PREFIX) else term


def _options(group: str) -> list[float]:
    """A slider's values: the usual steps plus any exact value a loaded record brought (never rounded)."""
    extra = st.session_state.get("loss_w_extra", {}).get(group, ())
    return sorted(set(WEIGHT_STEPS[group]) | set(extra))


def seed_weight_defaults() -> None:
    """The desk's default weights (``mixing.default_weights()``) as the sliders' defaults."""
    from ..losses.mixing import default_weights

    for term, value in default_weights().items():
        keep(_slider_key(term), value, _options(_group(term)))


def weight_sliders() -> dict[str, float]:
    """One slider per term (its formula under each group); returns ``{term: lambda}``."""
    from ..losses.mixing import term_names

    weights: dict[str, float] = {}
    for term in term_names():
        group = _group(term)
        label = f"λ style {term.split(':', 1)[1]}" if group == "style" else {
            "content": "λ content", "tv": "λ TV", "colorfulness": "λ colourfulness", "contrast": "λ contrast"}[group]
        weights[term] = st.select_slider(label, _options(group), format_func=fmt_weight, key=_slider_key(term))
        if group != "style":
            equation(equations.latex(TERM_EQUATIONS[group]))
        elif term == term_names()[-4]:  # after the last style layer
            equation(equations.latex(TERM_EQUATIONS["style"]), "style term of each layer l")
    return weights


def load_desk_record(record: "ExperimentRecord", content: "torch.Tensor", style: "torch.Tensor", box: Any) -> None:
    """Rebuild the desk a record describes (paused, ready to Continue), and put its exact weights on the
    sliders. A value the desk refuses is shown as the RecordError's message, never clamped."""
    from ..losses.mixing import MixingDesk

    stamp = f"{record.created}|{record.seed}|{sorted(record.config.items())!r}"
    if st.session_state.get("loss_record_applied") == stamp:
        return
    try:
        desk = MixingDesk.from_record(record, content=content, style=style)
    except StylelabError as exc:
        with box:
            show_error(exc, "Could not use this record")
        return
    extra: dict[str, set] = {}
    for term, value in desk.config.weights.items():
        extra.setdefault(_group(term), set()).add(value)
    st.session_state["loss_w_extra"] = {g: sorted(v) for g, v in extra.items()}
    for term, value in desk.config.weights.items():
        st.session_state[_slider_key(term)] = value
        st.session_state.pop(f"_kept_{_slider_key(term)}", None)
    set_run(DESK_KEY, desk, running=False)
    st.session_state["loss_record_applied"] = stamp
    box.success(f"Loaded the run of {record.created} ({desk.config.steps} steps, lr {desk.config.lr:g}, "
                f"{desk.config.size} px): press Continue to run it again.")



def draw_desk(desk: "MixingDesk") -> None:
    """The desk's live picture, one curve per weighted term, and (when paused) its downloads."""
    import plotly.graph_objects as go

    from .live import is_running

    img_col, chart_col = st.columns([2, 3])
    img_col.image(desk.image.permute(1, 2, 0).numpy(), caption=f"result after {desk.step_count} steps",
                  width="stretch")
    if desk.history:
        fig = go.Figure()
        steps = [h["step"] for h in desk.history]
        for term in [k for k in desk.history[-1] if not k.endswith("_raw") and k != "step"]:
            fig.add_trace(go.Scatter(x=steps, y=[h[term] for h in desk.history], name=term, mode="lines",
                                     line=dict(width=3, color=charts.TOTAL) if term == "total" else dict(width=1.5)))
        charts.use_palette(fig)
        fig.update_layout(height=380, xaxis_title="step", yaxis_title="λ·term", margin=dict(l=10, r=10, t=30, b=10),
                          title="One curve per weighted term", legend=dict(orientation="h", yanchor="top", y=-0.2, x=0))
        chart_col.plotly_chart(fig, key="loss_desk_chart")
    if not is_running(DESK_KEY) and desk.step_count:
        push_result("Loss Lab: mixing desk", desk.image)
        d1, d2, d3 = st.columns(3)
        with d1:
            download_image(desk.image, "loss_lab_mixing.png", key="loss_desk_png")
        with d2:
            rec = desk.record()
            download_record(rec, "loss_lab_mixing.json", key="loss_desk_record")
            from .notebook_link import notebook_link

            notebook_link(rec, "loss_lab_mixing.json")
        d3.download_button("Download the run's state (.pt)", desk.to_bytes(), file_name="loss_lab_mixing.pt",
                           key="loss_desk_state", help="torch.load(..., weights_only=True); MixingDesk.load_state_dict")


def show_ablation(grid: Any) -> None:
    """The ablation grid (an :class:`~stylelab.losses.mixing.AblationGrid`): one tile per finished cell,
    and the cell being run."""
    results = list(grid.results)
    tiles = [(r.image, ("all terms on" if r.switched_off is None else f"without {r.switched_off}")
              + f" (total {r.values['total']:.3g})") for r in results]
    if grid.desk is not None:
        group = grid.groups[len(results)]
        tiles.append((grid.desk.image, ("all terms on" if group is None else f"without {group}")
                      + f": step {grid.desk.step_count} / {grid.desk.total_steps}"))
    if not tiles:
        return
    for col, (image, caption) in zip(st.columns(len(grid.groups)), tiles):
        col.image(image.permute(1, 2, 0).numpy(), caption=caption, width="stretch")


def equation_cards() -> None:
    """Every loss, metric and measure of the Loss Lab with its formula (from :mod:`stylelab.equations`)."""
    for eq in equations.registry().values():
        if eq.lab != "loss":
            continue
        with st.container(border=True):
            a, b = st.columns([1, 2])
            a.markdown(f"**{eq.label}**  \n`{eq.name}` · {eq.description}")
            with b:
                equation(eq.latex)
