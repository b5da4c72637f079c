"""GAN Lab: train small GANs live, from 2-D points to digits and clothes.

Layout only: every number comes from ``stylelab.gan`` (trainer, metrics, decision surface,
gradient arrows, latent paths, the loss comparison). The run lives in ``st.session_state["gan_run"]``
so it survives switching pages (it pauses meanwhile); training advances in short time-boxed
chunks inside a fragment that reruns twice a second while playing. The live view sits at the top
of the page, the hyper-parameters in the sidebar, so a projector shows the run, not the controls.
"""

from __future__ import annotations

import dataclasses
import io

import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from stylelab.errors import StylelabError
from stylelab.ui import (
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
from stylelab.ui.charts import GENERATED, PALETTE, REAL, colour, fraction_axis, log_axis
from stylelab.ui.notebook_link import notebook_link

page_setup("GAN Lab", "🎲")

TICK_SECONDS = 0.4  # the live view reruns this often while playing (aim: >= 2 redraws per second)
WORK_SECONDS = 0.15  # of which this much trains; the rest draws
LOSSES = ("minimax", "ns", "lsgan", "hinge", "wgan-gp")
LOSS_NAMES = {"minimax": "minimax (saturating)", "ns": "non-saturating", "lsgan": "least squares (LSGAN)",
              "hinge": "hinge", "wgan-gp": "Wasserstein + gradient penalty"}
LR_CHOICES = [1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2]
KINDS = ["2-D points", "Images"]
WIDTHS, TOY_Z, IMG_BASES, IMG_Z = [16, 32, 64, 128, 256], [1, 2, 4, 8, 16], [8, 16, 32, 64], [8, 16, 32, 64, 128]
BATCHES, BETA2S = [16, 32, 64, 128, 256], [0.9, 0.99, 0.999]


@st.cache_resource(show_spinner=False)
def _gan():
    """Import the library once per server (torch is heavy)."""
    import stylelab.gan as gan
    from stylelab.gan import classifier, compare, data, train, viz

    return gan, data, train, viz, classifier, compare


gan, gdata, gtrain, gviz, gclf, gcompare = _gan()
state = st.session_state


def current():
    return state.get("gan_run")


def nearest_lr(value: float) -> float:
    return min(LR_CHOICES, key=lambda c: abs(c - value))


def _pick(value, options, fallback):
    return value if value in options else fallback


def widget_values(cfg) -> dict:
    """What every control shows for run config ``cfg`` (the controls describe the run on screen)."""
    toy = cfg.is_toy
    out = {"gan_kind": KINDS[0] if toy else KINDS[1], "gan_seed": int(cfg.seed),
           "gan_batch": _pick(cfg.batch_size, BATCHES, 64), "gan_loss": cfg.loss,
           "gan_lr_g": nearest_lr(cfg.lr_g_value), "gan_lr_d": nearest_lr(cfg.lr_d_value),
           "gan_beta1": float(min(0.99, max(0.0, round(cfg.beta1 / 0.05) * 0.05))), "gan_beta2": _pick(cfg.beta2, BETA2S, 0.999),
           "gan_d_steps": int(min(10, max(1, cfg.d_steps))), "gan_smooth": float(cfg.label_smoothing),
           "gan_inoise": float(cfg.instance_noise), "gan_idecay": int(cfg.instance_noise_decay),
           "gan_gp": float(cfg.gp_weight)}
    if toy:
        out.update(gan_data_toy=cfg.data, gan_n_points=int(min(10_000, max(200, round(cfg.n_points / 100) * 100))),
                   gan_noise=float(cfg.data_noise if cfg.data_noise is not None else gdata.DEFAULT_NOISE[cfg.data]),
                   gan_hidden=_pick(cfg.hidden, WIDTHS, 64), gan_latent_toy=_pick(cfg.z_dim, TOY_Z, 2))
    else:
        out.update(gan_data_img=cfg.data, gan_classes=list(cfg.classes), gan_conditional=bool(cfg.conditional),
                   gan_base=_pick(cfg.base_channels, IMG_BASES, 32), gan_latent_img=_pick(cfg.z_dim, IMG_Z, 64))
    return out


def show_run_config(cfg) -> None:
    """Put a run's configuration on every control (before they are drawn): after loading or resetting."""
    for key, value in widget_values(cfg).items():
        remember(key, value)
    remember("gan_kind_prev", widget_values(cfg)["gan_kind"])


run = current()
if state.pop("gan_show_config", False) and run is not None:
    show_run_config(run.config)
cfg0 = run.config if run is not None else gtrain.GANConfig()
defaults = widget_values(cfg0)

st.title("🎲 GAN Lab")
st.caption("A generator G turns noise z into samples; a discriminator D learns to tell them from real data; "
           "each improves against the other. On 2-D points you see D's whole decision surface; then digits and clothes.")

# ----------------------------------------------------------------------------- the top row: world, data, run controls
top = st.columns([2.2, 2.2, 1.3, 1.3], vertical_alignment="bottom")  # world, data, new run, reset
play_row = st.columns([1, 1, 1.3, 1, 3.7], vertical_alignment="bottom")  # play, step, train N, N, status
kind = top[0].radio("World", KINDS, horizontal=True, key=keep("gan_kind", defaults["gan_kind"], KINDS))
if state.get("gan_kind_prev", kind) != kind:  # new world: its own sensible defaults (DCGAN: 2e-4)
    lr = 1e-3 if kind == KINDS[0] else 2e-4
    for k, v in {"gan_lr_g": lr, "gan_lr_d": lr, "gan_n": 200 if kind == KINDS[0] else 50}.items():
        remember(k, v)
remember("gan_kind_prev", kind)
if kind == KINDS[0]:
    names = list(gdata.TOY_DATASETS)
    data_name = top[1].selectbox("Distribution", names, format_func=gdata.TOY_LABELS.get,
                                 key=keep("gan_data_toy", defaults.get("gan_data_toy", names[0]), names))
else:
    names = list(gdata.IMAGE_DATASETS)
    data_name = top[1].selectbox("Image set", names, format_func=gdata.IMAGE_LABELS.get,
                                 key=keep("gan_data_img", defaults.get("gan_data_img", names[0]), names))
new_run = top[2].button("🆕 New run", key="gan_new", type="primary", help="Start a run with the set-up shown",
                        width="stretch")

# ----------------------------------------------------------------------------- sidebar: set-up and live hyper-parameters
with st.sidebar:
    with st.expander("Set-up (changing it needs a new run)", expanded=False):
        if kind == KINDS[0]:
            n_points = st.slider("Training points", 200, 10_000, step=100, key=keep("gan_n_points", defaults.get("gan_n_points", 2000)))
            noise = st.slider("Spread (noise std)", 0.0, 1.0, step=0.01,
                              key=keep("gan_noise", defaults.get("gan_noise", float(gdata.DEFAULT_NOISE[data_name]))))
            hidden = st.select_slider("MLP width", WIDTHS, key=keep("gan_hidden", defaults.get("gan_hidden", 64), WIDTHS))
            latent = st.select_slider("Size of z", TOY_Z, key=keep("gan_latent_toy", defaults.get("gan_latent_toy", 2), TOY_Z))
            structural = dict(data=data_name, n_points=n_points, data_noise=noise, hidden=hidden, latent_dim=latent,
                              classes=(), conditional=False)
        else:
            class_names = gdata.class_names(data_name)
            picked = st.multiselect("Classes (empty: all)", list(range(10)), format_func=lambda i: class_names[i],
                                    key=keep("gan_classes", defaults.get("gan_classes", []), range(10)))
            conditional = st.checkbox("Class-conditional G and D", key=keep("gan_conditional", defaults.get("gan_conditional", False)))
            base = st.select_slider("DCGAN width", IMG_BASES, key=keep("gan_base", defaults.get("gan_base", 32), IMG_BASES))
            latent = st.select_slider("Size of z", IMG_Z, key=keep("gan_latent_img", defaults.get("gan_latent_img", 64), IMG_Z))
            structural = dict(data=data_name, classes=tuple(picked), conditional=conditional, base_channels=base,
                              latent_dim=latent)
        seed = int(st.number_input("Seed", 0, 2**31 - 1, key=keep("gan_seed", defaults["gan_seed"])))
        batch = st.select_slider("Batch size", BATCHES, key=keep("gan_batch", defaults["gan_batch"], BATCHES))

    st.markdown("**Hyper-parameters** (live: they act on the next step)")
    loss = st.selectbox("Loss", LOSSES, format_func=LOSS_NAMES.get, key=keep("gan_loss", defaults["gan_loss"], LOSSES))
    s1, s2 = st.columns(2)
    lr_g = s1.select_slider("G learning rate", LR_CHOICES, key=keep("gan_lr_g", defaults["gan_lr_g"], LR_CHOICES))
    lr_d = s2.select_slider("D learning rate", LR_CHOICES, key=keep("gan_lr_d", defaults["gan_lr_d"], LR_CHOICES))
    beta1 = s1.slider("Adam β₁", 0.0, 0.99, step=0.05, key=keep("gan_beta1", defaults["gan_beta1"]))
    beta2 = s2.select_slider("Adam β₂", BETA2S, key=keep("gan_beta2", defaults["gan_beta2"], BETA2S))
    d_steps = st.slider("D steps per G step", 1, 10, key=keep("gan_d_steps", defaults["gan_d_steps"]))
    smooth_ok = loss in ("minimax", "ns", "lsgan")
    label_smoothing = st.slider("One-sided label smoothing s", 0.0, 0.3, step=0.05, key=keep("gan_smooth", defaults["gan_smooth"]),
                                disabled=not smooth_ok, help="minimax, ns and lsgan only")
    instance_noise = st.slider("Instance noise σ", 0.0, 1.0, step=0.05, key=keep("gan_inoise", defaults["gan_inoise"]))
    instance_decay = st.number_input("… decays to 0 over (steps, 0 = constant)", 0, 100_000, step=100,
                                     key=keep("gan_idecay", defaults["gan_idecay"]))
    gp_weight = st.slider("Gradient-penalty weight λ", 0.0, 50.0, step=1.0, key=keep("gan_gp", defaults["gan_gp"]),
                          disabled=loss != "wgan-gp")

live = dict(loss=loss, lr_g=lr_g, lr_d=lr_d, beta1=beta1, beta2=beta2, d_steps=d_steps,
            label_smoothing=label_smoothing if smooth_ok else 0.0, instance_noise=instance_noise,
            instance_noise_decay=int(instance_decay), gp_weight=gp_weight)


def build_config():
    fields = {**structural, **live, "seed": seed, "batch_size": batch,
              "metrics_every": 100 if structural["data"] in gdata.TOY_DATASETS else 200,
              "eval_samples": 512 if structural["data"] in gdata.TOY_DATASETS else 500}
    return gtrain.GANConfig(**fields)


def start_run(config) -> None:
    with st.spinner("Building the run (the first image run trains the FID classifier once: up to a minute)…"):
        trainer = gtrain.GANTrainer(config)
        if not config.is_toy:
            _ = trainer.evaluator  # build (or load) the feature classifier now, not mid-training
    state["gan_run"] = trainer
    state["gan_playing"] = False


if new_run or (run is None):
    try:
        start_run(build_config())
    except StylelabError as exc:
        show_error(exc, "Could not start the run")
run = current()
if run is None:
    st.stop()


def effective(cfg) -> dict:
    """The set-up a config really uses (defaults resolved), to compare with the widgets."""
    out = {k: getattr(cfg, k) for k in structural}
    out["latent_dim"] = cfg.z_dim
    if "data_noise" in out and out["data_noise"] is None:
        out["data_noise"] = gdata.DEFAULT_NOISE.get(cfg.data)
    return {**out, "seed": cfg.seed, "batch_size": cfg.batch_size}


wanted = {**structural, "classes": tuple(structural.get("classes", ())), "seed": seed, "batch_size": batch}
if effective(run.config) != {k: wanted[k] for k in effective(run.config)}:
    st.info("The set-up shown differs from the current run: press **New run** to apply it.")
try:
    if live.get("loss") == "wgan-gp" and run.d_has_batchnorm:
        st.warning("WGAN-GP needs a discriminator without batch norm: press **New run** to switch this image run to it.")
        live["loss"] = run.config.loss
    run.update(**live)
except StylelabError as exc:
    show_error(exc, "That setting was not applied")


# ----------------------------------------------------------------------------- play / pause / step (same top row)
def toggle_play() -> None:
    state["gan_playing"] = not state.get("gan_playing", False)


play_row[0].button("⏸ Pause" if state.get("gan_playing") else "▶ Play", key="gan_play", on_click=toggle_play,
                   width="stretch")
if play_row[1].button("⏭ Step", key="gan_step", width="stretch"):
    state["gan_pending"] = state.get("gan_pending", 0) + 1
n_steps = play_row[3].number_input("N", 1, 100_000, key=keep("gan_n", 200 if run.config.is_toy else 50),
                                   label_visibility="collapsed")
if play_row[2].button(f"Train {n_steps}", key="gan_train_n", width="stretch"):
    state["gan_pending"] = state.get("gan_pending", 0) + int(n_steps)
play_row[4].caption("Hyper-parameters live in the sidebar; they act on the next step.")
if top[3].button("↺ Reset run", key="gan_reset", help="Start this run's configuration again from step 0", width="stretch"):
    start_run(dataclasses.replace(run.config))
    run = current()


def draw_points(trainer) -> None:
    bounds = gviz.plot_bounds(trainer)
    surf = gviz.decision_surface(trainer, resolution=50, bounds=bounds)
    pts, arrows = gviz.generator_gradients(trainer, n=150, seed=trainer.config.seed + 5)
    fake = trainer.sample(500).cpu().numpy()
    real = trainer.real[:500].cpu().numpy()
    fig = go.Figure()
    label = "D(x)" if surf.kind == "probability" else "D score"
    fig.add_trace(go.Heatmap(x=surf.xs.numpy(), y=surf.ys.numpy(), z=surf.values.numpy(), colorscale="RdBu",
                             opacity=0.55, colorbar=dict(title=label), zmid=0.5 if surf.kind == "probability" else 0))
    fig.add_trace(go.Scatter(x=real[:, 0], y=real[:, 1], mode="markers", name="real",
                               marker=dict(size=4, color=REAL)))
    fig.add_trace(go.Scatter(x=fake[:, 0], y=fake[:, 1], mode="markers", name="generated",
                               marker=dict(size=4, color=GENERATED)))
    scale = 0.3 / max(1e-8, float(arrows.norm(dim=1).max()))  # longest arrow 0.3 units: directions, relative size
    xs, ys = [], []
    for (x, y), (dx, dy) in zip(pts.tolist(), (arrows * scale).tolist()):
        xs += [x, x + dx, None]
        ys += [y, y + dy, None]
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name="−∇ G loss", line=dict(color="black", width=1)))
    fig.update_layout(height=470, margin=dict(l=10, r=10, t=30, b=10), xaxis=dict(range=bounds[:2], constrain="domain"),
                      yaxis=dict(range=bounds[2:], scaleanchor="x", constrain="domain"), title=f"step {trainer.step_count}",
                      legend=dict(orientation="h"))
    st.plotly_chart(fig, key="gan_points_chart")


def draw_curves(trainer) -> None:
    hist = trainer.history
    stride = max(1, len(hist) // 1500)  # at most ~1,500 points per curve keeps the redraw fast
    rows = hist[::stride]
    steps = [r["step"] for r in rows]
    evals = [r for r in hist if "fid" in r or "energy_distance" in r]
    dlabel = "D(x), D(G(z))" if trainer.config.loss in ("minimax", "ns") else "mean D score"
    titles = ("losses", dlabel, "FID / KID (classifier features)" if not trainer.config.is_toy else "energy distance / coverage")
    fig = make_subplots(rows=1, cols=3, subplot_titles=titles, specs=[[{}, {}, {"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=steps, y=[r["loss_d"] for r in rows], name="loss D"), 1, 1)
    fig.add_trace(go.Scatter(x=steps, y=[r["loss_g"] for r in rows], name="loss G"), 1, 1)
    fig.add_trace(go.Scatter(x=steps, y=[r["d_real"] for r in rows], name="D(x) real"), 1, 2)
    fig.add_trace(go.Scatter(x=steps, y=[r["d_fake"] for r in rows], name="D(G(z)) fake"), 1, 2)
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
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h"),
                      colorway=list(PALETTE))
    st.plotly_chart(fig, key="gan_curves_chart")


def draw_images(trainer) -> None:
    from stylelab.imageio import image_grid, to_pil

    left, right = st.columns([1, 1])
    grid = image_grid(gdata.to_unit(trainer.fixed_samples().cpu()), nrow=8)
    img = to_pil(grid)
    left.image(img.resize((img.width * 3, img.height * 3), 0), caption=f"fixed noise, step {trainer.step_count}",
               width="stretch")
    evals = [r for r in trainer.history if "class_hist" in r]
    with right:
        if evals:
            last = evals[-1]
            names = gdata.class_names(trainer.config.data)
            colours = ["#1f77b4" if i in trainer.images.classes else "#bbbbbb" for i in range(10)]
            bar = go.Figure(go.Bar(x=names, y=last["class_hist"], marker_color=colours))
            bar.update_layout(height=260, margin=dict(l=10, r=10, t=30, b=10),
                              title=f"classes of generated samples (step {last['step']}, mean confidence {last['confidence']:.2f})")
            st.plotly_chart(bar, key="gan_hist_chart")
            st.caption(f"FID {last['fid']:.3f} · KID {last['kid']:.4f} · class coverage {last['coverage']:.0%}")
        else:
            st.caption("Class histogram, FID and KID appear at the first evaluation "
                       f"(every {trainer.config.metrics_every} steps).")
        ev = trainer.evaluator
        st.caption(f"{gclf.DESCRIPTION} Its held-out accuracy on {trainer.config.data}: "
                   f"{ev.classifier.accuracy:.1%}.")


@st.fragment(run_every=TICK_SECONDS if state.get("gan_playing") or state.get("gan_pending") else None)
def live_view() -> None:
    trainer = current()
    if trainer is None:
        return
    try:
        pending = state.get("gan_pending", 0)
        if pending:
            done = trainer.train_for(WORK_SECONDS, pending)
            state["gan_pending"] = max(0, pending - len(done))
        elif state.get("gan_playing"):
            trainer.train_for(WORK_SECONDS, 100_000)
    except StylelabError as exc:
        state["gan_playing"] = False
        state["gan_pending"] = 0
        show_error(exc, "Training stopped")
    status = "playing" if state.get("gan_playing") else ("finishing the requested steps" if state.get("gan_pending") else "paused")
    rate = trainer.step_count / trainer.seconds if trainer.seconds else 0.0
    st.caption(f"Step {trainer.step_count} · {status} · {rate:,.0f} steps/s of training time")
    warning = trainer.collapse_warning()
    if warning:
        st.warning(warning)
    if trainer.config.is_toy:
        draw_points(trainer)
        st.caption("Blue/red background: the discriminator's belief that a point is real. Black segments: the "
                   "direction the generator's loss pushes each generated sample (−∇ₓ L_G, longest scaled to 0.3).")
    else:
        draw_images(trainer)
    if trainer.history:
        draw_curves(trainer)


live_view()
st.caption("The run trains only while this page is open: switching page pauses it, coming back resumes it "
           "(press Play again if it was playing).")

# ----------------------------------------------------------------------------- the equations of the losses in use
from stylelab.losses.registry import get_spec  # noqa: E402 (light module, after the live view)

e1, e2 = st.columns(2)
with e1:
    equation(get_spec(f"d_{loss}").latex, f"D minimises ({LOSS_NAMES[loss]})")
with e2:
    equation(get_spec(f"g_{loss}").latex, "G minimises")
if label_smoothing > 0 and smooth_ok:
    equation(r"\mathcal{L}_D^{smooth} = \mathcal{L}_D + s\,\mathbb{E}_x[d_r]" + (r" - \tfrac{s}{2}" if loss == "lsgan" else ""),
             "One-sided label smoothing (real label 1 − s) adds a linear penalty on D's real logits d_r")
if instance_noise > 0:
    equation(r"D(x + \sigma\epsilon),\; D(G(z) + \sigma\epsilon),\quad \epsilon \sim \mathcal N(0, I)", "Instance noise")

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
        import torch

        from stylelab.imageio import image_grid, to_pil

        za = torch.randn(run.config.z_dim, generator=torch.Generator().manual_seed(seed_a))
        zb = torch.randn(run.config.z_dim, generator=torch.Generator().manual_seed(seed_b))
        rows = [gviz.interpolate(za, zb, 10, mode), gviz.latent_walk(za, dim, span=3.0, steps=10)]
        for caption, z in zip([f"{mode} interpolation A → B", f"walk along z[{dim}] from −3 to +3"], rows):
            labels = torch.full((z.shape[0],), cls, dtype=torch.long) if cls is not None else None
            pics = run.generate(z.to(run.device), None if labels is None else labels.to(run.device)).cpu()
            im = to_pil(image_grid(gdata.to_unit(pics), nrow=10))
            st.image(im.resize((im.width * 3, im.height * 3), 0), caption=caption, width="stretch")
        if run.conditional:
            z = torch.randn(10 * run.num_classes, run.config.z_dim, generator=torch.Generator().manual_seed(seed_a))
            labels = torch.arange(run.num_classes).repeat_interleave(10)
            im = to_pil(image_grid(gdata.to_unit(run.generate(z, labels).cpu()), nrow=10))
            st.image(im.resize((im.width * 2, im.height * 2), 0), caption="one row per class (conditional G)", width="stretch")
        push_result("GAN Lab: samples", image_grid(gdata.to_unit(run.fixed_samples().cpu()), nrow=8).repeat(3, 1, 1))

elif section == "compare":
    st.markdown("Two runs, **same data, seed and set-up**, different generator losses, in the regime where D "
                "wins early (it learns faster and takes several steps per G step). With the saturating minimax loss "
                "G's gradient $\\nabla \\log(1 - D(G(z)))$ vanishes while D confidently rejects the early fakes "
                "(D(G(z)) ≈ 0), so G barely moves; the non-saturating loss $-\\log D(G(z))$ has the same fixed point "
                "but strong gradients exactly there.")
    lr_opts = LR_CHOICES
    k1, k2, k3 = st.columns(3)  # two rows of three: a loss's full name fits its select box
    k4, k5, k6 = st.columns(3)
    loss_a = k1.selectbox("Run A loss", LOSSES, format_func=LOSS_NAMES.get, key=keep("gan_cmp_a", "minimax", LOSSES))
    loss_b = k2.selectbox("Run B loss", LOSSES, format_func=LOSS_NAMES.get, key=keep("gan_cmp_b", "ns", LOSSES))
    cmp_steps = int(k3.number_input("Steps", 10, 20_000, step=50,
                                    key=keep("gan_cmp_steps", gcompare.DEFAULT_STEPS if run.config.is_toy else 100)))
    cmp_lr_g = k4.select_slider("G learning rate", lr_opts, key=keep("gan_cmp_lr_g", gcompare.STALL_SETTINGS["lr_g"], lr_opts))
    cmp_lr_d = k5.select_slider("D learning rate", lr_opts, key=keep("gan_cmp_lr_d", gcompare.STALL_SETTINGS["lr_d"], lr_opts),
                                help="A D that learns much faster than G rejects the early fakes confidently: "
                                     "the regime where minimax stalls.")
    cmp_d_steps = k6.slider("D steps per G step", 1, 10, key=keep("gan_cmp_d_steps", gcompare.STALL_SETTINGS["d_steps"]))
    if st.button("Run the comparison", key="gan_cmp_run", type="primary"):
        bar = st.progress(0.0, text="training…")
        try:
            state["gan_compare"] = gcompare.compare_losses(
                run.config, (loss_a, loss_b), steps=cmp_steps, lr_g=cmp_lr_g, lr_d=cmp_lr_d, d_steps=cmp_d_steps,
                progress=lambda f, text: bar.progress(min(1.0, f), text=text))
        except StylelabError as exc:
            show_error(exc, "The comparison stopped")
        bar.empty()
    results = state.get("gan_compare")
    if results:
        fig = make_subplots(rows=1, cols=3, subplot_titles=("D(G(z)) (fakes)", "‖∇ₓ L_G‖ at the samples (log)",
                                                            "how far G's samples moved"))
        for i, (name, arm) in enumerate(results.items()):
            t = arm.trainer
            steps = [r["step"] for r in t.history]
            run_line = dict(color=colour(i))  # one colour per run in all three panels
            fig.add_trace(go.Scatter(x=steps, y=[r["d_fake"] for r in t.history], name=f"{name}: D(G(z))",
                                     line=run_line), 1, 1)
            fig.add_trace(go.Scatter(x=[g[0] for g in arm.grad_norms], y=[g[1] for g in arm.grad_norms],
                                     name=f"{name}: gradient", mode="lines+markers", line=dict(run_line, dash="dot")), 1, 2)
            fig.add_trace(go.Scatter(x=[g[0] for g in arm.travel], y=[g[1] for g in arm.travel],
                                     name=f"{name}: distance moved", mode="lines+markers", line=dict(run_line, dash="dash")),
                          1, 3)
        log_axis(fig, row=1, col=2)
        fig.update_layout(height=320, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h"))
        st.plotly_chart(fig, key="gan_cmp_chart")
        st.caption("Read the gradient and the distance moved first: a run whose G has not moved is stalled, whatever "
                   "its score. The energy distance compares whole clouds, so early on a frozen blob in the middle of "
                   "the ring can score about as well as samples that have reached a few of its modes.")
        cols = st.columns(len(results))
        for col, (name, arm) in zip(cols, results.items()):
            t = arm.trainer
            with col:
                st.markdown(f"**{LOSS_NAMES.get(t.config.loss, name)}** after {t.step_count} steps: mean gradient "
                            f"{arm.mean_grad_norm:.2g}, samples moved {arm.final_travel:.2f}")
                ev = t.evaluate()
                if t.config.is_toy:
                    fake = t.sample(500).cpu().numpy()
                    real = t.real[:500].cpu().numpy()
                    f2 = go.Figure([go.Scatter(x=real[:, 0], y=real[:, 1], mode="markers", name="real",
                                                 marker=dict(size=3, color=REAL)),
                                    go.Scatter(x=fake[:, 0], y=fake[:, 1], mode="markers", name="generated",
                                               marker=dict(size=3, color=GENERATED))])
                    f2.update_layout(height=300, margin=dict(l=5, r=5, t=5, b=5), yaxis=dict(scaleanchor="x"), showlegend=False)
                    st.plotly_chart(f2, key=f"gan_cmp_pts_{name}")
                    st.caption(f"energy distance {ev['energy_distance']:.3f}" +
                               (f" · modes covered {ev['modes_covered']}" if "modes_covered" in ev else "") +
                               (f" · samples on a mode {ev['high_quality']:.0%}" if "high_quality" in ev else ""))
                else:
                    from stylelab.imageio import image_grid, to_pil

                    im = to_pil(image_grid(gdata.to_unit(t.fixed_samples()[:32].cpu()), nrow=8))
                    st.image(im.resize((im.width * 2, im.height * 2), 0), width="stretch")
                    st.caption(f"FID {ev['fid']:.2f} · KID {ev['kid']:.3f}")

else:
    st.markdown("The **experiment record** (config + seed + every step's numbers) reproduces a run; the "
                "**checkpoint** resumes it exactly (weights, optimisers and random-number state).")
    x1, x2 = st.columns(2)
    with x1:
        download_record(run.record(), "gan_lab_record.json", key="gan_dl_record")
        notebook_link(run.record(), "gan_lab_record.json")
        import torch

        buf = io.BytesIO()
        torch.save(run.state_dict(), buf)
        st.download_button("Download checkpoint (.pt)", buf.getvalue(), file_name="gan_lab_checkpoint.pt",
                           mime="application/octet-stream", key="gan_dl_ckpt")
    with x2:
        rec = upload_record("gan", key="gan_up_record")
        if rec is not None and st.button("Start a run from this record's config", key="gan_apply_record"):
            try:
                start_run(rec.config_as(gtrain.GANConfig))
                state["gan_show_config"] = True  # the controls show the loaded run's configuration
                st.rerun()
            except StylelabError as exc:
                show_error(exc, "Could not use the record")
        up = st.file_uploader("Load a checkpoint (.pt)", type=["pt"], key="gan_up_ckpt")
        if up is not None and st.button("Resume from this checkpoint", key="gan_apply_ckpt"):
            try:
                state["gan_run"] = gtrain.GANTrainer.load(up.getvalue())
                state["gan_playing"] = False
                state["gan_show_config"] = True
                st.rerun()
            except StylelabError as exc:
                show_error(exc, f"Could not load {up.name!r}")
