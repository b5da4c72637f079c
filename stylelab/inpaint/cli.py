"""``python -m stylelab inpaint``: fill a hole in an image; ``inpaint-train``: train the U-Net inpainter.

Examples::

    python -m stylelab inpaint photo.png -o filled.png --rect 40,30,64,48 --method telea
    python -m stylelab inpaint photo.png -o filled.png --mask hole.png --method unet --scores
    python -m stylelab inpaint photo.png -o filled.png --strokes 3 --method dip --size 128
    python -m stylelab inpaint photo.png -o filled.png --rect 600,380,48,40 --method gated   # crop-to-mask on a big photo
    python -m stylelab inpaint-train --loss mse+ssim --steps 300 --out /tmp/unet.pt
    python -m stylelab inpaint-train --dry-run

The mask file is a picture: white (or painted, on a transparent PNG) = hole. Heavy imports
happen inside the handler, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse

METHOD_NAMES = ("telea", "ns", "biharmonic", "dip", "unet", "gated")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("inpaint", help="fill a hole in an image (classical, Deep Image Prior, trained U-Net or gated refiner)",
                       description="Fill the hole of IMAGE and write the result to OUT.")
    p.add_argument("image", help="input image (any format PIL reads)")
    p.add_argument("-o", "--out", required=True, help="output PNG")
    hole = p.add_mutually_exclusive_group(required=True)
    hole.add_argument("--mask", help="mask image: white / painted pixels = hole")
    hole.add_argument("--rect", help="rectangular hole X,Y,W,H in pixels of the (resized) image")
    hole.add_argument("--strokes", type=int, metavar="SEED", help="random free-form strokes with this seed")
    p.add_argument("--method", choices=METHOD_NAMES, default="telea")
    p.add_argument("--size", type=int, default=None, help="resize so the longer side is SIZE first")
    p.add_argument("--feather", type=int, default=0, help="soften the hole's edge by this many pixels")
    p.add_argument("--iterations", type=int, default=500, help="Deep Image Prior: optimisation steps")
    p.add_argument("--checkpoint", default=None,
                   help="U-Net or gated: shipped name or checkpoint path (default: the best shipped)")
    p.add_argument("--save-mask", default=None, help="also write the mask used as a PNG")
    p.add_argument("--scores", action="store_true",
                   help="print PSNR/SSIM/LPIPS in the hole vs. the input (meaningful when the input is intact)")
    p.set_defaults(func=run)

    t = sub.add_parser("inpaint-train", help="train the U-Net inpainter (also under torchrun)",
                       description="Train the U-Net inpainter on offline crops; rank 0 writes --out. "
                                   "Several processes: torchrun --nproc_per_node 2 -m stylelab.inpaint.train ...")
    from .train_config import add_train_arguments

    add_train_arguments(t)
    t.set_defaults(func=_train)

    from .gated_config import register as register_gated

    register_gated(sub)


def _train(args: argparse.Namespace) -> int:
    from .train import train_command

    return train_command(args)


def _parse_rect(text: str) -> tuple[int, int, int, int]:
    from ..errors import ConfigError

    try:
        x, y, w, h = (int(v) for v in text.split(","))
    except ValueError:
        raise ConfigError(f"--rect must be X,Y,W,H (four integers), got {text!r}.") from None
    return x, y, w, h


def run(args: argparse.Namespace) -> int:
    import numpy as np
    from tqdm import tqdm

    from ..cli import print_json
    from ..imageio import load_image, to_pil
    from .dip import DIPConfig
    from .masks import damage, feather, mask_from_image, random_strokes, rect_mask, validate_mask
    from .methods import inpaint

    image = load_image(args.image, size=args.size)  # (3, H, W)
    h, w = image.shape[-2:]
    if args.mask:
        mask = mask_from_image(args.mask, size=(h, w))
    elif args.rect:
        mask = rect_mask(h, w, *_parse_rect(args.rect))
    else:
        mask = random_strokes(h, w, rng=np.random.default_rng(args.strokes))
    validate_mask(mask, size=(h, w))
    if args.feather:
        mask = feather(mask, args.feather)
    options: dict[str, object] = {}
    bar = None
    if args.method == "dip":
        bar = tqdm(total=args.iterations, desc="Deep Image Prior", unit="it")
        options = {"config": DIPConfig(iterations=args.iterations),
                   "callback": lambda i, loss, fit: (bar.update(1), bar.set_postfix(loss=f"{loss:.4f}"))}
    elif args.method in ("unet", "gated") and args.checkpoint:
        options = {"checkpoint": args.checkpoint}
    damaged = damage(image, mask)
    result = inpaint(damaged, mask, args.method, **options)
    if bar is not None:
        bar.close()
    to_pil(result).save(args.out)
    if args.save_mask:
        to_pil(mask.expand(3, -1, -1)).save(args.save_mask)
    print(f"wrote {args.out} ({w}x{h}, method {args.method}, hole {float((mask > 0).float().mean()):.1%} of the image)")
    if args.scores:
        from .metrics import hole_scores

        print_json({k: round(v, 4) for k, v in hole_scores(result, image, mask).items()})
    return 0
