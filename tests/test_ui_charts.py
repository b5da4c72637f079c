"""Shared chart styling: distinguishable series colours, readable log ticks, radar labels, data captions."""

from __future__ import annotations

import itertools
import math

import numpy as np
import plotly.graph_objects as go
import pytest
from plotly.subplots import make_subplots
from skimage.color import deltaE_ciede2000, lab2lch, rgb2lab

from stylelab.ui import charts

# Streamlit's own categorical palette (what plotly charts get without ours): pairs of one hue.
STREAMLIT_PALETTE = ("#0068c9", "#83c9ff", "#ff2b2b", "#ffabab", "#29b09d", "#7defa1", "#ff8700", "#ffd16a")


def _lab(hex_colour: str) -> np.ndarray:
    rgb = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    return rgb2lab(np.array([[rgb]]))[0, 0]


def _worst_pairs(palette) -> tuple[float, float]:
    """(smallest CIEDE2000 over all pairs, smallest LCh hue difference over chromatic pairs), degrees."""
    de, dh = math.inf, math.inf
    for a, b in itertools.combinations(palette, 2):
        la, lb = _lab(a), _lab(b)
        de = min(de, float(deltaE_ciede2000(la, lb)))
        (_, ca, ha), (_, cb, hb) = lab2lch(la[None, None])[0, 0], lab2lch(lb[None, None])[0, 0]
        if ca > 20 and cb > 20:  # both chromatic: hue is what a viewer names
            d = abs(math.degrees(ha - hb)) % 360
            dh = min(dh, d, 360 - d)
    return de, dh


def _contrast_on_white(hex_colour: str) -> float:
    c = np.array([int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)  # WCAG relative luminance
    return 1.05 / (float(c @ [0.2126, 0.7152, 0.0722]) + 0.05)


def test_palette_hues_are_distinguishable_and_the_streamlit_default_is_not():
    de, dh = _worst_pairs(charts.PALETTE)
    assert de >= 20 and dh >= 30, (de, dh)
    assert all(_contrast_on_white(c) >= 2.0 for c in charts.PALETTE)
    # the check can fail: Streamlit's palette puts blue next to light blue (same hue)
    assert _worst_pairs(STREAMLIT_PALETTE)[1] < 30  # fails the bar above
    assert charts.REAL != charts.GENERATED and len(set(charts.PALETTE)) == len(charts.PALETTE)
    assert charts.colour(len(charts.PALETTE)) == charts.PALETTE[0]


@pytest.mark.parametrize("value, text", [(1e-4, "10⁻⁴"), (2e-4, "2×10⁻⁴"), (0.05, "0.05"), (300.0, "300"),
                                         (1e5, "10⁵"), (12000.0, "1.2×10⁴"), (1.0, "1"),
                                         (1000.0, "1000"), (3000.0, "3000")])
def test_format_tick_never_uses_si_prefixes(value, text):
    assert charts.format_tick(value) == text


def test_format_tick_rejects_non_positive():
    with pytest.raises(ValueError):
        charts.format_tick(0.0)


def test_log_ticks_whole_decades_at_most_six_and_inside_a_decade_more_than_one():
    wide = charts.log_ticks([3e-9, 1.0, 7e4, float("nan"), 0.0, -1.0, None])
    exps = [math.log10(t) for t in wide["tickvals"]]
    assert all(abs(e - round(e)) < 1e-9 for e in exps) and 2 <= len(exps) <= 6
    assert exps[0] <= math.log10(3e-9) and exps[-1] >= math.log10(7e4)
    narrow = charts.log_ticks([2.2e-4, 6.5e-4])
    assert len(narrow["tickvals"]) >= 2 and "µ" not in "".join(narrow["ticktext"])
    assert charts.log_ticks([0.0, -2.0]) == {}


def test_log_axis_reads_the_values_of_its_own_subplot_only():
    fig = make_subplots(rows=1, cols=2)
    fig.add_trace(go.Scatter(x=[0, 1], y=[5.0, 6.0]), 1, 1)
    fig.add_trace(go.Scatter(x=[0, 1], y=[1e-6, 1e-2]), 1, 2)
    charts.log_axis(fig, row=1, col=2)
    assert fig.layout.yaxis2.type == "log" and fig.layout.yaxis.type != "log"
    assert fig.layout.yaxis2.ticktext[0] == "10⁻⁶" and fig.layout.yaxis2.ticktext[-1] == "0.01"


def test_fraction_axis_fixed_percent_ticks():
    fig = make_subplots(rows=1, cols=1, specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=[0, 1], y=[10.0, 3.0]), 1, 1)
    fig.add_trace(go.Scatter(x=[0, 1], y=[0.2, 0.9]), 1, 1, secondary_y=True)
    charts.fraction_axis(fig, row=1, col=1, secondary_y=True)
    assert list(fig.layout.yaxis2.ticktext) == ["0%", "25%", "50%", "75%", "100%"]
    assert fig.layout.yaxis2.range == (-0.03, 1.03) and fig.layout.yaxis.tickvals is None


def test_radar_wraps_long_labels_and_leaves_margin():
    fig = charts.radar({"a": {"Michelson contrast": 0.5, "colourfulness": 0.8}, "b": {"Michelson contrast": 0.1}})
    assert "Michelson<br>contrast" in fig.data[0].theta
    assert fig.data[0].theta[0] == fig.data[0].theta[-1]  # closed polygon
    assert fig.layout.margin.l >= 100 and fig.layout.margin.r >= 100
    assert fig.data[0].line.color != fig.data[1].line.color


@pytest.mark.parametrize("values, start", [([1, 2, 3], "Content loss grows with depth"),
                                           ([3, 2, 1], "Content loss falls with depth"),
                                           ([1, 5, 2], "Content loss peaks at relu2_1 (5)")])
def test_trend_caption_says_what_the_numbers_do(values, start):
    assert charts.trend_caption(["relu1_1", "relu2_1", "relu3_1"], values, "Content loss").startswith(start)


def test_use_palette_never_repeats_a_look_and_keeps_explicit_colours():
    fig = go.Figure([go.Scatter(y=[1, 2], name=f"s{i}") for i in range(len(charts.PALETTE) + 2)])
    fig.add_trace(go.Scatter(y=[3, 4], name="total", line={"color": charts.TOTAL}))
    charts.use_palette(fig)
    looks = [(t.line.color, t.line.dash or "solid") for t in fig.data]
    assert len(set(looks)) == len(looks)
    assert fig.data[0].line.color == charts.PALETTE[0] and fig.data[len(charts.PALETTE)].line.dash == "dash"
    assert fig.data[-1].line.color == charts.TOTAL


@pytest.mark.parametrize("lo, hi", [(1.0, 65.0), (0.22, 100.0), (7.6e-6, 5.5e-4)])
def test_log_ticks_between_one_and_a_half_and_three_and_a_half_decades_label_every_curve(lo, hi):
    ticks = charts.log_ticks([lo, hi])["tickvals"]
    assert 3 <= len(ticks) <= 7
    assert ticks[0] <= 3.01 * lo and ticks[-1] >= hi / 3.01  # a label within a factor 3 of each end
    assert all(round(t / 10 ** math.floor(math.log10(t) + 1e-9), 6) in (1.0, 3.0) for t in ticks)


def test_thin_rows_keeps_the_shape_and_the_last_point():
    from stylelab.ui.charts import thin_rows

    rows = list(range(1235))
    out = thin_rows(rows, 500)
    assert len(out) <= 501 and out[0] == 0 and out[-1] == 1234  # ceil(1235 / 500) = 3: 0, 3, ..., 1233, then 1234
    assert out[:-1] == rows[::3]
    assert thin_rows(rows[:10], 500) == rows[:10]
    assert thin_rows([], 5) == []


def test_live_gan_figures_skip_validation_but_are_the_validated_figures():
    """The GAN Lab's live figures are filled into a skeleton without plotly's validation
    (charts.skeleton_figure); rebuilding them the validated way must give the same figure, and the
    numbers drawn must be the run's."""
    import json

    import plotly.io as pio

    from stylelab.gan import GANConfig, GANTrainer
    from stylelab.ui.gan import curves_figure, points_figure

    t = GANTrainer(GANConfig(data="ring", seed=1, metrics_every=20))
    t.train(45)
    for fig in (points_figure(t), curves_figure(t)):
        validated = go.Figure(fig.to_dict())  # raises on any invalid property
        assert json.loads(pio.to_json(validated)) == json.loads(pio.to_json(fig))
    curves = curves_figure(t)
    assert [tr.name for tr in curves.data][:4] == ["loss D", "loss G", "D(x) real", "D(G(z)) fake"]
    assert list(curves.data[0].y) == [r["loss_d"] for r in t.history]
    assert list(curves.data[4].x) == [r["step"] for r in t.history if "energy_distance" in r]
    assert points_figure(t).layout.title.text == "step 45"
    t.train(5)
    assert points_figure(t).layout.title.text == "step 50"  # the shared skeleton is not changed by a redraw
