"""``python -m stylelab score IMAGE... [--json | --csv]``: every aesthetic measure of each image.

Heavy imports (torch, pandas) happen inside the handler so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import math
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("score", help="score images: colourfulness, contrast, sharpness, thirds, BRISQUE, NIQE...",
                       description="Print every aesthetic measure of each image (one column per image).")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files (PNG, JPEG, WebP, ...)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print a JSON list: one object per image")
    fmt.add_argument("--csv", action="store_true", help="print CSV: one row per image")
    p.add_argument("--size", type=int, default=None, metavar="PX",
                   help="resize so the longer side is PX first (compare sharpness at one size); "
                        "default: as is, capped at 1024")
    p.add_argument("--no-quality", action="store_true", help="skip BRISQUE and NIQE (the slow measures)")
    p.set_defaults(func=run)


def _clean(key: str, value: object) -> object:
    """JSON-ready: NaN (a measure the image is too small for) -> null, sizes as integers."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if key in ("width", "height") and isinstance(value, float):
        return int(value)
    return value


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..errors import ConfigError
    from .scorecard import score_batch

    if args.size is not None and not 8 <= args.size <= 8192:
        raise ConfigError(f"--size must be between 8 and 8192 px; got {args.size}.")
    bar = tqdm(total=len(args.images), desc="scoring", unit="img", file=sys.stderr,
               disable=len(args.images) < 2 or not sys.stderr.isatty())
    df = score_batch(args.images, size=args.size, quality=not args.no_quality, on_error="record",
                     progress=lambda done, total: bar.update(1))
    bar.close()
    errors = df["error"] if "error" in df.columns else None
    failed = [(name, msg) for name, msg in (errors.items() if errors is not None else []) if msg]
    for name, msg in failed:
        print(f"error: {name}: {msg}", file=sys.stderr)
    ok = df[df["error"] == ""].drop(columns=["error"]) if errors is not None else df
    if args.json:
        from ..cli import print_json

        print_json([{"image": name, **{k: _clean(k, v) for k, v in row.items()}} for name, row in ok.iterrows()])
    elif args.csv:
        ok.to_csv(sys.stdout, index_label="image")
    elif len(ok):
        import pandas as pd

        with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 200):
            print(ok.T.to_string(float_format=lambda v: f"{v:.4g}"))
    if failed:
        return 2 if len(failed) == len(df) else 1
    return 0
