"""The two generators and two discriminators of a CycleGAN, for 2-D points and 28 px images.

- Points: G and F are MLPs from a point to a point (:class:`stylelab.gan.models.MLPGenerator`
  with a 2-d input), the discriminators :class:`stylelab.gan.models.MLPDiscriminator`.
- Images: :class:`TranslationGenerator`, a small version of the CycleGAN/Johnson et al. network
  (two stride-2 convolutions down, residual blocks, two transposed convolutions up, ``tanh``),
  with instance norm; the discriminators are :class:`stylelab.gan.models.DCDiscriminator`
  without batch norm (LSGAN scores ``(N,)``).

Every model is built by :func:`stylelab.gan.models.build_seeded` from the run's own generator.
"""

from __future__ import annotations

from torch import Tensor, nn

from ..errors import ConfigError, ShapeError
from ..gan.models import DCDiscriminator, MLPDiscriminator, MLPGenerator


class ResidualBlock(nn.Module):
    """``x + conv-IN-ReLU-conv-IN(x)`` at constant shape ``(N, C, h, w)`` (reflection padding)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels), nn.ReLU(),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)  # (N, C, h, w)


class TranslationGenerator(nn.Module):
    """Image -> image of the same size: ``(N, C, s, s)`` in [-1, 1] -> ``(N, C, s, s)`` in [-1, 1].

    ``c``-channel conv at full size, two stride-2 convs to ``(4c, s/4, s/4)``, ``res_blocks``
    residual blocks there, two transposed convs back up, a 3x3 conv and ``tanh``. ``s`` must be
    divisible by 4 (28 px: 28 -> 14 -> 7 -> 14 -> 28).
    """

    def __init__(self, channels: int = 1, base_channels: int = 16, res_blocks: int = 2, image_size: int = 28) -> None:
        super().__init__()
        for name, value, low, high in (("base_channels", base_channels, 4, 128), ("res_blocks", res_blocks, 0, 9),
                                       ("channels", channels, 1, 4)):
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise ConfigError(f"{name} must be an integer in [{low}, {high}], got {value!r}.")
        if image_size % 4:
            raise ConfigError(f"The translation generator needs an image size divisible by 4, got {image_size}.")
        c = base_channels
        self.channels, self.image_size = channels, image_size
        self.net = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, c, 3), nn.InstanceNorm2d(c), nn.ReLU(),  # (c, s, s)
            nn.Conv2d(c, 2 * c, 4, 2, 1), nn.InstanceNorm2d(2 * c), nn.ReLU(),  # (2c, s/2, s/2)
            nn.Conv2d(2 * c, 4 * c, 4, 2, 1), nn.InstanceNorm2d(4 * c), nn.ReLU(),  # (4c, s/4, s/4)
            *[ResidualBlock(4 * c) for _ in range(res_blocks)],
            nn.ConvTranspose2d(4 * c, 2 * c, 4, 2, 1), nn.InstanceNorm2d(2 * c), nn.ReLU(),  # (2c, s/2, s/2)
            nn.ConvTranspose2d(2 * c, c, 4, 2, 1), nn.InstanceNorm2d(c), nn.ReLU(),  # (c, s, s)
            nn.ReflectionPad2d(1), nn.Conv2d(c, channels, 3), nn.Tanh(),  # (C, s, s) in [-1, 1]
        )

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1:] != (self.channels, self.image_size, self.image_size):
            raise ShapeError(f"Images must be (N, {self.channels}, {self.image_size}, {self.image_size}); "
                             f"got {tuple(x.shape)}.")
        return self.net(x)  # (N, C, s, s)


def point_generator(hidden: int = 64, depth: int = 3) -> nn.Module:
    """A point -> point MLP ``(N, 2) -> (N, 2)``: G or F of the 2-D CycleGAN."""
    return MLPGenerator(latent_dim=2, hidden=hidden, depth=depth, out_dim=2)


def point_discriminator(hidden: int = 64, depth: int = 3) -> nn.Module:
    """``(N, 2)`` -> logit ``(N,)``."""
    return MLPDiscriminator(2, hidden, depth)


def image_discriminator(base_channels: int = 16, image_size: int = 28) -> nn.Module:
    """``(N, 1, s, s)`` -> score ``(N,)``: the DCGAN discriminator without batch norm."""
    return DCDiscriminator(image_size, 1, base_channels, batch_norm=False)


__all__ = ["ResidualBlock", "TranslationGenerator", "image_discriminator", "point_discriminator", "point_generator"]
