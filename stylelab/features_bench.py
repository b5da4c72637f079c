"""Benchmark rows for the foundation: feature-extractor forward time and build time."""

from __future__ import annotations

import time
from typing import Any

from .bench import median_time as _median_time


def run(quick: bool = False) -> list[dict[str, Any]]:
    import torch

    from . import features
    from .device import autocast

    features._cached.cache_clear()
    t0 = time.perf_counter()
    net = features.vgg16()
    build = time.perf_counter() - t0
    rows = [{"lab": "features", "name": "VGG16 conv stack: build + load weights (cold)", "value": round(build * 1000, 1),
             "unit": "ms", "baseline": 1300.0, "baseline_name": "full torchvision VGG19 incl. classifier (docs/performance.md)", "note": ""}]
    x = torch.rand(1, 3, 256, 256)
    repeat = 3 if quick else 10
    with torch.no_grad():
        full = _median_time(lambda: net(x, features.VGG16_RELUS), repeat)
        rows.append({"lab": "features", "name": "VGG16 forward 256 px, all 13 ReLUs, fp32", "value": round(full * 1000, 1),
                     "unit": "ms", "baseline": None, "baseline_name": None, "note": "batch 1, no grad"})
        early = _median_time(lambda: net(x, ["relu2_2"]), repeat)
        rows.append({"lab": "features", "name": "VGG16 forward 256 px, stop at relu2_2", "value": round(early * 1000, 1),
                     "unit": "ms", "baseline": round(full * 1000, 1), "baseline_name": "all layers", "note": "early stop"})
        def bf16() -> None:
            with autocast("cpu"):
                net(x, features.VGG16_RELUS)
        fast = _median_time(bf16, repeat)
        rows.append({"lab": "features", "name": "VGG16 forward 256 px, all ReLUs, bf16 autocast", "value": round(fast * 1000, 1),
                     "unit": "ms", "baseline": round(full * 1000, 1), "baseline_name": "fp32", "note": ""})
    return rows
