r"""Feature-space losses: content (feature reconstruction), Gram matrices and style loss.

Gatys, Ecker & Bethge (2016) compare images through the activations ``F^l`` of a frozen
ImageNet network (here VGG16, :func:`stylelab.features.get_extractor`):

* **content loss** (feature reconstruction): how far the *feature maps* of ``x`` are from those
  of the content image, at one deep layer. It is NOT pixel MSE: pixel MSE punishes every shifted
  or re-coloured pixel, while a deep layer keeps *what* is where (objects, layout) and forgets
  exact colours and textures, which is what lets style change them.
* **style loss**: how far the *Gram matrices* (channel co-activations, position-free texture
  statistics) of ``x`` are from the style image's, summed over several layers.

Layer presets for VGG16 (the defaults are Gatys' classic choice, renamed to VGG16 layers):

* Gatys et al.: content ``relu4_2``; style ``relu1_1, relu2_1, relu3_1, relu4_1, relu5_1``
  (``DEFAULT_CONTENT_LAYERS``, ``DEFAULT_STYLE_LAYERS``);
* Johnson et al. (2016, perceptual losses): content ``relu2_2``; style
  ``relu1_2, relu2_2, relu3_3, relu4_3`` (``JOHNSON_CONTENT_LAYERS``, ``JOHNSON_STYLE_LAYERS``).

Features are dicts ``{layer name: (N, C_l, H_l, W_l)}`` as returned by a ``FeatureExtractor``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import torch
from torch import nn

from ..errors import ConfigError, ShapeError
from ._checks import check_finite, check_layers, check_reduction, reduce

DEFAULT_CONTENT_LAYERS: tuple[str, ...] = ("relu4_2",)
DEFAULT_STYLE_LAYERS: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
GATYS_CONTENT_LAYERS = DEFAULT_CONTENT_LAYERS
GATYS_STYLE_LAYERS = DEFAULT_STYLE_LAYERS
JOHNSON_CONTENT_LAYERS: tuple[str, ...] = ("relu2_2",)
JOHNSON_STYLE_LAYERS: tuple[str, ...] = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")

#: Gram normalisations: the divisor of ``F F^T`` (C channels, H*W positions).
GRAM_NORMALIZATIONS = ("none", "hw", "chw")


def _check_features(f: object, name: str, check: bool = True) -> torch.Tensor:
    if not isinstance(f, torch.Tensor) or f.ndim != 4:
        shape = tuple(f.shape) if isinstance(f, torch.Tensor) else type(f).__name__
        raise ShapeError(f"Features {name!r} must be a tensor (N, C, H, W); got {shape}.")
    return check_finite(f, f"features {name!r}") if check else f


def gram_matrix(features: torch.Tensor, normalize: str = "chw", *, check: bool = True) -> torch.Tensor:
    r"""Gram matrix of feature maps: channel-by-channel inner products over positions.

    .. math::
        G_{ij} = \frac{1}{Z} \sum_{k} F_{ik} F_{jk}, \qquad F \in \mathbb{R}^{C \times HW}

    with ``Z`` chosen by ``normalize``:

    * ``"none"``: ``Z = 1`` (Gatys et al.'s ``G = F F^T``; their ``1 / (4 N_l^2 M_l^2)`` factor,
      ``N_l = C``, ``M_l = HW``, belongs to the style loss, see :func:`style_loss`);
    * ``"hw"``: ``Z = HW``, the mean co-activation (independent of image size);
    * ``"chw"``: ``Z = C H W`` (Johnson et al.; pytorch/examples ``fast_neural_style``),
      which also keeps layers with many channels from dominating.

    Args:
        features: ``(N, C, H, W)``.
        normalize: ``"none"``, ``"hw"`` or ``"chw"``.
        check: raise :class:`NonFiniteError` on NaN/inf features (a full pass over the features
            and a host sync; an optimisation loop that checks its total loss passes ``False``).

    Returns:
        ``(N, C, C)``, symmetric positive semi-definite; fp32 for bf16/fp16 features (summing
        thousands of products needs fp32; docs/performance.md), whatever autocast says.

    Examples:
        >>> f = torch.ones(1, 2, 2, 2)
        >>> gram_matrix(f, "none")[0].tolist()
        [[4.0, 4.0], [4.0, 4.0]]
    """
    if normalize not in GRAM_NORMALIZATIONS:
        raise ConfigError(f"Unknown Gram normalisation {normalize!r}; choose one of {GRAM_NORMALIZATIONS}.")
    f = _check_features(features, "input", check)
    n, c, h, w = f.shape
    flat = f.reshape(n, c, h * w)  # (N, C, HW)
    scale = {"none": 1.0, "hw": 1.0 / (h * w), "chw": 1.0 / (c * h * w)}[normalize]
    return _Gram.apply(flat, scale)  # (N, C, C)


class _Gram(torch.autograd.Function):
    r"""``G = s F F^T`` in fp32 (fp64 for fp64 features), with a one-matmul backward.

    .. math::
        \frac{\partial L}{\partial F} = s\,(\bar G + \bar G^T)\,F, \qquad \bar G = \frac{\partial L}{\partial G}

    Autograd's generic ``bmm`` backward computes the two products ``\bar G F`` and ``\bar G^T F``
    separately and adds them (two ``(C, C) x (C, HW)`` matmuls and a pass over a feature-sized
    tensor); summing the small ``(C, C)`` matrices first needs one. ~1.6-2x faster for the
    Gatys layers (``tests/test_losses_perceptual.py`` gradchecks it against the formula).

    bf16/fp16 features are saved as they are (no fp32 copy kept for the backward) and upcast
    in slices of at most ``_SLICE`` elements, so the fp32 working memory stays small too.
    """

    @staticmethod
    def forward(ctx, flat: torch.Tensor, scale: float) -> torch.Tensor:  # flat: (N, C, P)
        ctx.save_for_backward(flat)
        ctx.scale = scale
        n, c, _ = flat.shape
        with torch.autocast(flat.device.type, enabled=False):
            if not _low_precision(flat):
                return torch.bmm(flat, flat.transpose(1, 2)).mul_(scale)  # (N, C, C)
            gram = torch.zeros(n, c, c, dtype=torch.float32, device=flat.device)
            for part in _slices(flat):
                f = part.float()  # (N, C, p)
                gram.baddbmm_(f, f.transpose(1, 2))
            return gram.mul_(scale)  # (N, C, C) fp32

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # grad: (N, C, C)
        (flat,) = ctx.saved_tensors
        work = torch.float32 if _low_precision(flat) else flat.dtype
        g = grad.to(work)
        g = (g + g.transpose(1, 2)).mul_(ctx.scale)  # (N, C, C), symmetric
        position_major = flat.stride(1) == 1  # channels-last maps: write the gradient in that layout,
        # as (F^T g)^T = g F, ~2x faster on CPU than a channel-major (C, P) output
        with torch.autocast(flat.device.type, enabled=False):
            if not _low_precision(flat):
                return (torch.bmm(flat.transpose(1, 2), g).transpose(1, 2) if position_major else torch.bmm(g, flat)), None
            out = torch.empty_like(flat)  # (N, C, P), same dtype and strides as the features
            for part, dest in zip(_slices(flat), _slices(out)):
                f = part.float()
                dest.copy_(torch.bmm(f.transpose(1, 2), g).transpose(1, 2) if position_major else torch.bmm(g, f))
            return out, None


_SLICE = 1 << 22  # elements of one fp32 working slice (16 MB)


def _low_precision(x: torch.Tensor) -> bool:
    return x.dtype in (torch.bfloat16, torch.float16)


def _slices(flat: torch.Tensor) -> list[torch.Tensor]:
    """``flat`` ``(N, C, P)`` cut along the positions into views of at most ``_SLICE`` elements."""
    n, c, p = flat.shape
    step = max(1, _SLICE // max(1, n * c))
    return [flat[:, :, i : i + step] for i in range(0, p, step)]


def gram_targets(features: Mapping[str, torch.Tensor], layers: Iterable[str] | None = None, normalize: str = "chw") -> dict[str, torch.Tensor]:
    """Precompute the style targets ``{layer: A_l}`` once (detached) from the style image's features."""
    names = check_layers(list(features) if layers is None else layers, features, "style layer")
    return {n: gram_matrix(features[n].detach(), normalize) for n in names}


def _layer_weights(layers: list[str], weights: Mapping[str, float] | Iterable[float] | None) -> dict[str, float]:
    """Per-layer weights; default ``1 / L`` each (Gatys' ``w_l = 1/5`` for five layers)."""
    if weights is None:
        return {n: 1.0 / len(layers) for n in layers}
    if isinstance(weights, Mapping):
        unknown = [k for k in weights if k not in layers]
        if unknown:
            raise ConfigError(f"Weights given for layer(s) {unknown} that are not selected ({layers}).")
        return {n: float(weights.get(n, 0.0)) for n in layers}
    values = [float(v) for v in weights]
    if len(values) != len(layers):
        raise ConfigError(f"Got {len(values)} layer weights for {len(layers)} layers {layers}.")
    return dict(zip(layers, values, strict=True))


def content_loss_per_layer(
    feats_x: Mapping[str, torch.Tensor],
    feats_c: Mapping[str, torch.Tensor],
    layers: Iterable[str] | str = DEFAULT_CONTENT_LAYERS,
    reduction: str = "mean",
    *,
    check: bool = True,
) -> dict[str, torch.Tensor]:
    r"""Unweighted feature reconstruction loss of every layer: ``{layer: L_l}``.

    .. math::
        L_l(x, c) = \frac{1}{C_l H_l W_l} \| F^l(x) - F^l(c) \|_2^2
    """
    check_reduction(reduction)
    names = check_layers(layers, feats_x, "content layer")
    check_layers(names, feats_c, "content layer")
    out = {}
    for n in names:
        fx, fc = _check_features(feats_x[n], n, check), _check_features(feats_c[n], n, check)
        if fc.shape[1:] != fx.shape[1:] or fc.shape[0] not in (1, fx.shape[0]):
            raise ShapeError(f"Content features at {n} differ in shape: {tuple(fx.shape)} vs {tuple(fc.shape)}; use images of the same size.")
        out[n] = reduce((fx - fc).pow(2).flatten(1).mean(1), reduction)  # (N,) -> reduced
    return out


def content_loss(
    feats_x: Mapping[str, torch.Tensor],
    feats_c: Mapping[str, torch.Tensor],
    layers: Iterable[str] | str = DEFAULT_CONTENT_LAYERS,
    weights: Mapping[str, float] | Iterable[float] | None = None,
    reduction: str = "mean",
    *,
    check: bool = True,
) -> torch.Tensor:
    r"""Content (feature reconstruction) loss of Gatys et al. / Johnson et al.

    .. math::
        \mathcal{L}_{content}(x, c) = \sum_{l} w_l \frac{1}{C_l H_l W_l} \| F^l(x) - F^l(c) \|_2^2

    Gatys et al. write ``1/2 sum (F - P)^2`` (no mean); we use the mean over the feature map
    (Johnson et al.), so the value does not grow with image size. The comparison happens
    between *feature maps* ``F^l`` of a frozen network, not between pixels: a "content loss"
    written as pixel MSE ``||x - c||^2`` would forbid any change of colour or texture and leave
    no room for style.

    Args:
        feats_x, feats_c: ``{layer: (N, C_l, H_l, W_l)}`` of the image and the content image
            (content batch may be 1 and is broadcast).
        layers: layers to compare (default ``relu4_2``).
        weights: ``{layer: w_l}`` or a sequence; default ``1 / L`` each.
        reduction: ``"none"`` -> ``(N,)``; ``"mean"`` / ``"sum"`` -> scalar.
        check: check the features for NaN/inf (see :func:`gram_matrix`).

    Returns:
        Value in ``[0, \infty)``; 0 iff the feature maps are equal.

    Raises:
        ConfigError: empty layer selection, unknown layer, weights for an unselected layer.
        ShapeError: feature maps of different shapes (images of different sizes).
    """
    per_layer = content_loss_per_layer(feats_x, feats_c, layers, reduction="none", check=check)
    w = _layer_weights(list(per_layer), weights)
    total = sum(w[n] * v for n, v in per_layer.items())
    return reduce(total, reduction)  # type: ignore[arg-type]


def style_loss_per_layer(
    feats_x: Mapping[str, torch.Tensor],
    target_grams: Mapping[str, torch.Tensor],
    layers: Iterable[str] | None = None,
    normalize: str = "chw",
    reduction: str = "mean",
    *,
    check: bool = True,
) -> dict[str, torch.Tensor]:
    r"""Unweighted style loss of every layer: ``{layer: E_l}``, the mean squared Gram difference.

    .. math::
        E_l = \frac{1}{C_l^2} \| G^l(x) - A^l \|_F^2
    """
    check_reduction(reduction)
    names = check_layers(list(target_grams) if layers is None else layers, target_grams, "style layer")
    check_layers(names, feats_x, "style layer")
    out = {}
    for n in names:
        g = gram_matrix(feats_x[n], normalize, check=check)  # (N, C, C)
        a = target_grams[n]
        if not isinstance(a, torch.Tensor) or a.ndim not in (2, 3) or a.shape[-2:] != g.shape[-2:]:
            got = tuple(a.shape) if isinstance(a, torch.Tensor) else type(a).__name__
            raise ShapeError(f"Target Gram for {n} must be (C, C) or (N, C, C) with C={g.shape[-1]}; got {got}.")
        out[n] = reduce((g - a.to(g.dtype)).pow(2).flatten(1).mean(1), reduction)  # (N,) -> reduced
    return out


def style_loss(
    feats_x: Mapping[str, torch.Tensor],
    target_grams: Mapping[str, torch.Tensor],
    weights: Mapping[str, float] | None = None,
    normalize: str = "chw",
    reduction: str = "mean",
    *,
    check: bool = True,
) -> torch.Tensor:
    r"""Style loss: weighted Gram-matrix distance over layers (Gatys et al. 2016).

    .. math::
        \mathcal{L}_{style}(x) = \sum_{l} w_l \, \frac{1}{C_l^2} \| G^l(x) - A^l \|_F^2

    ``A^l`` are the style image's Grams, computed once with :func:`gram_targets` (the same
    ``normalize``). Gatys et al. use unnormalised Grams and
    ``E_l = \frac{1}{4 N_l^2 M_l^2} \sum_{ij} (G_{ij} - A_{ij})^2`` (``N_l = C``, ``M_l = HW``);
    with ``normalize="hw"`` our per-layer term equals ``4 E_l``: the same loss up to a factor.

    Args:
        feats_x: ``{layer: (N, C_l, H_l, W_l)}`` of the image being optimised.
        target_grams: ``{layer: (C_l, C_l) or (1|N, C_l, C_l)}``; its keys are the style layers.
        weights: ``{layer: w_l}`` over a subset of the target layers (missing layers weigh 0);
            default ``1 / L`` each. A weight of 0 switches a layer off.
        normalize: the Gram normalisation used for ``target_grams``.
        reduction: ``"none"`` -> ``(N,)``; ``"mean"`` / ``"sum"`` -> scalar.
        check: check the features for NaN/inf (see :func:`gram_matrix`).

    Returns:
        Value in ``[0, \infty)``.
    """
    layers = list(target_grams) if weights is None else [n for n in weights]
    check_layers(layers, target_grams, "style layer")
    w = _layer_weights(layers, weights)
    active = [n for n in layers if w[n] != 0.0] or layers[:1]
    per_layer = style_loss_per_layer(feats_x, target_grams, active, normalize, reduction="none", check=check)
    total = sum(w[n] * v for n, v in per_layer.items())
    return reduce(total, reduction)  # type: ignore[arg-type]


__all__ = [
    "DEFAULT_CONTENT_LAYERS", "DEFAULT_STYLE_LAYERS", "GATYS_CONTENT_LAYERS", "GATYS_STYLE_LAYERS",
    "JOHNSON_CONTENT_LAYERS", "JOHNSON_STYLE_LAYERS", "GRAM_NORMALIZATIONS",
    "gram_matrix", "gram_targets", "content_loss", "content_loss_per_layer", "style_loss", "style_loss_per_layer",
]


class ContentLoss(nn.Module):
    """Module wrapper of :func:`content_loss` with the content image's features computed once.

    Args:
        extractor: a feature extractor (e.g. :func:`stylelab.features.get_extractor`).
        content: the content image ``(1, 3, H, W)`` in ``[0, 1]``.
        layers, weights, reduction: as in :func:`content_loss`.
    """

    def __init__(self, extractor: nn.Module, content: torch.Tensor, layers: Iterable[str] | str = DEFAULT_CONTENT_LAYERS,
                 weights: Mapping[str, float] | None = None, reduction: str = "mean") -> None:
        super().__init__()
        check_reduction(reduction)
        self.extractor = extractor
        self.layers = check_layers(layers, None, "content layer")
        self.weights, self.reduction = weights, reduction
        with torch.no_grad():  # no_grad, not inference_mode: the targets enter a backward pass
            self.targets = {k: v.detach() for k, v in extractor(content, self.layers).items()}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return content_loss(self.extractor(x, self.layers), self.targets, self.layers, self.weights, self.reduction)


class StyleLoss(nn.Module):
    """Module wrapper of :func:`style_loss` with the style image's Gram targets computed once."""

    def __init__(self, extractor: nn.Module, style: torch.Tensor, layers: Iterable[str] = DEFAULT_STYLE_LAYERS,
                 weights: Mapping[str, float] | None = None, normalize: str = "chw", reduction: str = "mean") -> None:
        super().__init__()
        check_reduction(reduction)
        self.extractor = extractor
        self.layers = check_layers(layers, None, "style layer")
        self.weights, self.normalize, self.reduction = weights, normalize, reduction
        with torch.no_grad():
            self.targets = gram_targets(extractor(style, self.layers), self.layers, normalize)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return style_loss(self.extractor(x, self.layers), self.targets, self.weights, self.normalize, self.reduction)


__all__ += ["ContentLoss", "StyleLoss"]
