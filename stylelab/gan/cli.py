"""``python -m stylelab gan ...``: train a small GAN from the command line.

::

    python -m stylelab gan train --data ring --loss ns --steps 2000 --out runs/ring
    python -m stylelab gan train --data mnist5k --loss ns --steps 2000 --out runs/mnist --seed 1
    python -m stylelab gan train --data digits8 --steps 500 --out runs/d --dry-run   # one step, nothing written
    python -m stylelab gan train --data mnist5k --model stylegan --steps 100000 --max-minutes 15 \
        --save-every 120 --snapshot-every 60 --out runs/style --resume        # StyleGAN-lite, 15 min of training

Every :class:`~stylelab.gan.config.GANConfig` field is a flag (``--batch-size``, ``--lr-g``, ``--d-steps``,
``--label-smoothing``...), its default taken from the config (:func:`stylelab.entry.add_config_arguments`).
Writes to ``--out``: ``checkpoint.pt`` (resumable, ``--resume``), ``samples.png`` (the fixed-noise
sample grid, or a scatter of points), ``samples.npy`` (1,000 samples: points ``(n, 2)`` or images
``(n, H, W)`` in [0, 1]), ``metrics.json`` (one record per evaluation: ``step``, ``loss_d``,
``loss_g``, ``d_real``, ``d_fake`` and ``fid``/``kid`` or ``energy_distance``) and ``record.json``
(the experiment record with every step). Torch is imported inside the handler.

Long runs: ``--max-minutes M`` stops after M minutes of training time (the run's own clock, which
a ``--resume`` continues), ``--save-every S`` writes the checkpoint every S seconds of training
(so a killed run loses at most S seconds), and ``--snapshot-every S`` keeps G's weights every S
seconds of training in ``snapshots.pt`` (:func:`stylelab.gan.stylegan.load_snapshots`), to measure
quality against training time afterwards without evaluating during the timed steps.
"""

from __future__ import annotations

import argparse

#: GANConfig fields with a flag of their own below (their meaning on the command line differs)
_OWN_FLAGS = ("steps", "classes", "metrics_every")
HELP = {
    "data": "a 2-D toy distribution or an image set",
    "loss": "the adversarial loss (stylelab.gan.objectives.LOSSES)",
    "batch_size": "samples per step (split across processes under DDP)",
    "lr_g": "G learning rate (none: 1e-3 for points, 2e-4 for images)",
    "lr_d": "D learning rate (none: as lr_g)",
    "d_steps": "D updates per G update",
    "conditional": "class-conditional G and D (images)",
    "threads": "torch threads (0: one on the CPU, these models are small)",
    "amp": "bf16 autocast for image models (CPU with bf16, CUDA)",
    "device": "cpu, cuda, ... (none: automatic)",
}


def add_gan_arguments(parser: argparse.ArgumentParser) -> None:
    """The GANConfig flags (from the dataclass) plus ``--steps``, ``--classes`` and ``--metrics-every``."""
    from ..entry import add_config_arguments
    from .config import GANConfig

    add_config_arguments(parser, GANConfig, skip=_OWN_FLAGS, help=HELP)
    parser.add_argument("--classes", default="", help="image classes to keep, e.g. 0,1,7 (default: all)")
    parser.add_argument("--metrics-every", type=int, default=None,
                        help="evaluate every k steps (default: steps/10; 0: only at the end)")


def register(sub: argparse._SubParsersAction) -> None:
    from ..entry import add_dry_run

    gan = sub.add_parser("gan", help="GAN Lab: train small GANs (2-D points, digits, clothes)")
    gsub = gan.add_subparsers(dest="gan_command", metavar="ACTION")
    t = gsub.add_parser("train", help="train a GAN and write checkpoint, samples and metrics to --out")
    t.add_argument("--steps", type=int, required=True, help="generator updates in all")
    t.add_argument("--out", required=True, help="output folder")
    add_gan_arguments(t)
    t.add_argument("--resume", action="store_true", help="continue from --out/checkpoint.pt if present")
    t.add_argument("--max-minutes", type=float, default=0.0, help="stop after this much training time (0: no limit)")
    t.add_argument("--save-every", type=float, default=0.0, help="checkpoint every S seconds of training (0: at the end)")
    t.add_argument("--snapshot-every", type=float, default=0.0,
                   help="keep G's weights every S seconds of training in --out/snapshots.pt (0: none)")
    add_dry_run(t)
    t.set_defaults(func=train_command)
    gan.set_defaults(func=lambda args: (gan.print_help(), 0)[1])


def parse_classes(text: str) -> tuple[int, ...]:
    """``"0,1,7"`` -> ``(0, 1, 7)``; anything else is a :class:`~stylelab.errors.ConfigError`."""
    from ..errors import ConfigError

    try:
        return tuple(int(c) for c in text.split(",") if c.strip())
    except ValueError:
        raise ConfigError(f"--classes must be comma-separated integers, e.g. 0,1,7; got {text!r}.") from None


def config_from(args: argparse.Namespace, **overrides: object) -> "object":
    """The :class:`GANConfig` of parsed flags (``metrics_every`` default: steps / 10)."""
    from ..entry import config_from_args
    from ..errors import ConfigError
    from .config import GANConfig

    if not 1 <= args.steps <= 1_000_000:
        raise ConfigError(f"--steps must be in [1, 1000000], got {args.steps}.")
    every = args.metrics_every if args.metrics_every is not None else max(1, args.steps // 10)
    values = {"steps": args.steps, "classes": parse_classes(args.classes), "metrics_every": every, **overrides}
    return config_from_args(args, GANConfig, **values)


def train_command(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    import numpy as np
    from tqdm import tqdm

    from ..errors import ConfigError
    from ..run import run_to_end
    from .train import GANTrainer

    config = config_from(args)
    for flag in ("max_minutes", "save_every", "snapshot_every"):
        value = getattr(args, flag, 0.0)
        if not (value >= 0 and value < 1e9):
            raise ConfigError(f"--{flag.replace('_', '-')} must be a number of minutes/seconds >= 0, got {value!r}.")
    out = Path(args.out)
    ckpt = out / "checkpoint.pt"
    if args.resume and ckpt.is_file():
        trainer = GANTrainer.load(ckpt, device=config.device)
        trainer.update(metrics_every=config.metrics_every)
        trainer.play_until(config.steps)  # the new total
    else:
        trainer = GANTrainer(config)
    if args.dry_run:
        row = trainer.step()
        print(f"dry run: 1 step on {trainer.device} ({', '.join(f'{k}={v:.4g}' for k, v in row.items() if k != 'step' and isinstance(v, (int, float)))}); "
              "nothing written")
        return 0
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"Cannot create the output folder {out}: {exc}") from exc
    if not args.resume and (out / "snapshots.pt").is_file():
        (out / "snapshots.pt").unlink()  # a fresh run starts a fresh series
    limit = 60.0 * getattr(args, "max_minutes", 0.0)
    saver = _Every(getattr(args, "save_every", 0.0), trainer.seconds)
    snapper = _Every(getattr(args, "snapshot_every", 0.0), trainer.seconds)
    with tqdm(total=trainer.total_steps, initial=trainer.step_count, desc=f"GAN {config.data}/{trainer.config.loss}",
              unit="step") as bar:
        def tick(_t: GANTrainer, row: dict) -> bool:
            bar.update(1)
            if row["step"] % 10 == 0:
                bar.set_postfix(loss_d=f"{row['loss_d']:.3f}", loss_g=f"{row['loss_g']:.3f}")
            if snapper.due(trainer.seconds):
                from .stylegan import add_snapshot

                add_snapshot(out / "snapshots.pt", trainer)
            if saver.due(trainer.seconds):
                trainer.save(ckpt)
            return not (limit and trainer.seconds >= limit)

        if limit and trainer.seconds >= limit:
            print(f"already trained {trainer.seconds / 60:.1f} min (--max-minutes {args.max_minutes}); writing outputs")
        else:
            run_to_end(trainer, tick)
    if trainer.history and not any(k in trainer.history[-1] for k in ("fid", "energy_distance")):
        trainer.history[-1].update(trainer.evaluate())  # the last step is always measured
    trainer.save(ckpt)
    np.save(out / "samples.npy", trainer.export_samples(1000).astype(np.float32))
    save_picture(trainer, out / "samples.png")
    evaluated = [r for r in trainer.history if "fid" in r or "energy_distance" in r]
    (out / "metrics.json").write_text(json.dumps(evaluated, indent=1))
    trainer.record().save(out / "record.json")
    last = evaluated[-1] if evaluated else {}
    keys = ("fid", "kid", "confidence") if not trainer.config.is_toy else ("energy_distance", "coverage")
    summary = ", ".join(f"{k}={last[k]:.4g}" for k in keys if k in last)
    print(f"trained {trainer.step_count} steps in {trainer.seconds:.1f} s ({summary}); wrote {out}")
    warning = trainer.collapse_warning()
    if warning:
        print(f"warning: {warning}")
    return 0


class _Every:
    """True once every ``seconds`` of the run's training clock (0: never)."""

    def __init__(self, seconds: float, start: float) -> None:
        self.seconds, self.next = seconds, start + seconds

    def due(self, now: float) -> bool:
        if not self.seconds or now < self.next:
            return False
        self.next = now + self.seconds
        return True


def save_picture(trainer: "object", path: "object") -> None:
    """The fixed-noise grid (images) or a real-vs-generated scatter (points) as a PNG."""
    from ..imageio import to_pil

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
    im = to_pil(trainer.sample_grid())  # type: ignore[attr-defined]
    im.resize((im.width * 4, im.height * 4), 0).save(path)
