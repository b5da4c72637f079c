r"""A weighted total of loss terms that keeps every term, so a UI can plot each one.

.. math::
    \mathcal{L} = \sum_i \lambda_i \mathcal{L}_i

:func:`weighted_sum` returns the total (a tensor to back-propagate) and a dict of plain floats:
for every term ``name`` the WEIGHTED contribution ``lambda_i L_i`` under ``name`` (these add up
to the total, which is what a stacked chart needs), the RAW value ``L_i`` under ``name + "_raw"``,
and the total under ``"total"``.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from ..errors import ConfigError, NonFiniteError, ShapeError


def weighted_sum(terms: Mapping[str, torch.Tensor], weights: Mapping[str, float]) -> tuple[torch.Tensor, dict[str, float]]:
    r"""Total :math:`\sum_i \lambda_i \mathcal{L}_i` and the detached per-term values.

    Args:
        terms: ``{name: scalar tensor}``.
        weights: ``{name: lambda}`` for every term; a weight of 0 switches a term off (it is still
            reported raw). Weights for names without a term are an error unless 0.

    Returns:
        ``(total, values)`` with ``values[name] = lambda * L``, ``values[name + "_raw"] = L``
        and ``values["total"]``.

    Raises:
        ConfigError: no terms, a term without a weight, a non-zero weight without a term.
        ShapeError: a term that is not a scalar. NonFiniteError: a NaN/inf term.
    """
    if not terms:
        raise ConfigError("weighted_sum needs at least one loss term.")
    missing = [k for k in terms if k not in weights]
    if missing:
        raise ConfigError(f"No weight given for term(s) {missing}.")
    orphans = [k for k, w in weights.items() if k not in terms and w != 0]
    if orphans:
        raise ConfigError(f"Weights given for unknown term(s) {orphans}; terms are {list(terms)}.")
    total: torch.Tensor | None = None
    values: dict[str, float] = {}
    for name, t in terms.items():
        if not isinstance(t, torch.Tensor) or t.numel() != 1:
            raise ShapeError(f"Term {name!r} must be a scalar tensor; got {getattr(t, 'shape', type(t).__name__)}.")
        raw = float(t.detach())
        if raw != raw or raw in (float("inf"), float("-inf")):
            raise NonFiniteError(f"Loss term {name!r} is {raw}; lower its weight or the learning rate.")
        lam = float(weights[name])
        values[name] = lam * raw if lam != 0.0 else 0.0
        values[f"{name}_raw"] = raw
        if lam != 0.0:
            contrib = lam * t.reshape(())
            total = contrib if total is None else total + contrib
    if total is None:  # every weight is zero: a zero loss that still has a graph
        total = next(iter(terms.values())).reshape(()) * 0.0
    values["total"] = float(total.detach())
    return total, values


class WeightedLoss:
    """Weighted total with a history of every term (one dict per call, see :func:`weighted_sum`).

    Examples:
        >>> wl = WeightedLoss({"a": 2.0, "b": 0.5})
        >>> total = wl({"a": torch.tensor(1.0), "b": torch.tensor(4.0)})
        >>> float(total), wl.history[-1]["a"], wl.history[-1]["b_raw"]
        (4.0, 2.0, 4.0)
    """

    def __init__(self, weights: Mapping[str, float]) -> None:
        self.weights = dict(weights)
        self.history: list[dict[str, float]] = []

    def __call__(self, terms: Mapping[str, torch.Tensor]) -> torch.Tensor:
        total, values = weighted_sum(terms, self.weights)
        self.history.append(values)
        return total

    def set_weight(self, name: str, value: float) -> None:
        self.weights[name] = float(value)


__all__ = ["weighted_sum", "WeightedLoss"]
