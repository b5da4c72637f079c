"""``python -m stylelab compare A B [--json] [--size N]``: every loss and metric between two images.

A and B are image files or bundled names (``photo:astronaut``, ``texture:brick``,
``painting:<key>``). Heavy imports happen inside the handler so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys

#: Longest side used when ``--size`` is not given and an image is larger (VGG on 4000 px is slow).
MAX_DEFAULT_SIZE = 1024

_GROUPS = (("mse", "l1", "psnr", "ssim", "ms_ssim"), ("lpips_vgg",), ("lpips_alex",), ("content", "style"), ("tv_a", "tv_b"))
_NOTES = {
    "mse": ("MSE", "lower = closer"), "l1": ("L1", "lower = closer"), "psnr": ("PSNR (dB)", "higher = closer"),
    "ssim": ("SSIM", "1 = identical"), "ms_ssim": ("MS-SSIM", "1 = identical"),
    "lpips_vgg": ("LPIPS (VGG16)", "0 = identical"), "lpips_alex": ("LPIPS (AlexNet)", "0 = identical"),
    "content": ("content, VGG16 relu4_2", "feature MSE"), "style": ("style, Gram relu1_1..relu5_1", "Gram MSE"),
    "tv_a": ("TV of A (squared L2, per pixel)", "smoothness of A"), "tv_b": ("TV of B (squared L2, per pixel)", "smoothness of B"),
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="every loss/metric between two images (MSE, SSIM, LPIPS, content, style, TV...)",
                       description="Print every applicable loss and metric between images A and B. Images of "
                                   "different sizes are resized to a common size (the output says so).")
    p.add_argument("a", metavar="A", help="image file or bundled name (photo:astronaut, texture:brick, painting:<key>)")
    p.add_argument("b", metavar="B", help="image file or bundled name")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--size", type=int, default=None, metavar="N",
                   help=f"resize A to longer side N (and B to A's shape); default: A as is (at most {MAX_DEFAULT_SIZE} px)")
    p.set_defaults(func=run)


def _load(src: str):  # noqa: ANN202
    from ..assets import load_bundled
    from ..imageio import load_image

    if ":" in src and src.split(":", 1)[0] in ("photo", "texture", "painting"):
        return load_bundled(src)
    return load_image(src)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..errors import ConfigError
    from .compare import match_sizes, pair_metrics

    if args.size is not None and not 16 <= args.size <= 4096:
        raise ConfigError(f"--size must be between 16 and 4096 pixels; got {args.size}.")
    a, b = _load(args.a), _load(args.b)
    size = args.size if args.size is not None else (MAX_DEFAULT_SIZE if max(a.shape[-2:]) > MAX_DEFAULT_SIZE else None)
    a, b, note = match_sizes(a, b, size)
    values: dict[str, float] = {}
    bar = tqdm(_GROUPS, desc="comparing", unit="group", file=sys.stderr, disable=not sys.stderr.isatty())
    for group in bar:
        bar.set_postfix_str(",".join(group))
        out = pair_metrics(a[None], b[None], group)
        values.update({k: float(v[0]) for k, v in out.items()})
    bar.close()
    result = {"a": args.a, "b": args.b, "size": [int(a.shape[-2]), int(a.shape[-1])], "resized": note, "metrics": values}
    if args.json:
        from ..cli import print_json

        print_json(result)
        return 0
    print(f"A: {args.a}\nB: {args.b}\nsize: {a.shape[-2]}x{a.shape[-1]} (H x W)")
    print(f"resized: {note}" if note else "resized: no (same size)")
    for key, value in values.items():
        label, hint = _NOTES[key]
        print(f"  {key:<11} {value:>12.6g}   {label} ({hint})")
    return 0
