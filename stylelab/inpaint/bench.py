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

__all__ = ["CLASSICAL", "evaluate", "fixed_masks", "gated_rows", "gated_table", "gated_timing", "run"]

#: the classical fills every learned method is compared with
CLASSICAL = ("telea", "ns", "biharmonic")


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
    rows = gated_rows(quick)
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


def gcompris_held_out_images(size: int) -> dict[str, torch.Tensor]:
    """The held-out GCompris photos (:func:`stylelab.data.gcompris_photos.list_gcompris_photos` ``"held_out"``,
    never in any training pool) as ``(3, size, size)`` centre squares; empty without the package."""
    from ..data.gcompris_photos import list_gcompris_photos, load_gcompris_photos
    from .data import _square

    names = list_gcompris_photos("held_out")
    if not names:
        return {}
    return {n: _square(torch.from_numpy(a.copy()).permute(2, 0, 1).float().div(255.0), size)
            for n, a in load_gcompris_photos(names).items()}


def _sets(size: int) -> dict[str, dict[str, torch.Tensor]]:
    from .data import held_out_images
    from .unseen import unseen_images

    return {"held-out": held_out_images(size), "unseen": unseen_images(size),
            "gcompris-held-out": gcompris_held_out_images(size)}


def gated_table(model: Any = None, sizes: tuple[int, ...] = (64, 128), sets: tuple[str, ...] = ("held-out", "unseen"),
                methods: tuple[str, ...] = (*CLASSICAL, "gated")) -> list[dict[str, Any]]:
    """Scores in the hole of every method on both held-out sets at each size: one dict per (set, size, method).

    The sets: ``"held-out"`` = :data:`stylelab.inpaint.data.HELD_OUT` (the bench's pictures),
    ``"unseen"`` = :data:`stylelab.inpaint.unseen.UNSEEN` (photos from packages no run trains on),
    ``"gcompris-held-out"`` = :func:`gcompris_held_out_images` (14 photos of the GCompris set that
    ``photos+gcompris`` training leaves out: more pairs than the other two); the
    masks are :func:`fixed_masks`. ``model``: the gated inpainter (default: the shipped one).
    Keys: ``set, size, method, lpips_hole, psnr_hole, ssim_hole, seam, pairs``.
    """
    from .gated_model import load_gated

    model = model or load_gated()
    out = []
    for size in sizes:
        masks = fixed_masks(size)
        for name, images in _sets(size).items():
            if name not in sets or not images:
                continue
            for method in methods:
                opts = {"model": model} if method == "gated" else {}
                r = evaluate(method, images, masks, **opts)
                out.append({"set": name, "size": size, "method": method, "lpips_hole": r["lpips_hole"],
                            "psnr_hole": r["psnr_hole"], "ssim_hole": r["ssim_hole"], "seam": r["seam"],
                            "pairs": int(r["pairs"])})
    return out


def gated_timing(model: Any = None, repeat: int = 3) -> dict[str, float]:
    """Seconds per image of the gated inpainter and Telea, at 128 px and on a 1024 px photo with a small hole.

    At 1024 px the gated inpainter runs crop-to-mask (:func:`stylelab.inpaint.crop.inpaint_cropped`) and,
    for comparison, on the whole image (``crop=False``). Keys: ``gated_128, telea_128, gated_1024_crop,
    gated_1024_whole, telea_1024``.
    """
    from ..bench import median_time
    from ..imageio import resize_tensor
    from .data import held_out_images
    from .gated_model import load_gated
    from .masks import damage
    from .methods import inpaint

    model = model or load_gated()
    small = next(iter(held_out_images(128).values()))
    m128 = fixed_masks(128)["strokes0"]
    big = resize_tensor(next(iter(held_out_images(256).values())), (1024, 1024))
    m1024 = rect_mask(1024, 1024, 600, 380, 48, 40)  # a small hole: about 0.2 % of the photo
    d128, d1024 = damage(small, m128), damage(big, m1024)
    return {
        "gated_128": median_time(lambda: inpaint(d128, m128, "gated", model=model), repeat),
        "telea_128": median_time(lambda: inpaint(d128, m128, "telea"), repeat),
        "gated_1024_crop": median_time(lambda: inpaint(d1024, m1024, "gated", model=model, crop=True), repeat),
        "gated_1024_whole": median_time(lambda: inpaint(d1024, m1024, "gated", model=model, crop=False), 1),
        "telea_1024": median_time(lambda: inpaint(d1024, m1024, "telea"), repeat),
    }


def gated_rows(quick: bool = False) -> list[dict[str, Any]]:
    """Bench rows of the gated inpainter: LPIPS and PSNR in the hole vs the best classical fill of the same
    set and size (both held-out sets at 64 and 128 px; ``quick``: held-out at 64 px only), and times."""
    from ..device import describe_device
    from .gated_model import SHIPPED_GATED
    from .model import CHECKPOINT_DIR

    if not (CHECKPOINT_DIR / f"{SHIPPED_GATED}.pt").is_file():
        return []
    table = gated_table(sizes=(64,) if quick else (64, 128),
                        sets=("held-out",) if quick else ("held-out", "unseen", "gcompris-held-out"))
    _row = partial(row, "inpaint")
    rows = []
    for key in sorted({(r["set"], r["size"]) for r in table}, key=lambda k: (k[1], k[0])):
        part = [r for r in table if (r["set"], r["size"]) == key]
        gated = next(r for r in part if r["method"] == "gated")
        classical = [r for r in part if r["method"] in CLASSICAL]
        best_l = min(classical, key=lambda r: r["lpips_hole"])
        best_p = max(classical, key=lambda r: r["psnr_hole"])
        where = f"{key[0]} set, {gated['pairs']} pairs at {key[1]} px"
        rows.append(_row(f"gated LPIPS in hole ({key[0]}, {key[1]} px)", gated["lpips_hole"], "LPIPS (lower better)",
                         baseline=best_l["lpips_hole"], baseline_name=f"best classical ({best_l['method']})", note=where))
        rows.append(_row(f"gated PSNR in hole ({key[0]}, {key[1]} px)", gated["psnr_hole"], "dB",
                         baseline=best_p["psnr_hole"], baseline_name=f"best classical ({best_p['method']})", note=where))
    if not quick:
        t = gated_timing()
        cpu = describe_device()
        rows.append(_row("gated time per image (128 px)", t["gated_128"], "s", baseline=t["telea_128"],
                         baseline_name="Telea, same image", note=f"median of 3, {cpu}"))
        rows.append(_row("gated time per image (1024 px, small hole, crop-to-mask)", t["gated_1024_crop"], "s",
                         baseline=t["gated_1024_whole"], baseline_name="gated on the whole 1024 px image",
                         note=f"Telea on the whole image {t['telea_1024']:.3f} s; {cpu}"))
    return rows


def main(argv: list[str] | None = None) -> int:
    """``python -m stylelab.inpaint.bench [--quick] [--json]``: ``python -m stylelab bench --lab inpaint``."""
    import sys

    from ..cli import main as stylelab_main

    return stylelab_main(["bench", "--lab", "inpaint", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
