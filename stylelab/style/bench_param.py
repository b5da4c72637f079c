"""Gatys in a better-conditioned space: every image parameterisation x optimiser vs the tutorial-style reference.

``python -m stylelab bench --lab style-param`` (opt-in: not part of a plain ``bench``, it is long) or
``python -m stylelab.style.bench_param --sizes 256 128 --curves curves.json``.

For each size, in one process and with one objective (the default Gatys loss, astronaut + a Van Gogh),
following that size's :class:`SizePlan` (``PLANS``: sized to a shared 2-core CPU):

1. the reference (:mod:`stylelab.style.reference`) runs ``ref_evals`` evaluations (300; none at 512 px);
   its result, judged by the fp32 objective (:func:`stylelab.style.gatys.objective`), is the loss to reach;
2. plain Gatys (pixels, L-BFGS, our defaults) runs ``target_evals`` evaluations (1,000): its last picture
   is the pixel "converged" target for LPIPS;
3. every other parameterisation x optimiser runs its planned evaluations; a space whose L-BFGS run is as
   long as the target also has its OWN converged picture (a space may converge to a different good
   picture: it is judged against both). The image is saved at checkpoints (every 5 evaluations to 100,
   every 25 to 300, then every 100) and judged afterwards, outside the timed run: the fp32 objective and
   LPIPS (VGG) to the targets.

Rows per run: evaluations and seconds to the reference's loss, to plain Gatys' 100-evaluation loss (the
issue's concrete aim: that picture in ~35 evaluations), to LPIPS < 0.1 to pixels' and to its own picture;
the loss at 35 and 100 evaluations; seconds per evaluation (the parameterisation's overhead), with the load
average. Evaluation counts do not depend on the machine's load; seconds do (the notes say so). Counts are
resolved to the checkpoint grid ("<= n": reached at checkpoint n, not before the previous one).
:func:`tables` turns the saved curves into the markdown of docs/style_parameterization.md.
"""

from __future__ import annotations

import dataclasses
import json
import time

import torch

from ..bench import row
from .bench import _images

LAB = "style-param"
#: (kind, colour) of every space measured; each runs with L-BFGS and with Adam
SPACES = (("pixels", "none"), ("pixels", "imagenet"), ("laplacian", "none"), ("laplacian", "imagenet"),
          ("fourier", "none"), ("fourier", "imagenet"))
OPTIMIZERS = ("lbfgs", "adam")
LPIPS_CONVERGED = 0.1


def images(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Astronaut and a Van Gogh (village street in Auvers) at ``size`` px (a texture if the paintings are missing)."""
    return _images(size, "village-street-in-auvers")


def checkpoints(n: int) -> list[int]:
    """Evaluation counts at which the image is saved: every 5 to 100, every 25 to 300, then every 100."""
    pts = [*range(5, 101, 5), *range(125, 301, 25), *range(400, 100001, 100)]
    return [p for p in pts if p <= n] + ([n] if n not in pts else [])


def curve(content: torch.Tensor, style: torch.Tensor, config, n: int) -> dict:
    """Run ``config`` for ``n`` evaluations; the images and seconds at every checkpoint, the per-evaluation loss."""
    from .gatys import GatysStylizer

    run = GatysStylizer(content, style, dataclasses.replace(config, steps=n), "cpu")
    shots: dict[int, torch.Tensor] = {}
    seconds: dict[int, float] = {}
    done = 0
    for c in checkpoints(n):
        run.run(c - done)
        done = c
        shots[c] = run.image()
        seconds[c] = run.seconds
    return {"images": shots, "seconds": seconds, "running_loss": [r["total"] for r in run.history],
            "s_per_eval": run.seconds / n, "load": _load()}


def judge(result: dict, judge_run, target: torch.Tensor | None) -> None:
    """Add the fp32 objective and the LPIPS to ``target`` (if any) at every checkpoint (not timed).

    ``judge_run``: a :class:`~stylelab.style.gatys.GatysStylizer` of the fp32 objective (what
    :func:`stylelab.style.gatys.objective` builds; built once here, so its targets are computed once).
    """
    from ..losses.lpips import lpips

    result["loss"], result["lpips"] = {}, {}
    for c, img in result["images"].items():
        with torch.no_grad():
            result["loss"][c] = judge_run.loss_terms(img[None].to(judge_run.device))[1]["total"]
            if target is not None:
                result["lpips"][c] = float(lpips(img[None], target[None], "vgg"))


def _judge_run(content, style, config):
    from .gatys import GatysStylizer

    exact = dataclasses.replace(config, precision="fp32", channels_last=False, pyramid_levels=1, init="content")
    return GatysStylizer(content, style, exact, "cpu")


def param_seconds(content: torch.Tensor, kind: str, colour: str, repeat: int = 3, n: int = 5) -> float:
    """Seconds of the parameterisation alone per evaluation: ``to_image`` + its backward + the clamp projection.

    Best of ``repeat`` means over ``n``: the overhead a space adds to a VGG evaluation, measured apart from
    VGG so that the load of a shared machine blurs it less than it blurs the whole evaluation.
    """
    from .parameterization import ParamConfig, Parameterization

    x = content[None]  # (1, 3, H, W)
    p = Parameterization(ParamConfig(kind=kind, colour=colour), tuple(x.shape), content=x, device="cpu")
    params = [q.requires_grad_(True) for q in p.from_image(x)]
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(n):
            p.to_image(params).sum().backward()
            p.project(params)
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def first_at(values: dict[int, float], threshold: float) -> int | None:
    return next((c for c in sorted(values) if values[c] <= threshold), None)


def _space_label(kind: str, colour: str, decay: float = 0.5) -> str:
    return kind + (f" 1/f^{decay:g}" if kind == "fourier" else "") + ("" if colour == "none" else f"+{colour} colour")


@dataclasses.dataclass(frozen=True)
class SizePlan:
    """What one size measures (sized to the CPU budget: a 256 px evaluation costs ~0.5 s on one thread).

    ``ref_evals``: the tutorial reference's evaluations (0: no reference at this size);
    ``target_evals``: plain Gatys' (pixels, L-BFGS) run, its last picture the LPIPS target (0: no target);
    ``evals``: ``{(kind, colour, optimizer): evaluations}`` of every other run. A run as long as the target
    is also that space's OWN converged picture (an Adam run is judged against its space's L-BFGS one).
    """

    ref_evals: int
    target_evals: int
    evals: dict


def _plan(lbfgs: dict, adam: dict, ref: int = 300, target: int = 1000) -> SizePlan:
    return SizePlan(ref, target, {**{(k, c, "lbfgs"): n for (k, c), n in lbfgs.items()},
                                  **{(k, c, "adam"): n for (k, c), n in adam.items()}})


_COLOUR = (("pixels", "imagenet"), ("laplacian", "imagenet"), ("fourier", "imagenet"))

#: the measured plan per size, sized to a 2-core CPU (a 128 px evaluation ~0.15 s on one quiet thread,
#: 256 px ~0.5 s, 512 px ~2 s): at every size the reference's 300 evaluations, plain Gatys' 1,000-evaluation
#: picture (the LPIPS target) and, at 128 and 256 px, the best space's own 1,000-evaluation picture (at
#: 512 px, where one evaluation costs ~4x, 200 evaluations); every other space x optimiser for 150
#: evaluations (40 at 512 px)
PLANS = {
    128: _plan({("fourier", "none"): 1000, ("laplacian", "none"): 300, **{s: 150 for s in _COLOUR}},
               {s: 150 for s in SPACES}),
    256: _plan({("fourier", "none"): 1000, ("laplacian", "none"): 150, **{s: 150 for s in _COLOUR}},
               {s: 150 for s in SPACES}),
    512: _plan({("fourier", "none"): 200, ("laplacian", "none"): 40, **{s: 40 for s in _COLOUR}},
               {s: 40 for s in SPACES}),
}


def default_plan(max_evals: int, spaces=SPACES, optimizers=OPTIMIZERS, ref_evals: int = 300,
                 target_evals: int = 1000) -> SizePlan:
    """Every space x optimiser for ``max_evals``; the target run (pixels, L-BFGS) for ``target_evals``."""
    return SizePlan(ref_evals, target_evals, {(k, c, o): max_evals for o in optimizers for k, c in spaces
                                              if (k, c, o) != ("pixels", "none", "lbfgs")})


def _load() -> str:
    import os

    return f"load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "load unknown"


def size_rows(size: int, plan: SizePlan | None = None, curves: dict | None = None, log=print, on_run=None,
              decay: float = 0.5) -> list[dict]:
    """Every row at one size (see the module docstring); ``curves`` (if given) collects the measured curves.

    ``plan``: :class:`SizePlan` (default ``PLANS[size]``, else every space x optimiser for 300 evaluations).
    ``decay``: the Fourier amplitude 1/f**decay (0.5, the Gatys default; the Distill papers use 1).
    ``on_run(rows)`` is called after every run (the CLI saves what it has so far).
    """
    from .gatys import GatysConfig, objective
    from .reference import reference_gatys

    plan = plan or PLANS.get(size) or default_plan(300)
    content, style = images(size)
    base = GatysConfig(size=size, param="pixels", param_colour="none")  # plain Gatys: the target and the baseline
    out_curves = curves.setdefault(str(size), {}) if curves is not None else {}
    rows: list[dict] = []
    ref_n, ref_loss = plan.ref_evals, None
    if ref_n:
        reference_gatys(content, style, dataclasses.replace(base, steps=2))  # warm-up: networks, oneDNN kernels
        ref_img, ref_hist, ref_s = reference_gatys(content, style, dataclasses.replace(base, steps=ref_n))
        ref_loss = objective(ref_img, content, style, base, "cpu")["total"]  # the same fp32 objective as judge()
        log(f"{size}px reference {ref_n} evals: loss {ref_loss:.5g}, {ref_s:.1f} s ({_load()})")
        rows.append(row(LAB, f"{size}px reference {ref_n} evals: loss (fp32 objective)", ref_loss, "loss",
                        note=f"tutorial-style loop, {ref_s:.1f} s ({ref_s / ref_n:.3f} s/eval, {_load()})"))
        out_curves["reference"] = {"running_loss": ref_hist, "final_loss": ref_loss, "seconds": ref_s,
                                   "evals": ref_n, "load": _load()}
    target_n = plan.target_evals or max(plan.evals.values())
    target_run = curve(content, style, base, target_n)
    target = target_run["images"][target_n] if plan.target_evals else None
    log(f"{size}px pixels, L-BFGS {target_n} evals: {target_run['seconds'][target_n]:.1f} s ({_load()})")
    judge_run = _judge_run(content, style, base)
    judge(target_run, judge_run, target)
    aim_n = min(100, target_n)  # the issue's aim: plain Gatys' 100-evaluation picture, sooner
    pixels_aim = target_run["loss"][aim_n]
    out_curves["meta"] = {"ref_evals": ref_n, "ref_loss": ref_loss, "target_evals": plan.target_evals,
                          "aim_evals": aim_n, "pixels_aim_loss": pixels_aim}  # first: a cut-short run stays readable
    note = ("seconds measured on a shared 2-core CPU under contention (other jobs running): compare evaluation "
            "counts; seconds = evaluations x the s/eval row")
    runs = [("pixels", "none", "lbfgs"), *[k for k in plan.evals if k != ("pixels", "none", "lbfgs")]]
    results: dict = {}
    for kind, colour, opt in sorted(runs, key=lambda k: (k[2] != "lbfgs", k != ("pixels", "none", "lbfgs"))):
        label = f"{size}px {_space_label(kind, colour, decay)}, {opt}"
        if (kind, colour, opt) == ("pixels", "none", "lbfgs"):
            res, n = target_run, target_n
        else:
            n = plan.evals[(kind, colour, opt)]
            cfg = dataclasses.replace(base, optimizer=opt, param=kind, param_colour=colour, param_decay=decay)
            res = curve(content, style, cfg, n)
            judge(res, judge_run, target)
        results[(kind, colour, opt)] = res
        own = results.get((kind, colour, "lbfgs"))  # this space's own converged picture (L-BFGS)
        own_n = max(own["images"]) if own is not None else 0
        if plan.target_evals and own is not None and own_n == plan.target_evals and kind + colour != "pixelsnone":
            res["lpips_own"] = _lpips_to(res["images"], own["images"][own_n])
        thresholds = []
        if ref_loss is not None:
            thresholds.append((f"the reference's {ref_n}-eval loss", "loss", ref_loss, f"loss {ref_loss:.4g}"))
        thresholds.append((f"plain Gatys' {aim_n}-eval loss", "loss", pixels_aim, f"loss {pixels_aim:.4g}"))
        if target is not None:
            thresholds.append((f"LPIPS < {LPIPS_CONVERGED} to pixels' {target_n}-eval picture", "lpips",
                               LPIPS_CONVERGED, "perceptually converged (pixels' picture)"))
        if "lpips_own" in res:
            thresholds.append((f"LPIPS < {LPIPS_CONVERGED} to its space's own {own_n}-eval L-BFGS picture",
                               "lpips_own", LPIPS_CONVERGED, "perceptually converged (its own picture)"))
        reached = {}
        for what, key, threshold, unit_note in thresholds:
            reach = first_at(res[key], threshold)
            reached[key if key != "loss" or threshold != pixels_aim else "aim"] = reach
            if reach is None:
                rows.append(row(LAB, f"{label}: not at {what} within {n} evals", min(res[key].values()), "best",
                                note=unit_note))
            else:
                rows.append(row(LAB, f"{label}: evals to {what}", reach, "evals",
                                note=f"{unit_note}; checkpoint grid; {res['seconds'][reach]:.1f} s under contention"))
        log(f"{label} ({n} evals): {reached}, {res['s_per_eval']:.3f} s/eval ({_load()})")
        for c in (35, 100):
            if c in res["loss"]:
                rows.append(row(LAB, f"{label}: loss at {c} evals", res["loss"][c], "loss",
                                baseline=ref_loss if ref_loss is not None else pixels_aim,
                                baseline_name="reference final loss" if ref_loss is not None
                                else f"plain Gatys' {aim_n}-eval loss",
                                note="fp32 objective; lower is better"))
        rows.append(row(LAB, f"{label}: s/eval", res["s_per_eval"], "s", baseline=target_run["s_per_eval"],
                        baseline_name="pixels L-BFGS s/eval", note=f"{note} ({res['load']})"))
        if opt == "lbfgs" or (kind, colour, "lbfgs") not in runs:
            rows.append(row(LAB, f"{size}px {_space_label(kind, colour, decay)}: parameterisation alone per eval",
                            param_seconds(content, kind, colour) * 1000, "ms",
                            note="to_image + backward + clamp projection, without VGG (its overhead)"))
        out_curves[f"{kind}:{colour}:{opt}"] = {k: res[k] for k in ("loss", "lpips", "lpips_own", "seconds",
                                                                   "running_loss", "s_per_eval", "load") if k in res}
        if on_run is not None:
            on_run(rows)
    return rows


def _lpips_to(images_at: dict, target: torch.Tensor) -> dict:
    from ..losses.lpips import lpips

    return {c: float(lpips(img[None], target[None], "vgg")) for c, img in images_at.items()}


def _ints(d: dict) -> dict[int, float]:
    return {int(k): float(v) for k, v in d.items()}


def tables(curves: dict) -> str:
    """Markdown tables (one per size) of the curves :func:`size_rows` collected (also read back from JSON).

    A cell "n (s)" is the first checkpoint at which the run reached the threshold and the seconds it had
    taken; "> N" means not within its N evaluations (the run's best value after it).
    """
    out = []
    for size, runs in curves.items():
        if not isinstance(runs, dict) or "meta" not in runs:
            continue
        meta, ref = runs["meta"], runs.get("reference")
        target_n, aim_n = meta["target_evals"], meta["aim_evals"]
        head = [f"### {size} px", ""]
        if ref:
            head.append(f"Reference (tutorial-style loop, {ref['evals']} evaluations): fp32 loss {ref['final_loss']:.4g}, "
                        f"{ref['seconds']:.0f} s ({ref['seconds'] / ref['evals']:.3f} s/eval, {ref['load']}).")
        else:
            head.append("No reference at this size (its fp32 full-VGG loop would not fit the CPU budget).")
        head.append(f"Plain Gatys' (pixels, L-BFGS) {aim_n}-evaluation loss: {meta['pixels_aim_loss']:.4g}."
                    + (f" LPIPS targets: pixels' {target_n}-evaluation picture, and a space's own {target_n}-"
                       "evaluation L-BFGS picture where its L-BFGS run was that long." if target_n else ""))
        head.append("")
        cols = ["space", "optimiser", "evals run", "s/eval", "loss @35", "loss @100"]
        if ref:
            cols.append(f"to ref's {ref['evals']}-eval loss")
        cols.append(f"to pixels' {aim_n}-eval loss")
        if target_n:
            cols += [f"LPIPS<{LPIPS_CONVERGED} vs pixels' {target_n}", f"LPIPS<{LPIPS_CONVERGED} vs own {target_n}"]
        lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for key, r in runs.items():
            if key.count(":") != 2:
                continue
            kind, colour, opt = key.split(":")
            loss, secs = _ints(r["loss"]), _ints(r["seconds"])
            n = max(loss)

            def cell(values: dict, threshold: float, n: int = n, secs: dict = secs) -> str:
                reach = first_at(values, threshold)
                if reach is None:
                    return f"> {n} (best {min(values.values()):.3g})"
                return f"{reach} ({secs[reach]:.0f} s)"

            cells = [_space_label(kind, colour), opt, str(n), f"{r['s_per_eval']:.3f}",
                     f"{loss[35]:.4g}" if 35 in loss else "", f"{loss[100]:.4g}" if 100 in loss else ""]
            if ref:
                cells.append(cell(loss, ref["final_loss"]))
            cells.append(cell(loss, meta["pixels_aim_loss"]))
            if target_n:
                cells.append(cell(_ints(r["lpips"]), LPIPS_CONVERGED))
                own = r.get("lpips_own")
                cells.append(cell(_ints(own), LPIPS_CONVERGED) if own else
                             ("(is the target)" if key == "pixels:none:lbfgs" else "no own target"))
            lines.append("| " + " | ".join(cells) + " |")
        out.append("\n".join(head + lines))
    return "\n\n".join(out) + "\n"


def run(quick: bool = False, sizes: tuple[int, ...] | None = None, curves: dict | None = None) -> list[dict]:
    """Rows of this benchmark (``PLANS`` per size): quick = 64 px, 30 evaluations, L-BFGS only (a smoke run)."""
    from ..device import configure_threads

    configure_threads()
    if quick:
        return size_rows(64, default_plan(30, optimizers=("lbfgs",), ref_evals=30, target_evals=60), curves=curves)
    rows = []
    for size in sizes or (128, 256, 512):
        rows += size_rows(size, curves=curves)
    return rows


def main(argv: list[str] | None = None) -> int:
    import argparse

    from ..bench import machine
    from ..device import tune_allocator

    tune_allocator()
    p = argparse.ArgumentParser(prog="python -m stylelab.style.bench_param")
    p.add_argument("--sizes", type=int, nargs="+", default=[128, 256, 512])
    p.add_argument("--max-evals", type=int, default=None,
                   help="evaluations of every run (default: the measured plan of each size, PLANS)")
    p.add_argument("--ref-evals", type=int, default=300, help="with --max-evals: reference evaluations (0: none)")
    p.add_argument("--target-evals", type=int, default=1000, help="with --max-evals: the LPIPS target run (0: none)")
    p.add_argument("--spaces", nargs="+", default=None, help="kind:colour, e.g. laplacian:imagenet (default: all)")
    p.add_argument("--tables", default=None, help="print the markdown tables of a --curves file and exit")
    p.add_argument("--optimizers", nargs="+", default=list(OPTIMIZERS), choices=OPTIMIZERS)
    p.add_argument("--decay", type=float, default=0.5, help="Fourier amplitude 1/f**decay (default 0.5)")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--curves", default=None, help="write the measured curves (JSON) here, after each size")
    p.add_argument("--json", action="store_true")
    p.add_argument("--threads", type=int, default=None,
                   help="torch threads (default: one per core; 1 is far faster on a CPU shared with other jobs)")
    args = p.parse_args(argv)
    if args.tables:
        with open(args.tables, encoding="utf-8") as f:
            print(tables(json.load(f)["curves"]))
        return 0
    if args.threads:
        torch.set_num_threads(args.threads)
    info = machine()
    print(f"Machine: {info['cpu']} · {info['cores']} cores · torch {info['torch']} · {info['date']}", flush=True)
    curves: dict = {"machine": info}
    rows: list[dict] = []
    if args.quick:
        rows = run(True, curves=curves)
    else:
        from ..device import configure_threads

        configure_threads(args.threads)
        spaces = tuple(tuple(s.split(":")) for s in args.spaces) if args.spaces else SPACES

        def save(size_rows_so_far: list[dict]) -> None:
            if args.curves:
                with open(args.curves, "w", encoding="utf-8") as f:
                    json.dump({"rows": rows + size_rows_so_far, "curves": curves}, f, default=str)

        for size in args.sizes:
            t0 = time.perf_counter()
            plan = None if args.max_evals is None and not args.spaces else default_plan(
                args.max_evals or 300, spaces, tuple(args.optimizers), args.ref_evals, args.target_evals)
            rows += size_rows(size, plan, curves, lambda s: print(s, flush=True), save, args.decay)
            rows.append(row(LAB, f"{size}px benchmark wall time", time.perf_counter() - t0, "s"))
            save([])
    for r in rows:
        base = f" (baseline {r['baseline']:.4g}: {r['baseline_name']})" if r["baseline"] is not None else ""
        print(json.dumps(r) if args.json else f"{r['name']}: {r['value']:.4g} {r['unit']}{base} {r['note']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
