"""Chart styling shared by every page: one hue per series, log axes a class can read, radar charts
whose labels fit, captions computed from the data they sit under.

Why this exists: Streamlit's plotly theme colours series 1-2, 3-4 and 5-6 in the same hue (dark and
light blue, dark and light red, dark and light green), so "noise" and "blur", or "real" and
"generated" points, looked alike on a projector. Plotly's default log ticks ("100µ", "200µ", ...)
crowd and use SI prefixes nobody in a class reads as 10^-4. Pages build their figures with plotly and
pass them through the helpers here; no science lives in this module.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

#: Qualitative palette: seven clearly different hues (blue, orange, green, red, purple, cyan, magenta)
#: and a dark grey, each at least 2:1 contrast on white. Order matters: neighbours differ most.
#: Chromatic pairs differ by >= 35 degrees of CIE LCh hue and every pair by >= 20 CIEDE2000
#: (checked in tests/test_ui_charts.py; Streamlit's default palette fails both).
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC3311",  # red
    "#7B3294",  # purple
    "#17BECF",  # cyan
    "#E7298A",  # magenta
    "#555555",  # dark grey
)
#: Fixed roles, so the same thing has the same colour on every page.
REAL = PALETTE[0]
GENERATED = PALETTE[1]
TOTAL = "#000000"  # the sum of weighted terms: a thick black line

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def shared_figure(name: str, key: Any, build: "Callable[[], go.Figure]", max_entries: int = 48) -> go.Figure:
    """The figure ``build()`` makes for ``key``, built once for the whole server (a bounded
    :func:`stylelab.ui.cache.shared` LRU per ``name``): a class that opens a page on the same default
    pictures pays plotly's figure building (its property validation: 0.1-0.3 s of the server's one
    interpreter lock per figure) once, not once per student. ``key`` must name everything the figure
    shows (content digests and settings). The figure is shared: pass it to ``st.plotly_chart``, which
    copies it (``to_dict``), and never change it after it is returned."""
    from .cache import shared

    return shared(f"figure:{name}", max_entries).get_or_compute(repr(key), build)


def _merged(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``update`` laid over it, nested dictionaries merged (new dictionaries along the
    changed paths; ``base`` is never changed)."""
    out = dict(base)
    for k, v in update.items():
        old = base.get(k)
        out[k] = _merged(old, v) if isinstance(v, Mapping) and isinstance(old, Mapping) else v
    return out


def unchecked_figure(data: Sequence[Mapping[str, Any]], layout: Mapping[str, Any]) -> go.Figure:
    """A ``go.Figure`` from plain trace and layout dictionaries *without* plotly's property validation
    (its private ``_validate=False``; a plotly without it gets the validated figure). Only for specs
    that came out of a validated figure (:func:`skeleton_figure`): a typo here would not be caught."""
    spec = {"data": list(data), "layout": dict(layout)}
    try:
        return go.Figure(spec, _validate=False)
    except TypeError:  # pragma: no cover  (a plotly without the switch)
        return go.Figure(spec)


def skeleton_figure(name: str, variant: Any, build: Callable[[], go.Figure], series: Sequence[Mapping[str, Any]],
                    layout: Mapping[str, Any] | None = None) -> go.Figure:
    """A live figure redrawn many times a second: its *skeleton* (``build()``: the validated figure
    with every trace, axis, title and style but empty data) is made once per ``variant`` for the whole
    server; each redraw lays trace ``i``'s data (``series[i]``, e.g. ``{"x": steps, "y": losses}``) and
    the ``layout`` changes over a copy and skips validation (:func:`unchecked_figure`).

    Why: plotly validates every property it is given, and for the GAN Lab's curves (``make_subplots``,
    six traces of 500 points) that was 40 ms of a 50 ms figure, on the server's one interpreter lock,
    for every redraw of every student. The result's JSON is the validated figure's
    (``tests/test_ui_charts.py`` checks both GAN figures). Raises ``ValueError`` when ``series`` does not
    have one entry per trace of the skeleton.
    """
    from .cache import shared

    spec = shared(f"skeleton:{name}", 32).get_or_compute(repr(variant), lambda: build().to_plotly_json())
    traces = spec["data"]
    if len(series) != len(traces):
        raise ValueError(f"The {name} figure has {len(traces)} traces; got data for {len(series)}.")
    return unchecked_figure([_merged(t, s) for t, s in zip(traces, series)], _merged(spec["layout"], layout or {}))


def colour(i: int) -> str:
    """The i-th series colour (cycles after :data:`PALETTE` runs out)."""
    return PALETTE[i % len(PALETTE)]


def series_colours(names: Iterable[str]) -> dict[str, str]:
    """One palette colour per name, in order: pass to ``color_discrete_map`` or use per trace."""
    return {name: colour(i) for i, name in enumerate(names)}


#: Line styles for the second, third... pass through the palette (more series than hues).
DASHES = ("solid", "dash", "dot", "dashdot")


def use_palette(fig: go.Figure) -> go.Figure:
    """Colour every line/marker trace that has no explicit colour from the palette, in order; past
    :data:`PALETTE`'s length the colours repeat with a dashed (then dotted) line, so no two series look alike."""
    fig.update_layout(colorway=list(PALETTE))
    i = 0
    for tr in fig.data:
        if tr.type not in ("scatter", "scattergl") or (tr.line.color is not None or tr.marker.color is not None):
            continue
        tr.update(line_color=colour(i), marker_color=colour(i))
        if i >= len(PALETTE):
            tr.update(line_dash=DASHES[(i // len(PALETTE)) % len(DASHES)])
        i += 1
    return fig


# ----------------------------------------------------------------------------- log axes
def format_tick(v: float) -> str:
    """A log-axis label: ``10⁻⁴`` for powers of ten, ``2×10⁻⁴`` below 0.01 or from 10,000, else ``0.2``/``300``."""
    if v <= 0 or not math.isfinite(v):
        raise ValueError(f"a log-axis tick must be positive and finite, got {v!r}")
    exp = math.floor(math.log10(v) + 1e-9)
    mant = v / 10**exp
    if abs(mant - round(mant)) < 1e-6:
        mant = round(mant)
    if -2 <= exp <= 3:
        return f"{v:.4g}"  # 0.05, 0.3, 1, 300, 3000
    power = "10" + str(exp).translate(_SUPERSCRIPT)
    return power if mant == 1 else f"{mant:g}×{power}"


def thin_rows(rows: Sequence[Any], at_most: int) -> list[Any]:
    """Every k-th row, k = ceil(n / at_most), and always the last: a curve keeps its shape and its
    latest point while a long run's chart stays a few hundred points (a panel is a few hundred
    pixels wide; more points only cost the server's JSON and the browser's drawing)."""
    if at_most < 1:
        raise ValueError(f"at_most must be >= 1, got {at_most}")
    stride = max(1, -(-len(rows) // at_most))
    out = list(rows[::stride])
    if rows and out[-1] is not rows[-1]:
        out.append(rows[-1])
    return out


def log_ticks(values: Iterable[Any], max_ticks: int = 6) -> dict[str, Any]:
    """Tick positions and labels for a log axis over ``values`` (non-positive and non-finite are skipped).

    Over more than 3.5 decades: whole decades, thinned to at most ``max_ticks`` labels. From 1.5 to
    3.5 decades: 1-3 steps (1, 3, 10, 30...), so every curve has a label near it. Under 1.5 decades:
    1-2-5 steps (or 1..9 when that gives fewer than two). Returns ``tickvals``/``ticktext`` for plotly.
    """
    vals = [float(v) for v in _flat(values) if v is not None]
    vals = [v for v in vals if math.isfinite(v) and v > 0]
    if not vals:
        return {}
    lo, hi = math.log10(min(vals)), math.log10(max(vals))
    if hi - lo > 3.5:
        first, last = math.floor(lo), math.ceil(hi)
        step = max(1, math.ceil((last - first) / max(1, max_ticks - 1)))
        ticks = [10.0**e for e in range(first, last + step, step)]  # the last tick reaches the top
    else:
        ticks = []
        steps = ((1, 3),) if hi - lo >= 1.5 else ((1, 2, 5), (1, 2, 3, 4, 5, 6, 7, 8, 9))
        for mantissas in steps:
            ticks = [m * 10.0**e for e in range(math.floor(lo) - 1, math.ceil(hi) + 1) for m in mantissas
                     if lo - 0.05 <= math.log10(m * 10.0**e) <= hi + 0.05]
            if len(ticks) >= 2:
                break
        if len(ticks) < 2:  # a flat curve: label its ends
            ticks = sorted({min(vals), max(vals)})
    return {"tickmode": "array", "tickvals": ticks, "ticktext": [format_tick(t) for t in ticks]}


def _flat(values: Any) -> Iterable[Any]:
    if values is None or isinstance(values, str):
        return []
    try:
        return list(values.ravel().tolist()) if hasattr(values, "ravel") else list(values)
    except TypeError:
        return [values]


def log_axis(fig: go.Figure, axis: str = "y", title: str | None = None, **select: Any) -> go.Figure:
    """Make the selected axes logarithmic with readable ticks computed from the traces drawn on them.

    ``select`` is passed to ``fig.select_yaxes`` / ``select_xaxes`` (``row=``, ``col=``,
    ``secondary_y=`` on subplots). Call after the traces are added.
    """
    if axis not in ("x", "y"):
        raise ValueError(f"axis must be 'x' or 'y', got {axis!r}")
    axes = fig.select_yaxes(**select) if axis == "y" else fig.select_xaxes(**select)
    for ax in axes:
        ref = ax.plotly_name.replace("axis", "")  # "yaxis2" -> "y2"
        values: list[Any] = []
        for tr in fig.data:
            if (getattr(tr, f"{axis}axis", None) or axis) == ref:
                values.extend(_flat(getattr(tr, axis, None)))
        ax.update(type="log", exponentformat="power", **log_ticks(values))
        if title is not None:
            ax.update(title_text=title)
    return fig


def fraction_axis(fig: go.Figure, title: str | None = None, **select: Any) -> go.Figure:
    """A 0-1 quantity (coverage, accuracy) on 0 %, 25 %, ..., 100 % ticks over a fixed range."""
    ticks = [0.0, 0.25, 0.5, 0.75, 1.0]
    fig.update_yaxes(range=[-0.03, 1.03], autorange=False, tickmode="array", tickvals=ticks,
                     ticktext=[f"{t:.0%}" for t in ticks], **({"title_text": title} if title else {}), **select)
    return fig


# ----------------------------------------------------------------------------- radar
def wrap_label(text: str, width: int = 12) -> str:
    """Break a label into lines of about ``width`` characters at spaces (plotly's ``<br>``)."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


def radar(series: Mapping[str, Mapping[str, float]], radial_range: tuple[float, float] = (0.0, 1.0),
          height: int = 460) -> go.Figure:
    """A radar chart, one filled trace per series ``{name: {axis label: value}}``, labels that fit.

    Long axis labels are wrapped and the margins leave room for them, so a label on the left
    ("Michelson contrast") is never cut by the plot edge.
    """
    fig = go.Figure()
    for i, (name, points) in enumerate(series.items()):
        if not points:
            continue
        theta = [wrap_label(k) for k in points] + [wrap_label(next(iter(points)))]
        r = list(points.values()) + [next(iter(points.values()))]
        fig.add_trace(go.Scatterpolar(r=r, theta=theta, fill="toself", name=name, opacity=0.6,
                                      line={"color": colour(i)}))
    span = radial_range[1] - radial_range[0]
    fig.update_layout(
        polar={"radialaxis": {"range": list(radial_range),
                              "tickvals": [radial_range[0] + span * f for f in (0.25, 0.5, 0.75, 1.0)]},
               "angularaxis": {"tickfont": {"size": 12}}},
        margin={"l": 110, "r": 110, "t": 50, "b": 50}, height=height, showlegend=len(series) > 1,
        colorway=list(PALETTE),
    )
    return fig


# ----------------------------------------------------------------------------- captions
def trend_caption(labels: Sequence[Any], values: Sequence[float], quantity: str, along: str = "depth") -> str:
    """Say what a profile does, from the numbers: grows/falls along ``along``, or where it peaks.

    >>> trend_caption(["a", "b", "c"], [1.0, 3.0, 2.0], "Content loss")
    'Content loss peaks at b (3) and is lowest at a (1).'
    """
    vals = [float(v) for v in values]
    labels = list(labels)
    if len(vals) != len(labels) or not vals:
        raise ValueError("trend_caption needs one value per label")
    if len(vals) == 1:
        return f"{quantity} at {labels[0]}: {vals[0]:.3g}."
    lo, hi = vals.index(min(vals)), vals.index(max(vals))
    diffs = [b - a for a, b in zip(vals, vals[1:])]
    if all(d > 0 for d in diffs):
        return f"{quantity} grows with {along}, from {vals[0]:.3g} at {labels[0]} to {vals[-1]:.3g} at {labels[-1]}."
    if all(d < 0 for d in diffs):
        return f"{quantity} falls with {along}, from {vals[0]:.3g} at {labels[0]} to {vals[-1]:.3g} at {labels[-1]}."
    return f"{quantity} peaks at {labels[hi]} ({vals[hi]:.3g}) and is lowest at {labels[lo]} ({vals[lo]:.3g})."


__all__ = ["DASHES", "GENERATED", "PALETTE", "REAL", "TOTAL", "colour", "format_tick", "fraction_axis", "log_axis", "log_ticks",
           "radar", "series_colours", "trend_caption", "use_palette", "wrap_label"]
