"""``python -m stylelab translate ...`` and ``translate-train``: unpaired translation from the command line.

::

    python -m stylelab translate digit.png --model mnist2fashion -o clothing.png        # G(x), 28 px
    python -m stylelab translate mnist:17 --model mnist2fashion -o trip.png --strip     # x | G(x) | F(G(x))
    python -m stylelab translate coat.png --direction F -o digit.png                    # F(y): clothing -> digit
    python -m stylelab translate-train --pair mnist2fashion --steps 3000 --metrics-every 250 \\
        --out ~/.cache/stylelab/train/cycle --resume --export stylelab/translate/checkpoints/mnist2fashion.pt
    python -m stylelab translate-train --pair ring2grid --steps 500 --out runs/ring --dry-run

``IMAGE`` is a picture file (made grey and resized to 28 x 28; ``--invert`` for a dark digit on
light paper, MNIST digits are light on dark) or ``mnist:K`` / ``fashion:K``, the K-th held-out image
of a set (of class ``K % 10``). ``translate-train`` writes ``--out/checkpoint.pt`` every ``--save-every-s`` seconds and at
the end (or after ``--max-minutes``) (``--resume`` continues from it), ``record.json`` at the end, and with ``--export`` the small
translator file a page and ``translate`` load. Torch is imported inside the handlers.
"""

from __future__ import annotations

import argparse

HELP = {
    "pair": "ring2grid (2-D points) or mnist2fashion (28 px images)",
    "lambda_cyc": "weight of the cycle term |F(G(x)) - x|_1 (0: off)",
    "lambda_id": "weight of the identity term |G(y) - y|_1",
    "batch_size": "samples of each domain per step (none: 64 points, 32 images)",
    "lr": "Adam learning rate (none: 1e-3 points, 2e-4 images)",
    "metrics_every": "measure on held-out samples every k steps (0: never)",
    "threads": "torch threads (0: one on the CPU)",
}


def register(sub: argparse._SubParsersAction) -> None:
    from ..entry import add_config_arguments, add_dry_run
    from .run import CycleConfig

    t = sub.add_parser("translate", help="unpaired translation: a digit becomes a clothing item (and back)")
    t.add_argument("image", help="a picture file, or mnist:K / fashion:K (the K-th held-out image)")
    t.add_argument("--model", default="mnist2fashion", help="a shipped translator name or a translator file")
    t.add_argument("-o", "--out", required=True, help="the PNG to write")
    t.add_argument("--direction", choices=("G", "F"), default="G", help="G: digit -> clothing, F: clothing -> digit")
    t.add_argument("--strip", action="store_true", help="write input | translation | round trip side by side")
    t.add_argument("--invert", action="store_true", help="invert a picture file first (dark ink on light paper)")
    t.add_argument("--scale", type=int, default=4, help="enlarge the PNG this many times (nearest pixel)")
    t.set_defaults(func=translate_command)

    tr = sub.add_parser("translate-train", help="train a cycle-consistent GAN (ring <-> grid, MNIST <-> Fashion)")
    add_config_arguments(tr, CycleConfig, help=HELP)
    tr.add_argument("--seed", type=int, default=0, help="the run's seed")
    tr.add_argument("--out", required=True, help="folder for checkpoint.pt and record.json")
    tr.add_argument("--resume", action="store_true", help="continue from --out/checkpoint.pt if present")
    tr.add_argument("--save-every-s", type=float, default=120.0, help="seconds between checkpoints")
    tr.add_argument("--max-minutes", type=float, default=0.0,
                    help="stop (saved, resumable, exported) after this many minutes of wall time (0: no limit)")
    tr.add_argument("--export", default="", help="also write the translator file (image runs) here at the end")
    tr.add_argument("--device", default=None, help="cpu, cuda, ... (default: automatic)")
    add_dry_run(tr)
    tr.set_defaults(func=train_command)


def load_input(spec: str, invert: bool = False) -> "object":
    """``(1, 1, 28, 28)`` in [-1, 1] from a picture file or ``mnist:K`` / ``fashion:K`` (held-out images)."""
    from ..errors import ConfigError

    name, sep, index = spec.partition(":")
    if sep and name in ("mnist", "fashion") and index.strip().lstrip("-").isdigit():
        from ..gan.data import load_image_set
        from .metrics import HELD_OUT, held_out_index

        k = int(index)
        if not 0 <= k < HELD_OUT:
            raise ConfigError(f"{spec}: K must be in 0..{HELD_OUT - 1} (the held-out images; K % 10 is the class).")
        data = load_image_set("mnist5k" if name == "mnist" else "fashion")
        return data.images[held_out_index(data.labels)[k : k + 1]]
    from ..imageio import load_image

    rgb = load_image(spec, size=(28, 28))  # (3, 28, 28) in [0, 1]
    grey = rgb.mean(0, keepdim=True)  # (1, 28, 28)
    if invert:
        grey = 1.0 - grey
    return (grey * 2.0 - 1.0).unsqueeze(0)  # (1, 1, 28, 28) in [-1, 1]


def translate_command(args: argparse.Namespace) -> int:
    import torch

    from ..errors import ConfigError
    from ..gan.data import to_unit
    from ..imageio import to_pil
    from .translator import load_translator

    if not 1 <= args.scale <= 32:
        raise ConfigError(f"--scale must be in 1..32, got {args.scale}.")
    model = load_translator(args.model)
    x = load_input(args.image, args.invert)
    there, back = model.round_trip(x, args.direction)
    pics = torch.cat([x, there, back], dim=3) if args.strip else there  # (1, 1, 28, 28 or 84)
    im = to_pil(to_unit(pics[0]))
    im = im.resize((im.width * args.scale, im.height * args.scale), 0)
    try:
        im.save(args.out)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"Cannot write {args.out}: {exc}") from exc
    what = "G(x): digit -> clothing" if args.direction == "G" else "F(y): clothing -> digit"
    print(f"{what} with {args.model} ({model.steps} training steps); wrote {args.out}"
          + (" (input | translation | round trip)" if args.strip else ""))
    return 0


def train_command(args: argparse.Namespace) -> int:
    import time
    from pathlib import Path

    from ..entry import config_from_args
    from ..errors import ConfigError
    from .run import CycleConfig, CycleRun
    from .translator import export_translator

    config = config_from_args(args, CycleConfig)
    out = Path(args.out).expanduser()
    ckpt = out / "checkpoint.pt"
    if args.resume and ckpt.is_file():
        run = CycleRun.load(ckpt, device=args.device, steps=config.steps, metrics_every=config.metrics_every,
                            threads=config.threads)
        print(f"resumed at step {run.step_count} from {ckpt}", flush=True)
    else:
        run = CycleRun(config, seed=args.seed, device=args.device)
    if args.dry_run:
        row = run.step()
        print(f"dry run: 1 step on {run.device} ({', '.join(f'{k}={v:.4g}' for k, v in row.items() if k != 'step')}); "
              "nothing written")
        return 0
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"Cannot create the output folder {out}: {exc}") from exc
    if args.max_minutes < 0:
        raise ConfigError(f"--max-minutes must be >= 0, got {args.max_minutes}.")
    start = last_save = time.monotonic()
    with run.running():
        while not run.done:
            if args.max_minutes and time.monotonic() - start >= 60 * args.max_minutes:
                print(f"stopped after {args.max_minutes:g} min at step {run.step_count} (--resume continues)", flush=True)
                break
            row = run.step()
            if row["step"] % 50 == 0 or len(row) > 8:
                shown = ", ".join(f"{k}={v:.3f}" for k, v in row.items() if k != "step")
                print(f"step {row['step']}/{run.total_steps} ({run.seconds:.0f} s): {shown}", flush=True)
            if time.monotonic() - last_save >= args.save_every_s:
                run.save(ckpt)
                last_save = time.monotonic()
    if run.history and run.config.metrics_every and not any(k in run.history[-1] for k in ("mode_kept", "digit_kept")):
        run.history[-1].update(run.evaluate())  # the last step is always measured (what --export writes)
    run.save(ckpt)
    run.record().save(out / "record.json")
    if args.export:
        path = export_translator(run, args.export)
        print(f"exported the translator to {path} ({path.stat().st_size / 1e6:.2f} MB)")
    print(f"trained {run.step_count} steps in {run.seconds:.1f} s; wrote {ckpt}")
    return 0
