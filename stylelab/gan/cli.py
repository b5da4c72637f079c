"""``python -m stylelab gan ...``: train a small GAN from the command line.

::

    python -m stylelab gan train --data ring --loss ns --steps 2000 --out runs/ring
    python -m stylelab gan train --data mnist5k --loss ns --steps 2000 --out runs/mnist --seed 1

writes to ``--out``: ``checkpoint.pt`` (resumable, ``--resume``), ``samples.png`` (the fixed-noise
sample grid, or a scatter of points), ``samples.npy`` (1,000 samples: points ``(n, 2)`` or images
``(n, H, W)`` in [0, 1]), ``metrics.json`` (one record per evaluation: ``step``, ``loss_d``,
``loss_g``, ``d_real``, ``d_fake`` and ``fid``/``kid`` or ``energy_distance``) and ``record.json``
(the experiment record with every step). Heavy imports happen inside the handler.
"""

from __future__ import annotations

import argparse

LOSSES = ("minimax", "ns", "lsgan", "hinge", "wgan-gp")  # = stylelab.losses.ADVERSARIAL_LOSSES (checked in tests)
DATA = ("ring", "grid", "spiral", "moons", "line", "gaussian", "digits8", "mnist5k", "fashion")


def register(sub: argparse._SubParsersAction) -> None:
    gan = sub.add_parser("gan", help="GAN Lab: train small GANs (2-D points, digits, clothes)")
    gsub = gan.add_subparsers(dest="gan_command", metavar="ACTION")
    t = gsub.add_parser("train", help="train a GAN and write checkpoint, samples and metrics to --out")
    t.add_argument("--data", choices=DATA, required=True)
    t.add_argument("--loss", choices=LOSSES, default="ns")
    t.add_argument("--steps", type=int, required=True, help="generator updates")
    t.add_argument("--out", required=True, help="output folder")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--batch-size", type=int, default=64)
    t.add_argument("--lr-g", type=float, default=None, help="default 1e-3 (points) / 2e-4 (images)")
    t.add_argument("--lr-d", type=float, default=None)
    t.add_argument("--beta1", type=float, default=0.5)
    t.add_argument("--beta2", type=float, default=0.999)
    t.add_argument("--d-steps", type=int, default=1, help="D updates per G update")
    t.add_argument("--label-smoothing", type=float, default=0.0)
    t.add_argument("--instance-noise", type=float, default=0.0)
    t.add_argument("--classes", default="", help="image classes to keep, e.g. 0,1,7")
    t.add_argument("--conditional", action="store_true", help="class-conditional G and D (images)")
    t.add_argument("--metrics-every", type=int, default=0, help="evaluate every k steps (default: steps/10)")
    t.add_argument("--threads", type=int, default=0, help="torch threads (default 1: these models are small)")
    t.add_argument("--amp", action="store_true", help="bf16 autocast for image models (CPU with bf16, CUDA)")
    t.add_argument("--device", default=None, help="cpu, cuda, ... (default: automatic)")
    t.add_argument("--resume", action="store_true", help="continue from --out/checkpoint.pt if present")
    t.set_defaults(func=train_command)
    gan.set_defaults(func=lambda args: (gan.print_help(), 0)[1])


def _classes(text: str) -> tuple[int, ...]:
    from ..errors import ConfigError

    try:
        return tuple(int(c) for c in text.split(",") if c.strip())
    except ValueError:
        raise ConfigError(f"--classes must be comma-separated integers, e.g. 0,1,7; got {text!r}.") from None


def train_command(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    import numpy as np
    from tqdm import tqdm

    from ..device import get_device
    from ..errors import ConfigError
    from .data import is_toy
    from .train import GANConfig, GANTrainer

    if args.steps < 1 or args.steps > 1_000_000:
        raise ConfigError(f"--steps must be in [1, 1000000], got {args.steps}.")
    toy = is_toy(args.data)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"Cannot create the output folder {out}: {exc}") from exc
    every = args.metrics_every or max(1, args.steps // 10)
    config = GANConfig(
        data=args.data, loss=args.loss, seed=args.seed, batch_size=args.batch_size, lr_g=args.lr_g, lr_d=args.lr_d,
        beta1=args.beta1, beta2=args.beta2, d_steps=args.d_steps, label_smoothing=args.label_smoothing,
        instance_noise=args.instance_noise, classes=_classes(args.classes), conditional=args.conditional,
        metrics_every=every, device=str(get_device(args.device)), amp=args.amp, threads=args.threads,
    )
    ckpt = out / "checkpoint.pt"
    if args.resume and ckpt.is_file():
        trainer = GANTrainer.load(ckpt, device=config.device)
        trainer.update(metrics_every=every)
    else:
        trainer = GANTrainer(config)
    remaining = max(0, args.steps - trainer.step_count)
    with tqdm(total=args.steps, initial=trainer.step_count, desc=f"GAN {args.data}/{args.loss}", unit="step") as bar:
        def tick(_t: GANTrainer, row: dict) -> None:
            bar.update(1)
            if row["step"] % 10 == 0:
                bar.set_postfix(loss_d=f"{row['loss_d']:.3f}", loss_g=f"{row['loss_g']:.3f}")

        trainer.train(remaining, callback=tick)
    if trainer.history and not any(k in trainer.history[-1] for k in ("fid", "energy_distance")):
        trainer.history[-1].update(trainer.evaluate())  # the last step is always measured
    trainer.save(ckpt)
    np.save(out / "samples.npy", trainer.export_samples(1000).astype(np.float32))
    _save_picture(trainer, out / "samples.png")
    evaluated = [r for r in trainer.history if "fid" in r or "energy_distance" in r]
    (out / "metrics.json").write_text(json.dumps(evaluated, indent=1))
    trainer.record().save(out / "record.json")
    last = evaluated[-1] if evaluated else {}
    keys = ("fid", "kid", "confidence") if not toy else ("energy_distance", "coverage")
    summary = ", ".join(f"{k}={last[k]:.4g}" for k in keys if k in last)
    print(f"trained {trainer.step_count} steps in {trainer.seconds:.1f} s ({summary}); wrote {out}")
    warning = trainer.collapse_warning()
    if warning:
        print(f"warning: {warning}")
    return 0


def _save_picture(trainer: "object", path: "object") -> None:
    """The fixed-noise grid (images) or a real-vs-generated scatter (points) as a PNG."""
    from ..imageio import image_grid, to_pil
    from .data import to_unit

    if trainer.config.is_toy:  # type: ignore[attr-defined]
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        real = trainer.real.cpu().numpy()  # type: ignore[attr-defined]
        fake = trainer.sample(1000).cpu().numpy()  # type: ignore[attr-defined]
        fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
        ax.scatter(real[:, 0], real[:, 1], s=3, alpha=0.4, label="real")
        ax.scatter(fake[:, 0], fake[:, 1], s=3, alpha=0.4, label="generated")
        ax.set_aspect("equal")
        ax.legend(loc="upper right")
        fig.savefig(path, bbox_inches="tight")
        plt.close(fig)
        return
    grid = image_grid(to_unit(trainer.fixed_samples().cpu()), nrow=8)  # type: ignore[attr-defined]
    im = to_pil(grid)
    im.resize((im.width * 4, im.height * 4), 0).save(path)
