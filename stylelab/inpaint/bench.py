"""Inpainting benchmark: held-out pictures x fixed masks x methods -> quality in the hole and time.

The pictures are :data:`stylelab.inpaint.data.HELD_OUT` (never seen in training), centre-cropped
square; the masks are fixed (a centre hole, a rectangle and two free-form stroke masks with fixed
seeds), so every method is scored on exactly the same holes. Scores are means over all
(picture, mask) pairs of :func:`stylelab.inpaint.metrics.hole_scores`; time is the median seconds per
image after a warm-up.

``python -m stylelab bench`` collects :func:`run`'s rows (:func:`stylelab.bench.row`);
``python -m stylelab.inpaint.bench`` is ``python -m stylelab bench --lab inpaint``.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import torch

from ..bench import row
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
    """Mean hole scores over every (image, mask) pair of one method, and its median seconds per image.

    Time: :func:`stylelab.bench.median_time` of the first pair (3 runs after a warm-up; Deep Image
    Prior once, without warm-up: its first iterations are part of its real cost, and that run's
    result is scored like the others).
    """
    from ..bench import median_time
    from .masks import damage
    from .methods import inpaint
    from .metrics import hole_scores

    pairs = [(img, m) for img in images.values() for m in masks.values()]
    outs: list[torch.Tensor] = []
    first_img, first_mask = pairs[0]
    if method == "dip":
        seconds = median_time(lambda: outs.append(inpaint(damage(first_img, first_mask), first_mask, method, **options)),
                              repeat=1, warmup=0)
    else:
        seconds = median_time(lambda: inpaint(damage(first_img, first_mask), first_mask, method, **options), repeat=3)
    for img, m in pairs[len(outs):]:
        outs.append(inpaint(damage(img, m), m, method, **options))
    rows = [hole_scores(out, img, m) for out, (img, m) in zip(outs, pairs)]
    keys = rows[0].keys()
    summary = {k: float(np.mean([r[k] for r in rows])) for k in keys}
    summary["seconds"] = float(seconds)
    summary["pairs"] = len(rows)
    return summary


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

    _row = partial(row, "inpaint")
    best_lpips = min(("telea", "ns", "biharmonic"), key=lambda k: results[k]["lpips_hole"])
    rows = []
    for method, r in results.items():
        pairs = f"{int(r['pairs'])} pair(s)" if method == "dip" else where
        base = (results[best_lpips]["lpips_hole"], f"best classical ({best_lpips})") if method.startswith("unet") else (None, None)
        rows.append(_row(f"{method} LPIPS in hole", r["lpips_hole"], "LPIPS (lower better)", baseline=base[0],
                         baseline_name=base[1], note=pairs))
        rows.append(_row(f"{method} PSNR in hole", r["psnr_hole"], "dB", note=pairs))
        rows.append(_row(f"{method} SSIM in hole", r["ssim_hole"], "SSIM", note=pairs))
        rows.append(_row(f"{method} seam", r["seam"], "mean |jump|", note=f"truth {r['seam_truth']:.4f}; {pairs}"))
        if method == "dip":
            rows.append(_row(f"dip time per image ({dip_iters} it, {size} px)", r["seconds"], "s",
                             baseline=60.0 if size == 128 else None,
                             baseline_name="aim: under 60 s at 128 px" if size == 128 else None,
                             note="Deep Image Prior, default DIPConfig"))
        else:
            rows.append(_row(f"{method} time per image", r["seconds"], "s", note=f"median, {size} px"))
    return rows


def main(argv: list[str] | None = None) -> int:
    """``python -m stylelab.inpaint.bench [--quick] [--json]``: ``python -m stylelab bench --lab inpaint``."""
    import sys

    from ..cli import main as stylelab_main

    return stylelab_main(["bench", "--lab", "inpaint", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
