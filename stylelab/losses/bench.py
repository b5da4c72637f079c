"""Loss Lab timings: LPIPS, SSIM / MS-SSIM, one mixing-desk step, the distortion study, ``compare``.

``quick=True`` skips the backward and ``compare`` rows and studies two distortions only.
``run(quick)`` returns rows ``{"lab", "name", "value", "unit", "baseline", "baseline_name", "note"}``
(:func:`stylelab.bench.row`, collected by ``python -m stylelab bench``). Each figure is the median of several runs after a
warm-up, measured in this process on this machine. Baselines are measured side by side:
scikit-image's ``structural_similarity`` for SSIM and the official ``lpips`` package's code
(same VGG16 architecture, random backbone weights because its pretrained ones download) for LPIPS.
"""

from __future__ import annotations

import time
from typing import Any

from ..bench import median_time as _median_s
from ..bench import row

LAB = "losses"


def _official_lpips_ms(a, b, repeats: int) -> float | None:  # noqa: ANN001
    """The official lpips code path (random VGG16 weights: same cost), or None if unavailable."""
    import contextlib
    import io
    import warnings

    import torch

    try:
        import lpips as official
    except ImportError:
        return None
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torchvision's "pretrained is deprecated"
        model = official.LPIPS(net="vgg", pnet_rand=True, verbose=False).eval()
    model.requires_grad_(False)
    with torch.no_grad():
        return _median_s(lambda: model(a * 2 - 1, b * 2 - 1), repeats) * 1000


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Measure on this machine (see the module docstring)."""
    import numpy as np
    import torch
    from skimage.metrics import structural_similarity

    from ..assets import load_bundled
    from ..imageio import resize_tensor
    from .compare import pair_metrics
    from .distortions import distortion_study
    from .lpips import lpips
    from .mixing import MixingConfig, MixingDesk
    from .ssim import ms_ssim, ssim

    repeats = 3 if quick else 7
    rows: list[dict[str, Any]] = []
    a = resize_tensor(load_bundled("photo:astronaut"), (256, 256))[None]
    b = resize_tensor(load_bundled("photo:coffee"), (256, 256))[None]

    with torch.no_grad():
        ours = _median_s(lambda: lpips(a, b, "vgg"), repeats) * 1000
    rows.append(row(LAB, "LPIPS-VGG, 256 px, one pair", ours, "ms",
                    baseline=_official_lpips_ms(a, b, repeats), baseline_name="official lpips code, same architecture",
                    note="forward only, fp32, pretrained VGG16 + v0.1 heads"))
    if not quick:
        x = resize_tensor(a[0], (128, 128))[None].requires_grad_(True)
        y = resize_tensor(b[0], (128, 128))[None]
        rows.append(row(LAB, "LPIPS-VGG forward + backward, 128 px", _median_s(lambda: lpips(x, y).backward(), repeats) * 1000, "ms",
                        note="gradient w.r.t. the image, as when LPIPS is a training loss"))

    an, bn = a[0].permute(1, 2, 0).double().numpy(), b[0].permute(1, 2, 0).double().numpy()
    sk = _median_s(lambda: structural_similarity(np.ascontiguousarray(an), np.ascontiguousarray(bn), gaussian_weights=True,
                                                 sigma=1.5, use_sample_covariance=False, data_range=1, channel_axis=2),
                   repeats) * 1000
    rows.append(row(LAB, "SSIM, 256 px RGB", _median_s(lambda: ssim(a, b), repeats) * 1000, "ms",
                    baseline=sk, baseline_name="scikit-image structural_similarity (fp64)",
                    note="Gaussian 11x11, separable depthwise conv, fp32"))
    rows.append(row(LAB, "MS-SSIM, 256 px RGB", _median_s(lambda: ms_ssim(a, b), repeats) * 1000, "ms",
                    note="5 scales"))

    desk = MixingDesk(a[0], b[0], MixingConfig(size=128, steps=1000))
    rows.append(row(LAB, "mixing-desk step, 128 px", _median_s(desk.step, repeats) * 1000, "ms",
                    note="one Adam step: VGG16 to relu5_1 forward + backward, content + 5 Gram terms + TV + colour"))

    names = ["noise", "shift"] if quick else None
    strengths = (0.0, 0.5, 1.0) if quick else (0.0, 0.25, 0.5, 0.75, 1.0)
    img = resize_tensor(a[0], (128, 128))
    t0 = time.perf_counter()
    df = distortion_study(img, names, strengths)
    rows.append(row(LAB, f"distortion study, 128 px, {df['distortion'].nunique()} distortions x {len(strengths)} strengths", time.perf_counter() - t0, "s",
                    note="MSE, SSIM, LPIPS-VGG, content, style, TV (one run, cold features)"))
    if not quick:
        rows.append(row(LAB, "compare: every metric, 256 px pair", _median_s(lambda: pair_metrics(a, b), 3), "s",
                        note="11 metrics incl. LPIPS VGG + AlexNet and one VGG16 pass for content + style"))
    return rows
