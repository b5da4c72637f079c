"""``python -m stylelab train-learned-style``: train the style encoder, generator and discriminators.

Examples::

    python -m stylelab train-learned-style --dry-run                     # one step, nothing written
    python -m stylelab train-learned-style --minutes 40 -o learned_style.pt
    python -m stylelab train-learned-style --resume --minutes 10 -o learned_style.pt   # continue
    torchrun --nproc_per_node 2 -m stylelab train-learned-style --minutes 40 -o learned_style.pt   # DDP

Under ``torchrun`` (:func:`stylelab.entry.torchrun`) every rank draws its own crops, the gradients
are averaged over the ranks every step, and rank 0 prints and writes the state and the model (it
holds the same weights as every other rank).

The resumable run state (weights, optimisers, the crop generator) is written atomically to
``--state`` every ``--save-every`` seconds and at the end; ``--resume`` continues from it (bit for bit
on the CPU). ``-o`` receives the small exported model (weights only) that ``stylize --method learned``
and the Style Studio load. Every config field is a flag (:class:`~stylelab.style.learned_train.LearnedStyleConfig`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = {
    "size": "crop size in pixels", "batch_size": "content crops (and styles) per step", "steps": "training steps",
    "lr": "Adam learning rate of the generator and encoder", "lr_d": "Adam learning rate of the discriminators",
    "code_dim": "size of the style code", "width": "generator width", "n_res": "generator residual blocks",
    "enc_hidden": "encoder hidden width", "d_width": "discriminators' width", "content_weight": "alpha",
    "style_weight": "beta", "tv_weight": "TV weight", "adv_weight": "realism PatchGAN term",
    "consistency_weight": "style-consistency term", "cycle_weight": "code-cycle term",
    "colorfulness_weight": "optional colourfulness reward", "contrast_weight": "optional contrast reward",
    "adv_kind": "GAN loss of both adversarial terms", "mismatched_pairs": "other paintings' crops as fake pairs",
    "style_scale": "longer side of a style picture before cropping", "styles": "training styles (bundled names)",
    "content": "content photos (bundled names)", "precision": "auto = bf16 where fast",
    "train_generator": "false: only the discriminators learn (fit them to a frozen, trained generator)",
}


def default_state_path() -> Path:
    from ..assets import cache_root

    return cache_root() / "train" / "learned-style" / "state.pt"


def register(sub: argparse._SubParsersAction) -> None:
    from ..entry import add_config_arguments, add_dry_run
    from .learned_train import LearnedStyleConfig

    t = sub.add_parser("train-learned-style", help="learn a style space: style encoder, generator, consistency D",
                       description="Train the style encoder, the code-modulated generator and the realism and "
                                   "style-consistency discriminators on the bundled paintings and photos.")
    add_config_arguments(t, LearnedStyleConfig, help=HELP)
    t.add_argument("--seed", type=int, default=0, help="the run's seed")
    t.add_argument("-o", "--out", default="learned_style.pt", help="exported model (weights only)")
    t.add_argument("--state", default=None, help="resumable run state (default: the stylelab cache)")
    t.add_argument("--resume", action="store_true", help="continue from --state if it exists")
    t.add_argument("--init", default=None, help="start a new run from this exported model's encoder and generator "
                   "('shipped' = the shipped model); its consistency D too where it fits")
    t.add_argument("--save-every", type=float, default=180.0, help="write --state every N seconds (default 180)")
    t.add_argument("--minutes", type=float, default=0.0, help="stop (and save) after this much wall time; 0 = none")
    t.add_argument("--log-every", type=int, default=10, help="print a line every N steps")
    t.add_argument("--device", default=None, help="cpu, cuda, mps (default: best available)")
    t.add_argument("--threads", type=int, default=None, help="torch threads per process (default: the cores, "
                   "divided between torchrun's local ranks)")
    t.add_argument("--checksum-dir", default=None, help="write each rank's weight checksum here (DDP check)")
    add_dry_run(t)
    t.set_defaults(func=cmd_train_learned)


def cmd_train_learned(args: argparse.Namespace) -> int:
    import json
    import time

    from ..checkpoint import load_checkpoint, save_checkpoint
    from ..entry import config_from_args, torchrun
    from ..errors import ConfigError
    from ..record import ExperimentRecord
    from ..run import config_from_record
    from .learned import count_weights
    from .learned_train import LearnedStyleConfig, LearnedStyleRun

    if args.save_every <= 0 or args.minutes < 0 or args.log_every < 1:
        raise ConfigError("--save-every must be > 0, --minutes >= 0 and --log-every >= 1.")
    config = config_from_args(args, LearnedStyleConfig)
    state_path = Path(args.state) if args.state else default_state_path()

    def body(ctx) -> int:
        say = print if ctx.is_main else (lambda *a, **k: None)
        if args.resume and state_path.is_file():
            blob = load_checkpoint(state_path, "learned-style run state")
            saved = config_from_record(ExperimentRecord(lab="style", config=dict(blob["config"]), seed=blob["seed"]),
                                       LearnedStyleConfig, kind=None)
            run = LearnedStyleRun(saved, seed=int(blob["seed"]), device=ctx.device)
            run.load_state_dict(blob)
            if config.steps > run.config.steps:
                run.config.steps = config.steps
            say(f"resumed {state_path} at step {run.step_count} ({run.seconds:.0f} s of training so far)")
        else:
            run = LearnedStyleRun(config, seed=args.seed, device=ctx.device)
            if args.init:
                from .learned_train import load_learned

                start = load_learned(None if args.init == "shipped" else args.init, device=run.device)
                say(f"started from {args.init} ({start.steps} steps): {', '.join(run.init_from(start))}")
        writes = ctx.is_main and not args.dry_run
        sizes = {k: count_weights(m) for k, m in run._modules().items()}
        say(f"learned-style: {len(run.style_names)} styles, {len(run.content_names)} photos, weights {sizes}"
            + (f", {ctx.world_size} ranks" if ctx.world_size > 1 else ""))
        t0 = last_save = time.perf_counter()
        while not run.done:
            row = run.step()
            now = time.perf_counter()
            if args.dry_run:
                say(f"dry run: 1 step in {run.seconds:.1f} s; total {row['total']:.4g}; nothing saved")
                return 0
            if row["step"] % args.log_every == 0:
                say(f"step {row['step']}  total {row['total']:.4g}  content {row['content_raw']:.3g}  "
                    f"style {row['style_raw']:.3g}  cycle {row['cycle_raw']:.3g}  D real/fake/mis "
                    f"{row['score_real_pair']:.2f}/{row['score_fake_pair']:.2f}/{row.get('score_mismatched_pair', 0):.2f}"
                    f"  {run.seconds / max(run.step_count, 1):.2f} s/step", flush=True)
            if writes and now - last_save >= args.save_every:
                save_checkpoint(run.state_dict(), state_path)
                save_checkpoint(run.export(), args.out)
                last_save = now
            stop = bool(args.minutes and now - t0 >= 60 * args.minutes)
            if ctx.distributed:  # every rank stops at the same step (rank 0's clock decides)
                import torch
                import torch.distributed as dist

                flag = torch.tensor([float(stop)])
                dist.broadcast(flag, 0)
                stop = bool(flag.item())
            if stop:
                break
        if args.checksum_dir:
            from ..inpaint.train import parameter_checksum

            Path(args.checksum_dir).mkdir(parents=True, exist_ok=True)
            sums = {k: parameter_checksum(m) for k, m in run._modules().items()}
            (Path(args.checksum_dir) / f"rank{ctx.rank}.json").write_text(
                json.dumps({"rank": ctx.rank, "world": run.world, "steps": run.step_count, "checksums": sums}))
        if writes:
            save_checkpoint(run.state_dict(), state_path)
            save_checkpoint(run.export(), args.out)
            say(f"saved {args.out} and {state_path} after {run.step_count} steps ({run.seconds:.0f} s of training)")
        return 0

    return torchrun(body, device=args.device, threads=args.threads)
