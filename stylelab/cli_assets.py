"""``python -m stylelab assets``: the table of offline assets (``--json`` for machines)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("assets", help="list every offline asset: source, licence, presence")
    p.add_argument("--json", action="store_true", help="print a JSON list of objects")
    p.add_argument("--prepare", action="store_true", help="also build derived caches (reassembled paintings)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from . import assets
    from .cli import print_json

    table = assets.prepare(verbose=not args.json) if args.prepare else assets.asset_table()
    if args.json:
        print_json(table)
        return 0
    cols = [("name", 22), ("kind", 12), ("present", 8), ("license", 40), ("source", 0)]
    print("  ".join(f"{c:<{w}}" if w else c for c, w in cols))
    for row in table:
        cells = []
        for c, w in cols:
            v = row[c]
            v = ("yes" if v else ("no" if row["required"] else "optional")) if c == "present" else str(v)
            cells.append(f"{v[: w - 1] + '…' if w and len(v) > w else v:<{w}}" if w else v)
        print("  ".join(cells))
    missing = [r for r in table if not r["present"] and r["required"]]
    if missing:
        print(f"\n{len(missing)} required asset(s) missing; install with the commands in `--json` ('install').")
    return 0
