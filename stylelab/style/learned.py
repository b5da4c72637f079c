r"""Learn a style: style encoder -> style code -> generator -> style-consistency discriminator.

The models of *personalised style learning* (the Style Studio's "Learn a style" tab), small enough to
train on a classroom CPU:

* :class:`StyleEncoder` :math:`E`: style examples -> a compact code :math:`z_s \in \mathbb{R}^d`
  (``d`` = 32-128). It reads the frozen VGG16 features of the examples (the same layers as the style
  loss), pools every channel to its mean and standard deviation (position-free statistics, like the
  Gram matrix) and maps them with a small MLP:

  .. math::
      z_s = W_2\,\mathrm{lrelu}\big(W_1\,\mathrm{LN}([\mu(F^l(s)), \sigma(F^l(s))]_{l}) + b_1\big) + b_2

  Several examples of one style: the mean of their codes (:func:`encode_examples`).
* :class:`StyledGenerator` :math:`G(c, z)`: a content encoder-decoder (the fast-style network's
  layout) whose residual and upsampling layers are modulated by the code through adaptive instance
  norm, each layer with its own affine map of the code:

  .. math::
      \mathrm{AdaIN}(h; z) = (1 + \gamma(z))\,\frac{h - \mu(h)}{\sigma(h)} + \beta(z), \qquad
      [\gamma(z), \beta(z)] = A z + a

  (``1 +``: a zero code leaves plain instance norm.) Shapes: ``(N, 3, H, W), (N, d) -> (N, 3, H, W)``.
* :class:`StyleConsistencyD` :math:`D_{cons}(x, s)`: does image ``x`` belong with style ``s``? A
  patch trunk :math:`\phi` reads ``x``; the style enters through a projection head (Miyato & Koyama
  2018), from a style example (:math:`v = P\,\overline{\phi(s)}`, the trunk's pooled features) or from
  a code (:math:`v = Q z`):

  .. math::
      D_{cons}(x, s)_{ij} = w^\top \phi(x)_{ij} + b + \frac{1}{\sqrt{C}}\,\langle \phi(x)_{ij},\ v\rangle

  one logit per patch ``(N, 1, h, w)``. Real pairs: two crops of the same painting; fake pairs: the
  generator's output with the style it was given (and, by default, crops of two different paintings).
* the realism discriminator is the shared :class:`stylelab.patchgan.PatchDiscriminator`
  (:func:`realism_discriminator`).

All weights are initialised from a run's generator by :func:`stylelab.style.train_fast.seeded_module`
(never from torch's global RNG). The losses are in :mod:`stylelab.losses` and
:mod:`stylelab.style.learned_losses`; the training run in :mod:`stylelab.style.learned_train`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError, ShapeError
from .transformer_net import ConvLayer

#: the VGG16 layers the encoder reads (the style loss's layers, Johnson et al.)
CODE_LAYERS: tuple[str, ...] = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
#: channels of those layers in VGG16
VGG16_CHANNELS: dict[str, int] = {"relu1_1": 64, "relu1_2": 64, "relu2_1": 128, "relu2_2": 128, "relu3_1": 256,
                                  "relu3_2": 256, "relu3_3": 256, "relu4_1": 512, "relu4_2": 512, "relu4_3": 512,
                                  "relu5_1": 512, "relu5_2": 512, "relu5_3": 512}


def channel_statistics(features: Mapping[str, torch.Tensor], layers: Sequence[str], eps: float = 1e-5) -> torch.Tensor:
    r"""Per-channel mean and standard deviation of every layer, concatenated.

    .. math::
        \mu_c = \frac{1}{HW}\sum_{ij} F_{cij}, \qquad \sigma_c = \sqrt{\frac{1}{HW}\sum_{ij}(F_{cij} - \mu_c)^2 + \varepsilon}

    Args:
        features: ``{layer: (N, C_l, H_l, W_l)}``.
        layers: which layers, in order.

    Returns:
        ``(N, sum_l 2 C_l)`` (fp32): ``[mu_l1, sigma_l1, mu_l2, ...]``.
    """
    parts = []
    for name in layers:
        if name not in features:
            raise ConfigError(f"The style encoder needs VGG layer {name!r}; got {sorted(features)}.")
        f = features[name].float()
        if f.ndim != 4:
            raise ShapeError(f"Features {name!r} must be (N, C, H, W); got {tuple(f.shape)}.")
        flat = f.flatten(2)  # (N, C, HW)
        mu = flat.mean(2)
        sigma = torch.sqrt(flat.var(2, unbiased=False) + eps)
        parts += [mu, sigma]
    return torch.cat(parts, 1)


class StyleEncoder(nn.Module):
    r"""Style examples' VGG features -> style code ``(N, code_dim)`` (see the module docstring).

    Args:
        code_dim: size ``d`` of the code.
        hidden: width of the MLP's hidden layer.
        layers: VGG16 layers read (default :data:`CODE_LAYERS`).
    """

    def __init__(self, code_dim: int = 64, hidden: int = 128, layers: Sequence[str] = CODE_LAYERS) -> None:
        super().__init__()
        if code_dim < 1 or hidden < 1:
            raise ConfigError(f"StyleEncoder needs code_dim, hidden >= 1; got {code_dim}, {hidden}.")
        unknown = [n for n in layers if n not in VGG16_CHANNELS]
        if unknown or not layers:
            raise ConfigError(f"StyleEncoder reads VGG16 ReLU layers; got {list(layers)}.")
        self.code_dim, self.layers = int(code_dim), tuple(layers)
        n_in = sum(2 * VGG16_CHANNELS[n] for n in self.layers)
        self.norm = nn.LayerNorm(n_in)
        self.fc1 = nn.Linear(n_in, hidden)
        self.fc2 = nn.Linear(hidden, code_dim)

    def forward(self, features: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """``{layer: (N, C, H, W)}`` -> ``(N, code_dim)``."""
        stats = channel_statistics(features, self.layers)  # (N, sum 2C)
        return self.fc2(F.leaky_relu(self.fc1(self.norm(stats)), 0.2))


class AdaIN(nn.Module):
    r""":math:`(1 + \gamma(z))\,\mathrm{IN}(h) + \beta(z)` with ``[gamma, beta] = Linear(z)``.

    Shapes: ``h (N, C, H, W)``, ``z (N, d)`` -> ``(N, C, H, W)``.
    """

    def __init__(self, channels: int, code_dim: int) -> None:
        super().__init__()
        self.channels = int(channels)
        self.norm = nn.InstanceNorm2d(channels, affine=False)
        self.affine = nn.Linear(code_dim, 2 * channels)

    def forward(self, h: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        gb = self.affine(z)  # (N, 2C)
        gamma, beta = gb[:, : self.channels, None, None], gb[:, self.channels :, None, None]
        return (1 + gamma) * self.norm(h) + beta


class _ModConv(nn.Module):
    """[nearest x``upsample``] -> reflection pad -> conv -> AdaIN(z) -> [ReLU]."""

    def __init__(self, cin: int, cout: int, code_dim: int, kernel: int = 3, upsample: int = 1, relu: bool = True) -> None:
        super().__init__()
        self.upsample, self.relu = upsample, relu
        self.pad = nn.ReflectionPad2d(kernel // 2)
        self.conv = nn.Conv2d(cin, cout, kernel)
        self.ada = AdaIN(cout, code_dim)

    def forward(self, h: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        if self.upsample > 1:
            h = F.interpolate(h, scale_factor=self.upsample, mode="nearest")
        h = self.ada(self.conv(self.pad(h)), z)
        return F.relu(h) if self.relu else h


class _ModResBlock(nn.Module):
    """``h + AdaIN(conv(ReLU(AdaIN(conv(h)))))``."""

    def __init__(self, ch: int, code_dim: int) -> None:
        super().__init__()
        self.a = _ModConv(ch, ch, code_dim)
        self.b = _ModConv(ch, ch, code_dim, relu=False)

    def forward(self, h: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return h + self.b(self.a(h, z), z)


class StyledGenerator(nn.Module):
    r"""Content encoder-decoder modulated by the style code (see the module docstring).

    Layout (``w = width``)::

        conv 9x9 (w) -> conv 3x3 /2 (2w) -> conv 3x3 /2 (4w)          content encoder, plain IN + ReLU
        n_res x residual block (4w), both convs AdaIN(z)              the style enters here
        nearest x2 + conv (2w) + AdaIN(z) -> nearest x2 + conv (w) + AdaIN(z)
        conv 9x9 (3) -> sigmoid                                       an image in (0, 1)

    Shapes: ``c (N, 3, H, W)``, ``z (N, code_dim)`` (or ``(code_dim,)``, broadcast) -> ``(N, 3, H, W)``;
    any ``H, W`` (padded to a multiple of 4 inside, cropped back).
    """

    def __init__(self, code_dim: int = 64, width: int = 16, n_res: int = 4) -> None:
        super().__init__()
        if code_dim < 1 or width < 1 or n_res < 0:
            raise ConfigError(f"StyledGenerator needs code_dim, width >= 1 and n_res >= 0; got {code_dim}, {width}, {n_res}.")
        self.code_dim, self.width, self.n_res = int(code_dim), int(width), int(n_res)
        w = self.width
        self.contract = nn.Sequential(ConvLayer(3, w, 9), ConvLayer(w, 2 * w, 3, 2), ConvLayer(2 * w, 4 * w, 3, 2))
        self.res = nn.ModuleList([_ModResBlock(4 * w, code_dim) for _ in range(self.n_res)])
        self.up1 = _ModConv(4 * w, 2 * w, code_dim, upsample=2)
        self.up2 = _ModConv(2 * w, w, code_dim, upsample=2)
        self.out = ConvLayer(w, 3, 9, norm=False, relu=False)

    def forward(self, c: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        if c.ndim != 4 or c.shape[1] != 3:
            raise ShapeError(f"Expected content images of shape (N, 3, H, W); got {tuple(c.shape)}.")
        if z.ndim == 1:
            z = z.unsqueeze(0)
        if z.ndim != 2 or z.shape[1] != self.code_dim or z.shape[0] not in (1, c.shape[0]):
            raise ShapeError(f"Expected style codes of shape (N, {self.code_dim}) for {c.shape[0]} images; "
                             f"got {tuple(z.shape)}.")
        z = z.expand(c.shape[0], -1).to(c.dtype)
        h, w = c.shape[-2:]
        ph, pw = (-h) % 4, (-w) % 4
        x = F.pad(c, (0, pw, 0, ph), mode="reflect") if (ph or pw) else c
        x = self.contract(x)  # (N, 4w, H/4, W/4)
        for block in self.res:
            x = block(x, z)
        x = self.up2(self.up1(x, z), z)  # (N, w, H, W)
        return torch.sigmoid(self.out(x)[..., :h, :w])


class StyleConsistencyD(nn.Module):
    r"""Does image ``x`` belong with a style? Per-patch logits from a realism head and a pairing distance.

    Args:
        width: channels of the trunk's first layer (``C = 4 width`` at the end).
        code_dim: when given, a second head reads a style *code* instead of an example.

    ``forward(x, style=...)`` (a style example, ``(N, 3, h, w)``, any size) or ``forward(x, code=...)``
    ``(N, code_dim)``; returns patch logits ``(N, 1, H/8, W/8)`` (real pair high, fake pair low):

    .. math::
        D(x, s)_{p} = w^\top\phi_p(x) + b \;-\; \tfrac1C\big\|u(x) - u(s)\big\|^2, \qquad
        u(x) = \mathrm{MLP}\big([\mu(\phi(x)), \sigma(\phi(x))]\big)

    with :math:`\phi` the convolutional trunk and :math:`\mu, \sigma` the per-channel mean and standard
    deviation over all positions (the statistics that carry a style, as in AdaIN). The first term judges
    each patch (does it look like a painting?), the second the pair (are these two statistics close in a
    learned space?); a code enters as :math:`u = Pz` in place of :math:`u(s)`.

    Two designs that do **not** learn the pairing, found the hard way: an instance-normalised trunk (it
    gives every picture the same channel means and spreads, the very statistics that tell paintings apart),
    and a bilinear projection :math:`\phi_p(x)^\top P\,\bar\phi(s)` (a bilinear form cannot score "same" above
    "different" for every pair: :math:`t = 2s` scores twice as high as :math:`s` itself). A distance
    between global statistics can.
    """

    def __init__(self, width: int = 16, code_dim: int | None = None) -> None:
        super().__init__()
        if width < 1 or (code_dim is not None and code_dim < 1):
            raise ConfigError(f"StyleConsistencyD needs width >= 1 (and code_dim >= 1); got {width}, {code_dim}.")
        w = int(width)
        self.channels = c = 4 * w
        self.trunk = nn.Sequential(
            nn.Conv2d(3, w, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(w, 2 * w, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * w, c, 4, 2, 1), nn.LeakyReLU(0.2),
        )
        self.head = nn.Conv2d(c, 1, 1)
        self.embed = nn.Sequential(nn.Linear(2 * c, c), nn.LeakyReLU(0.2), nn.Linear(c, c))  # [mu, sigma] -> u
        self.code_proj = nn.Linear(code_dim, c) if code_dim is not None else None

    def statistics_embedding(self, features: torch.Tensor) -> torch.Tensor:
        r""":math:`u = \mathrm{MLP}([\mu, \sigma])` of trunk features ``(N, C, h, w)`` -> ``(N, C)``."""
        mu = features.mean((2, 3))
        sigma = (features.var((2, 3), unbiased=False) + 1e-8).sqrt()
        return self.embed(torch.cat([mu, sigma], 1))

    def style_vector(self, style: torch.Tensor | None = None, code: torch.Tensor | None = None) -> torch.Tensor:
        """The style's point ``u(s)`` (or ``P z`` for a code) ``(N, C)``."""
        if (style is None) == (code is None):
            raise ConfigError("Give the consistency discriminator either a style example or a style code.")
        if code is not None:
            if self.code_proj is None:
                raise ConfigError("This consistency discriminator was built without a code head (code_dim=None).")
            return self.code_proj(code)
        if style.ndim != 4 or style.shape[1] != 3:
            raise ShapeError(f"Expected style examples of shape (N, 3, H, W); got {tuple(style.shape)}.")
        return self.statistics_embedding(self.trunk(style))

    def forward(self, x: torch.Tensor, style: torch.Tensor | None = None,
                code: torch.Tensor | None = None) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ShapeError(f"Expected images of shape (N, 3, H, W); got {tuple(x.shape)}.")
        v = self.style_vector(style, code)  # (N, C)
        if v.shape[0] not in (1, x.shape[0]):
            raise ShapeError(f"{x.shape[0]} images but {v.shape[0]} styles.")
        phi = self.trunk(x)  # (N, C, h, w)
        pair = (self.statistics_embedding(phi) - v).pow(2).mean(1)  # (N,): squared distance / C
        return self.head(phi) - pair[:, None, None, None]  # (N, 1, h, w)


def realism_discriminator(width: int = 16) -> nn.Module:
    """The realism PatchGAN: :class:`stylelab.patchgan.PatchDiscriminator` ``(3 -> 1 logit per patch)``."""
    from ..patchgan import PatchDiscriminator

    return PatchDiscriminator(3, base_channels=width, n_layers=2)


def count_weights(module: nn.Module) -> int:
    """Number of trainable numbers in ``module``."""
    return sum(p.numel() for p in module.parameters())


__all__ = ["CODE_LAYERS", "channel_statistics", "StyleEncoder", "AdaIN", "StyledGenerator", "StyleConsistencyD",
           "realism_discriminator", "count_weights"]
