"""Johnson et al. (2016) image transformation network for fast (feed-forward) style transfer.

One forward pass replaces the whole Gatys optimisation: the network is *trained* to minimise the
same perceptual loss over many content photos, for one fixed style.

Architecture (``width=32, n_res=5`` is the paper's; smaller defaults train on a CPU in minutes)::

    conv 9x9 (w) -> conv 3x3 /2 (2w) -> conv 3x3 /2 (4w)        # contract, InstanceNorm + ReLU
    n_res x residual block (4w)                                 # conv-IN-ReLU-conv-IN + skip
    nearest x2 + conv 3x3 (2w) -> nearest x2 + conv 3x3 (w)      # expand (no checkerboard)
    conv 9x9 (3) -> sigmoid                                      # back to an image in (0, 1)

Reflection padding everywhere (no dark borders). Shape: ``(N, 3, H, W) -> (N, 3, H, W)`` for
``H, W`` multiples of 4.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError, ShapeError


class ConvLayer(nn.Module):
    """[nearest x``upsample``] -> reflection pad -> conv -> [InstanceNorm] -> [ReLU]."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, upsample: int = 1,
                 norm: bool = True, relu: bool = True) -> None:
        super().__init__()
        self.upsample = upsample
        self.pad = nn.ReflectionPad2d(kernel // 2)
        self.conv = nn.Conv2d(cin, cout, kernel, stride)
        self.norm = nn.InstanceNorm2d(cout, affine=True) if norm else nn.Identity()
        self.relu = relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.upsample > 1:
            x = F.interpolate(x, scale_factor=self.upsample, mode="nearest")  # (N, C, 2H, 2W)
        x = self.norm(self.conv(self.pad(x)))
        return F.relu(x) if self.relu else x


class ResidualBlock(nn.Module):
    """``x + IN(conv(ReLU(IN(conv(x)))))`` (He et al. 2016, as used by Johnson et al.)."""

    def __init__(self, ch: int) -> None:
        super().__init__()
        self.a = ConvLayer(ch, ch, 3)
        self.b = ConvLayer(ch, ch, 3, relu=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.b(self.a(x))


class TransformerNet(nn.Module):
    """The feed-forward style network. ``width`` = channels of the first layer."""

    def __init__(self, width: int = 16, n_res: int = 3) -> None:
        super().__init__()
        if width < 1 or n_res < 0:
            raise ConfigError(f"TransformerNet needs width >= 1 and n_res >= 0; got {width}, {n_res}.")
        self.width, self.n_res = int(width), int(n_res)
        w = self.width
        self.contract = nn.Sequential(ConvLayer(3, w, 9), ConvLayer(w, 2 * w, 3, 2), ConvLayer(2 * w, 4 * w, 3, 2))
        self.res = nn.Sequential(*[ResidualBlock(4 * w) for _ in range(self.n_res)])
        self.expand = nn.Sequential(ConvLayer(4 * w, 2 * w, 3, upsample=2), ConvLayer(2 * w, w, 3, upsample=2),
                                    ConvLayer(w, 3, 9, norm=False, relu=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ShapeError(f"Expected images of shape (N, 3, H, W); got {tuple(x.shape)}.")
        h, w = x.shape[-2:]
        ph, pw = (-h) % 4, (-w) % 4
        if ph or pw:  # two stride-2 convs: pad to a multiple of 4, crop after
            x = F.pad(x, (0, pw, 0, ph), mode="reflect")
        y = self.expand(self.res(self.contract(x)))  # (N, 3, H', W')
        return torch.sigmoid(y[..., :h, :w])
