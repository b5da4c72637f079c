"""Frozen ImageNet feature extractors with named layers: VGG16 (default), AlexNet, VGG19.

Perceptual, content and style losses compare images in the feature space of a network trained
on ImageNet. We build *only the convolutional stack* (no classifier: docs/performance.md measured 1.3 s and
+550 MB for the full torchvision VGG19 vs 0.09 s for the conv part), load the real weights from
an offline package (``stylelab.assets``), freeze them, and cache one copy per process and device
(``device=None``: :func:`stylelab.device.get_device`). Building one never draws from torch's global RNG.

Layer names follow the papers: ``conv{block}_{i}`` is the convolution output and
``relu{block}_{i}`` its rectified output (VGG16: ``relu1_1 ... relu5_3``); AlexNet has
``conv1 ... conv5`` / ``relu1 ... relu5``. A forward pass stops at the deepest layer asked for.

Input: ``(N, 3, H, W)`` RGB in ``[0, 1]``; the extractor applies the normalisation itself
(ImageNet mean/std, or LPIPS' scaling layer for LPIPS).
"""

from __future__ import annotations

import functools
import math
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Literal

import torch
from torch import nn

from .errors import ConfigError, ShapeError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# LPIPS "ScalingLayer": applied to inputs in [-1, 1] (Zhang et al. 2018, official code constants)
LPIPS_SHIFT = (-0.030, -0.088, -0.188)
LPIPS_SCALE = (0.458, 0.448, 0.450)

# Channels per conv, "M" = pooling. Same as torchvision's cfgs "D" (VGG16) and "E" (VGG19).
VGG_CFG = {
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}

Normalisation = Literal["imagenet", "lpips", "none"]


def vgg_layer_names(cfg: list) -> list[str]:
    """Names of the modules in torchvision's ``vgg.features`` order (conv, relu, ..., pool)."""
    names, block, i = [], 1, 1
    for v in cfg:
        if v == "M":
            names.append(f"pool{block}")
            block, i = block + 1, 1
        else:
            names += [f"conv{block}_{i}", f"relu{block}_{i}"]
            i += 1
    return names


_vgg_layer_names = vgg_layer_names  # the old private name (style.gatys imports it)


class FeatureExtractor(nn.Module):
    """A frozen sequential conv net whose intermediate outputs can be read by name.

    Args:
        layers: ``(name, module)`` pairs in forward order.
        normalisation: ``"imagenet"`` (mean/std on [0, 1] input), ``"lpips"`` (LPIPS scaling on
            [-1, 1] = 2x-1 of the [0, 1] input), or ``"none"``.

    Shape:
        - Input: ``(N, 3, H, W)`` in [0, 1].
        - Output: ``dict[name, (N, C_l, H_l, W_l)]`` in the order of the network.
    """

    def __init__(self, layers: Sequence[tuple[str, nn.Module]], normalisation: Normalisation = "imagenet") -> None:
        super().__init__()
        self.body = nn.Sequential(OrderedDict(layers))
        self.names: list[str] = [n for n, _ in layers]
        self.normalisation = normalisation
        if normalisation == "imagenet":
            mean, std = IMAGENET_MEAN, IMAGENET_STD
        elif normalisation == "lpips":
            mean, std = LPIPS_SHIFT, LPIPS_SCALE
        elif normalisation == "none":
            mean, std = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
        else:
            raise ConfigError(f"Unknown normalisation {normalisation!r}.")
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)

    @property
    def layer_names(self) -> list[str]:
        return [n for n in self.names if not n.startswith("pool")]

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        if self.normalisation == "lpips":
            x = x * 2 - 1
        return (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)

    def forward(self, x: torch.Tensor, layers: Iterable[str] | str | None = None, normalise: bool = True) -> dict[str, torch.Tensor]:
        """Return the requested layer outputs; the forward pass stops at the deepest one.

        Args:
            x: ``(N, 3, H, W)`` RGB in [0, 1] (or already normalised if ``normalise=False``).
            layers: names such as ``"relu4_2"``; a single name; or None for every ReLU output.
        """
        if isinstance(layers, str):
            layers = [layers]
        wanted = list(layers) if layers is not None else [n for n in self.names if n.startswith("relu")]
        if not wanted:
            raise ConfigError("Ask for at least one layer (the selection is empty).")
        unknown = [n for n in wanted if n not in self.names]
        if unknown:
            raise ConfigError(f"Unknown layer(s) {unknown}; this network has {self.layer_names}.")
        if x.ndim != 4 or x.shape[1] != 3:
            raise ShapeError(f"Expected images of shape (N, 3, H, W); got {tuple(x.shape)}.")
        want = set(wanted)
        deepest = max(self.names.index(n) for n in wanted)
        h = self.normalise(x) if normalise else x
        out: dict[str, torch.Tensor] = {}
        for i, (name, module) in enumerate(self.body.named_children()):
            h = module(h)
            if name in want:
                out[name] = h
            if i == deepest:
                break
        return {n: out[n] for n in self.names if n in out}  # network order


def _vgg_stack(arch: str, pool: Literal["max", "avg"], normalisation: Normalisation) -> FeatureExtractor:
    """The VGG conv stack with its convolutions on the ``meta`` device: no memory, no random draws."""
    if arch not in VGG_CFG:
        raise ConfigError(f"Unknown VGG {arch!r}; choose from {sorted(VGG_CFG)}.")
    if pool not in ("max", "avg"):
        raise ConfigError(f"Unknown pooling {pool!r}; choose 'max' or 'avg'.")
    cfg = VGG_CFG[arch]
    names = vgg_layer_names(cfg)
    mods: list[nn.Module] = []
    cin = 3
    for v in cfg:
        if v == "M":
            mods.append(nn.MaxPool2d(2, 2) if pool == "max" else nn.AvgPool2d(2, 2))
        else:
            mods += [nn.Conv2d(cin, v, 3, padding=1, device="meta"), nn.ReLU(inplace=False)]
            cin = v
    return FeatureExtractor(list(zip(names, mods)), normalisation)


def _alexnet_stack(normalisation: Normalisation) -> FeatureExtractor:
    """AlexNet's conv stack (torchvision's ``alexnet().features``), convolutions on ``meta``."""
    m = "meta"
    spec = [
        ("conv1", nn.Conv2d(3, 64, 11, stride=4, padding=2, device=m)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(3, 2)),
        ("conv2", nn.Conv2d(64, 192, 5, padding=2, device=m)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(3, 2)),
        ("conv3", nn.Conv2d(192, 384, 3, padding=1, device=m)), ("relu3", nn.ReLU()),
        ("conv4", nn.Conv2d(384, 256, 3, padding=1, device=m)), ("relu4", nn.ReLU()),
        ("conv5", nn.Conv2d(256, 256, 3, padding=1, device=m)), ("relu5", nn.ReLU()), ("pool5", nn.MaxPool2d(3, 2)),
    ]
    return FeatureExtractor(spec, normalisation)


def _convs(net: FeatureExtractor) -> list[nn.Conv2d]:
    return [m for m in net.body if isinstance(m, nn.Conv2d)]


def init_random(net: FeatureExtractor, generator: torch.Generator | None = None) -> FeatureExtractor:
    """Give every convolution fresh random weights, PyTorch's default scheme, drawn from ``generator``.

    ``W ~ U(-b, b)`` with ``b = 1/sqrt(fan_in)`` (kaiming-uniform with ``a = sqrt(5)``) and bias
    ``~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))``, ``fan_in = C_in * k_h * k_w``. The default generator is
    a fresh one seeded 0: building a network never draws from torch's global RNG.
    """
    gen = generator if generator is not None else torch.Generator().manual_seed(0)
    for conv in _convs(net):
        weight = torch.empty(conv.weight.shape)
        nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=gen)
        bound = 1 / math.sqrt(weight[0].numel())
        bias = torch.empty(conv.out_channels).uniform_(-bound, bound, generator=gen)
        conv.weight = nn.Parameter(weight)
        conv.bias = nn.Parameter(bias)
    return net


def build_vgg(arch: str = "vgg16", pool: Literal["max", "avg"] = "max", normalisation: Normalisation = "imagenet",
              generator: torch.Generator | None = None) -> FeatureExtractor:
    """Build a VGG conv stack with random weights from ``generator`` (see :func:`init_random`).

    ``pool="avg"`` is Gatys et al.'s choice for synthesis.
    """
    return init_random(_vgg_stack(arch, pool, normalisation), generator)


def build_alexnet(normalisation: Normalisation = "imagenet", generator: torch.Generator | None = None) -> FeatureExtractor:
    """AlexNet conv stack as in torchvision (``alexnet().features``), random weights from ``generator``."""
    return init_random(_alexnet_stack(normalisation), generator)


def _load_convs(net: FeatureExtractor, convs: list[tuple[torch.Tensor, torch.Tensor]]) -> None:
    """Put the pretrained ``(weight, bias)`` pairs into the convolutions, in order (shapes checked)."""
    targets = _convs(net)
    if len(targets) != len(convs):
        raise ConfigError(f"Weight file has {len(convs)} convolutions; the network has {len(targets)}.")
    for conv, (w, b) in zip(targets, convs):
        if tuple(w.shape) != tuple(conv.weight.shape) or tuple(b.shape) != (conv.out_channels,):
            raise ConfigError(f"Weight shape {tuple(w.shape)} does not fit conv {tuple(conv.weight.shape)}.")
        conv.weight = nn.Parameter(w.detach().to(torch.float32).clone())
        conv.bias = nn.Parameter(b.detach().to(torch.float32).clone())


def freeze(net: nn.Module) -> nn.Module:
    """Eval mode and no parameter gradients (docs/performance.md: grads left on cost 1.5x)."""
    net.eval()
    net.requires_grad_(False)
    return net


def canonical_device(device: torch.device | str | None = None) -> torch.device:
    """``device`` as a ``torch.device`` with its index (None: :func:`~stylelab.device.get_device`).

    ``"cuda"`` and ``"cuda:0"`` are the same GPU: caches keyed on this keep one copy per device.
    """
    from .device import get_device

    dev = get_device() if device is None else torch.device(device)
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", torch.cuda.current_device())
    return dev


_LOCK = threading.Lock()


@functools.cache
def _cached(arch: str, pool: str, normalisation: str, device: str) -> FeatureExtractor:
    return load_extractor(arch, pool, normalisation, device)  # type: ignore[arg-type]


def clear_cache() -> None:
    """Forget every cached extractor (the next :func:`get_extractor` builds afresh: cold-start timings, tests)."""
    with _LOCK:
        _cached.cache_clear()


def load_extractor(
    arch: Literal["vgg16", "vgg19", "alexnet"] = "vgg16",
    pool: Literal["max", "avg"] = "max",
    normalisation: Normalisation = "imagenet",
    device: torch.device | str | None = None,
) -> FeatureExtractor:
    """Build a NEW pretrained, frozen extractor (not cached: :func:`get_extractor` shares one).

    For a caller that keeps only a part or a cast copy of the network (Gatys keeps a bf16 copy
    up to ``relu5_1``), so the full fp32 network need not stay in memory. The convolutions are
    made on the ``meta`` device and take the file's weights directly: no random initialisation
    (nothing drawn from torch's global RNG, no time spent on weights thrown away).
    ``device=None`` is :func:`~stylelab.device.get_device`.
    """
    from . import assets

    if arch == "vgg16":
        net = _vgg_stack("vgg16", pool, normalisation)
        _load_convs(net, assets.vgg16_convs())
    elif arch == "vgg19":
        net = _vgg_stack("vgg19", pool, normalisation)
        _load_convs(net, assets.vgg19_convs())
    elif arch == "alexnet":
        net = _alexnet_stack(normalisation)
        _load_convs(net, assets.alexnet_convs())
    else:
        raise ConfigError(f"Unknown feature network {arch!r}; choose vgg16, vgg19 or alexnet.")
    return freeze(net.to(canonical_device(device)))


def get_extractor(
    arch: Literal["vgg16", "vgg19", "alexnet"] = "vgg16",
    device: torch.device | str | None = None,
    pool: Literal["max", "avg"] = "max",
    normalisation: Normalisation = "imagenet",
) -> FeatureExtractor:
    """The pretrained, frozen extractor for ``arch`` on ``device`` (built once per process and device).

    ``device=None`` is :func:`~stylelab.device.get_device`.

    Raises:
        AssetError: the weights package is not installed (message says how to install it).
    """
    key = str(canonical_device(device))
    with _LOCK:  # Streamlit runs sessions in threads: build once, not once per thread
        return _cached(arch, pool, normalisation, key)


def vgg16(device: torch.device | str | None = None, pool: Literal["max", "avg"] = "max") -> FeatureExtractor:
    """Pretrained VGG16 conv stack with ImageNet normalisation. See :func:`get_extractor`."""
    return get_extractor("vgg16", device, pool)


def alexnet(device: torch.device | str | None = None) -> FeatureExtractor:
    """Pretrained AlexNet conv stack with ImageNet normalisation. See :func:`get_extractor`."""
    return get_extractor("alexnet", device)


VGG16_LAYERS = vgg_layer_names(VGG_CFG["vgg16"])
VGG16_RELUS = [n for n in VGG16_LAYERS if n.startswith("relu")]
ALEXNET_RELUS = ["relu1", "relu2", "relu3", "relu4", "relu5"]
