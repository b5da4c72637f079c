"""Translate: unpaired translation with a cycle-consistent GAN (CycleGAN), on 2-D points and on digits <-> clothes.

Layout only: every number comes from ``stylelab.translate`` (the 2-D CycleRun is played by
``stylelab.ui.live.live_run``; the image translators are the shipped checkpoints; figures from
``stylelab.ui.translate``; equations from ``stylelab.equations``).
"""

from __future__ import annotations

import streamlit as st

from stylelab.errors import StylelabError
from stylelab.ui import equation, keep, page_setup, show_error, view_picker
from stylelab.ui.live import away_note, current_run, live_run, locked, set_run

page_setup("Translate", "🔁")


@st.cache_resource(show_spinner=False)
def _lab():
    """Import the library once per server (torch is heavy)."""
    from stylelab import equations
    from stylelab.translate import metrics, run, translator
    from stylelab.ui import translate as figures

    return equations, metrics, run, translator, figures


equations, tmetrics, trun, ttranslator, figures = _lab()


@st.cache_resource(show_spinner=False)
def _translator(name: str):
    return ttranslator.load_translator(name)


@st.cache_resource(show_spinner=False)
def _held_out(name: str):
    x, _, y, _ = tmetrics.held_out()  # (500, 1, 28, 28) each, never trained on, classes interleaved
    return x if name == "mnist5k" else y


st.title("🔁 Translate")
st.caption("Two generators learn to translate between two sets that were never paired: G takes X to Y, F takes Y "
           "back to X, and the cycle term asks every round trip F(G(x)) to come home. Set its weight to 0 and see "
           "what breaks.")

VIEWS = {"points": "2-D: ring ↔ grid (train live)", "images": "Digits ↔ clothes", "nocycle": "What breaks without the cycle term"}
view = view_picker("View", VIEWS, "tr_view", "points")

# ----------------------------------------------------------------------------- the terms' weights, tied to the LaTeX
with st.sidebar:
    st.markdown("**Weights of the terms** (live: they act on the next step)")
    lam_cyc = st.slider("Cycle weight λ_cyc", 0.0, 20.0, step=0.5, key=keep("tr_lambda_cyc", 10.0))
    lam_id = st.slider("Identity weight λ_id", 0.0, 10.0, step=0.5, key=keep("tr_lambda_id", 0.0))
    equation(figures.weighted_objective(lam_cyc, lam_id), equations.get("translate.objective").label)
    with st.expander("Set-up of a new 2-D run", expanded=False):
        steps = int(st.number_input("Steps", 100, 5000, step=100, key=keep("tr_steps", 1500)))
        seed = int(st.number_input("Seed", 0, 2**31 - 1, key=keep("tr_seed", 0)))
        width = st.select_slider("MLP width", [16, 32, 64, 128], key=keep("tr_hidden", 64, [16, 32, 64, 128]))

if lam_cyc == 0:
    eq = equations.get("translate.no_cycle")
    equation(eq.latex, eq.label)
    st.warning(eq.description)

# ----------------------------------------------------------------------------- 2-D: train live, arrows
if view == "points":
    def make_run():
        cfg = trun.CycleConfig(pair="ring2grid", steps=steps, lambda_cyc=lam_cyc, lambda_id=lam_id, hidden=width,
                               metrics_every=50)
        return trun.CycleRun(cfg, seed=seed)

    with locked("translate2d") as run:  # the sliders' weights act on the next step of the run on screen
        if run is not None and (run.config.lambda_cyc, run.config.lambda_id) != (lam_cyc, lam_id):
            try:
                run.update(lambda_cyc=lam_cyc, lambda_id=lam_id)
            except StylelabError as exc:
                show_error(exc, "That weight was not applied")
    if current_run("translate2d") is None:  # the untrained nets' arrows on screen at once; Start trains a new run
        try:
            set_run("translate2d", make_run(), running=False)
        except StylelabError as exc:
            show_error(exc, "Could not build the run")
    live_run("translate2d", make_run, figures.draw_points)
    st.caption("Blue: the ring X (8 clusters); grey: the grid Y (25 clusters). Orange arrows: where G sends 60 "
               "held-out ring points; green dotted arrows: where F brings them back. ▶ Start trains G, F, D_X and D_Y on the points (a few seconds per hundred steps). " + away_note())

# ----------------------------------------------------------------------------- images: the shipped translator
elif view == "images":
    try:
        model = _translator("mnist2fashion")
    except StylelabError as exc:
        show_error(exc, "The shipped translator could not be loaded")
        st.stop()
    direction = st.radio("Direction", ["G", "F"], horizontal=True, key=keep("tr_direction", "G", ["G", "F"]),
                         format_func={"G": "digit → clothing (G), and back (F)", "F": "clothing → digit (F), and back (G)"}.get)
    pick = st.slider("Which held-out example of each class (never trained on)", 0, tmetrics.HELD_OUT // 10 - 1,
                     key=keep("tr_pick", 0))
    x = figures.one_per_class(_held_out("mnist5k" if direction == "G" else "fashion"), pick)
    rows = "x / G(x) / F(G(x))" if direction == "G" else "y / F(y) / G(F(y))"
    figures.show_grid(figures.round_trip_grid(model, x, direction), 4, f"rows: {rows} · the shipped model, {model.steps} steps (λ_cyc = "
              f"{model.config['lambda_cyc']:g})")
    st.caption("The sliders' weights act on a 2-D run; this model was trained with the weights written above. "
               "Its measures on 500 held-out images of each set:")
    st.dataframe(figures.measures_rows({"mnist2fashion": model}), hide_index=True)

# ----------------------------------------------------------------------------- with and without the cycle term
else:
    try:
        models = {name: _translator(name) for name in ttranslator.SHIPPED}
    except StylelabError as exc:
        show_error(exc, "A shipped translator could not be loaded")
        st.stop()
    pick = st.slider("Which held-out example of each digit", 0, tmetrics.HELD_OUT // 10 - 1, key=keep("tr_pick_nc", 0))
    x = figures.one_per_class(_held_out("mnist5k"), pick)
    left, right = st.columns(2)
    for col, (name, m) in zip((left, right), models.items()):
        with col:
            figures.show_grid(figures.round_trip_grid(m, x), 3, f"{name}: λ_cyc = {m.config['lambda_cyc']:g}, {m.steps} steps "
                      "· rows x / G(x) / F(G(x))")
    eq = equations.get("translate.no_cycle")
    equation(eq.latex, eq.label)
    st.markdown(f"Why: {eq.description}. Both still make clothes (the adversarial terms see to that); only the model "
                "trained with the cycle term brings back the digit it started from.")
    st.dataframe(figures.measures_rows(models), hide_index=True)

# ----------------------------------------------------------------------------- the terms, under the pictures
st.divider()
e1, e2 = st.columns(2)
with e1:
    equation(equations.latex("translate.cycle"), equations.get("translate.cycle").label)
with e2:
    equation(equations.latex("translate.identity"), equations.get("translate.identity").label)
equation(equations.latex("translate.adversarial"), equations.get("translate.adversarial").label)
