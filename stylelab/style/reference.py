"""The slow reference loop for Gatys style transfer, written the way the PyTorch tutorial does it.

Used ONLY by :mod:`stylelab.style.bench` as the baseline our :mod:`stylelab.style.gatys` is
measured against. Same objective (the same loss functions from :mod:`stylelab.losses`, same
layers and weights), same optimiser (L-BFGS, lr 1, ``optimizer.step(closure)`` with the
tutorial's ``max_iter=20`` and default history of 100), same number of loss evaluations; but:

* one scale (the full size from the first step),
* fp32, NCHW memory format,
* the FULL VGG conv stack runs on every evaluation (no early stop after the deepest layer used),
* the input is clamped in the closure (``input_img.data.clamp_(0, 1)``), as in the tutorial.

Like the tutorial (and like ours), it does not scan the features for NaN on every evaluation.

Style Grams and content features are computed once, as the tutorial does too.
"""

from __future__ import annotations

import time

import torch

from .gatys import GatysConfig


def reference_gatys(content: torch.Tensor, style: torch.Tensor, config: GatysConfig,
                    device: torch.device | str | None = None) -> tuple[torch.Tensor, list[float], float]:
    """Run ``config.steps`` loss evaluations the tutorial way at ``config.size`` (``device`` default:
    :func:`~stylelab.device.get_device`).

    Returns:
        ``(image (3, H, W), total loss after each evaluation, seconds)``.
    """
    from ..features import get_extractor
    from ..imageio import resize_tensor
    from ..losses import content_loss, gram_matrix, style_loss, total_variation
    from ..run import resolve_device

    device = resolve_device(device)
    net = get_extractor(config.network, device, config.pool)
    c = resize_tensor(content, config.size).unsqueeze(0).to(device)  # (1, 3, H, W)
    s = resize_tensor(style, config.size).unsqueeze(0).to(device)
    wanted = set(config.content_layers) | set(config.style_layers)

    def full_forward(x: torch.Tensor) -> dict[str, torch.Tensor]:
        h, out = net.normalise(x), {}
        for name, module in net.body.named_children():  # every layer, no early stop
            h = module(h)
            if name in wanted:
                out[name] = h
        return out

    with torch.no_grad():
        content_feats = full_forward(c)
        grams = {k: gram_matrix(v, config.gram_normalize) for k, v in full_forward(s).items() if k in config.style_layers}
    input_img = c.clone().requires_grad_(True)
    optimizer = torch.optim.LBFGS([input_img])
    sw = dict(zip(config.style_layers, config.style_layer_weights or (1.0,) * len(config.style_layers)))
    history: list[float] = []
    t0 = time.perf_counter()
    while len(history) < config.steps:
        def closure() -> torch.Tensor:
            with torch.no_grad():
                input_img.clamp_(0, 1)
            optimizer.zero_grad()
            feats = full_forward(input_img)
            loss = (config.content_weight * content_loss(feats, content_feats, config.content_layers, check=False)
                    + config.style_weight * style_loss(feats, grams, sw, config.gram_normalize, check=False)
                    + config.tv_weight * total_variation(input_img, "l2", per_pixel=True))
            loss.backward()
            history.append(float(loss.detach()))
            return loss

        optimizer.step(closure)
    with torch.no_grad():
        input_img.clamp_(0, 1)
    elapsed = time.perf_counter() - t0  # L-BFGS(max_iter=20) may overshoot by a few evaluations
    return input_img.detach()[0].cpu(), history[: config.steps], elapsed * config.steps / len(history)
