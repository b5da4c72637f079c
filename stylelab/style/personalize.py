r"""Teach it your style: find a new style's code by optimising the code alone (generator frozen).

Given 1-5 example images :math:`s_1 \dots s_K` of a style the model never saw, the encoder predicts a
code at once (:math:`\bar z = \tfrac1K\sum_k E(s_k)`); *personalisation* then improves it by gradient
descent on the code only, the generator's weights frozen:

.. math::
    z^\star = \arg\min_z\ \beta\,\mathcal{L}_{style}\big(G(c, z), \bar A\big)
              + \alpha\,\mathcal{L}_{content}\big(G(c, z), c\big), \qquad
    \bar A^l = \frac1K \sum_k G^l(s_k)

(:func:`stylelab.losses.style_loss` against the mean Gram matrices of the examples; ``alpha = 0`` by
default, the generator's own structure keeps the content). ``d`` numbers are optimised instead of a
whole image (Gatys) or a network (fast style): a few dozen Adam steps at 128-256 px take seconds, and
the result is then applied at feed-forward speed to any photo. A code can be saved under a name
(:func:`save_style`) and listed and loaded again.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from ..errors import CheckpointError, ConfigError
from .learned import CODE_LAYERS

#: the ``format`` of a saved style code
CODE_FORMAT = "stylelab.learned_code/1"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")


def example_targets(model: Any, examples: Sequence[torch.Tensor], size: int | None = 256) -> dict[str, torch.Tensor]:
    r"""Mean Gram matrices :math:`\bar A^l = \frac1K\sum_k G^l(s_k)` ``{layer: (C, C)}`` of 1-5 examples.

    Each example ``(3, H, W)`` is resized so its longer side is ``size`` (None: as it is).
    """
    from ..imageio import resize_tensor
    from ..losses import gram_matrix

    if not 1 <= len(examples) <= 5:
        raise ConfigError(f"Give 1 to 5 example images of the style; got {len(examples)}.")
    sums: dict[str, torch.Tensor] = {}
    with torch.no_grad():
        for ex in examples:
            x = ex if size is None else resize_tensor(ex.float(), size)
            feats = model.features(x.unsqueeze(0), CODE_LAYERS)
            for k, f in feats.items():
                g = gram_matrix(f)[0]
                sums[k] = g if k not in sums else sums[k] + g
    return {k: v / len(examples) for k, v in sums.items()}


def encoder_code(model: Any, examples: Sequence[torch.Tensor], size: int | None = 256) -> torch.Tensor:
    r"""The encoder's prediction :math:`\bar z = \frac1K\sum_k E(s_k)` ``(d,)``."""
    from ..imageio import resize_tensor

    if not 1 <= len(examples) <= 5:
        raise ConfigError(f"Give 1 to 5 example images of the style; got {len(examples)}.")
    codes = [model.encode(ex if size is None else resize_tensor(ex.float(), size))[0] for ex in examples]
    return torch.stack(codes).mean(0)


def code_objective(model: Any, content: torch.Tensor, code: torch.Tensor, targets: dict[str, torch.Tensor],
                   style_weight: float = 1e5, content_weight: float = 0.0,
                   content_feats: dict[str, torch.Tensor] | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    r"""The personalisation objective :math:`\beta\mathcal{L}_{style}(G(c,z), \bar A) + \alpha\mathcal{L}_{content}`.

    Args:
        content: ``(1, 3, H, W)``; code ``(d,)`` or ``(1, d)`` (may require grad).
        targets: :func:`example_targets`.

    Returns:
        ``(total, {"style": raw style loss, "content": raw content loss, "total": total})``.
    """
    from ..losses import JOHNSON_CONTENT_LAYERS, content_loss, style_loss

    y = model.generator(content, code.reshape(1, -1))
    layers = list(dict.fromkeys([*CODE_LAYERS, *JOHNSON_CONTENT_LAYERS]))
    fy = model.features(y, layers)
    ls = style_loss(fy, targets, {n: 1.0 for n in CODE_LAYERS}, check=False)
    total = style_weight * ls
    values = {"style": float(ls.detach())}
    if content_weight > 0:
        if content_feats is None:
            with torch.no_grad():
                content_feats = model.features(content, JOHNSON_CONTENT_LAYERS)
        lc = content_loss(fy, content_feats, JOHNSON_CONTENT_LAYERS, check=False)
        total = total + content_weight * lc
        values["content"] = float(lc.detach())
    values["total"] = float(total.detach())
    return total, values


@dataclasses.dataclass
class Personalized:
    """What :func:`personalize` found: the optimised code, the encoder's code and both losses."""

    code: torch.Tensor  #: (d,) the optimised code z*
    encoder_code: torch.Tensor  #: (d,) the encoder's prediction
    encoder_loss: float  #: style loss of G(c, encoder code)
    loss: float  #: style loss of G(c, z*)
    history: list[dict[str, float]]  #: one row per step
    seconds: float


def personalize(model: Any, content: torch.Tensor, examples: Sequence[torch.Tensor], steps: int = 40,
                lr: float = 0.3, size: int = 128, style_weight: float = 1e5, content_weight: float = 0.0,
                init: torch.Tensor | None = None, example_size: int | None = 256) -> Personalized:
    r"""Optimise the code alone against the style loss (Adam, ``steps`` steps, generator frozen).

    Args:
        model: a :class:`~stylelab.style.learned_train.LearnedModel`.
        content: the photo ``(3, H, W)`` the code is fitted on, resized so its longer side is ``size``.
        examples: 1-5 style examples ``(3, H, W)``.
        init: the starting code (default: the encoder's prediction).

    Returns:
        :class:`Personalized` (the code with the lowest objective seen, and both style losses).
    """
    from ..imageio import resize_tensor
    from ..losses import JOHNSON_CONTENT_LAYERS
    from ..validate import as_image_batch

    if not isinstance(steps, int) or steps < 0:
        raise ConfigError(f"steps must be an integer >= 0; got {steps!r}.")
    if not 0 < lr < 10:
        raise ConfigError(f"lr must be in (0, 10); got {lr!r}.")
    t0 = time.perf_counter()
    c, _ = as_image_batch(resize_tensor(content.float(), size), name="content image", max_batch=1)
    c = c.to(model.device)
    targets = example_targets(model, examples, example_size)
    z0 = encoder_code(model, examples, example_size) if init is None else init.reshape(-1).float()
    with torch.no_grad():
        cf = model.features(c, JOHNSON_CONTENT_LAYERS) if content_weight > 0 else None
        _, start = code_objective(model, c, z0.to(model.device), targets, style_weight, content_weight, cf)
    z = z0.clone().to(model.device).requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr)
    best, best_total, history = z0.clone(), start["total"], [{"step": 0, **start}]
    for i in range(steps):
        total, values = code_objective(model, c, z, targets, style_weight, content_weight, cf)
        if values["total"] < best_total:  # the code of this evaluation (before the update)
            best, best_total = z.detach().clone().cpu(), values["total"]
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()
        history.append({"step": i + 1, **values})
    with torch.no_grad():
        _, last = code_objective(model, c, z.detach(), targets, style_weight, content_weight, cf)
    if last["total"] < best_total:
        best, best_total = z.detach().clone().cpu(), last["total"]
    with torch.no_grad():
        _, final = code_objective(model, c, best.to(model.device), targets, style_weight, content_weight, cf)
    return Personalized(best.cpu(), z0.cpu(), start["style"], final["style"], history, time.perf_counter() - t0)


# ----------------------------------------------------------------------------- named styles
def styles_dir() -> Path:
    """Where named styles are kept: ``<stylelab cache>/learned_styles``."""
    from ..assets import cache_root

    return cache_root() / "learned_styles"


def _path(name: str, folder: str | Path | None) -> Path:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(f"A style name is 1-64 letters, digits, spaces, '_', '.' or '-'; got {name!r}.")
    return Path(folder or styles_dir()) / f"{name.strip()}.pt"


def save_style(name: str, code: torch.Tensor, *, examples: int = 0, loss: float | None = None,
               folder: str | Path | None = None) -> Path:
    """Save a code ``(d,)`` under ``name`` (atomic; ``format`` :data:`CODE_FORMAT`)."""
    from ..checkpoint import save_checkpoint

    blob = {"format": CODE_FORMAT, "name": name, "code": code.detach().reshape(-1).float().cpu().clone(),
            "examples": int(examples), "loss": None if loss is None else float(loss)}
    return save_checkpoint(blob, _path(name, folder))


def load_style(name: str, folder: str | Path | None = None) -> torch.Tensor:
    """The code saved under ``name`` ``(d,)`` (``weights_only`` load)."""
    from ..checkpoint import load_checkpoint

    blob = load_checkpoint(_path(name, folder), "saved learned style", format_key="format", format_value=CODE_FORMAT)
    code = blob.get("code")
    if not isinstance(code, torch.Tensor) or code.ndim != 1:
        raise CheckpointError(f"The saved style {name!r} holds no code vector.")
    return code


def list_styles(folder: str | Path | None = None) -> list[str]:
    """Names of the saved styles, sorted."""
    root = Path(folder or styles_dir())
    return sorted(p.stem for p in root.glob("*.pt")) if root.is_dir() else []


__all__ = ["CODE_FORMAT", "example_targets", "encoder_code", "code_objective", "Personalized", "personalize",
           "styles_dir", "save_style", "load_style", "list_styles"]
