"""Inpainting benchmark: held-out pictures x fixed masks x methods -> quality in the hole and time.

The pictures are :data:`stylelab.inpaint.data.HELD_OUT` (never seen in training), centre-cropped
square; the masks are fixed (a centre hole, a rectangle and two free-form stroke masks with fixed
seeds), so every method is scored on exactly the same holes. Scores are means over all
(picture, mask) pairs of :func:`stylelab.inpaint.metrics.hole_scores`; time is the median seconds per
image after a warm-up.

``python -m stylelab bench`` collects :func:`run`'s rows; ``python -m stylelab.inpaint.bench``
prints a table.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np
import torch

from .masks import center_mask, random_strokes, rect_mask

__all__ = ["evaluate", "fixed_masks", "run"]


def fixed_masks(size: int) -> dict[str, torch.Tensor]:
    """The benchmark's masks at ``size x size``: centre 20 %, a side rectangle, two stroke masks."""
    s = size
    return {
        "centre": center_mask(s, s, 0.2),
        "rect": rect_mask(s, s, s // 8, s // 2, s // 3, s // 4),
        "strokes0": random_strokes(s, s, rng=np.random.default_rng(0), max_coverage=0.4),
        "strokes1": random_strokes(s, s, rng=np.random.default_rng(1), max_coverage=0.4),
    }


def evaluate(method: str, images: dict[str, torch.Tensor], masks: dict[str, torch.Tensor], **options: Any) -> dict[str, float]:
    """Mean hole scores and median seconds per image of one method over every (image, mask) pair."""
    from .methods import inpaint
    from .metrics import hole_scores

    first_img, first_mask = next(iter(images.values())), next(iter(masks.values()))
    if method != "dip":  # warm-up (DIP's first iterations are part of its real cost)
        inpaint(first_img * (1 - first_mask), first_mask, method, **options)
    rows, times = [], []
    for img in images.values():
        for m in masks.values():
            damaged = img * (1 - m)
            t0 = time.perf_counter()
            out = inpaint(damaged, m, method, **options)
            times.append(time.perf_counter() - t0)
            rows.append(hole_scores(out, img, m))
    keys = rows[0].keys()
    summary = {k: float(np.mean([r[k] for r in rows])) for k in keys}
    summary["seconds"] = float(statistics.median(times))
    summary["pairs"] = len(rows)
    return summary


def _row(name: str, value: float, unit: str, note: str, baseline: float | None = None,
         baseline_name: str | None = None) -> dict[str, Any]:
    return {"lab": "inpaint", "name": name, "value": round(float(value), 4), "unit": unit, "baseline": baseline,
            "baseline_name": baseline_name, "note": note}


def run(quick: bool = False) -> list[dict[str, Any]]:
    """The benchmark rows (``quick``: 2 pictures x 2 masks at 64 px, DIP 100 iterations; < 60 s)."""
    from ..device import describe_device
    from .data import held_out_images
    from .dip import DIPConfig
    from .methods import default_checkpoint
    from .model import list_checkpoints, load_inpainter

    size = 64 if quick else 128
    images = held_out_images(size)
    masks = fixed_masks(size)
    if quick:
        images = dict(list(images.items())[:2])
        masks = {k: masks[k] for k in ("centre", "strokes0")}
    where = f"{len(images)} held-out pictures x {len(masks)} masks at {size} px, {describe_device()}"
    results: dict[str, dict[str, float]] = {}
    for method in ("telea", "ns", "biharmonic"):
        results[method] = evaluate(method, images, masks)
    shipped = list_checkpoints()
    unets = ([default_checkpoint()] if quick else shipped) if shipped else []
    for name in unets:
        results[f"unet:{name}"] = evaluate("unet", images, masks, model=load_inpainter(name))
    dip_iters = 100 if quick else DIPConfig().iterations
    dip_images = dict(list(images.items())[:1])
    dip_masks = {"centre": masks["centre"]}
    results["dip"] = evaluate("dip", dip_images, dip_masks, config=DIPConfig(iterations=dip_iters))

    best_lpips = min(("telea", "ns", "biharmonic"), key=lambda k: results[k]["lpips_hole"])
    rows = []
    for method, r in results.items():
        pairs = f"{int(r['pairs'])} pair(s)" if method == "dip" else where
        base = (results[best_lpips]["lpips_hole"], f"best classical ({best_lpips})") if method.startswith("unet") else (None, None)
        rows.append(_row(f"{method} LPIPS in hole", r["lpips_hole"], "LPIPS (lower better)", pairs, *base))
        rows.append(_row(f"{method} PSNR in hole", r["psnr_hole"], "dB", pairs))
        rows.append(_row(f"{method} SSIM in hole", r["ssim_hole"], "SSIM", pairs))
        rows.append(_row(f"{method} seam", r["seam"], "mean |jump|", f"truth {r['seam_truth']:.4f}; {pairs}"))
        if method == "dip":
            rows.append(_row(f"dip time per image ({dip_iters} it, {size} px)", r["seconds"], "s",
                             "Deep Image Prior, default DIPConfig", 60.0 if size == 128 else None,
                             "aim: under 60 s at 128 px" if size == 128 else None))
        else:
            rows.append(_row(f"{method} time per image", r["seconds"], "s", f"median, {size} px"))
    return rows


def main() -> None:
    import argparse
    import json

    from ..device import tune_allocator

    tune_allocator()
    p = argparse.ArgumentParser(prog="python -m stylelab.inpaint.bench")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    rows = run(quick=args.quick)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    for r in rows:
        base = f"  (baseline {r['baseline']:.4f}: {r['baseline_name']})" if r["baseline"] is not None else ""
        print(f"{r['name']:<55} {r['value']:>10.4f} {r['unit']:<22}{base}")


if __name__ == "__main__":
    main()
