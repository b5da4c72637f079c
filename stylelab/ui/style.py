"""Widgets the Style Studio page shares between its methods: results, live views, record -> widgets.

The page (``pages/2_Style_Studio.py``) lays these out; the science lives in :mod:`stylelab.style`.
Session keys start with ``style_``.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import streamlit as st

from ..errors import RecordError, StylelabError
from . import classroom, download_image, download_record, push_result, show_error, show_image
from .cache import SessionLRU, tensor_digest
from .charts import PALETTE, log_axis
from .notebook_link import notebook_link
from .state import keep

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from ..style.configs import GatysConfig

#: the working sizes the page offers
SIZES = [64, 96, 128, 192, 256, 384, 512]
#: results remembered per session (every method's view reruns on every click)
MEMO_ENTRIES = 32


# ----------------------------------------------------------------------------- small helpers
def memo(kind: str, fn: Callable[[], Any], *images: "torch.Tensor", extra: object = None) -> Any:
    """``fn()`` once per session for the same images and settings (a :class:`SessionLRU` of 32)."""
    cache = SessionLRU("style_memo", MEMO_ENTRIES)
    return cache.get_or_compute(tensor_digest(*images, extra=(kind, extra)), fn)


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """``(fn(), milliseconds)``."""
    t0 = time.perf_counter()
    out = fn()
    return out, (time.perf_counter() - t0) * 1000


def picked(key: str) -> str:
    """What a picker currently shows, for the record (e.g. ``painting:mona-lisa``, ``upload``)."""
    src = st.session_state.get(f"{key}_src", "")
    if src == "Upload":
        return "upload"
    if src == "This session":
        return f"session:{st.session_state.get(f'{key}_session', '')}"
    return str(st.session_state.get(f"{key}_{src}", src))


# ----------------------------------------------------------------------------- record -> widgets
#: Gatys settings that have a widget on the page: field -> session key (log10 sliders are marked)
_WIDGETS = {"content_weight": ("style_alpha", "log", (-2.0, 2.0)), "style_weight": ("style_beta", "log", (3.0, 8.0)),
            "tv_weight": ("style_tv", "log", (-4.0, 1.0)), "colorfulness_weight": ("style_col", "lin", (0.0, 200.0)),
            "contrast_weight": ("style_con", "lin", (0.0, 500.0)), "steps": ("style_steps", "int", (4, 400)),
            "seed": ("style_seed", "int", (0, 2**31 - 1))}
_CHOICES = {"optimizer": "style_opt", "init": "style_init", "color": "style_color", "pyramid_levels": "style_levels",
            "network": "style_net", "param": "style_param"}


def gatys_widget_values(config: "GatysConfig", networks: tuple[str, ...] = ("vgg16", "vgg19"),
                        levels: tuple[int, ...] = (1, 2, 3)) -> dict[str, Any]:
    r"""The session-state values that show ``config`` in the Gatys widgets.

    A weight :math:`w` goes to its slider as :math:`\log_{10} w`. A value the page cannot show (out
    of a slider's range, a size it does not offer, a setting without a widget that differs from
    its default) is a :class:`RecordError` that names it: never clamped to the nearest value,
    which would silently run something else.
    """
    from ..style.configs import GatysConfig

    out: dict[str, Any] = {}
    for field, (key, scale, (lo, hi)) in _WIDGETS.items():
        value = getattr(config, field)
        shown = math.log10(value) if scale == "log" and value > 0 else value
        if (scale == "log" and value <= 0) or not lo <= shown <= hi:
            span = f"10^{lo:g} … 10^{hi:g}" if scale == "log" else f"{lo:g} … {hi:g}"
            raise RecordError(f"The record's {field} = {value!r} is outside what this page offers ({span}); "
                              "reproduce it with `python -m stylelab stylize` or the notebook.")
        out[key] = int(shown) if scale == "int" else float(shown)
    for field, key in _CHOICES.items():
        out[key] = getattr(config, field)
    if config.pyramid_levels not in levels:
        raise RecordError(f"The record's pyramid_levels = {config.pyramid_levels} is not one of this page's {levels}.")
    if config.network not in networks:
        raise RecordError(f"The record uses {config.network}, which is not available here ({', '.join(networks)}).")
    if config.param_colour not in ("none", "imagenet"):
        raise RecordError(f"The record's param_colour = {config.param_colour!r} has no control on this page.")
    out["style_param_colour"] = config.param_colour != "none"
    if config.size not in SIZES:
        raise RecordError(f"The record's size {config.size} px is not one of this page's sizes {SIZES}.")
    out["style_size"] = config.size
    shown = {*_WIDGETS, *_CHOICES, "param_colour", "size"}
    default = GatysConfig()
    other = [f"{f.name} = {getattr(config, f.name)!r}" for f in dataclasses.fields(GatysConfig)
             if f.name not in shown and getattr(config, f.name) != getattr(default, f.name)]
    if other:
        raise RecordError(f"The record sets {', '.join(other)}, which this page has no control for; reproduce it "
                          "with `python -m stylelab stylize` or the notebook.")
    return out


def apply_pending_record(networks: tuple[str, ...] = ("vgg16", "vgg19")) -> None:
    """Put a re-loaded Gatys record's settings into the widgets (before they are created)."""
    text = st.session_state.pop("style_pending_record", None)
    if text is None:
        return
    from ..style.gatys import config_from_record

    try:
        config = config_from_record(text)
        values = gatys_widget_values(config, networks)
    except StylelabError as exc:
        show_error(exc, "Could not reproduce this record")
        return
    st.session_state.update(values)
    st.session_state["style_loaded_msg"] = (f"Loaded the record's settings (size {config.size}, seed {config.seed}); "
                                            "pick the same images and press Start to reproduce it.")


# ----------------------------------------------------------------------------- results
def aesthetics(before: "torch.Tensor", after: "torch.Tensor") -> None:
    """The result's aesthetic scores next to the content's."""
    import pandas as pd

    try:
        from ..aesthetics import report

        names = ("colorfulness", "saturation", "rms_contrast", "brightness", "sharpness_laplacian", "entropy")
        rows = {"content": report(before, quality=False, names=names), "result": report(after, quality=False, names=names)}
    except StylelabError as exc:
        show_error(exc, "Could not score the images")
        return
    from ..aesthetics.scorecard import MEASURES

    table = pd.DataFrame(rows)
    table["change"] = table["result"] - table["content"]
    table.index = [MEASURES[n].label for n in table.index]  # "Sharpness (Laplacian variance)", not the registry key
    st.dataframe(table.style.format("{:.3f}"), width="stretch")


def result_block(before: "torch.Tensor", after: "torch.Tensor", key: str, name: str, record=None,
                 painting: "torch.Tensor | None" = None, style_label: str = "Painting", note: str = "") -> None:
    """Photo and painting (small) | the result with a before/after wipe | scores and downloads."""
    from ..style.compare import wipe

    src, a, b = st.columns([1, 2, 2])
    with src:
        show_image(before, caption="Photo")
        if painting is not None:
            show_image(painting, caption=style_label)
        elif style_label:
            st.caption(style_label)
    with a:
        split = st.slider("Before ◀ ▶ after", 0.0, 1.0, step=0.05, key=keep(f"{key}_wipe", 0.5))
        show_image(wipe(before, after, split), caption="left: content · right: result")
        if note:
            st.caption(note)
    with b:
        st.markdown("**Aesthetics: content vs result**")
        aesthetics(before, after)
        download_image(after, f"{name}.png", key=f"{key}_png")
        if record is not None:
            download_record(record, f"{name}.json", key=f"{key}_json")
            notebook_link(record, f"{name}.json")
            classroom.offer("style", after, record)  # "Publish to the class gallery" in the page's toolbar
        if st.button("Share with the other labs", key=f"{key}_share"):
            push_result(name, after)
            st.success(f"Shared as {name!r}: pick it under *This session* in any lab.")


def loss_chart(history: list[dict], terms: tuple[str, ...], title: str, key: str, height: int = 320,
               dashed: tuple[str, str] | None = None) -> None:
    """The weighted loss terms of ``history`` per step (log axis); ``dashed = (row key, label)`` adds one line."""
    import plotly.graph_objects as go

    if not history:
        return
    fig = go.Figure()
    steps = [r["step"] for r in history]
    for term in terms:
        if term in history[-1]:
            fig.add_scatter(x=steps, y=[r[term] for r in history], mode="lines", name=term)
    if dashed is not None and dashed[0] in history[-1]:
        fig.add_scatter(x=steps, y=[r[dashed[0]] for r in history], mode="lines", name=dashed[1],
                        line=dict(dash="dash", color="black"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), title=title, xaxis_title="step",
                      colorway=list(PALETTE))
    log_axis(fig)
    st.plotly_chart(fig, width="stretch", key=key)


GATYS_TERMS = ("content", "style", "tv", "colorfulness", "contrast", "total")


def draw_gatys(run: Any) -> None:
    """The live view of a Gatys run (or a :class:`~stylelab.style.experiments.GatysPair`): the
    pictures combined, the current image(s) and the loss curves."""
    main = getattr(run, "main", run)
    twin = getattr(run, "twin", None)
    st.caption(f"scale {main.plan[main.level][0]} px")
    src, p, c = st.columns([1, 2, 3])
    with src:  # what is being combined, next to the live result
        show_image(main.content, caption="Photo")
        show_image(main.style, caption="Painting")
    with p:
        if twin is None:
            show_image(main.preview(), caption="live preview")
        else:
            q1, q2 = st.columns(2)
            with q1:
                show_image(main.preview(), caption=f"{main.config.param_config().label}, step {main.step_count}")
            with q2:
                show_image(twin.preview(), caption=f"pixels, step {twin.step_count}")
    with c:
        loss_chart(run.history, GATYS_TERMS, "weighted loss terms", "style_curves",
                   dashed=("pixels_total", "total (pixels)"))


def training_view(content: "torch.Tensor") -> Callable[[Any], None]:
    """The live view of a fast-style training run: the network on ``content`` and the loss curves."""

    def draw(run: Any) -> None:
        p, c = st.columns([2, 3])
        with p:
            show_image(run.stylize(content), caption="the network on your content")
        with c:
            loss_chart(run.history, ("content", "style", "tv", "adversarial", "total"), "training loss terms",
                       "style_train_curves", height=300)

    return draw


__all__ = ["GATYS_TERMS", "SIZES", "aesthetics", "apply_pending_record", "draw_gatys", "gatys_widget_values",
           "loss_chart", "memo", "picked", "result_block", "timed", "training_view"]
