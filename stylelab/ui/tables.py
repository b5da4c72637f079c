"""Score tables for the labs: human column names, one format per column, the best value highlighted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from pandas.io.formats.style import Styler

BEST_CSS = "background-color: #c7e9c0; font-weight: bold"


def best_mask(col: "pd.Series", better: str, target: float | None = None) -> "pd.Series":
    """Where ``col`` holds its best value: ``better`` is ``"max"``, ``"min"`` or ``"target"`` (closest to ``target``).

    A column of one row has nothing to beat: all False. Ties are all marked.
    """
    import pandas as pd

    if better == "target":
        if target is None:
            raise ValueError("better='target' needs a target value")
        key = (col - target).abs()
    elif better == "max":
        key = -col
    elif better == "min":
        key = col
    else:
        raise ValueError(f"better must be 'max', 'min' or 'target', got {better!r}")
    if len(col) < 2:
        return pd.Series(False, index=col.index)
    return key == key.min()


def score_table(df: "pd.DataFrame", columns: Mapping[str, tuple[str, str, str]],
                targets: Mapping[str, float] | None = None) -> "Styler":
    """Rename, format and highlight the best entry of each column of ``df`` (one row per method).

    Args:
        columns: ``{key: (human name, format, better)}``; ``better`` as in :func:`best_mask`.
            Columns of ``df`` not named here are dropped, in this order.
        targets: ``{key: value}`` for columns whose best is the one closest to a value.
    """
    targets = dict(targets or {})
    keys = [k for k in columns if k in df.columns]
    out = df[keys].astype(float).copy()
    names = {k: columns[k][0] for k in keys}
    out.columns = [names[k] for k in keys]
    rules = {names[k]: (columns[k][2], targets.get(k)) for k in keys}

    def highlight(col: "pd.Series") -> list[str]:
        better, target = rules[col.name]
        return [BEST_CSS if w else "" for w in best_mask(col, better, target)]

    return out.style.apply(highlight, axis=0).format({names[k]: columns[k][1] for k in keys})
