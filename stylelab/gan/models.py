"""Generators and discriminators for small GANs.

- :class:`MLPGenerator` / :class:`MLPDiscriminator`: 2-D points (GAN Lab's toy world).
- :class:`DCGenerator` / :class:`DCDiscriminator`: DCGAN-style convolutional nets for 8x8 and 28x28
  greyscale images, optionally class-conditional.

DCGAN rules (Radford et al. 2016) followed here: strided (transposed) convolutions instead of
pooling, batch norm in G (and in D, except for WGAN-GP whose gradient penalty is per sample, so D
uses no batch norm there), ReLU in G with ``tanh`` output, LeakyReLU(0.2) in D, no hidden fully
connected layers beyond the projection from z, weights drawn from N(0, 0.02).

Discriminators return raw logits/scores ``(N,)``: each GAN objective in
``stylelab.losses.adversarial`` applies its own link function.

Class-conditional variant: G concatenates a learned label embedding to z; D is a projection
discriminator (Miyato & Koyama 2018): ``D(x, y) = w^T h(x) + e_y^T h(x)``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..errors import ConfigError, ShapeError


def _check_int(name: str, value: int, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not (low <= value <= high):
        raise ConfigError(f"{name} must be an integer in [{low}, {high}], got {value!r}.")
    return value


class MLPGenerator(nn.Module):
    """z ``(N, latent_dim)`` -> point ``(N, 2)``: ``depth`` hidden ReLU layers of width ``hidden``."""

    def __init__(self, latent_dim: int = 2, hidden: int = 64, depth: int = 2, out_dim: int = 2) -> None:
        super().__init__()
        _check_int("latent_dim", latent_dim, 1, 512)
        _check_int("hidden", hidden, 4, 1024)
        _check_int("depth", depth, 1, 8)
        layers: list[nn.Module] = []
        width = latent_dim
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        layers.append(nn.Linear(width, out_dim))
        self.net = nn.Sequential(*layers)
        self.latent_dim = latent_dim

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.net(z)  # (N, 2)


class MLPDiscriminator(nn.Module):
    """point ``(N, 2)`` -> logit ``(N,)``: ``depth`` hidden LeakyReLU(0.2) layers of width ``hidden``."""

    def __init__(self, in_dim: int = 2, hidden: int = 64, depth: int = 2) -> None:
        super().__init__()
        _check_int("hidden", hidden, 4, 1024)
        _check_int("depth", depth, 1, 8)
        layers: list[nn.Module] = []
        width = in_dim
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
            width = hidden
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.net(x).squeeze(1)  # (N,)


def _start_size(image_size: int) -> int:
    if image_size not in (8, 16, 28, 32):
        raise ConfigError(f"DCGAN image size must be 8, 16, 28 or 32 pixels, got {image_size!r}.")
    return image_size // 4


def dcgan_init(module: nn.Module) -> None:
    """DCGAN initialisation: conv weights ~ N(0, 0.02), batch-norm scale ~ N(1, 0.02), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def _reset(module: nn.Module, generator: torch.Generator, dcgan: bool) -> None:
    """Initialise every parameter of ``module`` in place from ``generator`` (never the global RNG).

    ``dcgan``: the DCGAN rule (weights ~ N(0, 0.02), batch-norm scale ~ N(1, 0.02), biases 0).
    Otherwise torch's own default for the layer: ``W ~ U(-b, b)`` with the Kaiming-uniform bound
    ``b = sqrt(6 / ((1 + a^2) fan_in))``, ``a = sqrt(5)`` (i.e. ``b = 1 / sqrt(fan_in)``), and the
    bias ``~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))``. Embeddings ``~ N(0, 1)`` as in torch.
    """
    done: set[int] = set()
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                if dcgan:
                    m.weight.normal_(0.0, 0.02, generator=generator)
                    if m.bias is not None:
                        m.bias.zero_()
                else:
                    nn.init.kaiming_uniform_(m.weight, a=5**0.5, generator=generator)
                    if m.bias is not None:
                        fan_in, _ = nn.init._calculate_fan_in_and_fan_out(m.weight)
                        bound = 1 / fan_in**0.5 if fan_in > 0 else 0.0
                        m.bias.uniform_(-bound, bound, generator=generator)
            elif isinstance(m, nn.BatchNorm2d):
                m.reset_running_stats()
                if dcgan:
                    m.weight.normal_(1.0, 0.02, generator=generator)
                else:
                    m.weight.fill_(1.0)
                m.bias.zero_()
            elif isinstance(m, nn.Embedding):
                m.weight.normal_(0.0, 1.0, generator=generator)
            else:
                if any(True for _ in m.parameters(recurse=False)) or any(True for _ in m.buffers(recurse=False)):
                    raise ConfigError(f"No seeded initialisation for a {type(m).__name__} layer.")
                continue
            done.update(id(t) for t in m.parameters(recurse=False))
            done.update(id(t) for t in m.buffers(recurse=False))
    missed = [n for n, t in [*module.named_parameters(), *module.named_buffers()] if id(t) not in done]
    if missed:  # pragma: no cover - a new layer type above
        raise ConfigError(f"Seeded initialisation left {missed} unset.")


def build_seeded(factory, generator: torch.Generator) -> nn.Module:  # noqa: ANN001 - a zero-argument callable
    """``factory()`` built without touching torch's global RNG, its weights drawn from ``generator``.

    The module is constructed on the ``meta`` device (layer constructors draw their default
    initialisation from the global RNG, which every thread and Streamlit session shares), then
    materialised on the CPU and initialised by :func:`_reset` from the run's own CPU generator,
    so the same seed gives the same weights on every device and every DDP rank.
    """
    with torch.device("meta"):
        module = factory()
    module = module.to_empty(device="cpu")
    own = getattr(module, "reset_parameters_from", None)
    if callable(own):  # a model with parameters of its own kinds (StyleGAN-lite) initialises itself
        own(generator)
        return module
    _reset(module, generator, dcgan=isinstance(module, (DCGenerator, DCDiscriminator)))
    return module


class DCGenerator(nn.Module):
    """DCGAN generator: z -> (2c, s/4, s/4) -> (c, s/2, s/2) -> (channels, s, s) in [-1, 1].

    Args:
        latent_dim: size of z.
        image_size: 8, 16, 28 or 32.
        channels: image channels (1 for digits and clothes).
        base_channels: ``c`` above (32 by default: small and fast on a CPU).
        num_classes: > 0 for a class-conditional generator.
    """

    def __init__(self, latent_dim: int = 64, image_size: int = 28, channels: int = 1,
                 base_channels: int = 32, num_classes: int = 0) -> None:
        super().__init__()
        _check_int("latent_dim", latent_dim, 1, 1024)
        _check_int("base_channels", base_channels, 4, 512)
        _check_int("num_classes", num_classes, 0, 1000)
        s = _start_size(image_size)
        c = base_channels
        self.latent_dim, self.num_classes, self.image_size = latent_dim, num_classes, image_size
        self.embed = nn.Embedding(num_classes, latent_dim) if num_classes else None
        in_dim = latent_dim * (2 if num_classes else 1)
        self.project = nn.Sequential(nn.Linear(in_dim, 2 * c * s * s, bias=False))
        self.body = nn.Sequential(
            nn.Unflatten(1, (2 * c, s, s)),
            nn.BatchNorm2d(2 * c), nn.ReLU(),
            nn.ConvTranspose2d(2 * c, c, 4, 2, 1, bias=False),  # (c, 2s, 2s)
            nn.BatchNorm2d(c), nn.ReLU(),
            nn.ConvTranspose2d(c, channels, 4, 2, 1),  # (channels, 4s, 4s)
            nn.Tanh(),
        )
        dcgan_init(self)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ShapeError(f"z must be (N, {self.latent_dim}), got {tuple(z.shape)}.")
        if self.embed is not None:
            if labels is None:
                raise ShapeError("This generator is class-conditional: pass labels (N,).")
            z = torch.cat([z, self.embed(labels)], dim=1)  # (N, 2 * latent_dim)
        return self.body(self.project(z))  # (N, C, H, W)


class DCDiscriminator(nn.Module):
    """DCGAN discriminator: (C, s, s) -> (c, s/2, s/2) -> (2c, s/4, s/4) -> score ``(N,)``.

    Args:
        image_size: 8, 16, 28 or 32.
        channels: image channels.
        base_channels: ``c`` above.
        num_classes: > 0 for a projection discriminator.
        batch_norm: batch norm after the second conv (DCGAN); turn off for WGAN-GP.
    """

    def __init__(self, image_size: int = 28, channels: int = 1, base_channels: int = 32,
                 num_classes: int = 0, batch_norm: bool = True) -> None:
        super().__init__()
        _check_int("base_channels", base_channels, 4, 512)
        _check_int("num_classes", num_classes, 0, 1000)
        s = _start_size(image_size)
        c = base_channels
        self.num_classes, self.image_size, self.channels = num_classes, image_size, channels
        self.features = nn.Sequential(
            nn.Conv2d(channels, c, 4, 2, 1),  # (c, 2s, 2s)
            nn.LeakyReLU(0.2),
            nn.Conv2d(c, 2 * c, 4, 2, 1, bias=not batch_norm),  # (2c, s, s)
            nn.BatchNorm2d(2 * c) if batch_norm else nn.Identity(),
            nn.LeakyReLU(0.2),
            nn.Flatten(),  # (2c * s * s,)
        )
        feat = 2 * c * s * s
        self.head = nn.Linear(feat, 1)
        self.embed = nn.Embedding(num_classes, feat) if num_classes else None
        dcgan_init(self)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        if x.ndim != 4 or x.shape[1:] != (self.channels, self.image_size, self.image_size):
            raise ShapeError(
                f"Images must be (N, {self.channels}, {self.image_size}, {self.image_size}), got {tuple(x.shape)}."
            )
        h = self.features(x)  # (N, F)
        out = self.head(h).squeeze(1)  # (N,)
        if self.embed is not None:
            if labels is None:
                raise ShapeError("This discriminator is class-conditional: pass labels (N,).")
            out = out + (self.embed(labels) * h).sum(dim=1)  # projection term e_y^T h(x)
        return out
