"""``python -m stylelab``: the command-line entry point.

Each lab contributes its subcommands from its own module through a ``register(subparsers)``
function (argument parsing only; heavy imports happen inside the handler). Handlers return an
exit code. Errors stylelab raises on purpose (:class:`~stylelab.errors.StylelabError`) are printed
as one clear line and exit with status 2; anything else is a bug and shows its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
from collections.abc import Sequence

from . import __version__
from .entry import run_main

#: Modules that add subcommands, in the order they appear in ``--help``.
COMMAND_MODULES = (
    "stylelab.cli_assets",
    "stylelab.losses.cli",
    "stylelab.style.cli",
    "stylelab.style.learned_cli",
    "stylelab.gan.cli",
    "stylelab.inpaint.cli",
    "stylelab.aesthetics.cli",
    "stylelab.translate.cli",
    "stylelab.bench",
    "stylelab.serve.loadtest",
)


def module_exists(name: str) -> bool:
    """True if ``name`` (and every parent package) can be imported; a lab may be absent from a build."""
    parts = name.split(".")
    return all(importlib.util.find_spec(".".join(parts[: i + 1])) is not None for i in range(len(parts)))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m stylelab",
        description="stylelab: learn how image generation works (losses, style transfer, GANs, inpainting, aesthetics).",
    )
    parser.add_argument("--version", action="version", version=f"stylelab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        if not module_exists(name):  # a lab that is not part of this build
            continue
        importlib.import_module(name).register(sub)
    return parser


def print_json(obj: object) -> None:
    print(json.dumps(obj, indent=2, allow_nan=False, default=str))

def _main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    return int(args.func(args) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m stylelab [COMMAND ...]``; returns the exit status (2 with one ``error:`` line on bad input)."""
    return run_main(_main, argv)
