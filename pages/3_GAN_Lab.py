"""GAN Lab: train small GANs live, from 2-D points to digits and clothes.

Layout only: every number comes from ``stylelab.gan`` (the trainer and the loss comparison are
Runs, played by ``stylelab.ui.live.live_run``; figures from ``stylelab.ui.gan``; equations from
``stylelab.equations``). The run lives in the session (key ``gan``), so it survives switching pages
(see ``stylelab.ui.live.away_note``). The live view sits at the top, the hyper-parameters in the sidebar.
"""

from __future__ import annotations

import dataclasses

import streamlit as st

from stylelab.errors import StylelabError
from stylelab.ui import (
    classroom,
    equation,
    keep,
    page_setup,
    remember,
    show_error,
    view_picker,
)
from stylelab.ui.gan_steps import step_mode_section
from stylelab.ui.live import away_note, current_run, is_running, live_run, locked, set_run, stop
from stylelab.ui.stylegan import stylegan_section

page_setup("GAN Lab", "🎲")
classroom_row = classroom.classroom_slot("gan")  # a shared link's set-up, before any control


@st.cache_resource(show_spinner=False)
def _gan():
    """Import the library once per server (torch is heavy)."""
    from stylelab import equations
    from stylelab.gan import compare, config, data, objectives, train, viz
    from stylelab.ui import gan as figures

    return equations, compare, config, data, objectives, train, viz, figures


equations, gcompare, gconfig, gdata, gobj, gtrain, gviz, figures = _gan()
LOSSES = tuple(gobj.LOSSES)
LR_CHOICES, KINDS, BATCHES, BETA2S = figures.LR_CHOICES, figures.KINDS, figures.BATCHES, figures.BETA2S
WORLD = {KINDS[0]: "points", KINDS[1]: "images"}
state = st.session_state
widget_values = figures.widget_values


run = current_run("gan")
if state.pop("gan_show_config", False) and run is not None:  # after loading a run: its settings on the controls
    for k, v in widget_values(run.config).items():
        remember(k, v)
    remember("gan_kind_prev", widget_values(run.config)["gan_kind"])
defaults = widget_values(run.config if run is not None else gtrain.GANConfig())

st.title("🎲 GAN Lab")
st.caption("A generator G turns noise z into samples; a discriminator D learns to tell them from real data; "
           "each improves against the other. On 2-D points you see D's whole decision surface; then digits and clothes.")

# ----------------------------------------------------------------------------- top row: world, data, new run, reset
top = st.columns([2.2, 2.2, 1.3, 1.3], vertical_alignment="bottom")
play_row = st.columns([1, 1, 1.3, 1, 3.7], vertical_alignment="bottom")  # play, step, train N, N, Stop/Continue
kind = top[0].radio("World", KINDS, horizontal=True, key=keep("gan_kind", defaults["gan_kind"], KINDS))
if state.get("gan_kind_prev", kind) != kind:  # new world: its own sensible defaults (DCGAN: 2e-4)
    w = WORLD[kind]
    for k, v in {"gan_lr_g": gtrain.DEFAULT_LR[w], "gan_lr_d": gtrain.DEFAULT_LR[w], "gan_n": gconfig.DEFAULT_TRAIN_N[w]}.items():
        remember(k, v)
remember("gan_kind_prev", kind)
names = list(gdata.TOY_DATASETS if kind == KINDS[0] else gdata.IMAGE_DATASETS)
data_key = "gan_data_toy" if kind == KINDS[0] else "gan_data_img"
data_name = top[1].selectbox("Distribution" if kind == KINDS[0] else "Image set", names,
                             format_func=(gdata.TOY_LABELS if kind == KINDS[0] else gdata.IMAGE_LABELS).get,
                             key=keep(data_key, defaults.get(data_key, names[0]), names))
new_run = top[2].button("🆕 New run", key="gan_new", type="primary", help="Start a run with the set-up shown", width="stretch")

# ----------------------------------------------------------------------------- sidebar: set-up and live hyper-parameters
with st.sidebar:
    with st.expander("Set-up (changing it needs a new run)", expanded=False):
        structural = figures.setup_controls(kind == KINDS[0], data_name, defaults)
        seed = int(st.number_input("Seed", 0, 2**31 - 1, key=keep("gan_seed", defaults["gan_seed"])))
        batch = st.select_slider("Batch size", BATCHES, key=keep("gan_batch", defaults["gan_batch"], BATCHES))

    st.markdown("**Hyper-parameters** (live: they act on the next step)")
    loss = st.selectbox("Loss", LOSSES, format_func=gobj.loss_label, key=keep("gan_loss", defaults["gan_loss"], LOSSES))
    s1, s2 = st.columns(2)
    smooth_ok = gobj.loss_spec(loss).smoothing_ok
    live = dict(
        loss=loss,
        lr_g=s1.select_slider("G learning rate", LR_CHOICES, key=keep("gan_lr_g", defaults["gan_lr_g"], LR_CHOICES)),
        lr_d=s2.select_slider("D learning rate", LR_CHOICES, key=keep("gan_lr_d", defaults["gan_lr_d"], LR_CHOICES)),
        beta1=s1.slider("Adam β₁", 0.0, 0.99, step=0.05, key=keep("gan_beta1", defaults["gan_beta1"])),
        beta2=s2.select_slider("Adam β₂", BETA2S, key=keep("gan_beta2", defaults["gan_beta2"], BETA2S)),
        d_steps=st.slider("D steps per G step", 1, 10, key=keep("gan_d_steps", defaults["gan_d_steps"])),
        label_smoothing=st.slider("One-sided label smoothing s", 0.0, 0.3, step=0.05, key=keep("gan_smooth", defaults["gan_smooth"]),
                                  disabled=not smooth_ok, help=f"{', '.join(gobj.SMOOTHING_OK)} only"),
        instance_noise=st.slider("Instance noise σ", 0.0, 1.0, step=0.05, key=keep("gan_inoise", defaults["gan_inoise"])),
        instance_noise_decay=int(st.number_input("… decays to 0 over (steps, 0 = constant)", 0, 100_000, step=100,
                                                 key=keep("gan_idecay", defaults["gan_idecay"]))),
        gp_weight=st.slider("Gradient-penalty weight λ", 0.0, 50.0, step=1.0, key=keep("gan_gp", defaults["gan_gp"]),
                            disabled=loss != "wgan-gp"),
        r1_weight=st.slider("R1 penalty γ (real samples)", 0.0, 20.0, step=0.5, key=keep("gan_r1", defaults["gan_r1"]),
                            disabled=loss == "wgan-gp", help="D's gradient at real data, squared (StyleGAN's companion of ns)"))
    if not smooth_ok:
        live["label_smoothing"] = 0.0
    if loss == "wgan-gp":
        live["r1_weight"] = 0.0


def start_run(config) -> None:
    with st.spinner("Building the run (the first image run trains the FID classifier once: up to a minute)…"):
        trainer = gtrain.GANTrainer(config)
        if not config.is_toy:
            _ = trainer.evaluator  # build (or load) the feature classifier now, not mid-training
    set_run("gan", trainer, running=False)


if new_run or run is None:
    try:
        start_run(gtrain.GANConfig.for_data(**structural, **live, seed=seed, batch_size=batch))
    except StylelabError as exc:
        show_error(exc, "Could not start the run")
run = current_run("gan")
if run is None:
    st.stop()

wanted = {**structural, "seed": seed, "batch_size": batch}
shown = {k: run.config.z_dim if k == "latent_dim" else getattr(run.config, k) for k in wanted}
if "data_noise" in shown and shown["data_noise"] is None:
    shown["data_noise"] = gdata.DEFAULT_NOISE.get(run.config.data)
if shown != wanted:
    st.info("The set-up shown differs from the current run: press **New run** to apply it.")
try:
    if live["loss"] == "wgan-gp" and run.d_has_batchnorm:
        st.warning("WGAN-GP needs a discriminator without batch norm: press **New run** to switch this image run to it.")
        live["loss"] = run.config.loss
    with locked("gan") as held:  # between two of the worker's steps
        held.update(**live)
except StylelabError as exc:
    show_error(exc, "That setting was not applied")

# ----------------------------------------------------------------------------- play / step / train N, then the live view
def toggle_play(pause: bool) -> None:  # before the rerun, so the label follows; acts as the label said
    if pause:
        stop("gan")
        return
    with locked("gan") as trainer:
        if trainer is not None:
            trainer.play_until(None)  # open-ended: until Pause
    if trainer is not None:
        set_run("gan", trainer, running=True)


def play_more(n: int) -> None:
    with locked("gan") as trainer:
        trainer.play_until(trainer.step_count + n)
    set_run("gan", trainer, running=True)


playing = is_running("gan")
play_row[0].button("⏸ Pause" if playing else "▶ Play", key="gan_play", on_click=toggle_play, args=(playing,), width="stretch")
if play_row[1].button("⏭ Step", key="gan_step", width="stretch"):
    play_more(1)
n_steps = int(play_row[3].number_input("N", 1, 100_000, key=keep("gan_n", gconfig.DEFAULT_TRAIN_N[gconfig.world(run.config.data)]),
                                       label_visibility="collapsed"))
if play_row[2].button(f"Train {n_steps}", key="gan_train_n", width="stretch"):
    play_more(n_steps)
if top[3].button("↺ Reset run", key="gan_reset", help="Start this run's configuration again from step 0", width="stretch"):
    start_run(dataclasses.replace(run.config))
    run = current_run("gan")


def draw_run(trainer) -> None:
    rate = trainer.step_count / trainer.seconds if trainer.seconds else 0.0
    status = ("paused" if not is_running("gan") else "playing" if trainer.total_steps is None
              else f"finishing the requested steps (to {trainer.total_steps})")
    st.caption(f"Step {trainer.step_count} · {status} · {rate:,.0f} steps/s of training time · "
               "hyper-parameters live in the sidebar; they act on the next step.")
    warning = trainer.collapse_warning()
    if warning:
        st.warning(warning)
    if trainer.config.is_toy:
        st.plotly_chart(figures.points_figure(trainer), key="gan_points_chart")
        st.caption("Blue/red background: the discriminator's belief that a point is real. Black segments: the "
                   "direction the generator's loss pushes each generated sample (−∇ₓ L_G, longest scaled to 0.3).")
    else:
        figures.draw_images(trainer)
    if trainer.history:
        st.plotly_chart(figures.curves_figure(trainer), key="gan_curves_chart")


live_run("gan", None, draw_run, controls=play_row[4], show_progress=False)
st.caption(away_note())
# ----------------------------------------------------------------------------- step mode (stylelab.ui.gan_steps) goes here
step_mode_section("gan")

# ----------------------------------------------------------------------------- the equations of the losses in use
e1, e2 = st.columns(2)
with e1:
    equation(equations.latex(f"loss.d_{loss}"), f"D minimises ({gobj.loss_label(loss)})")
with e2:
    equation(equations.latex(f"loss.g_{loss}"), "G minimises")
if live["label_smoothing"] > 0:
    eq = equations.get(gobj.smoothing_equation(loss))
    equation(eq.latex, eq.label)
if live["instance_noise"] > 0:
    equation(equations.latex("gan.instance_noise"), equations.get("gan.instance_noise").label)
if live["r1_weight"] > 0:
    equation(equations.latex("gan.r1"), equations.get("gan.r1").label)

# ----------------------------------------------------------------------------- StyleGAN-lite, latent space, comparison, export
SECTIONS = {"compare": "Compare two losses", "latent": "Latent space", "stylegan": "StyleGAN-lite", "io": "Export / import"}
section = view_picker("More", SECTIONS, "gan_section", "compare")
{"compare": figures.compare_section, "latent": figures.latent_section, "stylegan": stylegan_section,
 "io": figures.io_section}[section](run)

classroom.classroom_bar("gan", where=classroom_row, runs="gan")  # share · lessons · publish (drawn at the top)
