"""Widgets of the Aesthetics Lab page: the report card, its radar, and the adjustment's live view.

Layout helpers only: every measure comes from :mod:`stylelab.aesthetics`, every formula from
:mod:`stylelab.equations` (the measures' LaTeX is their registry entry), the adjustment is an
:class:`~stylelab.aesthetics.adjustment.Adjuster` driven by :func:`stylelab.ui.live.live_run`.
Session keys start with ``aes_``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import streamlit as st

from .. import equations
from ..errors import StylelabError
from . import _bundled, charts, download_image, download_record, push_result, show_error, show_image
from .cache import shared, tensor_digest
from .live import is_running, set_run

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go
    import torch

    from ..aesthetics.adjustment import Adjuster
    from ..record import ExperimentRecord

#: analysis sizes (longer side, px)
SIZES = (192, 256, 320, 384, 512)
#: learning rates the adjustment offers
LRS = (0.005, 0.01, 0.02, 0.05, 0.1)
#: the report card's groups, in order
GROUPS = {"colour": "🎨 Colour", "tone": "🌗 Tone", "detail": "🔍 Detail", "composition": "📐 Composition",
          "quality": "🧪 No-reference quality", "reference": "⚖️ Full reference"}
#: the live_run key of the adjustment
ADJUST_KEY = "aes_adj"
#: the size the adjustment works at (longer side, px)
ADJUST_SIZE = 192


def bundled_image(name: str, size: int) -> "torch.Tensor":
    """A bundled picture at ``size`` px (the app's one cached loader)."""
    return _bundled(name, size)


def cached_report(img: "torch.Tensor", quality: bool) -> dict[str, float | None]:
    """Report of an image, remembered for the whole server by the image's content digest (a bounded
    shared LRU, :func:`stylelab.ui.cache.shared`: a class opening the page on the same default picture
    computes it once; a session finds an entry only for pixels it already holds). A copy is returned,
    so a page that changes it changes nobody else's."""
    from .. import aesthetics as aes

    memo = shared("aes_report_cache", max_entries=64)
    return dict(memo.get_or_compute(tensor_digest(img, extra=quality), lambda: aes.report(img, quality=quality)))


def fmt(name: str, value: float | None) -> str:
    from ..aesthetics.scorecard import MEASURES

    if value is None:
        return "— (image too small)"
    m = MEASURES[name]
    text = f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return f"{text} {m.unit}".strip()


def cached_palette(img: "torch.Tensor", k: int) -> Any:
    """:func:`stylelab.aesthetics.dominant_palette` of ``img`` (k-means: deterministic, seed 0),
    remembered for the whole server by the image's content digest (see :func:`cached_report`)."""
    from .. import aesthetics as aes

    return shared("aes_palette_cache", max_entries=64).get_or_compute(
        tensor_digest(img, extra=("palette", k)), lambda: aes.dominant_palette(img, k=k))


def cached_harmony(img: "torch.Tensor") -> Any:
    """:func:`stylelab.aesthetics.harmony_fit` of ``img``, remembered like :func:`cached_palette`."""
    from .. import aesthetics as aes

    return shared("aes_harmony_cache", max_entries=64).get_or_compute(
        tensor_digest(img, extra="harmony"), lambda: aes.harmony_fit(img))


def explain(name: str) -> None:
    """The measure's formula (its registry entry), what moves it and where it comes from."""
    from ..aesthetics.scorecard import MEASURES

    m = MEASURES[name]
    eq = equations.get(m.equation_name)
    st.markdown(f"**{m.label}**")
    st.latex(eq.latex)
    direction = {True: "higher is better", False: "lower is better", None: "neither end is better"}[m.higher_is_better]
    if m.ideal is not None:
        direction = f"best near {m.ideal}"
    lo, hi = eq.range
    st.markdown(f"Usual range **{lo:g} – {hi:g}** {m.unit} · {direction}")
    st.markdown(f"*What moves it:* {m.moves}")
    st.caption(f"Reference: {m.reference}")


def radar(reports: dict[str, dict[str, float | None]]) -> "go.Figure":
    """One radar of every rankable measure (1 = the good end of its usual range)."""
    from ..aesthetics.scorecard import MEASURES

    names = [n for n, m in MEASURES.items() if m.radar and not m.needs_reference
             and any(r.get(n) is not None for r in reports.values())]
    series = {label: {MEASURES[n].short_label: g for n in names if (g := MEASURES[n].goodness(rep.get(n))) is not None}
              for label, rep in reports.items()}
    return charts.shared_figure("aes_radar", series, lambda: charts.radar(series, radial_range=(0.0, 1.0), height=460))


def report_card(rep: dict[str, float | None]) -> None:
    """Every measure: value, a bar (1 = best end of the usual range), and an 'explain' popover."""
    from ..aesthetics.scorecard import MEASURES

    for group, title in GROUPS.items():
        names = [n for n in rep if MEASURES[n].group == group]
        if not names:
            continue
        st.markdown(f"**{title}**")
        for n in names:
            m = MEASURES[n]
            c1, c2, c3, c4 = st.columns([3, 2, 3, 1.4], vertical_alignment="center")
            c1.markdown(m.label)
            c2.markdown(f"`{fmt(n, rep[n])}`")
            g = m.goodness(rep[n])
            if g is not None:
                c3.progress(g)
            else:
                c3.caption("a matter of style" if rep[n] is not None else "")
            with c4.popover("Explain", icon=":material/info:", help=f"What is {m.label}? Formula and what moves it."):
                explain(n)


def term_sliders(defaults: dict[str, float]) -> dict[str, float]:
    """One weight slider per term of the adjustment, its formula under it (two per row)."""
    from ..aesthetics.adjustment import TERM_NAMES
    from .state import keep

    weights: dict[str, float] = {}
    cols = st.columns(2)  # two per row: each term's formula fits under its slider
    for i, term in enumerate(TERM_NAMES):
        with cols[i % 2]:
            weights[term] = st.slider(f"λ {term}", 0.0, 5.0, step=0.1, key=keep(f"aes_w_{term}", float(defaults[term])))
            st.caption(f"${equations.latex(f'aesthetics.term.{term}')}$")
    return weights


def load_adjust_record(record: "ExperimentRecord", image: "torch.Tensor | None", box: Any) -> None:
    """Rebuild the adjustment a record describes on ``image`` (paused: Continue runs it). A value the
    adjustment refuses is shown as the RecordError's message, never clamped."""
    from ..aesthetics.adjustment import Adjuster

    stamp = f"{record.created}|{record.seed}|{sorted(record.config.items())!r}"
    if st.session_state.get("aes_rec_applied") == stamp:
        box.success(f"The record's run is loaded ({len(record.metrics)} logged steps, seed {record.seed}): "
                    "press Continue to reproduce it.")
        return
    if image is None:
        box.info("Pick the photo the record was made with first.")
        return
    try:
        adj = Adjuster.from_record(record, image=image)
    except StylelabError as exc:
        with box:
            show_error(exc, "Could not use this record")
        return
    set_run(ADJUST_KEY, adj, running=False)
    st.session_state["aes_rec_applied"] = stamp
    box.success(f"Loaded the record's run ({adj.config.steps} steps, {adj.config.mode}, lr {adj.config.learning_rate:g}, "
                f"{adj.config.content} content): press Continue to reproduce it on this photo.")



def draw_adjust(adj: "Adjuster") -> None:
    """The live picture while it runs; before / after, the per-term curves and the measures otherwise."""
    import pandas as pd
    import plotly.graph_objects as go

    from ..aesthetics.adjustment import PARAM_NAMES

    if is_running(ADJUST_KEY):
        show_image(adj.preview(), caption=f"step {adj.step_count}", width=384)
        return
    if not adj.history:
        show_image(adj.original[0], caption="The loaded run's photo: press Continue", width=384)
        return
    before, after = adj.original[0], adj.image[0]
    c1, c2 = st.columns(2)
    with c1:
        show_image(before, caption="Before")
    with c2:
        show_image(after, caption=f"After {adj.step_count} steps")
    hist = pd.DataFrame(adj.history).set_index("step")
    weighted = [c[:-4] for c in hist.columns if c.endswith("_raw")]  # λ_i·L_i as weighted_sum logged it
    fig = go.Figure([go.Scatter(x=hist.index, y=hist[c], name=c, mode="lines") for c in weighted])
    fig.add_trace(go.Scatter(x=hist.index, y=hist["total"], name="total", line={"width": 3, "color": charts.TOTAL}))
    fig.update_layout(title="Weighted loss terms λᵢ·Lᵢ per step", xaxis_title="step", height=340,
                      margin={"t": 40, "b": 20}, colorway=list(charts.PALETTE))
    st.plotly_chart(fig, key="aes_adj_curves")
    meas = [c for c in hist.columns if c.startswith("m_")]
    fig2 = go.Figure([go.Scatter(x=hist.index, y=hist[c], name=c[2:], mode="lines") for c in meas])
    fig2.update_layout(title="The measures themselves (colourfulness on the 0-255 scale)", xaxis_title="step",
                       height=300, margin={"t": 40, "b": 20}, colorway=list(charts.PALETTE))
    charts.log_axis(fig2)
    st.plotly_chart(fig2, key="aes_adj_measures")
    if adj.config.mode == "params":
        params = adj.parameters_now()
        st.dataframe(pd.DataFrame({"control": list(PARAM_NAMES), "value": [params[k] for k in PARAM_NAMES]}),
                     hide_index=True, key="aes_adj_params")
        st.caption("All 0 = unchanged. Exposure in EV (stops); the others are log-factors (0.3 ≈ ×1.35).")
    d1, d2, d3 = st.columns(3)
    with d1:
        download_image(after, "adjusted.png", key="aes_adj_dl")
    with d2:
        from .notebook_link import notebook_link

        rec = adj.record()
        download_record(rec, "aesthetics_adjust.json", key="aes_adj_record")
        notebook_link(rec, "aesthetics_adjust.json")
    if d3.button("Share with other labs", key="aes_adj_push"):
        push_result("Aesthetics: adjusted", after)
        st.toast("Added to this session's results.")
