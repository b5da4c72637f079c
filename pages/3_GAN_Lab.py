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
    download_record,
    equation,
    keep,
    page_setup,
    push_result,
    remember,
    show_error,
    upload_record,
    view_picker,
)
from stylelab.ui.live import away_note, current_run, is_running, live_run, set_run, stop
from stylelab.ui.notebook_link import notebook_link

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
                            disabled=loss != "wgan-gp"))
    if not smooth_ok:
        live["label_smoothing"] = 0.0


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
    run.update(**live)
except StylelabError as exc:
    show_error(exc, "That setting was not applied")

# ----------------------------------------------------------------------------- play / step / train N, then the live view
def toggle_play() -> None:  # before the rerun, so the button's label follows at once
    trainer = current_run("gan")
    if is_running("gan"):
        stop("gan")
    elif trainer is not None:
        trainer.play_until(None)  # open-ended: until Pause
        set_run("gan", trainer, running=True)


play_row[0].button("⏸ Pause" if is_running("gan") else "▶ Play", key="gan_play", on_click=toggle_play, width="stretch")
if play_row[1].button("⏭ Step", key="gan_step", width="stretch"):
    run.play_until(run.step_count + 1)
    set_run("gan", run, running=True)
n_steps = int(play_row[3].number_input("N", 1, 100_000, key=keep("gan_n", gconfig.DEFAULT_TRAIN_N[gconfig.world(run.config.data)]),
                                       label_visibility="collapsed"))
if play_row[2].button(f"Train {n_steps}", key="gan_train_n", width="stretch"):
    run.play_until(run.step_count + n_steps)
    set_run("gan", run, running=True)
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

# ----------------------------------------------------------------------------- latent space, comparison, export
SECTIONS = {"compare": "Compare two losses", "latent": "Latent space", "io": "Export / import"}
section = view_picker("More", SECTIONS, "gan_section", "compare")

if section == "latent":
    if run.config.is_toy:
        st.caption("Latent-space tools are for image runs; in 2-D the scatter above *is* G's image of the noise.")
    else:
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
        for caption, grid in gviz.latent_strips(run, seed_a, seed_b, mode, dim, cls):
            figures.show_grid(grid, 3, caption)
        if run.conditional:
            figures.show_grid(gviz.class_rows(run, seed_a), 2, "one row per class (conditional G)")
        push_result("GAN Lab: samples", run.sample_grid().repeat(3, 1, 1))

elif section == "compare":
    st.markdown("Two runs, **same data, seed and set-up**, different generator losses, in the regime where D "
                "wins early (it learns faster and takes several steps per G step). With the saturating minimax loss "
                f"G's gradient ${equations.latex('gan.minimax_g_grad')}$ vanishes while D confidently rejects the early "
                f"fakes (D(G(z)) ≈ 0), so G barely moves; the non-saturating loss ${equations.latex('gan.ns_g')}$ has "
                "the same fixed point but strong gradients exactly there.")
    k1, k2, k3 = st.columns(3)  # two rows of three: a loss's full name fits its select box
    k4, k5, k6 = st.columns(3)
    stall = gcompare.STALL_SETTINGS
    cmp = dict(
        losses=(k1.selectbox("Run A loss", LOSSES, format_func=gobj.loss_label, key=keep("gan_cmp_a", "minimax", LOSSES)),
                k2.selectbox("Run B loss", LOSSES, format_func=gobj.loss_label, key=keep("gan_cmp_b", "ns", LOSSES))),
        steps=int(k3.number_input("Steps", 10, 20_000, step=50,
                                  key=keep("gan_cmp_steps", gcompare.DEFAULT_STEPS if run.config.is_toy else 100))),
        lr_g=k4.select_slider("G learning rate", LR_CHOICES, key=keep("gan_cmp_lr_g", stall["lr_g"], LR_CHOICES)),
        lr_d=k5.select_slider("D learning rate", LR_CHOICES, key=keep("gan_cmp_lr_d", stall["lr_d"], LR_CHOICES),
                              help="A D that learns much faster than G rejects the early fakes confidently: "
                                   "the regime where minimax stalls."),
        d_steps=k6.slider("D steps per G step", 1, 10, key=keep("gan_cmp_d_steps", stall["d_steps"])))

    def draw_comparison(comparison) -> None:
        st.plotly_chart(figures.comparison_figure(comparison), key="gan_cmp_chart")
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
                    st.plotly_chart(figures.scatter_figure(t), key=f"gan_cmp_pts_{name}")
                else:
                    figures.show_grid(t.sample_grid(32), 2)
                st.caption(figures.evaluation_caption(t, t.evaluate()))

    live_run("gan_cmp", lambda: gcompare.LossComparison(gcompare.CompareConfig(base=run.config, **cmp)),
             draw_comparison, start_label="Run the comparison")

else:
    st.markdown("The **experiment record** (config + seed + every step's numbers) reproduces a run; the "
                "**checkpoint** resumes it exactly (weights, optimisers and random-number state).")
    x1, x2 = st.columns(2)
    with x1:
        download_record(run.record(), "gan_lab_record.json", key="gan_dl_record")
        notebook_link(run.record(), "gan_lab_record.json")
        st.download_button("Download checkpoint (.pt)", run.to_bytes(), file_name="gan_lab_checkpoint.pt",
                           mime="application/octet-stream", key="gan_dl_ckpt")
    with x2:
        rec = upload_record("gan", key="gan_up_record")
        if rec is not None and st.button("Start a run from this record's config", key="gan_apply_record"):
            try:
                loaded = gtrain.GANTrainer.from_record(rec)
                if not loaded.config.is_toy:
                    _ = loaded.evaluator
                set_run("gan", loaded)
                state["gan_show_config"] = True  # the controls show the loaded run's configuration
                st.rerun()
            except StylelabError as exc:
                show_error(exc, "Could not use the record")
        up = st.file_uploader("Load a checkpoint (.pt)", type=["pt"], key="gan_up_ckpt")
        if up is not None and st.button("Resume from this checkpoint", key="gan_apply_ckpt"):
            try:
                set_run("gan", gtrain.GANTrainer.load(up.getvalue()))
                state["gan_show_config"] = True
                st.rerun()
            except StylelabError as exc:
                show_error(exc, f"Could not load {up.name!r}")

classroom.classroom_bar("gan", where=classroom_row, runs="gan")  # share · lessons · publish (drawn at the top)
