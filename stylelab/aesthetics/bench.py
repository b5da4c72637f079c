"""Aesthetics Lab timings: the full report at 256 / 512 px, BRISQUE and NIQE per image, one adjustment step.

``run(quick)`` returns rows ``{"lab", "name", "value", "unit", "baseline", "baseline_name", "note"}``
(:func:`stylelab.bench.row`, collected by ``python -m stylelab bench``). Each figure is the median of several runs after a
warm-up. ``quick=True`` measures 256 px only and finishes in well under a minute.
"""

from __future__ import annotations

from typing import Any

from ..bench import median_time as _median_s
from ..bench import row

LAB = "aesthetics"


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Measure on this machine (see the module docstring)."""
    from ..assets import load_bundled
    from .adjustment import AdjustConfig, Adjuster
    from .brisque_iqa import brisque
    from .niqe_iqa import niqe
    from .scorecard import report

    repeats = 3 if quick else 5
    rows: list[dict[str, Any]] = []
    for size in (256,) if quick else (256, 512):
        img = load_bundled("photo:astronaut", size=size)
        cheap = _median_s(lambda img=img: report(img, quality=False), repeats)
        full = _median_s(lambda img=img: report(img, quality=True), repeats)
        rows.append(row(LAB, f"report, {size} px, all measures", full * 1000, "ms",
                        baseline=cheap * 1000, baseline_name="report without BRISQUE/NIQE",
                        note="every measure incl. BRISQUE and NIQE (astronaut)"))
        rows.append(row(LAB, f"BRISQUE, {size} px", _median_s(lambda img=img: brisque(img), repeats) * 1000, "ms",
                        note="36 NSS features + SVR over 770 support vectors"))
        rows.append(row(LAB, f"NIQE, {size} px", _median_s(lambda img=img: niqe(img), repeats) * 1000, "ms",
                        note="96 px patches, 2 scales, MVG distance"))
    small = load_bundled("photo:coffee", size=256)
    for content in ("mse",) if quick else ("mse", "lpips"):
        adj = Adjuster(small, AdjustConfig(content=content))
        rows.append(row(LAB, f"adjust step, params mode, {content} content, 256 px", _median_s(adj.step, repeats) * 1000, "ms",
                        note="one Adam step (forward + backward)"))
    return rows


if __name__ == "__main__":  # pragma: no cover
    for r in run(quick=True):
        print(r)
