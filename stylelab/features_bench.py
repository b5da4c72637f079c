"""Benchmark rows for the foundation: feature-extractor build time and forward time.

``run(quick) -> rows`` (see :mod:`stylelab.bench`); the rows are measured on the default device
(:func:`stylelab.device.get_device`) with a 256 px input drawn from the bench's own generator.
"""

from __future__ import annotations

import time
from typing import Any

from .bench import median_time, row

LAB = "features"


def run(quick: bool = False) -> list[dict[str, Any]]:
    import torch

    from . import features
    from .device import autocast

    features.clear_cache()
    t0 = time.perf_counter()
    net = features.vgg16()
    build_ms = (time.perf_counter() - t0) * 1000
    device = next(net.parameters()).device
    rows = [row(LAB, "VGG16 conv stack: build + load weights (cold)", build_ms, "ms", baseline=1300.0,
                baseline_name="full torchvision VGG19 incl. classifier (docs/performance.md)")]
    x = torch.rand(1, 3, 256, 256, generator=torch.Generator().manual_seed(0)).to(device)  # (1, 3, 256, 256)
    repeat = 3 if quick else 10

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    def forward(layers: list[str]) -> None:
        net(x, layers)
        sync()

    def forward_bf16() -> None:
        with autocast(device):
            net(x, features.VGG16_RELUS)
        sync()

    with torch.no_grad():
        full = median_time(lambda: forward(features.VGG16_RELUS), repeat) * 1000
        rows.append(row(LAB, "VGG16 forward 256 px, all 13 ReLUs, fp32", full, "ms", note="batch 1, no grad"))
        early = median_time(lambda: forward(["relu2_2"]), repeat) * 1000
        rows.append(row(LAB, "VGG16 forward 256 px, stop at relu2_2", early, "ms", baseline=full,
                        baseline_name="all layers", note="early stop"))
        fast = median_time(forward_bf16, repeat) * 1000
        rows.append(row(LAB, "VGG16 forward 256 px, all ReLUs, bf16 autocast", fast, "ms", baseline=full,
                        baseline_name="fp32"))
    return rows
