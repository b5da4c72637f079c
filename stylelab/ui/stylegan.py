"""The GAN Lab's StyleGAN-lite section: style mixing, truncation, z vs w paths (PPL) and the noise inputs.

Layout only: every picture and number comes from :mod:`stylelab.gan.stylegan` (``mixing_grid``,
``truncated_samples``, ``truncation_curve``, ``interpolation_strips``, ``ppl_z_and_w``,
``noise_effect``); the equations from :mod:`stylelab.equations`. The model is the shipped
checkpoint (``stylelab/gan/checkpoints/stylegan_mnist5k.pt``) or the page's current run when it is
a StyleGAN-lite run (trained live by the page's own ``live_run``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import streamlit as st

from ..gan.stylegan import SHIPPED
from .state import keep, view_picker

if TYPE_CHECKING:  # pragma: no cover
    from ..gan.train import GANTrainer

VIEWS = {"mix": "Style mixing", "psi": "Truncation ψ", "path": "z vs w paths", "noise": "Noise inputs"}
SOURCES = {"shipped": "the shipped model (MNIST-5k)", "run": "this page's run"}


@st.cache_resource(show_spinner="Loading the shipped StyleGAN-lite…")
def shipped_model(path: str = str(SHIPPED)) -> "GANTrainer":
    """The shipped StyleGAN-lite run (``weights_only`` load), once per server."""
    from ..gan.train import GANTrainer

    return GANTrainer.load(path)  # on get_device()


def _codes(seeds: list[int], dim: int, device: Any) -> Any:
    import torch

    return torch.stack([torch.randn(dim, generator=torch.Generator().manual_seed(s)) for s in seeds]).to(device)


def _grid(images: Any, nrow: int) -> Any:
    from ..gan.data import to_unit
    from ..imageio import image_grid

    return image_grid(to_unit(images.cpu()), nrow=nrow)


def pick_model(run: "GANTrainer | None") -> "GANTrainer | None":
    """The source radio: the shipped model and/or the current run (if it is StyleGAN-lite)."""
    options = [k for k, ok in (("shipped", SHIPPED.is_file()), ("run", run is not None and getattr(run, "is_style", False)))
               if ok]
    if not options:
        st.info("No StyleGAN-lite model here yet: in the sidebar's **Set-up**, pick *Images* and the generator "
                "**StyleGAN-lite**, press **New run** and train it with ▶ Play.")
        return None
    src = st.radio("Model", options, format_func=SOURCES.get, horizontal=True, key=keep("gan_sg_source", options[0], options))
    model = shipped_model() if src == "shipped" else run
    st.caption(f"StyleGAN-lite after {model.step_count} steps ({model.seconds / 60:.1f} min of training) on "
               f"{model.config.data}; {sum(p.numel() for p in model.G.parameters()):,} generator parameters.")
    return model


def stylegan_section(run: "GANTrainer | None") -> None:
    """The whole StyleGAN-lite section of the GAN Lab page."""
    from .. import equations
    from . import equation

    st.markdown("**StyleGAN-lite**: a mapping network turns z into a style w; a learned constant image is shaped "
                "layer by layer, each convolution modulated by its own copy of w, with a little noise added per layer. "
                "Coarse layers (7 and 14 px) set the digit's shape, fine layers (28 px) its stroke.")
    model = pick_model(run)
    if model is None:
        return
    e1, e2 = st.columns(2)
    with e1:
        equation(equations.latex("gan.mapping"), equations.get("gan.mapping").label)
    with e2:
        equation(equations.latex("gan.modulation"), equations.get("gan.modulation").label)
    view = view_picker("StyleGAN view", VIEWS, "gan_sg_view", "mix")
    {"mix": _mixing, "psi": _truncation, "path": _paths, "noise": _noise}[view](model)


def _mixing(model: "GANTrainer") -> None:
    from .. import equations
    from ..gan import stylegan as sg
    from . import equation
    from .gan import show_grid

    G = model.G
    c1, c2, c3 = st.columns(3)
    first = int(c1.number_input("Row seeds from", 0, 10_000, key=keep("gan_sg_rows", 10)))
    cols = int(c2.number_input("Column seeds from", 0, 10_000, key=keep("gan_sg_cols", 100)))
    cross = c3.slider("Crossover layer c", 0, G.num_layers, key=keep("gan_sg_cross", G.coarse_layers))
    equation(equations.latex("gan.style_mix"), equations.get("gan.style_mix").label)
    dev = G.const.device
    grid = sg.mixing_grid(G, _codes(list(range(first, first + 5)), G.latent_dim, dev),
                          _codes(list(range(cols, cols + 6)), G.latent_dim, dev), crossover=cross)
    show_grid(_grid(grid.flatten(0, 1), grid.shape[1]), 3,
              f"top row: the fine-style sources; left column: the coarse-style sources; each cell takes layers < {cross} "
              f"from its row and layers ≥ {cross} from its column ({G.num_layers} layers, sides "
              f"{[G.layer_size(i) for i in range(len(G.layers))]} px + to-image)")


def _truncation(model: "GANTrainer") -> None:
    from .. import equations
    from ..gan import stylegan as sg
    from . import equation
    from .gan import show_grid

    G = model.G
    psi = st.slider("ψ", -1.0, 1.5, step=0.05, key=keep("gan_sg_psi", 0.7))
    equation(equations.latex("gan.truncation"), equations.get("gan.truncation").label)
    w_mean = _w_mean(model)
    pics = sg.truncated_samples(G, _codes(list(range(32)), G.latent_dim, G.const.device), w_mean, psi)
    show_grid(_grid(pics, 8), 3, f"the same 32 codes z at ψ = {psi:g} (ψ = 1: untouched, ψ = 0: the average digit)")
    key = f"gan_sg_curve_{id(model)}_{model.step_count}"
    if st.button("Measure FID / KID against ψ (1,000 samples each)", key="gan_sg_curve"):
        with st.spinner("Sampling and measuring…"):
            st.session_state[key] = sg.truncation_curve(G, model.evaluator.evaluate)
    if key in st.session_state:
        st.plotly_chart(truncation_figure(st.session_state[key]), key="gan_sg_curve_chart")
        st.caption("Lower ψ: cleaner, more confident digits but less variety; FID and KID count both.")


def _w_mean(model: "GANTrainer") -> Any:
    import torch

    from ..gan import stylegan as sg

    key = f"gan_sg_wmean_{id(model)}_{model.step_count}"
    if key not in st.session_state:
        st.session_state[key] = sg.estimate_w_mean(model.G.mapping, model.G.latent_dim,
                                                   torch.Generator().manual_seed(model.seed + 1), device=model.G.const.device)
    return st.session_state[key]


def _paths(model: "GANTrainer") -> None:
    from .. import equations
    from ..gan import stylegan as sg
    from . import equation
    from .gan import show_grid

    G = model.G
    c1, c2 = st.columns(2)
    a = int(c1.number_input("From seed", 0, 10_000, key=keep("gan_sg_path_a", 3)))
    b = int(c2.number_input("To seed", 0, 10_000, key=keep("gan_sg_path_b", 4)))
    codes = _codes([a, b], G.latent_dim, G.const.device)
    strips = sg.interpolation_strips(G, codes[0], codes[1], steps=10)
    show_grid(_grid(strips["z"], 10), 3, "spherical path in z (through the mapping at every point)")
    show_grid(_grid(strips["w"], 10), 3, "straight path in w (between the two styles)")
    equation(equations.latex("gan.ppl"), equations.get("gan.ppl").label)
    key = f"gan_sg_ppl_{id(model)}_{model.step_count}"
    if st.button("Measure PPL in z and in w (300 pairs)", key="gan_sg_ppl"):
        with st.spinner("Measuring…"):
            st.session_state[key] = sg.ppl_z_and_w(G, sg.float64_features(model.evaluator), n=300)
    if key in st.session_state:
        r = st.session_state[key]
        st.caption(f"PPL in z: {r['ppl_z']:.3g} ± {r['ppl_z_sem']:.2g} · PPL in w: {r['ppl_w']:.3g} ± {r['ppl_w_sem']:.2g} "
                   "(ε = 10⁻⁴; d = squared distance of the lab's classifier features, the space of FID/KID; "
                   "LPIPS's VGG features are for colour photos). Lower: a smoother path.")


def _noise(model: "GANTrainer") -> None:
    from .. import equations
    from ..gan import stylegan as sg
    from . import equation
    from .gan import show_grid

    G = model.G
    equation(equations.latex("gan.noise_input"), equations.get("gan.noise_input").label)
    first = int(st.number_input("Seeds from", 0, 10_000, key=keep("gan_sg_noise_seed", 20)))
    eff = sg.noise_effect(G, _codes(list(range(first, first + 4)), G.latent_dim, G.const.device), draws=6)
    show_grid(_grid(eff["off"], 4), 4, "noise off (deterministic in w)")
    show_grid(_grid(eff["on"][:3].flatten(0, 1), 4), 4, "three noise draws, the same four styles (one row each)")
    std = eff["std"] / eff["std"].max().clamp_min(1e-12) * 2 - 1  # to [-1, 1] for the grid
    show_grid(_grid(std, 4), 4, f"where the noise acts: per-pixel spread over 6 draws (white = most, "
                                f"max {float(eff['std'].max()):.3f}); learned scales γ per layer: "
                                f"{', '.join(f'{v:.3f}' for v in eff['strength'].tolist())}")


def truncation_figure(rows: list[dict[str, float]]) -> Any:
    """FID and KID against psi (two axes)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(specs=[[{"secondary_y": True}]])
    psis = [r["psi"] for r in rows]
    fig.add_trace(go.Scatter(x=psis, y=[r["fid"] for r in rows], name="FID", mode="lines+markers"))
    fig.add_trace(go.Scatter(x=psis, y=[r["kid"] for r in rows], name="KID", mode="lines+markers", line=dict(dash="dot")),
                  secondary_y=True)
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=30, b=10), xaxis_title="ψ", legend=dict(orientation="h"),
                      title="the truncation curve (classifier features)")
    return fig


__all__ = ["SHIPPED", "pick_model", "shipped_model", "stylegan_section", "truncation_figure"]
