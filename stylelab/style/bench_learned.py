"""``python -m stylelab bench --lab learned-style``: the learned style space against its baselines.

On held-out styles (never seen in training, :data:`~stylelab.style.learned_train.HELD_OUT_STYLES`)
and held-out photos (:data:`~stylelab.style.learned_train.HELD_OUT_CONTENT`), side by side in one
process:

* ``learned``: the shipped model with the encoder's code (one encoder pass + one generator pass);
* ``learned+personalised``: the code optimised with ``PERSONALIZE_STEPS`` L-BFGS evaluations of Gatys'
  style loss on a 128 px copy of the photo (:func:`stylelab.style.personalize.personalize`, its defaults),
  then one generator pass at the result's size;
* ``learned+adam-40``: the same with 40 Adam steps (the first-order baseline of the optimiser choice);
* ``arbitrary``: the pretrained Magenta arbitrary network (ONNX);
* ``gatys-100``: Gatys with 100 L-BFGS loss evaluations (:class:`~stylelab.style.gatys.GatysStylizer`).

Every result is judged by the same fp32 VGG16 measures at the result's size, which none of the
feed-forward methods trained on: the **Gram distance** is :func:`stylelab.losses.style_loss` over
Gatys' layers ``relu1_1 ... relu5_1`` against the style picture (longer side = the result's), and
the **content distance** :func:`stylelab.losses.content_loss` at ``relu4_2`` against the photo
(Gatys optimises exactly these at the result's size, personalisation the same Gram loss on a 128 px
copy; neither optimises the content distance, which the learned generator's structure has to keep).
Times are wall seconds per image including every encoder pass and optimisation, after one untimed 64 px call of every method (its
lazy set-up is not a per-image cost). Rows carry Gatys-100 as the baseline.

Full mode: two held-out styles on the held-out astronaut at 256 px, and times at 256 and 512 px (at
512 px Gatys is timed over 10 evaluations and scaled to 100, said so in the row). Quick mode: one
pair at 128 px, Gatys timed on its 100 evaluations at 128 px.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import torch

from ..bench import row

LAB = "learned-style"
PERSONALIZE_STEPS = 5
ADAM_STEPS = 40
GATYS_STEPS = 100
_STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
_CONTENT_LAYERS = ("relu4_2",)


def judge(image: torch.Tensor, content: torch.Tensor, style: torch.Tensor) -> dict[str, float]:
    """Gram distance to ``style`` and content distance to ``content`` of ``image`` ``(3, H, W)`` (fp32 VGG16)."""
    from ..features import get_extractor
    from ..imageio import resize_tensor
    from ..losses import content_loss, gram_targets, style_loss

    vgg = get_extractor("vgg16", "cpu")
    x = image.float().unsqueeze(0)
    c = resize_tensor(content.float(), tuple(image.shape[-2:])).unsqueeze(0)
    s = resize_tensor(style.float(), max(image.shape[-2:])).unsqueeze(0)
    with torch.no_grad():
        fx = vgg(x, [*_STYLE_LAYERS, *_CONTENT_LAYERS])
        targets = gram_targets(vgg(s, list(_STYLE_LAYERS)))
        fc = vgg(c, list(_CONTENT_LAYERS))
        return {"gram": float(style_loss(fx, targets)), "content": float(content_loss(fx, fc, _CONTENT_LAYERS))}


def pairing_scores(model: Any, names: tuple[str, ...], crops: int = 16, size: int = 64, seed: int = 0) -> dict[str, float]:
    r"""How well the consistency D tells a real pair from a mismatched one, on the paintings ``names``.

    For every painting :math:`a` and every other painting :math:`b`, ``crops`` random crops: the real pairs
    :math:`(a', a)` (two crops of :math:`a`) and the mismatched pairs :math:`(b, a)`, scored by the mean patch
    logit. Returns ``{"auc", "real", "mismatched"}``: the AUC (probability that a random real pair scores
    above a random mismatched pair with the same style example; 0.5 = chance) and the mean sigmoid scores.
    """
    from ..assets import load_bundled

    if model.d_cons is None:
        raise ValueError("This model has no consistency discriminator.")
    gen = torch.Generator().manual_seed(seed)
    imgs = [load_bundled(n, size=320) for n in names]

    def crop(img: torch.Tensor) -> torch.Tensor:
        out = []
        for _ in range(crops):
            i = int(torch.randint(img.shape[1] - size + 1, (1,), generator=gen))
            j = int(torch.randint(img.shape[2] - size + 1, (1,), generator=gen))
            out.append(img[:, i:i + size, j:j + size])
        return torch.stack(out).to(model.device)

    real, mis = [], []
    with torch.no_grad():
        for a_i, a in enumerate(imgs):
            style, same = crop(a), crop(a)
            real.append(model.d_cons(same, style=style).mean((1, 2, 3)))
            for b_i, b in enumerate(imgs):
                if b_i != a_i:
                    mis.append(model.d_cons(crop(b), style=style).mean((1, 2, 3)))
    r, m = torch.cat(real).float(), torch.cat(mis).float()
    auc = float(((r[:, None] > m[None, :]).float() + 0.5 * (r[:, None] == m[None, :]).float()).mean())
    return {"auc": auc, "real": float(torch.sigmoid(r).mean()), "mismatched": float(torch.sigmoid(m).mean())}


def methods(model: Any, size: int, personalize_steps: int = PERSONALIZE_STEPS, gatys_steps: int = GATYS_STEPS):
    """``{name: fn(content, style) -> image}``: every method at ``size`` px (longer side)."""
    from .arbitrary import style_code, transfer
    from .configs import GatysConfig
    from .gatys import GatysStylizer
    from .personalize import encoder_code, personalize

    def learned(c, s):
        return model.stylize(c, encoder_code(model, [s], size))

    def personalised(c, s):  # the examples at the result's scale, the code fitted on a <= 128 px copy of the photo
        res = personalize(model, c, [s], steps=personalize_steps, size=min(size, 128), example_size=size)
        return model.stylize(c, res.code)

    def adam(c, s):
        res = personalize(model, c, [s], steps=ADAM_STEPS, size=min(size, 128), example_size=size, optimizer="adam")
        return model.stylize(c, res.code)

    def arbitrary(c, s):
        return transfer(c, style_code(s))

    def gatys(c, s):
        run = GatysStylizer(c, s, GatysConfig(size=size, steps=gatys_steps), "cpu")
        run.run(None)
        return run.image()

    return {"learned": learned, "learned+personalised": personalised, f"learned+adam-{ADAM_STEPS}": adam,
            "arbitrary": arbitrary,
            f"gatys-{gatys_steps}": gatys}


def _gatys_512_seconds(content, style, steps: int = 10) -> float:
    """Seconds of 100 Gatys evaluations at 512 px, from ``steps`` timed ones after 2 warm-up steps."""
    from .configs import GatysConfig
    from .gatys import GatysStylizer

    run = GatysStylizer(content, style, GatysConfig(size=512, steps=steps + 2), "cpu")
    run.run(2)
    t0 = time.perf_counter()
    run.run(steps)
    return (time.perf_counter() - t0) / steps * GATYS_STEPS


def run(quick: bool = False) -> list[dict[str, Any]]:
    from ..assets import load_bundled
    from ..imageio import resize_tensor
    from .learned_train import HELD_OUT_CONTENT, HELD_OUT_STYLES, load_learned

    model = load_learned(device="cpu")
    size = 128 if quick else 256
    styles = HELD_OUT_STYLES[:1] if quick else HELD_OUT_STYLES[:2]
    photos = HELD_OUT_CONTENT[:1]
    fns = methods(model, size)
    base = f"gatys-{GATYS_STEPS}"
    scores: dict[str, dict[str, list[float]]] = {m: {"gram": [], "content": [], "s": []} for m in fns}
    small = methods(model, 64, gatys_steps=2)
    warm_c, warm_s = resize_tensor(load_bundled(photos[0]), 64), load_bundled(styles[0], size=64)
    for fn in small.values():  # one untimed call of every method first (lazy set-up is not per-image cost)
        fn(warm_c, warm_s)
    for sname in styles:
        style = load_bundled(sname, size=size)
        for pname in photos:
            content = resize_tensor(load_bundled(pname), size)
            for name, fn in fns.items():
                t0 = time.perf_counter()
                img = fn(content, style)
                scores[name]["s"].append(time.perf_counter() - t0)
                for k, v in judge(img, content, style).items():
                    scores[name][k].append(v)
    pairs = f"{len(styles)} held-out styles x {len(photos)} held-out photos at {size} px"
    mean = {m: {k: statistics.fmean(v) for k, v in d.items()} for m, d in scores.items()}
    rows = []
    for name in fns:
        for i, (sname, g) in enumerate(zip(styles, scores[name]["gram"])):  # per style: the mean can hide one
            rows.append(row(LAB, f"Gram distance, {name}, {sname.split(':')[-1]}", g, "loss",
                            baseline=scores[base]["gram"][i], baseline_name=base, note=f"{photos[0]} at {size} px"))
        rows.append(row(LAB, f"Gram distance, {name}", mean[name]["gram"], "loss", baseline=mean[base]["gram"],
                        baseline_name=base, note=f"lower is better; VGG16 relu1_1-5_1, {pairs}"))
        rows.append(row(LAB, f"content distance, {name}", mean[name]["content"], "loss",
                        baseline=mean[base]["content"], baseline_name=base, note=f"VGG16 relu4_2, {pairs}"))
        rows.append(row(LAB, f"seconds per image at {size} px, {name}", mean[name]["s"], "s",
                        baseline=mean[base]["s"], baseline_name=base,
                        note=f"CPU; personalisation {PERSONALIZE_STEPS} L-BFGS evaluations at 128 px"))
    if model.d_cons is not None:
        from .learned_train import HELD_OUT_STYLES as held

        train_names = tuple(n for n in model.styles if n.startswith("painting:"))[:6]
        for label, names in (("training paintings", train_names),
                             ("held-out paintings", tuple(n for n in held if n.startswith("painting:")))):
            ps = pairing_scores(model, names)
            rows.append(row(LAB, f"consistency D pairing AUC, {label}", ps["auc"], "AUC",
                            note=f"real pair vs mismatched pair, {len(names)} paintings x 16 crops of 64 px; 0.5 = chance; "
                                 f"mean sigmoid real {ps['real']:.2f}, mismatched {ps['mismatched']:.2f}"))
    if not quick:  # time at 512 px (quality judged at 256)
        style = load_bundled(styles[0], size=512)
        content = resize_tensor(load_bundled(photos[0]), 512)
        big = methods(model, 512)
        g512 = _gatys_512_seconds(content, style)
        for name in ("learned", "learned+personalised", f"learned+adam-{ADAM_STEPS}", "arbitrary"):
            t0 = time.perf_counter()
            big[name](content, style)
            rows.append(row(LAB, f"seconds per image at 512 px, {name}", time.perf_counter() - t0, "s",
                            baseline=g512, baseline_name=base,
                            note="Gatys: 10 timed evaluations x 10 (after 2 warm-up); CPU, shared"))
    return rows


if __name__ == "__main__":  # python -m stylelab.style.bench_learned [--quick]
    import sys

    from ..bench import format_table, machine

    print(format_table({"machine": machine(), "quick": "--quick" in sys.argv, "rows": run("--quick" in sys.argv),
                        "skipped": []}))
