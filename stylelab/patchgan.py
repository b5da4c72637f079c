"""PatchGAN discriminator (Isola et al. 2017, "pix2pix"), shared by style training and inpainting.

Instead of one real/fake score per image, a PatchGAN outputs a grid of logits, one per
overlapping receptive field (70x70 pixels for ``n_layers=3``): it judges local texture, which is
what an adversarial term should add on top of pixel or perceptual losses.

Shape:
    - Input: ``(N, C_in, H, W)``
    - Output: ``(N, 1, H', W')`` raw logits (no sigmoid: losses in ``stylelab.losses.adversarial``
      apply the right link function for each GAN objective to EVERY patch logit, then average over
      patches and samples; a sample's critic score, e.g. for the gradient penalty, is the mean of its
      patch scores).
"""

from __future__ import annotations

from typing import Literal

from torch import Tensor, nn

from .errors import ConfigError


def _norm(kind: str, ch: int) -> nn.Module:
    if kind == "instance":
        return nn.InstanceNorm2d(ch, affine=True)
    if kind == "batch":
        return nn.BatchNorm2d(ch)
    if kind == "none":
        return nn.Identity()
    raise ConfigError(f"Unknown norm {kind!r}; choose instance, batch or none.")


class PatchDiscriminator(nn.Module):
    """C64-C128-C256-C512 PatchGAN (4x4 convs, LeakyReLU 0.2), scaled by ``base_channels``.

    Args:
        in_channels: image channels (3, or 4 when a mask channel is appended).
        base_channels: width of the first layer (64 in pix2pix; 32 is plenty on a CPU).
        n_layers: number of stride-2 downsampling layers (receptive field 70 px for 3).
        norm: ``"instance"``, ``"batch"`` or ``"none"`` (use ``"none"`` with WGAN-GP).
        spectral: wrap convolutions in spectral normalisation (Miyato et al. 2018).
    """

    def __init__(
        self,
        in_channels: int = 3,
        base_channels: int = 64,
        n_layers: int = 3,
        norm: Literal["instance", "batch", "none"] = "instance",
        spectral: bool = False,
    ) -> None:
        super().__init__()
        if n_layers < 1 or base_channels < 1 or in_channels < 1:
            raise ConfigError("PatchDiscriminator needs n_layers, base_channels, in_channels >= 1.")
        sn = nn.utils.spectral_norm if spectral else (lambda m: m)
        layers: list[nn.Module] = [sn(nn.Conv2d(in_channels, base_channels, 4, 2, 1)), nn.LeakyReLU(0.2, True)]
        ch = base_channels
        for i in range(1, n_layers + 1):
            nxt = base_channels * min(2**i, 8)
            stride = 2 if i < n_layers else 1
            layers += [sn(nn.Conv2d(ch, nxt, 4, stride, 1, bias=norm == "none")), _norm(norm, nxt), nn.LeakyReLU(0.2, True)]
            ch = nxt
        layers.append(sn(nn.Conv2d(ch, 1, 4, 1, 1)))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)  # (N, 1, H', W') logits
