"""The U-Net (Ronneberger et al. 2015) used by Deep Image Prior and by the trained inpainter.

An encoder halves the resolution ``depth - 1`` times while doubling the channels; a decoder
upsamples back, and at each level concatenates the encoder's features of the same size (the
*skip connections*). Skips carry the fine detail the bottleneck cannot hold, which is why a
U-Net can reproduce sharp edges around a hole while still reasoning about wide context.

Shape:
    - Input: ``(N, in_ch, H, W)`` (any H, W: the input is reflect-padded to a multiple of
      ``2 ** (depth - 1)`` and the output cropped back)
    - Output: ``(N, out_ch, H, W)`` in (0, 1) (sigmoid)

Channels per level: ``base, 2 base, 4 base, ...`` (``base=32, depth=4``: 32-64-128-256).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import ConfigError

__all__ = ["UNet", "UNetConfig", "build_seeded", "init_weights"]


@dataclass(frozen=True)
class UNetConfig:
    """Architecture of a :class:`UNet` (stored in every checkpoint)."""

    in_ch: int = 4
    out_ch: int = 3
    base: int = 32
    depth: int = 4
    norm: str = "batch"  # "batch" | "none"
    skips: bool = True

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _block(cin: int, cout: int, norm: str) -> nn.Sequential:
    """Two 3x3 convolutions, each followed by (BatchNorm and) LeakyReLU(0.2)."""
    layers: list[nn.Module] = []
    for a, b in ((cin, cout), (cout, cout)):
        layers.append(nn.Conv2d(a, b, 3, padding=1, bias=norm == "none"))
        if norm == "batch":
            layers.append(nn.BatchNorm2d(b))
        layers.append(nn.LeakyReLU(0.2, inplace=True))
    return nn.Sequential(*layers)


class UNet(nn.Module):
    """U-Net with ``depth`` resolution levels, max-pool down, bilinear up, optional skips.

    Args:
        in_ch: input channels (4 for the inpainter: masked RGB + mask; 32 noise maps for DIP).
        out_ch: output channels (3 for RGB).
        base: channels of the first level.
        depth: number of resolution levels (``depth - 1`` down-samplings), >= 1.
        norm: ``"batch"`` (default) or ``"none"``.
        skips: keep the skip connections (False turns it into a plain encoder-decoder, to see
            what the skips are for).
    """

    def __init__(
        self, in_ch: int = 4, out_ch: int = 3, base: int = 32, depth: int = 4, norm: str = "batch", skips: bool = True
    ) -> None:
        super().__init__()
        if min(in_ch, out_ch, base, depth) < 1:
            raise ConfigError(f"UNet needs in_ch, out_ch, base, depth >= 1, got {in_ch}, {out_ch}, {base}, {depth}.")
        if norm not in ("batch", "none"):
            raise ConfigError(f"UNet norm must be 'batch' or 'none', got {norm!r}.")
        self.config = UNetConfig(in_ch, out_ch, base, depth, norm, skips)
        chans = [base * 2**i for i in range(depth)]
        self.down = nn.ModuleList()
        cin = in_ch
        for c in chans:
            self.down.append(_block(cin, c, norm))
            cin = c
        self.up = nn.ModuleList()
        for i in range(depth - 2, -1, -1):
            skip_ch = chans[i] if skips else 0
            self.up.append(_block(chans[i + 1] + skip_ch, chans[i], norm))
        self.head = nn.Conv2d(chans[0], out_ch, 1)

    @property
    def multiple(self) -> int:
        """Input sizes are padded to a multiple of this."""
        return 2 ** (self.config.depth - 1)

    def forward(self, x: Tensor) -> Tensor:
        h, w = x.shape[-2:]
        k = self.multiple
        ph, pw = (-h) % k, (-w) % k
        if ph or pw:
            mode = "reflect" if ph < h and pw < w else "replicate"
            x = F.pad(x, (0, pw, 0, ph), mode=mode)  # (N, C, H', W')
        feats: list[Tensor] = []
        for i, block in enumerate(self.down):
            if i:
                x = F.max_pool2d(x, 2)  # (N, C, H / 2^i, W / 2^i)
            x = block(x)
            feats.append(x)
        for block, skip in zip(self.up, reversed(feats[:-1])):
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            if self.config.skips:
                x = torch.cat([x, skip], dim=1)  # (N, C_up + C_skip, h, w)
            x = block(x)
        out = torch.sigmoid(self.head(x))  # (N, out_ch, H', W')
        return out[..., :h, :w]

    @classmethod
    def from_config(cls, config: UNetConfig | dict) -> "UNet":
        cfg = config if isinstance(config, UNetConfig) else UNetConfig(**config)
        return cls(**asdict(cfg))


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# ----------------------------------------------------------------------------- weights from a run's own generator
def build_seeded(factory: Callable[[], nn.Module], generator: torch.Generator, device: object = None) -> nn.Module:
    """Build ``factory()`` without touching torch's global RNG, then draw its weights from ``generator``.

    PyTorch modules initialise their weights from the process-wide RNG when they are built, which
    every Streamlit session of one server shares. Here the module is built on the ``meta`` device
    (no numbers, no random draws), given real CPU storage, filled by :func:`init_weights` from the
    run's own CPU ``generator`` (so the same seed gives the same start on every device), and moved
    to ``device``.

    Args:
        factory: builds the module (e.g. ``lambda: UNet(4, 3, base=16, depth=4)``).
        generator: a CPU ``torch.Generator`` (see :func:`stylelab.run.make_generator`).
        device: where the module goes (None: the CPU).
    """
    with torch.device("meta"):
        module = factory()
    module = module.to_empty(device="cpu")
    init_weights(module, generator)
    return module if device is None else module.to(device)


@torch.no_grad()
def init_weights(module: nn.Module, generator: torch.Generator) -> nn.Module:
    r"""PyTorch's default initialisation, drawn from ``generator`` instead of the global RNG.

    - ``Conv2d`` / ``Linear`` weights and biases: :math:`\mathcal U(-b, b)`, :math:`b = 1/\sqrt{\text{fan\_in}}`
      (what ``kaiming_uniform_(a=\sqrt 5)`` gives, torch's default). For ``ConvTranspose2d`` the
      fan-in here is ``in_channels * k * k``; torch's own default takes ``out_channels * k * k``
      (the weight's second dimension), so transposed convolutions start at a different scale than
      a plain ``UNet(...)`` would (a known difference, to be aligned; the shipped checkpoints predate it);
    - BatchNorm / InstanceNorm: :math:`\gamma = 1`, :math:`\beta = 0`, running mean 0, variance 1;
    - spectral-norm power-iteration vectors ``weight_u`` / ``weight_v``: unit vectors from
      :math:`\mathcal N(0, I)`.

    Raises:
        ConfigError: a parameter or buffer of a layer type this does not know (it would be left
            uninitialised: never silently).
    """
    done: set[int] = set()
    for mod in module.modules():
        if isinstance(mod, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            weight = getattr(mod, "weight_orig", None)
            weight = mod.weight if weight is None else weight
            fan_in = weight[0].numel() if not isinstance(mod, nn.ConvTranspose2d) else weight.shape[0] * weight[0, 0].numel()
            bound = 1.0 / math.sqrt(fan_in)
            weight.uniform_(-bound, bound, generator=generator)
            done.add(id(weight))
            if mod.bias is not None:
                mod.bias.uniform_(-bound, bound, generator=generator)
                done.add(id(mod.bias))
            for name in ("weight_u", "weight_v"):  # spectral norm's power-iteration vectors
                vec = getattr(mod, name, None)
                if isinstance(vec, Tensor):
                    vec.normal_(0.0, 1.0, generator=generator)
                    vec.div_(vec.norm().clamp_min(1e-12))
                    done.add(id(vec))
        elif isinstance(mod, nn.modules.batchnorm._NormBase):
            mod.reset_parameters()  # gamma 1, beta 0, running mean 0, var 1, counter 0: no randomness
            done.update(id(t) for t in (*mod.parameters(recurse=False), *mod.buffers(recurse=False)))
    left = [n for n, t in (*module.named_parameters(), *module.named_buffers()) if id(t) not in done]
    if left:
        raise ConfigError(f"init_weights does not know how to initialise {left[:5]}.")
    return module
