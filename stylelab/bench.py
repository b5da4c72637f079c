"""``python -m stylelab bench``: every lab's performance figures beside their baselines, on this machine.

Each lab has a ``stylelab/<lab>/bench.py`` with ``run(quick: bool) -> list[dict]``; rows are
``{"lab", "name", "value", "unit", "baseline", "baseline_name", "note"}``. This module runs them
one after another (never in parallel: they would measure each other), states the machine, and
prints a table or JSON. ``--quick`` gives a smaller version in a few minutes.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import math
import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

LAB_BENCHES = (
    "stylelab.features_bench",
    "stylelab.losses.bench",
    "stylelab.style.bench",
    "stylelab.gan.bench",
    "stylelab.inpaint.bench",
    "stylelab.aesthetics.bench",
    "stylelab.translate.bench",
    "stylelab.style.bench_param",
    "stylelab.style.bench_learned",
    "stylelab.serve.bench",
)
#: benches whose lab name is not the package's, and which run only when asked for by name (long)
LAB_NAMES = {"stylelab.style.bench_param": "style-param", "stylelab.serve.bench": "classroom",
             "stylelab.style.bench_learned": "learned-style"}
OPT_IN = ("style-param", "classroom", "learned-style")


def _sig(value: float | None, digits: int = 4) -> float | None:
    """``value`` to ``digits`` significant figures (the one rounding rule of every bench row)."""
    if value is None:
        return None
    value = float(value)
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - int(math.floor(math.log10(abs(value)))))


def row(lab: str, name: str, value: float, unit: str, *, baseline: float | None = None,
        baseline_name: str | None = None, note: str = "") -> dict[str, Any]:
    """One benchmark row, the same shape for every lab: ``{"lab", "name", "value", "unit", "baseline",
    "baseline_name", "note"}`` with values rounded to 4 significant figures (measured, never made up)."""
    return {"lab": lab, "name": name, "value": _sig(value), "unit": unit, "baseline": _sig(baseline),
            "baseline_name": baseline_name, "note": note}


def median_time(fn: Callable[[], object], repeat: int, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` over ``repeat`` runs, after ``warmup`` untimed runs (caches, kernels)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import torch

    from .device import describe_device, get_device

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "device": describe_device(get_device()),
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def run_all(quick: bool = False, labs: list[str] | None = None) -> dict[str, Any]:
    from .cli import module_exists

    rows: list[dict[str, Any]] = []
    errors: list[str] = []
    for name in LAB_BENCHES:
        lab = _lab_of(name)
        if labs and lab not in labs:
            continue
        if not labs and lab in OPT_IN:
            errors.append(f"{name}: long, run it with --lab {lab}")
            continue
        if not module_exists(name):
            errors.append(f"{name}: not part of this build")
            continue
        t0 = time.perf_counter()
        rows += importlib.import_module(name).run(quick=quick)
        rows.append(row(lab, "benchmark wall time", time.perf_counter() - t0, "s", note="quick" if quick else "full"))
    return {"machine": machine(), "quick": quick, "rows": rows, "skipped": errors}


def format_table(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [f"Machine: {m['cpu']} · {m['cores']} cores · {m['device']} · torch {m['torch']} · {m['date']}", ""]
    head = f"{'lab':<11} {'measure':<52} {'value':>12} {'unit':<10} {'baseline':>12}  {'ratio':>6}  note"
    lines += [head, "-" * len(head)]
    for r in result["rows"]:
        base = r.get("baseline")
        ratio = ""
        if base not in (None, 0) and isinstance(r["value"], (int, float)):
            ratio = f"{base / r['value']:.2f}x" if r["unit"] in ("s", "ms", "s/step", "ms/step", "MB", "GB") else f"{r['value'] / base:.2f}x"
        lines.append(f"{r['lab']:<11} {r['name'][:52]:<52} {_fmt(r['value']):>12} {r['unit']:<10} {_fmt(base):>12}  {ratio:>6}  {r.get('note', '')}")
    for s in result["skipped"]:
        lines.append(f"(skipped {s})")
    return "\n".join(lines)


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _lab_of(module: str) -> str:
    return LAB_NAMES.get(module) or (module.split(".")[1] if module.count(".") > 1 else "features")


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true", help="smaller sizes/steps: a few minutes in all")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--lab", action="append", choices=[_lab_of(m) for m in LAB_BENCHES],
                   help="only these labs (repeatable)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="run every lab's performance figures beside their baselines")
    _add_arguments(p)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    """The one printing path of every bench: a table, or JSON with ``--json``."""
    result = run_all(quick=args.quick, labs=args.lab)
    if args.json:
        print(json.dumps(result, indent=2, allow_nan=False, default=str))
    else:
        print(format_table(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m stylelab.bench [--lab LAB] [--quick] [--json]`` (the same as ``python -m stylelab bench``)."""
    from .entry import run_main

    def body(args: list[str] | None) -> int:
        p = argparse.ArgumentParser(prog="python -m stylelab.bench", description=__doc__.splitlines()[0])
        _add_arguments(p)
        return _run(p.parse_args(args))

    return run_main(body, argv)


if __name__ == "__main__":
    raise SystemExit(main())
