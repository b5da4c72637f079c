"""Re-execute the notebooks in place and save their outputs, small (``bash scripts/stylelab.sh refresh-notebooks``).

The notebooks are committed with their outputs so they read on a code host without running. This
runs each one top to bottom in a fresh kernel (cwd ``notebooks/``), stops at the first error (a
notebook whose code no longer runs is not saved), shrinks every PNG figure (at most ``--max-width``
pixels wide, a ``--colors`` palette: about 40 KiB for a row of three photos) and writes the notebook back.

    python scripts/refresh_notebooks.py                 # every notebook
    python scripts/refresh_notebooks.py 03_gan 05       # only those whose name starts so
"""

from __future__ import annotations

import argparse
import base64
import io
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from PIL import Image

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def shrink_png(data: str, max_width: int, colors: int) -> str:
    """A base64 PNG, downscaled to ``max_width`` (aspect kept) and re-encoded with a ``colors`` palette."""
    im = Image.open(io.BytesIO(base64.b64decode(data)))
    im.load()
    if im.width > max_width:
        im = im.resize((max_width, max(1, round(im.height * max_width / im.width))), Image.Resampling.LANCZOS)
    im = im.convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    im.save(buf, "PNG", optimize=True)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def refresh(path: Path, max_width: int, colors: int, timeout: int) -> tuple[float, int]:
    """Execute ``path`` in place; return (seconds, bytes written)."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    t0 = time.perf_counter()
    client.execute()  # raises CellExecutionError on the first failing cell: nothing is written then
    seconds = time.perf_counter() - t0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "image/png" in data:
                data["image/png"] = shrink_png(data["image/png"], max_width, colors)
                out.get("metadata", {}).pop("image/png", None)  # the old width/height no longer apply
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return seconds, path.stat().st_size


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("only", nargs="*", help="name prefixes of the notebooks to refresh (default: all)")
    p.add_argument("--max-width", type=int, default=560, help="widest saved figure, pixels")
    p.add_argument("--colors", type=int, default=64, help="palette size of the saved figures")
    p.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell")
    args = p.parse_args(argv)
    paths = [q for q in sorted(NOTEBOOKS.glob("*.ipynb")) if not args.only or any(q.stem.startswith(o) for o in args.only)]
    if not paths:
        print(f"no notebook matches {args.only}", file=sys.stderr)
        return 2
    failed = []
    for q in paths:
        try:
            seconds, size = refresh(q, args.max_width, args.colors, args.timeout)
        except CellExecutionError as exc:  # keep the committed version; go on with the others
            failed.append(q.name)
            print(f"{q.name:32s} FAILED, not saved:\n{exc}", file=sys.stderr, flush=True)
            continue
        print(f"{q.name:32s} {seconds:6.1f} s  {size / 1024:7.0f} KiB", flush=True)
    total = sum(q.stat().st_size for q in NOTEBOOKS.glob("*.ipynb"))
    print(f"all notebooks: {total / 2**20:.2f} MiB" + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
