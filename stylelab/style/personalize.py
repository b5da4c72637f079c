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
whole image (Gatys) or a network (fast style). With so few unknowns and a smooth, deterministic
objective the natural optimiser is L-BFGS (as for Gatys' image), which needs far fewer evaluations
than Adam for the same loss: the default is 5 evaluations on a 128 px copy of the photo, about
0.6 s on a 2-core CPU (``optimizer="adam"`` keeps the first-order version). The style loss is Gatys'
(``relu1_1 ... relu5_1``) by default, the standard one; the encoder's layers are the alternative. The code is resolution
free (AdaIN statistics), so it is then applied at feed-forward speed to the photo at any size. A code can be saved under a name
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
from ..losses.perceptual import DEFAULT_STYLE_LAYERS
from .learned import CODE_LAYERS

#: the ``format`` of a saved style code
CODE_FORMAT = "stylelab.learned_code/1"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")


def _example_features(model: Any, examples: Sequence[torch.Tensor], size: int | None,
                      layers: Sequence[str] = CODE_LAYERS) -> list[dict[str, torch.Tensor]]:
    """VGG16 features at ``layers`` of each example (longer side ``size``); one pass each."""
    from ..imageio import resize_tensor

    if not 1 <= len(examples) <= 5:
        raise ConfigError(f"Give 1 to 5 example images of the style; got {len(examples)}.")
    with torch.no_grad():
        return [model.features((ex if size is None else resize_tensor(ex.float(), size)).unsqueeze(0), list(layers))
                for ex in examples]


def _targets_from(feats: list[dict[str, torch.Tensor]], layers: Sequence[str]) -> dict[str, torch.Tensor]:
    from ..losses import gram_matrix

    return {k: torch.stack([gram_matrix(f[k])[0] for f in feats]).mean(0) for k in layers}


def _code_from(model: Any, feats: list[dict[str, torch.Tensor]]) -> torch.Tensor:
    with torch.no_grad():
        return torch.stack([model.encoder({k: f[k] for k in CODE_LAYERS})[0] for f in feats]).mean(0).float().cpu()


def example_targets(model: Any, examples: Sequence[torch.Tensor], size: int | None = 256,
                    layers: Sequence[str] = CODE_LAYERS) -> dict[str, torch.Tensor]:
    r"""Mean Gram matrices :math:`\bar A^l = \frac1K\sum_k G^l(s_k)` ``{layer: (C, C)}`` of 1-5 examples.

    Each example ``(3, H, W)`` is resized so its longer side is ``size`` (None: as it is).
    """
    return _targets_from(_example_features(model, examples, size, layers), layers)


def encoder_code(model: Any, examples: Sequence[torch.Tensor], size: int | None = 256) -> torch.Tensor:
    r"""The encoder's prediction :math:`\bar z = \frac1K\sum_k E(s_k)` ``(d,)``."""
    return _code_from(model, _example_features(model, examples, size))


def code_objective(model: Any, content: torch.Tensor, code: torch.Tensor, targets: dict[str, torch.Tensor],
                   style_weight: float = 1e5, content_weight: float = 0.0,
                   content_feats: dict[str, torch.Tensor] | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    r"""The personalisation objective :math:`\beta\mathcal{L}_{style}(G(c,z), \bar A) + \alpha\mathcal{L}_{content}`.

    Args:
        content: ``(1, 3, H, W)``; code ``(d,)`` or ``(1, d)`` (may require grad).
        targets: :func:`example_targets` (its keys are the style loss's layers).

    Returns:
        ``(total, {"style": raw style loss, "content": raw content loss, "total": total})``.
    """
    from ..losses import JOHNSON_CONTENT_LAYERS, content_loss, style_loss

    y = model.generator(content, code.reshape(1, -1))
    layers = list(dict.fromkeys([*targets, *JOHNSON_CONTENT_LAYERS]))
    fy = model.features(y, layers)
    ls = style_loss(fy, targets, {n: 1.0 for n in targets}, check=False)
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


OPTIMIZERS = ("lbfgs", "adam")


def personalize(model: Any, content: torch.Tensor, examples: Sequence[torch.Tensor], steps: int = 5,
                lr: float | None = None, size: int = 128, style_weight: float = 1e5, content_weight: float = 0.0,
                init: torch.Tensor | None = None, example_size: int | None = 256,
                optimizer: str = "lbfgs", style_layers: Sequence[str] = DEFAULT_STYLE_LAYERS) -> Personalized:
    r"""Optimise the code alone against the style loss (generator frozen).

    Args:
        model: a :class:`~stylelab.style.learned_train.LearnedModel`.
        content: the photo ``(3, H, W)`` the code is fitted on, resized so its longer side is ``size``.
        examples: 1-5 style examples ``(3, H, W)``.
        steps: evaluations of the objective (each a generator and VGG16 pass, forward and back):
            Adam's steps, or L-BFGS' budget (it stops once ``steps`` are spent; a line search under
            way may add a few: ``history`` counts every one).
        lr: step size (default 1 for L-BFGS with a strong-Wolfe line search, 0.3 for Adam).
        init: the starting code (default: the encoder's prediction).
        optimizer: ``"lbfgs"`` (default) or ``"adam"``.
        style_layers: the VGG16 layers of the style loss: Gatys' ``relu1_1 ... relu5_1`` by default
            (:data:`stylelab.losses.DEFAULT_STYLE_LAYERS`); :data:`CODE_LAYERS` (the encoder's) is the other choice.

    Returns:
        :class:`Personalized` (the code with the lowest objective seen, and both style losses);
        ``history`` has one row per evaluation (row 0: the starting code).
    """
    from ..imageio import resize_tensor
    from ..losses import JOHNSON_CONTENT_LAYERS
    from ..validate import as_image_batch

    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
        raise ConfigError(f"steps must be an integer >= 0; got {steps!r}.")
    if optimizer not in OPTIMIZERS:
        raise ConfigError(f"optimizer must be one of {OPTIMIZERS}; got {optimizer!r}.")
    lr = (1.0 if optimizer == "lbfgs" else 0.3) if lr is None else lr
    if not isinstance(lr, (int, float)) or not 0 < lr < 10:
        raise ConfigError(f"lr must be in (0, 10); got {lr!r}.")
    t0 = time.perf_counter()
    c, _ = as_image_batch(resize_tensor(content.float(), size), name="content image", max_batch=1)
    c = c.to(model.device)
    layers = list(dict.fromkeys([*CODE_LAYERS, *style_layers]))
    feats = _example_features(model, examples, example_size, layers)  # one VGG pass per example: Grams and codes
    targets = _targets_from(feats, style_layers)
    z0 = _code_from(model, feats) if init is None else init.reshape(-1).float()
    with torch.no_grad():
        cf = model.features(c, JOHNSON_CONTENT_LAYERS) if content_weight > 0 else None
    z = z0.clone().to(model.device).requires_grad_(True)
    best: dict[str, Any] = {"z": z0.clone(), "total": float("inf"), "style": float("nan")}
    history: list[dict[str, float]] = []

    def evaluate() -> torch.Tensor:
        total, values = code_objective(model, c, z, targets, style_weight, content_weight, cf)
        if values["total"] < best["total"]:  # the code of this evaluation (before the update)
            best.update(z=z.detach().clone().cpu(), total=values["total"], style=values["style"])
        history.append({"step": len(history), **values})
        return total

    if steps == 0:
        with torch.no_grad():
            evaluate()
    elif optimizer == "adam":
        opt = torch.optim.Adam([z], lr=lr)
        for _ in range(steps):
            opt.zero_grad(set_to_none=True)
            evaluate().backward()
            opt.step()
    else:
        opt = torch.optim.LBFGS([z], lr=lr, max_iter=steps, max_eval=steps, history_size=10,
                                line_search_fn="strong_wolfe", tolerance_grad=0.0, tolerance_change=0.0)

        def closure() -> torch.Tensor:
            opt.zero_grad(set_to_none=True)
            total = evaluate()
            total.backward()
            return total

        opt.step(closure)
    if steps > 0 and optimizer == "adam":  # Adam's last update has not been evaluated yet
        with torch.no_grad():
            evaluate()
    return Personalized(best["z"].cpu(), z0.cpu(), history[0]["style"], best["style"], history,
                        time.perf_counter() - t0)  # the best code's loss was measured when it was evaluated


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


__all__ = ["CODE_FORMAT", "example_targets", "encoder_code", "code_objective", "Personalized", "OPTIMIZERS", "personalize",
           "styles_dir", "save_style", "load_style", "list_styles"]
