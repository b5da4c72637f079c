"""The Loss Lab bench module returns honest, well-formed rows."""

from __future__ import annotations

import math

import pytest


@pytest.mark.slow
def test_bench_quick_rows():
    from stylelab.losses.bench import run

    rows = run(quick=True)
    assert len(rows) >= 5
    for row in rows:
        assert set(row) == {"lab", "name", "value", "unit", "baseline", "baseline_name", "note"}
        assert row["lab"] == "losses" and row["value"] > 0 and math.isfinite(row["value"])
        assert (row["baseline"] is None) == (row["baseline_name"] is None)
    assert any(r["baseline_name"] and "scikit-image" in r["baseline_name"] for r in rows)
