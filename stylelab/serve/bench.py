"""``python -m stylelab bench --lab classroom``: the classroom load test (:mod:`stylelab.serve.loadtest`) as bench rows.

Full: 30 sessions (20 heavy: GAN Lab playing, Gatys, Deep Image Prior, fast-style training; 10
browsing) for 120 s each; ``--quick``: 4 sessions for 25 s. The app is started from this checkout.
With ``STYLELAB_LOADTEST_BASELINE_DIR`` set to an older checkout (e.g. the server before the
scheduler), the same classroom runs first against that app and every row carries its figure as the
baseline. Opt-in (it saturates the machine for minutes): it runs only when asked for by name.
"""

from __future__ import annotations

import os
from typing import Any

from ..bench import row
from .loadtest import HEAVY_KINDS, LoadTestConfig, run_loadtest

LAB = "classroom"
BASELINE_ENV = "STYLELAB_LOADTEST_BASELINE_DIR"


def config(quick: bool) -> LoadTestConfig:
    """The classroom of the bench (the issue's 30 sessions, or 4 for ``quick``)."""
    if quick:
        return LoadTestConfig(sessions=4, heavy=3, seconds=25.0)
    return LoadTestConfig(sessions=30, heavy=20, seconds=120.0)


def figures(result: dict[str, Any]) -> dict[str, tuple[float | None, str]]:
    """``{row name: (value, unit)}`` from one load-test result; the row names stay fixed across runs."""
    s = result["summary"]
    pl, srv = s["page_load_s"], s["server"]
    out: dict[str, tuple[float | None, str]] = {
        "page load p50": (pl["p50"], "s"),
        "page load p95": (pl["p95"], "s"),
        "page load max": (pl["max"], "s"),
        "fairness, worst kind (slowest / fastest steps/s)": (s["fairness_min"], "ratio"),
        "errors (exceptions + driver failures)": (float(s["errors"]), "count"),
        "peak server RSS": (srv.get("peak_rss_mb"), "MB"),
        "server CPU after every tab closed": (srv.get("cpu_after_close_pct"), "%"),
    }
    for kind in HEAVY_KINDS:
        k = s["kinds"].get(kind)
        if k:
            out[f"{kind}: slowest session progress"] = (k["rate_min"], "steps/s")
            out[f"{kind}: fairness"] = (k["fairness"], "ratio")
    return out


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Bench rows of the classroom load test (with the baseline app's figures when configured)."""
    cfg = config(quick)
    base_dir = os.environ.get(BASELINE_ENV)
    base = figures(run_loadtest(LoadTestConfig(**{**cfg.__dict__, "app_dir": base_dir}))) if base_dir else {}
    new = figures(run_loadtest(cfg))
    note = f"{cfg.sessions} sessions ({cfg.n_heavy} heavy), {cfg.seconds:g} s"
    rows = []
    for name, (value, unit) in new.items():
        b = base.get(name, (None, unit))[0]
        # None (JSON null, "-" in the table): not measured, e.g. no session of that kind progressed; never a made-up 0
        rows.append(row(LAB, name, value, unit, baseline=b, baseline_name=base_dir if b is not None else None,
                        note=note if value is not None else note + "; not measured"))
    return rows
