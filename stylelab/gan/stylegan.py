r"""StyleGAN-lite: a small style-based generator for 28 x 28 (and 8, 16, 32 px) greyscale images.

The ideas of Karras et al. (StyleGAN 2019, StyleGAN2 2020) at classroom scale:

- a **mapping network** :math:`f: z \mapsto w` (pixel norm, then a few fully connected
  LeakyReLU(0.2) layers), so that the latent space the image is drawn from need not be the
  Gaussian ball of z;
- a **learned constant** input ``(2c, s/4, s/4)`` instead of projecting z;
- **per-layer style modulation** of every convolution by its own copy of w, through a learned
  affine map :math:`s = A w + b` (:func:`modulated_conv2d`);
- **per-layer noise inputs** :math:`x + \gamma\,\epsilon`, :math:`\epsilon \sim \mathcal N(0, 1)`
  ``(N, 1, H, W)``, each with its own learned scale :math:`\gamma` (zero at the start), the noise
  drawn from a ``torch.Generator`` the caller owns, and a switch to turn it off;
- **style mixing** (:func:`style_mix`) and the **truncation trick** (:func:`truncate`).

Why weight modulation/demodulation and not AdaIN: AdaIN normalises every feature map of every
sample to zero mean and unit variance and then rescales it; the normalisation throws away the
maps' relative magnitudes, and StyleGAN's generator learned to smuggle them past it with "droplet"
artefacts (Karras et al. 2020, Sec. 2). Demodulation instead scales the *weights* so that the
output has unit variance *in expectation* (for unit-variance inputs), which keeps the style's
control over each channel but no longer measures the actual feature maps. It also has no
per-sample statistics to go wrong at batch size 1, and on a CPU it costs two cheap per-channel
multiplications around an ordinary convolution (the un-fused form of StyleGAN2, exactly equal to
the grouped convolution with per-sample weights).

Layers for 28 px (``c = base_channels``): const ``(2c, 7, 7)`` -> conv ``2c`` @ 7 -> up, conv
``c`` @ 14 -> conv ``c`` @ 14 -> up, conv ``c/2`` @ 28 -> conv ``c/2`` @ 28 -> modulated 1 x 1
to-image -> tanh. Each of those six layers reads its own row of ``ws`` ``(N, L, W)``, L = 6:
rows 0-2 (7 and 14 px) are the **coarse** styles, rows 3-5 (28 px) the **fine** ones.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import ConfigError, ShapeError

#: the shipped StyleGAN-lite (MNIST-5k 28 px, a GANTrainer checkpoint) and its model card beside it
SHIPPED = Path(__file__).resolve().parent / "checkpoints" / "stylegan_mnist5k.pt"
#: LeakyReLU slope and the gain that keeps unit variance through it: sqrt(2 / (1 + a^2))
SLOPE = 0.2
GAIN = math.sqrt(2.0 / (1.0 + SLOPE**2))


def pixel_norm(z: Tensor, eps: float = 1e-8) -> Tensor:
    r"""Normalise each code to unit root-mean-square: :math:`z / \sqrt{\tfrac1D\sum_j z_j^2 + \epsilon}`; ``(N, D)`` -> ``(N, D)``."""
    return z * torch.rsqrt(z.square().mean(dim=1, keepdim=True) + eps)


def modulated_conv2d(x: Tensor, weight: Tensor, style: Tensor, demodulate: bool = True, eps: float = 1e-8) -> Tensor:
    r"""A convolution whose weights are scaled per sample by a style (StyleGAN2's modulation).

    .. math::
        w'_{n,o,i,k} = s_{n,i}\, w_{o,i,k}, \qquad
        w''_{n,o,i,k} = \frac{w'_{n,o,i,k}}{\sqrt{\sum_{i,k} {w'_{n,o,i,k}}^2 + \epsilon}}, \qquad
        y_n = w''_n * x_n

    (``*``: a 2-D convolution with zero padding ``k // 2``). Computed without forming per-sample
    weights: :math:`y_n = d_n \odot (w * (s_n \odot x_n))` with the demodulation coefficients
    :math:`d_{n,o} = (\sum_i s_{n,i}^2 \sum_k w_{o,i,k}^2 + \epsilon)^{-1/2}`, which is the same
    number (the sum over ``i, k`` of :math:`s_i^2 w_{o,i,k}^2` factors that way).

    Args:
        x: ``(N, I, H, W)`` input maps.
        weight: ``(O, I, k, k)`` shared weights, k odd.
        style: ``(N, I)`` per-sample, per-input-channel scales :math:`s`.
        demodulate: divide by the norm above (False for the to-image layer, as in StyleGAN2).

    Returns:
        ``(N, O, H, W)``.
    """
    if x.ndim != 4 or weight.ndim != 4 or style.ndim != 2:
        raise ShapeError(f"modulated_conv2d needs x (N, I, H, W), weight (O, I, k, k), style (N, I); got "
                         f"{tuple(x.shape)}, {tuple(weight.shape)}, {tuple(style.shape)}.")
    n, i = x.shape[:2]
    if weight.shape[1] != i or style.shape != (n, i):
        raise ShapeError(f"Channels disagree: x has {i}, weight takes {weight.shape[1]}, style is {tuple(style.shape)}.")
    y = F.conv2d(x * style[:, :, None, None], weight, padding=weight.shape[-1] // 2)  # (N, O, H, W)
    if demodulate:
        d = torch.rsqrt(style.square() @ weight.square().sum(dim=(2, 3)).T + eps)  # (N, O)
        y = y * d[:, :, None, None]
    return y


def truncate(w: Tensor, w_mean: Tensor, psi: float) -> Tensor:
    r"""The truncation trick: pull styles towards the average style.

    .. math::
        w' = \bar w + \psi\,(w - \bar w)

    ``psi = 1`` leaves ``w`` as it is, ``psi = 0`` gives :math:`\bar w` for every sample (the
    "average face"), ``0 < psi < 1`` trades variety for typical-looking samples, ``psi < 0``
    gives the "anti" image on the other side of the mean.

    Args:
        w: ``(N, W)`` or ``(N, L, W)`` styles.
        w_mean: ``(W,)`` the average style (:func:`estimate_w_mean`).
        psi: a finite number (the page offers [-1, 1.5]).
    """
    if not isinstance(psi, (int, float)) or isinstance(psi, bool) or not math.isfinite(psi):
        raise ConfigError(f"psi must be a finite number, got {psi!r}.")
    if w_mean.ndim != 1 or w.shape[-1] != w_mean.shape[0]:
        raise ShapeError(f"w (..., {w_mean.shape[-1] if w_mean.ndim else '?'}) and w_mean (W,) disagree: "
                         f"{tuple(w.shape)} vs {tuple(w_mean.shape)}.")
    return w_mean + psi * (w - w_mean)


def style_mix(w1: Tensor, w2: Tensor, crossover: int, num_layers: int) -> Tensor:
    """Per-layer styles ``(N, L, W)`` with layers ``< crossover`` (coarse) from ``w1`` and the rest (fine) from ``w2``.

    ``w1``, ``w2``: ``(N, W)``; ``crossover`` in ``[0, L]`` (0: all from ``w2``, L: all from ``w1``).
    """
    if w1.shape != w2.shape or w1.ndim != 2:
        raise ShapeError(f"style_mix needs two (N, W) styles of one shape; got {tuple(w1.shape)} and {tuple(w2.shape)}.")
    if not isinstance(crossover, int) or isinstance(crossover, bool) or not 0 <= crossover <= num_layers:
        raise ConfigError(f"crossover must be an integer layer index in [0, {num_layers}], got {crossover!r}.")
    layer = torch.arange(num_layers, device=w1.device)[None, :, None]  # (1, L, 1)
    return torch.where(layer < crossover, w1[:, None, :], w2[:, None, :])  # (N, L, W)


class MappingNetwork(nn.Module):
    """z ``(N, Z)`` -> w ``(N, W)``: pixel norm, then ``layers`` linear + LeakyReLU(0.2) layers."""

    def __init__(self, latent_dim: int, w_dim: int, layers: int) -> None:
        super().__init__()
        dims = [latent_dim] + [w_dim] * layers
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, z: Tensor) -> Tensor:
        h = pixel_norm(z)
        for lin in self.layers:
            h = F.leaky_relu(lin(h), SLOPE) * GAIN
        return h  # (N, W)


class StyleLayer(nn.Module):
    """One synthesis layer: [2x nearest upsample] -> modulated 3x3 conv -> + gamma * noise -> + bias -> LeakyReLU.

    ``affine``: s = A w + b ``(N, I)`` (bias initialised to 1, so styles start near identity).
    """

    def __init__(self, in_ch: int, out_ch: int, w_dim: int, upsample: bool) -> None:
        super().__init__()
        self.upsample = upsample
        self.weight = nn.Parameter(torch.empty(out_ch, in_ch, 3, 3))
        self.affine = nn.Linear(w_dim, in_ch)
        self.noise_strength = nn.Parameter(torch.empty(()))
        self.bias = nn.Parameter(torch.empty(out_ch))

    def forward(self, x: Tensor, w: Tensor, noise: Tensor | None) -> Tensor:
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="nearest")  # (N, I, 2H, 2W)
        x = modulated_conv2d(x, self.weight, self.affine(w))  # (N, O, H, W)
        if noise is not None:
            x = x + self.noise_strength * noise  # noise (N, 1, H, W)
        return F.leaky_relu(x + self.bias[None, :, None, None], SLOPE) * GAIN


class ToImage(nn.Module):
    """Modulated 1x1 conv (no demodulation) to ``channels`` -> + bias -> tanh, in [-1, 1]."""

    def __init__(self, in_ch: int, channels: int, w_dim: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(channels, in_ch, 1, 1))
        self.affine = nn.Linear(w_dim, in_ch)
        self.bias = nn.Parameter(torch.empty(channels))

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        y = modulated_conv2d(x, self.weight, self.affine(w), demodulate=False)
        return torch.tanh(y + self.bias[None, :, None, None])


class StyleGenerator(nn.Module):
    """StyleGAN-lite: z ``(N, Z)`` -> images ``(N, C, S, S)`` in [-1, 1] (see the module docstring).

    Args:
        latent_dim: size of z; w_dim: size of w (= latent_dim by default).
        image_size: 8, 16, 28 or 32; channels: image channels.
        base_channels: ``c`` (widths 2c @ S/4, c @ S/2, c/2 @ S).
        mapping_layers: depth of the mapping network.
        mixing_prob: in training mode, the share of samples made from two z's with a random
            crossover (style-mixing regularisation, so layers learn not to rely on each other).

    Attributes:
        noise_generator: the ``torch.Generator`` noise inputs and mixing are drawn from (set by the
            trainer to its training stream; :meth:`noise_from` swaps it for a while). Random noise
            without one is a :class:`ConfigError` (never the global RNG).
        use_noise: the switch of the noise inputs (False: no noise added, the output is a
            deterministic function of w).
    """

    def __init__(self, latent_dim: int = 64, image_size: int = 28, channels: int = 1, base_channels: int = 32,
                 w_dim: int = 0, mapping_layers: int = 3, mixing_prob: float = 0.5) -> None:
        super().__init__()
        if image_size not in (8, 16, 28, 32):
            raise ConfigError(f"StyleGAN-lite image size must be 8, 16, 28 or 32 pixels, got {image_size!r}.")
        for name, v, lo, hi in (("latent_dim", latent_dim, 1, 1024), ("base_channels", base_channels, 4, 512),
                                ("w_dim", w_dim, 0, 1024), ("mapping_layers", mapping_layers, 1, 8)):
            if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
                raise ConfigError(f"{name} must be an integer in [{lo}, {hi}], got {v!r}.")
        if not isinstance(mixing_prob, (int, float)) or not 0.0 <= mixing_prob <= 1.0:
            raise ConfigError(f"mixing_prob must be in [0, 1], got {mixing_prob!r}.")
        c = base_channels
        self.latent_dim, self.w_dim, self.image_size = latent_dim, w_dim or latent_dim, image_size
        self.num_classes, self.mixing_prob = 0, float(mixing_prob)
        self.mapping = MappingNetwork(latent_dim, self.w_dim, mapping_layers)
        s = image_size // 4
        self.const = nn.Parameter(torch.empty(1, 2 * c, s, s))
        self.layers = nn.ModuleList([
            StyleLayer(2 * c, 2 * c, self.w_dim, upsample=False),  # S/4
            StyleLayer(2 * c, c, self.w_dim, upsample=True),  # S/2
            StyleLayer(c, c, self.w_dim, upsample=False),
            StyleLayer(c, max(4, c // 2), self.w_dim, upsample=True),  # S
            StyleLayer(max(4, c // 2), max(4, c // 2), self.w_dim, upsample=False),
        ])
        self.to_image = ToImage(max(4, c // 2), channels, self.w_dim)
        self.noise_generator: torch.Generator | None = None
        self.use_noise = True

    @property
    def num_layers(self) -> int:
        """L: the rows of ``ws`` (one per synthesis layer, plus the to-image layer)."""
        return len(self.layers) + 1

    @property
    def coarse_layers(self) -> int:
        """The layers below full resolution (S/4 and S/2): the default crossover of :func:`style_mix`."""
        return sum(1 for i in range(len(self.layers)) if self.layer_size(i) < self.image_size)

    def layer_size(self, i: int) -> int:
        """The side in pixels of synthesis layer ``i``'s output."""
        ups = sum(1 for layer in self.layers[: i + 1] if layer.upsample)
        return self.const.shape[-1] * 2**ups

    def reset_parameters_from(self, generator: torch.Generator) -> None:
        """Initialise every parameter from ``generator`` (never the global RNG).

        Conv and mapping weights ~ N(0, 1) / sqrt(fan_in) (He-like; demodulation normalises the
        convolutions anyway); the constant ~ N(0, 1); affine biases 1 (styles start at 1), other
        biases 0; noise strengths 0 (as StyleGAN2: training decides how much noise to use).
        """
        with torch.no_grad():
            for lin in self.mapping.layers:
                lin.weight.normal_(0.0, 1.0 / math.sqrt(lin.in_features), generator=generator)
                lin.bias.zero_()
            self.const.normal_(0.0, 1.0, generator=generator)
            for layer in [*self.layers, self.to_image]:
                fan_in = layer.weight[0].numel()
                layer.weight.normal_(0.0, 1.0 / math.sqrt(fan_in), generator=generator)
                layer.affine.weight.normal_(0.0, 1.0 / math.sqrt(self.w_dim), generator=generator)
                layer.affine.bias.fill_(1.0)
                layer.bias.zero_()
                if isinstance(layer, StyleLayer):
                    layer.noise_strength.zero_()

    @contextlib.contextmanager
    def noise_from(self, generator: torch.Generator | None, enabled: bool | None = None) -> Iterator[None]:
        """Draw noise (and mixing) from ``generator`` inside the block; ``enabled`` sets the noise switch for it."""
        before = (self.noise_generator, self.use_noise)
        self.noise_generator = generator
        if enabled is not None:
            self.use_noise = bool(enabled)
        try:
            yield
        finally:
            self.noise_generator, self.use_noise = before

    def _draw(self, shape: tuple[int, ...], like: Tensor) -> Tensor:
        if self.noise_generator is None:
            raise ConfigError("StyleGAN-lite needs a torch.Generator for its noise inputs (noise_from(gen)), "
                              "or its noise switched off.")
        return torch.randn(shape, generator=self.noise_generator, device=like.device, dtype=like.dtype)

    def synthesis(self, ws: Tensor) -> Tensor:
        """Per-layer styles ``ws`` ``(N, L, W)`` -> images ``(N, C, S, S)``; noise as :attr:`use_noise` says."""
        if ws.ndim != 3 or ws.shape[1:] != (self.num_layers, self.w_dim):
            raise ShapeError(f"ws must be (N, {self.num_layers}, {self.w_dim}), got {tuple(ws.shape)}.")
        x = self.const.expand(ws.shape[0], -1, -1, -1)  # (N, 2c, S/4, S/4)
        for i, layer in enumerate(self.layers):
            size = self.layer_size(i)
            noise = self._draw((ws.shape[0], 1, size, size), ws) if self.use_noise else None
            x = layer(x, ws[:, i], noise)
        return self.to_image(x, ws[:, -1])

    def broadcast(self, w: Tensor) -> Tensor:
        """``(N, W)`` -> ``(N, L, W)``: the same style for every layer."""
        return w[:, None, :].expand(-1, self.num_layers, -1)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """G(z): mapping, broadcast (with style mixing in training mode), synthesis -> ``(N, C, S, S)``.

        ``labels`` are accepted and ignored, as by the unconditional DCGAN (the trainer passes the
        real batch's classes to every generator; config validation refuses a conditional StyleGAN-lite).
        """
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ShapeError(f"z must be (N, {self.latent_dim}), got {tuple(z.shape)}.")
        ws = self.broadcast(self.mapping(z))
        if self.training and self.mixing_prob > 0:
            n = z.shape[0]
            w2 = self.mapping(self._draw((n, self.latent_dim), z))
            cut = torch.randint(1, self.num_layers, (n,), generator=self.noise_generator, device=z.device)
            mix = torch.rand(n, generator=self.noise_generator, device=z.device) < self.mixing_prob
            cut = torch.where(mix, cut, torch.full_like(cut, self.num_layers))  # (N,) L: no mixing
            layer = torch.arange(self.num_layers, device=z.device)[None, :]
            ws = torch.where((layer < cut[:, None])[:, :, None], ws, w2[:, None, :])
        return self.synthesis(ws)


@torch.no_grad()
def estimate_w_mean(mapping: nn.Module, latent_dim: int, generator: torch.Generator, n: int = 10_000,
                    device: torch.device | str | None = None) -> Tensor:
    r""":math:`\bar w = \frac1n \sum_j f(z_j)`, :math:`z_j \sim \mathcal N(0, I)` drawn from ``generator``: ``(W,)``.

    ``device``: where ``mapping`` lives (``None``: the generator's device); the codes are drawn on the
    generator's own device, so one seed gives the same w-bar on every device."""
    if not isinstance(n, int) or n < 1:
        raise ConfigError(f"n must be a positive integer, got {n!r}.")
    if device is None:
        device = generator.device
    z = torch.randn(n, latent_dim, generator=generator, device=generator.device).to(device)
    return torch.cat([mapping(z[i : i + 2000]) for i in range(0, n, 2000)]).mean(dim=0)


# ----------------------------------------------------------------------------- snapshots of G over training time
SNAPSHOT_FORMAT = "stylelab.gan.snapshots/1"


def add_snapshot(path: str | Path, trainer: object) -> Path:
    """Append the trainer's G weights (with its step and training seconds) to the snapshot file ``path``.

    The file (written atomically by :func:`stylelab.checkpoint.save_checkpoint`) holds
    ``{"format", "config", "snapshots": [{"step", "seconds", "G"}, ...]}``; read it with :func:`load_snapshots`.
    """
    from ..checkpoint import save_checkpoint
    from ..run import config_to_dict

    path = Path(path)
    blob = load_snapshots(path) if path.is_file() else {"format": SNAPSHOT_FORMAT,
                                                       "config": config_to_dict(trainer.config), "snapshots": []}
    state = {k: v.detach().cpu().clone() for k, v in trainer.G.state_dict().items()}
    blob["snapshots"].append({"step": int(trainer.step_count), "seconds": float(trainer.seconds), "G": state})
    return save_checkpoint(blob, path)


def load_snapshots(source: object) -> dict:
    """A snapshot file of :func:`add_snapshot` (``weights_only=True``); a wrong file is a CheckpointError."""
    from ..checkpoint import load_checkpoint
    from ..errors import CheckpointError

    blob = load_checkpoint(source, "GAN snapshot file", map_location="cpu")
    if not isinstance(blob, dict) or blob.get("format") != SNAPSHOT_FORMAT or not isinstance(blob.get("snapshots"), list):
        raise CheckpointError(f"This is not a GAN snapshot file (format {SNAPSHOT_FORMAT!r}).")
    return blob


# ----------------------------------------------------------------------------- measures
def slerp(a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    r"""Spherical interpolation of directions: ``a``, ``b`` ``(N, D)``, ``t`` ``(N,)`` -> ``(N, D)`` unit vectors.

    .. math::
        \hat a = a / \|a\|,\ \hat b = b / \|b\|,\ \Omega = \arccos(\hat a \cdot \hat b),\quad
        \mathrm{slerp}(a, b; t) = \frac{\sin((1 - t)\Omega)}{\sin\Omega}\,\hat a + \frac{\sin(t\Omega)}{\sin\Omega}\,\hat b

    (the path in z of the PPL: z's pixel norm makes only the direction matter).
    """
    a = a / a.norm(dim=1, keepdim=True)
    b = b / b.norm(dim=1, keepdim=True)
    omega = torch.arccos((a * b).sum(dim=1).clamp(-1 + 1e-7, 1 - 1e-7))[:, None]  # (N, 1)
    t = t[:, None]
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)


def perceptual_path_length(render: Callable[[Tensor], Tensor], distance: Callable[[Tensor, Tensor], Tensor],
                           a: Tensor, b: Tensor, t: Tensor, eps: float = 1e-4, path: str = "lerp") -> Tensor:
    r"""The per-sample terms of the perceptual path length (Karras et al. 2019, Sec. 4.2).

    .. math::
        \mathrm{PPL} = \mathbb{E}_{a, b, t \sim U(0, 1)}\Big[\frac{1}{\epsilon^2}\,
        d\big(g(p(a, b; t)),\ g(p(a, b; t + \epsilon))\big)\Big]

    with ``p`` = lerp in w (:math:`(1 - t) a + t b`) or slerp in z (:func:`slerp`), ``g`` the
    generator from that space and ``d`` a squared perceptual distance. A small PPL means small
    steps in the latent space make small changes in the picture: a smoother, less entangled space.

    Args:
        render: latents ``(N, D)`` -> images ``(N, C, H, W)``.
        distance: two image batches -> ``(N,)`` squared distances.
        a, b: ``(N, D)`` path ends; t: ``(N,)`` in [0, 1 - eps].
        eps: the finite-difference step.
        path: ``"lerp"`` or ``"slerp"``.

    Returns:
        ``(N,)``; their mean is the PPL estimate.
    """
    if path not in ("lerp", "slerp"):
        raise ConfigError(f"path must be 'lerp' (w) or 'slerp' (z), got {path!r}.")
    if not (isinstance(eps, float) and 0 < eps < 1):
        raise ConfigError(f"eps must be a float in (0, 1), got {eps!r}.")
    if a.shape != b.shape or a.ndim != 2 or t.shape != (a.shape[0],):
        raise ShapeError(f"a, b must be (N, D) and t (N,); got {tuple(a.shape)}, {tuple(b.shape)}, {tuple(t.shape)}.")
    if path == "lerp":
        p0 = torch.lerp(a, b, t[:, None])
        p1 = torch.lerp(a, b, (t + eps)[:, None])
    else:
        p0, p1 = slerp(a, b, t), slerp(a, b, t + eps)
    return distance(render(p0), render(p1)) / eps**2


def _double_copy(model: nn.Module) -> nn.Module:
    import copy

    out = copy.deepcopy(model).double().eval()
    out.requires_grad_(False)
    return out


@torch.no_grad()
def ppl_z_and_w(G: StyleGenerator, features: Callable[[Tensor], Tensor], n: int = 500, eps: float = 1e-4,
                seed: int = 0, batch: int = 250) -> dict[str, float]:
    r"""PPL of StyleGAN-lite in z (slerp, through the mapping) and in w (lerp), with the same pairs and noise.

    ``d(x, y) = \|f(x) - f(y)\|^2`` with ``f`` = ``features`` (the GAN Lab's classifier feature
    layer, the space FID and KID are measured in; LPIPS's VGG features are for colour photos, not
    28 px digits). Computed in float64 (a step of ``eps = 1e-4`` divided by ``eps^2`` is beyond
    float32's resolution), noise inputs the same for both ends of each step.

    Returns:
        ``{"ppl_z", "ppl_w", "ppl_z_sem", "ppl_w_sem"}`` (mean and standard error over ``n`` pairs).
    """
    if not isinstance(n, int) or n < 2:
        raise ConfigError(f"n must be an integer >= 2, got {n!r}.")
    g = _double_copy(G)
    dev = next(g.parameters()).device
    gen = torch.Generator(device=dev).manual_seed(seed)

    def distance(x: Tensor, y: Tensor) -> Tensor:
        return (features(x) - features(y)).square().sum(dim=1)

    out: dict[str, list[Tensor]] = {"z": [], "w": []}
    for start in range(0, n, batch):
        m = min(batch, n - start)
        z1 = torch.randn(m, g.latent_dim, generator=gen, device=dev, dtype=torch.float64)
        z2 = torch.randn(m, g.latent_dim, generator=gen, device=dev, dtype=torch.float64)
        t = torch.rand(m, generator=gen, device=dev, dtype=torch.float64) * (1 - eps)
        noise_seed = int(torch.randint(2**62, (1,), generator=gen, device=dev))

        def synth(ws: Tensor, s: int = noise_seed) -> Tensor:
            with g.noise_from(torch.Generator(device=dev).manual_seed(s)):  # the same noise at both ends
                return g.synthesis(g.broadcast(ws))

        out["z"].append(perceptual_path_length(lambda z: synth(g.mapping(z)), distance, z1, z2, t, eps, "slerp"))
        out["w"].append(perceptual_path_length(synth, distance, g.mapping(z1), g.mapping(z2), t, eps, "lerp"))
    res: dict[str, float] = {}
    for space, parts in out.items():
        v = torch.cat(parts)
        res[f"ppl_{space}"] = float(v.mean())
        res[f"ppl_{space}_sem"] = float(v.std() / math.sqrt(v.numel()))
    return res


@torch.no_grad()
def mixing_grid(G: StyleGenerator, coarse_z: Tensor, fine_z: Tensor, crossover: int | None = None,
                noise: bool = False, seed: int = 0) -> Tensor:
    """The style-mixing grid ``(R + 1, C + 1, ch, S, S)`` in [-1, 1] (eval mode).

    Row 0 holds the ``C`` images of ``fine_z`` (columns), column 0 the ``R`` images of
    ``coarse_z`` (rows); cell ``(r, c)`` takes its coarse styles (layers ``< crossover``, default
    :attr:`StyleGenerator.coarse_layers`) from row ``r`` and its fine styles from column ``c``.
    The top-left corner is blank (-1). Noise off by default, or drawn from ``seed``.
    """
    crossover = G.coarse_layers if crossover is None else crossover
    was = G.training
    G.eval()
    try:
        w_rows, w_cols = G.mapping(coarse_z), G.mapping(fine_z)  # (R, W), (C, W)
        r, c = w_rows.shape[0], w_cols.shape[0]
        w1 = w_rows[:, None].expand(r, c, -1).reshape(r * c, -1)
        w2 = w_cols[None, :].expand(r, c, -1).reshape(r * c, -1)
        with G.noise_from(torch.Generator(device=coarse_z.device).manual_seed(seed), enabled=noise):
            mixed = G.synthesis(style_mix(w1, w2, crossover, G.num_layers)).reshape(r, c, *G.synthesis(
                G.broadcast(w_rows[:1])).shape[1:])
            rows = G.synthesis(G.broadcast(w_rows))  # (R, ch, S, S)
            cols = G.synthesis(G.broadcast(w_cols))  # (C, ch, S, S)
    finally:
        G.train(was)
    grid = torch.full((r + 1, c + 1, *rows.shape[1:]), -1.0, dtype=rows.dtype, device=rows.device)
    grid[0, 1:], grid[1:, 0], grid[1:, 1:] = cols, rows, mixed
    return grid


@torch.no_grad()
def noise_effect(G: StyleGenerator, z: Tensor, draws: int = 8, seed: int = 0) -> dict[str, Tensor]:
    """What the noise inputs do for fixed styles: ``z`` ``(N, Z)``, eval mode.

    Returns ``{"off": (N, ch, S, S)`` without noise, ``"on": (draws, N, ch, S, S)`` with ``draws``
    noise draws (from ``seed``), ``"std": (N, ch, S, S)`` the per-pixel standard deviation over
    the draws (where the noise acts), ``"strength": (L - 1,)`` the learned scales :math:`\\gamma`}.
    """
    if not isinstance(draws, int) or draws < 2:
        raise ConfigError(f"draws must be an integer >= 2, got {draws!r}.")
    was = G.training
    G.eval()
    try:
        ws = G.broadcast(G.mapping(z))
        with G.noise_from(None, enabled=False):
            off = G.synthesis(ws)
        with G.noise_from(torch.Generator(device=z.device).manual_seed(seed), enabled=True):
            on = torch.stack([G.synthesis(ws) for _ in range(draws)])
    finally:
        G.train(was)
    strength = torch.stack([layer.noise_strength.detach() for layer in G.layers])
    return {"off": off, "on": on, "std": on.std(dim=0), "strength": strength}


@torch.no_grad()
def truncated_samples(G: StyleGenerator, z: Tensor, w_mean: Tensor, psi: float, noise: bool = True,
                      seed: int = 0) -> Tensor:
    """G's images of ``z`` ``(N, Z)`` with styles :func:`truncate`-d by ``psi``: ``(N, ch, S, S)`` (eval mode)."""
    was = G.training
    G.eval()
    try:
        ws = G.broadcast(truncate(G.mapping(z), w_mean, psi))
        with G.noise_from(torch.Generator(device=z.device).manual_seed(seed), enabled=noise):
            return torch.cat([G.synthesis(ws[i : i + 1000]) for i in range(0, ws.shape[0], 1000)])
    finally:
        G.train(was)


def truncation_curve(G: StyleGenerator, evaluate: Callable[[Tensor], Mapping[str, object]],
                     psis: Sequence[float] = (0.0, 0.25, 0.5, 0.7, 0.85, 1.0), n: int = 1000,
                     seed: int = 0) -> list[dict[str, float]]:
    """FID, KID and classifier confidence against psi (the same ``n`` codes z for every psi).

    ``evaluate``: images ``(n, 1, S, S)`` -> ``{"fid", "kid", "confidence", ...}``
    (:meth:`stylelab.gan.classifier.ImageEvaluator.evaluate`). ``w_mean`` from 10,000 codes of ``seed + 1``.
    Lower psi: typical-looking, more confident digits but less variety, so FID first improves
    (or not) and then grows as the samples crowd at the mean.
    """
    dev = G.const.device
    gen = torch.Generator(device=dev).manual_seed(seed)
    z = torch.randn(n, G.latent_dim, generator=gen, device=dev)
    w_mean = estimate_w_mean(G.mapping, G.latent_dim, torch.Generator(device=dev).manual_seed(seed + 1), device=dev)
    rows = []
    for psi in psis:
        res = evaluate(truncated_samples(G, z, w_mean, float(psi), seed=seed).cpu())
        rows.append({"psi": float(psi), "fid": float(res["fid"]), "kid": float(res["kid"]),
                     "confidence": float(res["confidence"]), "coverage": float(res["coverage"])})
    return rows


@torch.no_grad()
def interpolation_strips(G: StyleGenerator, z1: Tensor, z2: Tensor, steps: int = 8, seed: int = 0) -> dict[str, Tensor]:
    """Images along the path from ``z1`` to ``z2`` ``(Z,)``: slerp in z and lerp in w, ``steps`` each.

    Returns ``{"z": (steps, ch, S, S), "w": (steps, ch, S, S)}`` (eval mode, the same noise for
    every image, from ``seed``). The path in z goes through the mapping at every point; the path
    in w is the straight line between the two styles.
    """
    if not isinstance(steps, int) or steps < 2:
        raise ConfigError(f"steps must be an integer >= 2, got {steps!r}.")
    was = G.training
    G.eval()
    try:
        t = torch.linspace(0, 1, steps, device=z1.device)
        a, b = z1[None].expand(steps, -1), z2[None].expand(steps, -1)
        radius = 0.5 * (z1.norm() + z2.norm())  # slerp keeps directions; pixel norm ignores the length anyway
        path_z = slerp(a, b, t) * radius
        path_w = torch.lerp(G.mapping(a[:1]), G.mapping(b[:1]), t[:, None])
        out = {}
        for name, ws in (("z", G.mapping(path_z)), ("w", path_w)):
            with G.noise_from(torch.Generator(device=z1.device).manual_seed(seed)):
                out[name] = G.synthesis(G.broadcast(ws))
    finally:
        G.train(was)
    return out


def float64_features(evaluator: object) -> Callable[[Tensor], Tensor]:
    """The feature map of an :class:`~stylelab.gan.classifier.ImageEvaluator` in float64 (for :func:`ppl_z_and_w`).

    Same features, divided by the same scale, as ``evaluator.features`` (which computes in float32).
    """
    net = _double_copy(evaluator.classifier.model)
    scale = float(evaluator.scale)

    def features(x: Tensor) -> Tensor:
        return net.features(x.double()) / scale  # (N, 64)

    return features


# ----------------------------------------------------------------------------- StyleGAN-lite against the DCGAN at equal time
def race(runs: Mapping[str, object], seconds: float, chunk: float = 5.0,
         snapshot_every: float = 30.0) -> dict[str, list[dict[str, object]]]:
    """Train several GAN runs for the same training time, taking turns, and keep G's weights along the way.

    Turns of about ``chunk`` seconds each (:func:`stylelab.run.advance`) alternate between the runs,
    so a machine whose load changes slows them alike; each run stops once its own clock
    (``run.seconds``, time spent stepping) reaches ``seconds``. A snapshot (``{"step", "seconds",
    "G"}``, G's state on the CPU) is kept whenever a run's clock passes a multiple of
    ``snapshot_every``, and at the end (a run that reaches its own ``total_steps`` first ends
    there). Returns name -> the run's snapshots.
    """
    from ..run import advance

    if not (seconds > 0 and chunk > 0 and snapshot_every > 0):
        raise ConfigError(f"seconds, chunk and snapshot_every must be > 0, got {seconds}, {chunk}, {snapshot_every}.")
    snaps: dict[str, list[dict[str, object]]] = {name: [] for name in runs}
    marks = {name: snapshot_every for name in runs}

    def keep(name: str, run: object) -> None:
        state = {k: v.detach().cpu().clone() for k, v in run.G.state_dict().items()}
        snaps[name].append({"step": int(run.step_count), "seconds": float(run.seconds), "G": state})

    def racing(run: object) -> bool:
        return run.seconds < seconds and not run.done  # a run with a length of its own may finish first

    while any(racing(r) for r in runs.values()):
        for name, run in runs.items():
            if not racing(run):
                continue
            advance(run, min(chunk, seconds - run.seconds))
            if run.seconds >= marks[name] or not racing(run):
                keep(name, run)
                marks[name] = (run.seconds // snapshot_every + 1) * snapshot_every
    return snaps


def quality_over_time(trainer: object, snapshots: Sequence[Mapping[str, object]], n: int = 1000,
                      seed: int = 3) -> list[dict[str, float]]:
    """FID, KID, confidence and class coverage of each snapshot's G, loaded into ``trainer`` (of the same model).

    The same ``n`` codes (``trainer.sample(n, seed=seed)``) and the trainer's evaluator for every
    snapshot; ``trainer``'s own G is restored afterwards.
    """
    before = {k: v.clone() for k, v in trainer.G.state_dict().items()}
    rows = []
    try:
        for snap in snapshots:
            trainer.G.load_state_dict(snap["G"])
            res = trainer.evaluator.evaluate(trainer.sample(n, seed=seed).cpu())
            rows.append({"step": int(snap["step"]), "seconds": float(snap["seconds"]),
                         **{k: float(res[k]) for k in ("fid", "kid", "confidence", "coverage")}})
    finally:
        trainer.G.load_state_dict(before)
    return rows
