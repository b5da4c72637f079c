r"""A gated-convolution inpainter with a wide receptive field that refines a classical fill.

Three ideas of the learned inpainters that beat the classical fills, at classroom scale (< 1 M weights):

- **Gated convolution** (Yu et al. 2019, "Free-form image inpainting with gated convolution"): every
  layer learns, per pixel and channel, how much of its feature to let through,

  .. math::
      y = \phi(W_f * x + b_f) \odot \sigma(W_g * x + b_g),

  with :math:`\phi` = LeakyReLU(0.2) and :math:`\sigma` the logistic sigmoid (:func:`gated_conv`). A plain
  convolution treats a blanked hole pixel like a black one; the gate learns to ignore it.
- **Wide receptive field** (LaMa, Suvorov et al. 2022): the bottleneck stacks dilated gated convolutions
  (dilations 2, 4, 8, 16 at 1/4 resolution: the receptive field covers the whole 128 px crop) and a
  *spectral* block that mixes every position at once in the Fourier domain (:func:`spectral_transform`):

  .. math::
      z = \mathcal F^{-1}\big(\,\mathrm{ReLU}(W_s \cdot [\Re \mathcal F(h), \Im \mathcal F(h)])\,\big),

  a 1x1 convolution :math:`W_s` applied to the real and imaginary parts of the 2-D FFT of
  :math:`h` (one spectral coefficient per frequency is a global function of the image).
- **Coarse to fine**: the network also sees a classical fill :math:`c` (Telea) of the hole and predicts
  a residual :math:`r`, so the untrained network (last layer at zero) already returns :math:`c`:

  .. math::
      \hat x = \mathrm{clip}_{[0,1]}(c + r_\theta([x \odot (1-m),\ m,\ c])), \qquad
      y = m \odot \hat x + (1 - m) \odot x.

Shape:
    - Input of :class:`GatedInpaintNet`: ``(N, 7, H, W)`` = masked RGB, hole, classical fill (any H, W:
      reflect-padded to a multiple of 4 and cropped back)
    - Output: ``(N, 3, H, W)`` in [0, 1]
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import ConfigError

__all__ = ["GatedConfig", "GatedConv", "GatedInpaintNet", "SpectralBlock", "gated_conv", "spectral_transform"]


@dataclass(frozen=True)
class GatedConfig:
    """Architecture of a :class:`GatedInpaintNet` (stored in every checkpoint)."""

    width: int = 24  #: channels at full resolution (2x at 1/2, 4x at 1/4)
    dilations: tuple[int, ...] = (2, 4, 8, 16)  #: one residual gated block per dilation, at 1/4 resolution
    spectral: bool = True  #: a Fourier (FFC-like) global block in the middle and at the end of the bottleneck

    def __post_init__(self) -> None:
        object.__setattr__(self, "dilations", tuple(int(d) for d in self.dilations))
        if self.width < 1 or not self.dilations or min(self.dilations) < 1:
            raise ConfigError(f"GatedConfig needs width >= 1 and dilations >= 1, got {self.width}, {self.dilations}.")

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["dilations"] = list(self.dilations)
        return d


def gated_conv(x: Tensor, weight: Tensor, bias: Tensor | None, stride: int = 1, padding: int = 0,
               dilation: int = 1, slope: float = 0.2) -> Tensor:
    r"""The gated convolution :math:`\phi(W_f * x + b_f) \odot \sigma(W_g * x + b_g)`.

    Args:
        x: ``(N, C_in, H, W)``.
        weight: ``(2 C_out, C_in, k, k)``: the first ``C_out`` filters are :math:`W_f`, the rest :math:`W_g`.
        bias: ``(2 C_out,)`` or None.
        slope: negative slope of the LeakyReLU :math:`\phi`.

    Returns:
        ``(N, C_out, H', W')``.
    """
    both = F.conv2d(x, weight, bias, stride=stride, padding=padding, dilation=dilation)  # (N, 2 C_out, H', W')
    feature, gate = both.chunk(2, dim=1)
    return F.leaky_relu(feature, slope) * torch.sigmoid(gate)


class GatedConv(nn.Module):
    """A :func:`gated_conv` layer (one ``Conv2d`` holds both the feature and the gate filters)."""

    def __init__(self, cin: int, cout: int, kernel: int = 3, stride: int = 1, dilation: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, 2 * cout, kernel, stride=stride, padding=dilation * (kernel // 2), dilation=dilation)

    def forward(self, x: Tensor) -> Tensor:
        c = self.conv
        return gated_conv(x, c.weight, c.bias, stride=c.stride[0], padding=c.padding[0], dilation=c.dilation[0])


def spectral_transform(h: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    r"""LaMa's Fourier unit: :math:`\mathcal F^{-1}(\mathrm{ReLU}(W_s [\Re \mathcal F h, \Im \mathcal F h]))`.

    The 2-D real FFT (``norm="ortho"``) is taken in float32 (bf16 has no FFT).

    Args:
        h: ``(N, C, H, W)``.
        weight: ``(2C, 2C, 1, 1)`` 1x1 convolution over the stacked real and imaginary parts.
        bias: ``(2C,)`` or None.

    Returns:
        ``(N, C, H, W)``.
    """
    n, c, hh, ww = h.shape
    with torch.autocast(h.device.type, enabled=False):
        spec = torch.fft.rfft2(h.float(), norm="ortho")  # (N, C, H, W/2+1) complex
        z = torch.cat([spec.real, spec.imag], dim=1)  # (N, 2C, H, W/2+1)
        z = F.relu(F.conv2d(z, weight.float(), None if bias is None else bias.float()))
        re, im = z.chunk(2, dim=1)
        out = torch.fft.irfft2(torch.complex(re, im), s=(hh, ww), norm="ortho")  # (N, C, H, W)
    return out.to(h.dtype)


class SpectralBlock(nn.Module):
    """Residual global block: ``x + W_out(spectral_transform(ReLU(W_in x)) + ReLU(W_in x))``."""

    def __init__(self, ch: int) -> None:
        super().__init__()
        half = max(1, ch // 2)
        self.inp = nn.Conv2d(ch, half, 1)
        self.fourier = nn.Conv2d(2 * half, 2 * half, 1)
        self.out = nn.Conv2d(half, ch, 1)

    def forward(self, x: Tensor) -> Tensor:
        h = F.relu(self.inp(x))  # (N, C/2, H, W)
        g = spectral_transform(h, self.fourier.weight, self.fourier.bias)
        return x + self.out(h + g)


class _Residual(nn.Module):
    def __init__(self, ch: int, dilation: int) -> None:
        super().__init__()
        self.gc = GatedConv(ch, ch, 3, dilation=dilation)
        self.mix = nn.Conv2d(ch, ch, 1)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.mix(self.gc(x))


class GatedInpaintNet(nn.Module):
    """Gated encoder (1, 1/2, 1/4) -> dilated + spectral bottleneck -> gated decoder with skips -> residual.

    Args:
        config: :class:`GatedConfig` (or its fields as keywords).
    """

    in_ch = 7
    multiple = 4

    def __init__(self, config: GatedConfig | None = None, **fields: object) -> None:
        super().__init__()
        cfg = config or GatedConfig(**fields)  # type: ignore[arg-type]
        self.config = cfg
        w = cfg.width
        self.enc0 = GatedConv(self.in_ch, w, 5)
        self.enc1 = GatedConv(w, 2 * w, 3, stride=2)
        self.enc2 = GatedConv(2 * w, 4 * w, 3, stride=2)
        blocks: list[nn.Module] = []
        for i, d in enumerate(cfg.dilations):
            blocks.append(_Residual(4 * w, d))
            if cfg.spectral and i == len(cfg.dilations) // 2 - 1:
                blocks.append(SpectralBlock(4 * w))
        if cfg.spectral:
            blocks.append(SpectralBlock(4 * w))
        self.bottleneck = nn.Sequential(*blocks)
        self.dec1 = GatedConv(4 * w + 2 * w, 2 * w, 3)
        self.dec0 = GatedConv(2 * w + w, w, 3)
        self.head = nn.Conv2d(w, 3, 3, padding=1)

    def zero_head(self) -> "GatedInpaintNet":
        """Set the last layer to zero: the network then returns the classical fill exactly."""
        with torch.no_grad():
            self.head.weight.zero_()
            self.head.bias.zero_()
        return self

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_ch:
            raise ConfigError(f"GatedInpaintNet takes (N, 7, H, W) = masked RGB, hole, fill; got {tuple(x.shape)}.")
        h, w = x.shape[-2:]
        ph, pw = (-h) % self.multiple, (-w) % self.multiple
        if ph or pw:
            mode = "reflect" if ph < h and pw < w else "replicate"
            x = F.pad(x, (0, pw, 0, ph), mode=mode)
        fill = x[:, 4:7]  # (N, 3, H', W') the classical fill c
        e0 = self.enc0(x)  # (N, w, H, W)
        e1 = self.enc1(e0)  # (N, 2w, H/2, W/2)
        z = self.bottleneck(self.enc2(e1))  # (N, 4w, H/4, W/4)
        z = F.interpolate(z, size=e1.shape[-2:], mode="nearest")
        z = self.dec1(torch.cat([z, e1], dim=1))  # (N, 2w, H/2, W/2)
        z = F.interpolate(z, size=e0.shape[-2:], mode="nearest")
        z = self.dec0(torch.cat([z, e0], dim=1))  # (N, w, H, W)
        residual = self.head(z).float()  # (N, 3, H', W')
        out = (fill.float() + residual).clamp(0.0, 1.0)  # an image: the fill plus the learned correction, in [0, 1]
        return out[..., :h, :w]
