"""Style Studio benchmark: our Gatys vs the tutorial-style loop, what each speed-up buys, feed-forward latency, memory.

``run(quick)`` returns rows ``{"lab", "name", "value", "unit", "baseline", "baseline_name", "note"}``
measured on this machine, side by side in one process (the memory row runs in a fresh subprocess
so its peak is its own). ``python -m stylelab bench`` collects them; ``python -m stylelab.style.bench``
prints this lab's table.

Full mode (~7 min on an idle 2-core CPU):

* 300 evaluations at 256 px: ours (VGG16 up to relu5_1 in bf16 with fp32 Grams, channels_last),
  at one scale (the default) and with a 128 -> 256 pyramid (150 + 150 steps), vs the reference (full
  VGG16 forward, fp32, single scale); final loss of all judged by the same fp32 objective at
  256 px, and the reference's time to reach each of our final losses;
* seconds per step at 256 and 512 px, ours vs reference, and one row per speed-up (ablation);
* feed-forward latency of the 26-style network at 256, 512, 1024 px (torch port, bf16 weights
  where fast) with onnxruntime as the baseline;
* peak RSS of L-BFGS at 512 px.

Quick mode (< 60 s): the same at smaller sizes and fewer steps.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time

import torch

from ..bench import median_time as _median_time
from ..bench import row

LAB = "style"


def _images(size: int, painting: str = "the-great-wave-off-kanagawa") -> tuple[torch.Tensor, torch.Tensor]:
    """The astronaut and ``painting`` at ``size`` px (a texture where the paintings are missing)."""
    from ..assets import load_bundled
    from ..errors import AssetError
    from ..imageio import resize_tensor

    content = resize_tensor(load_bundled("photo:astronaut"), (size, size))
    try:
        style = resize_tensor(load_bundled(f"painting:{painting}"), (size, size))
    except AssetError:  # paintings package missing: a texture keeps the benchmark running
        style = resize_tensor(load_bundled("texture:brick"), (size, size))
    return content, style




def _seconds_per_step(content, style, config, steps: int) -> float:
    from .gatys import GatysStylizer

    run = GatysStylizer(content, style, config, "cpu")
    run.run(2)  # warm-up (first evaluations allocate)
    t0 = time.perf_counter()
    run.run(steps)
    return (time.perf_counter() - t0) / steps


def _ref_seconds_per_step(content, style, config, steps: int) -> float:
    from .reference import reference_gatys

    reference_gatys(content, style, dataclasses.replace(config, steps=2))  # warm-up
    _, _, seconds = reference_gatys(content, style, dataclasses.replace(config, steps=steps))
    return seconds / steps


def gatys_rows(quick: bool) -> list[dict]:
    from .gatys import GatysConfig, objective, stylize_gatys
    from .reference import reference_gatys

    rows = []
    size, steps = (128, 30) if quick else (256, 300)
    content, style = _images(size)
    base = GatysConfig(size=size, steps=steps, pyramid_levels=1, precision="fp32", channels_last=False)
    ours_cfg = GatysConfig(size=size, steps=steps)  # the defaults: single scale, bf16, channels_last
    variants = {"default (single scale)": ours_cfg, "2-scale pyramid": dataclasses.replace(ours_cfg, pyramid_levels=2)}
    # warm-up both (first calls build the networks and the oneDNN kernels of every layer shape)
    stylize_gatys(content, style, dataclasses.replace(ours_cfg, steps=4), device="cpu")
    reference_gatys(content, style, dataclasses.replace(base, steps=2))
    ref_img, ref_hist, ref_s = reference_gatys(content, style, base)
    ref_loss = objective(ref_img, content, style, ours_cfg, "cpu")["total"]
    rows.append(row(LAB, f"gatys {size}px {steps} its: reference seconds", ref_s, "s",
                    note=f"tutorial-style loop: full VGG16 fp32, single scale; final loss {ref_loss:.4g} "
                         "(fp32 objective)"))
    for label, cfg in variants.items():
        ours = stylize_gatys(content, style, cfg, device="cpu")
        ours_loss = objective(ours.image, content, style, ours_cfg, "cpu")["total"]
        reach = next((i + 1 for i, v in enumerate(ref_hist) if v <= ours_loss), None)
        sched = " + ".join(f"{n}@{s}" for s, n in cfg.schedule())
        rows.append(row(LAB, f"gatys {size}px {steps} its, {label}: seconds", ours.seconds, "s",
                        baseline=ref_s, baseline_name="tutorial-style loop",
                        note=f"ours: VGG16 to relu5_1 in bf16, fp32 Grams, channels_last, {sched}; "
                         f"speed-up at equal steps {ref_s / ours.seconds:.2f}x"))
        rows.append(row(LAB, f"gatys {size}px, {label}: final loss (fp32 objective)", ours_loss, "loss",
                        baseline=ref_loss, baseline_name="reference final loss",
                        note="lower is better; both judged by stylelab.style.gatys.objective"))
        if reach is not None:
            t_reach = ref_s * reach / len(ref_hist)
            rows.append(row(LAB, f"gatys {size}px, {label}: speed-up at equal final loss", t_reach / ours.seconds, "x",
                            baseline=1.0, baseline_name="reference",
                            note=f"the reference reached our final loss after {reach} of {len(ref_hist)} "
                             f"evaluations ({t_reach:.1f} s)"))
        else:
            rows.append(row(LAB, f"gatys {size}px, {label}: reference never reached our final loss",
                            ref_hist[-1] / ours_loss, "ratio", note="reference final / ours final (fp32 objective)"))

    # seconds per step, ours vs reference, and what each speed-up buys (one change at a time)
    sizes = (128,) if quick else (256, 512)
    n = 5
    for sz in sizes:
        c, s = _images(sz)
        single = GatysConfig(size=sz, steps=100, pyramid_levels=1)
        ref = _ref_seconds_per_step(c, s, single, n)
        ours_step = _seconds_per_step(c, s, single, n)
        rows.append(row(LAB, f"gatys {sz}px: s/step (single scale)", ours_step, "s",
                        baseline=ref, baseline_name="reference s/step",
                        note="pyramid not included: its gain is in the 300-iteration row"))
        if sz == sizes[0]:
            plain = dataclasses.replace(single, precision="fp32", channels_last=False)
            t_plain = _seconds_per_step(c, s, plain, n)
            t_bf16 = _seconds_per_step(c, s, dataclasses.replace(plain, precision="auto"), n)
            rows.append(row(LAB, f"gatys {sz}px: stop VGG at relu5_1 (fp32)", t_plain, "s/step",
                            baseline=ref, baseline_name="full VGG16 fp32"))
            rows.append(row(LAB, f"gatys {sz}px: + bf16 network copy (fp32 Grams)", t_bf16, "s/step",
                            baseline=t_plain, baseline_name="fp32"))
            rows.append(row(LAB, f"gatys {sz}px: + channels_last", ours_step, "s/step",
                            baseline=t_bf16, baseline_name="bf16 NCHW"))
    return rows


def feedforward_rows(quick: bool) -> list[dict]:
    import onnxruntime as ort

    from ..assets import style_model_path
    from .multistyle import parse_style, stylize_multistyle

    sess = ort.InferenceSession(str(style_model_path("multistyle26")), providers=["CPUExecutionProvider"])
    w = parse_style(3).numpy()
    rows = []
    for size in ((256,) if quick else (256, 512, 1024)):
        x = torch.rand(3, size, size, generator=torch.Generator().manual_seed(0))
        repeat = 3 if size >= 1024 or quick else 7
        t_ours = _median_time(lambda x=x: stylize_multistyle(x, 3), repeat)
        t_fp32 = _median_time(lambda x=x: stylize_multistyle(x, 3, fast=False), repeat)
        xn = x[None].numpy()
        t_ort = _median_time(lambda xn=xn: sess.run(None, {"image": xn, "style_weights": w}), repeat)
        rows.append(row(LAB, f"multistyle26 {size}px latency (torch, bf16 weights)", t_ours * 1000, "ms",
                        baseline=t_ort * 1000, baseline_name="onnxruntime",
                        note=f"torch fp32: {t_fp32 * 1000:.0f} ms"))
    return rows


_MEMORY_SCRIPT = """
import json, resource, sys, torch
from stylelab.device import tune_allocator
tune_allocator()  # as the app and the CLI run
from stylelab.style.gatys import GatysConfig, GatysStylizer
from stylelab.style.bench import _images
size, steps, history = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
c, s = _images(size)
run = GatysStylizer(c, s, GatysConfig(size=size, steps=steps, pyramid_levels=1, lbfgs_history=history), "cpu")
def peak_mb():
    # VmHWM: this process image's peak RSS. ru_maxrss is NOT used: Linux carries it over a fork +
    # exec, so a child of a big benchmark process would report its parent's peak.
    try:
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) / 1024 for l in f if l.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
before = peak_mb()
run.run(steps)
print(json.dumps({"before": before, "peak": peak_mb()}))
"""


def memory_rows(quick: bool) -> list[dict]:
    size, steps = (256, 6) if quick else (512, 40)  # history 20: the L-BFGS memory is full after 20
    proc = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT, str(size), str(steps), "20"], capture_output=True,
                          text=True, timeout=600)
    if proc.returncode != 0:
        return [row(LAB, f"L-BFGS {size}px peak RSS", float("nan"), "MB", note=f"failed: {proc.stderr[-300:]}")]
    m = json.loads(proc.stdout.strip().splitlines()[-1])
    return [row(LAB, f"L-BFGS {size}px peak RSS (history 20, {steps} steps)", m["peak"], "MB",
                baseline=m["before"], baseline_name="RSS after setup (torch + VGG + targets)",
                note="whole process (VmHWM), fresh subprocess, allocator tuned as the app and CLI run")]


def run(quick: bool = False) -> list[dict]:
    """Every row of this lab's benchmark (see the module docstring)."""
    from ..device import configure_threads

    configure_threads()
    return [*feedforward_rows(quick), *gatys_rows(quick), *memory_rows(quick)]


def main(argv: list[str] | None = None) -> int:
    import argparse

    from ..device import tune_allocator

    tune_allocator()
    p = argparse.ArgumentParser(prog="python -m stylelab.style.bench")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    rows = run(args.quick)
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
    else:
        for r in rows:
            base = f" (baseline {r['baseline']:.4g}: {r['baseline_name']})" if r["baseline"] is not None else ""
            print(f"{r['name']}: {r['value']:.4g} {r['unit']}{base} {r['note']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
