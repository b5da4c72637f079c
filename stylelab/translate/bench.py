"""Translate benchmark: what the judges say about the shipped translators, with and without the cycle term.

Rows (``run(quick)``, collected by ``python -m stylelab bench --lab translate``):

- for the shipped ``mnist2fashion`` (lambda_cyc = 10), baseline the shipped ``mnist2fashion-nocycle``
  (lambda_cyc = 0), on the 500 held-out digits and 500 held-out clothes (:mod:`stylelab.translate.metrics`):
  ``clothing_rate`` (G(x) called clothing by the digit-vs-clothing classifier), ``fashion_confidence``,
  ``digit_kept`` (the MNIST classifier reads F(G(x)) as x's digit), ``digit_rate``, ``clothes_kept``,
  ``cycle_error_x``;
- the judges on REAL held-out images (the ceilings and floors of those measures): the MNIST
  classifier's accuracy (the most ``digit_kept`` can be), the digit-vs-clothing classifier on real
  digits (what a G that does nothing would score as ``clothing_rate``);
- speed: seconds per image-training step with the identity term (``lambda_id = 1``: two more
  generator passes) against the same step without it, both measured here, one torch thread;
  seconds to translate and bring back 500 digits.

The shipped files' sizes are rows too. The machine is shared: ratios are measured in one run.
"""

from __future__ import annotations

import time
from typing import Any

LAB = "translate"


def _row(name: str, value: float, unit: str, baseline: float | None = None, baseline_name: str | None = None,
         note: str = "") -> dict[str, Any]:
    from ..bench import row

    return row(LAB, name, value, unit, baseline=baseline, baseline_name=baseline_name, note=note)


def measures(n: int) -> dict[str, dict[str, float]]:
    """The held-out measures of every shipped translator on ``n`` held-out images per domain."""
    from .metrics import held_out, measure_translator
    from .translator import SHIPPED, load_translator

    x, xl, y, yl = held_out(n)
    return {name: measure_translator(load_translator(name), x, xl, y, yl) for name in SHIPPED}


def step_seconds(lambda_id: float, steps: int) -> float:
    """Median seconds per step of the shipped model's training configuration (after 2 warm-up steps)."""
    import statistics

    from .run import CycleRun, image_config
    from .translator import load_translator

    cfg = dict(load_translator("mnist2fashion").config)
    cfg.update(lambda_id=lambda_id, metrics_every=0, steps=0)
    run = CycleRun(image_config(**cfg), seed=0, device="cpu")
    times = []
    with run.running():
        for i in range(steps + 2):
            t0 = time.perf_counter()
            run.step()
            if i >= 2:
                times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run(quick: bool = False) -> list[dict[str, Any]]:
    import torch

    from ..bench import median_time
    from .metrics import HELD_OUT, held_out, judge_baselines
    from .translator import load_translator, shipped_path

    n = 200 if quick else HELD_OUT
    m = measures(n)
    on, off = m["mnist2fashion"], m["mnist2fashion-nocycle"]
    rows = []
    for key, unit in (("clothing_rate", "share"), ("fashion_confidence", "prob"), ("digit_kept", "share"),
                      ("digit_rate", "share"), ("clothes_kept", "share"), ("cycle_error_x", "L1")):
        rows.append(_row(f"{key} (lambda_cyc = 10)", on[key], unit, off[key], "lambda_cyc = 0",
                         note=f"{n} held-out images per domain"))
    base = judge_baselines(n)
    rows.append(_row("MNIST classifier on real held-out digits", base["digit_accuracy"], "accuracy",
                     note="the most digit_kept can be"))
    rows.append(_row("Fashion classifier on real held-out clothes", base["fashion_accuracy"], "accuracy",
                     note="the most clothes_kept can be"))
    rows.append(_row("clothing_rate of real digits (G = identity)", base["clothing_rate_of_digits"], "share",
                     base["clothing_rate_of_clothes"], "clothing_rate of real clothes", note="the domain judge's floor and ceiling"))
    rows.append(_row("Fashion confidence on real digits", base["fashion_confidence_of_digits"], "prob",
                     base["fashion_confidence_of_clothes"], "on real clothes",
                     note="confidence alone does not tell clothes from digits"))
    steps = 5 if quick else 20
    with_id, without_id = step_seconds(1.0, steps), step_seconds(0.0, steps)
    rows.append(_row("image training step, lambda_id = 1", with_id, "s/step", without_id, "lambda_id = 0",
                     note=f"median of {steps}, batch as shipped, 1 torch thread, machine under load"))
    model = load_translator("mnist2fashion")
    x = held_out(n)[0]
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        seconds = median_time(lambda: model.round_trip(x), 3)
    finally:
        torch.set_num_threads(before)
    rows.append(_row(f"G then F on {n} digits", seconds, "s", note="1 torch thread"))
    for name in ("mnist2fashion", "mnist2fashion-nocycle"):
        rows.append(_row(f"shipped {name} file", shipped_path(name).stat().st_size / 1e6, "MB"))
    return rows


__all__ = ["measures", "run", "step_seconds"]
