""""Open this run in a notebook": the three-line cell that rebuilds a lab's run from its record.

Every lab has a "Download experiment record (JSON)" button; next to it each page calls
:func:`notebook_link` once, which shows (folded away) the notebook cell that loads that file with
:func:`stylelab.record.load` and runs it again, so a student can take any run from the app into
JupyterLab (``bash scripts/stylelab.sh notebooks``) and read every step of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from ..record import ExperimentRecord

#: What each picture argument stands for, in the cell's comment.
_PLACEHOLDERS = {"content": "your_photo.png", "style": "your_painting.png", "image": "your_photo.png"}

_RESULT = {
    "gan": "the GANTrainer after the same steps: .history, .sample(64)",
    "gan-compare": "the LossComparison after the same steps: .history",
    "gatys": "the GatysStylizer after the same steps: .image(), .history",
    "fast-style": "the FastStyleTrainer after the same steps: .history, .stylize(photo)",
    "mixing": "the MixingDesk after the same steps: .image, .history",
    "adjust": "the Adjuster after the same steps: .history, .parameters_now()",
    "dip": "the DeepImagePrior after the same steps: .current(), .history",
    "inpaint-train": "the InpaintTrainer after the same steps: .history",
    "loss-study": "the LossStudy after the same steps: .history",
    "inpaint-gated": "the GatedTrainer after the same steps: .history, .inpainter()",
    "gan-custom": "the CustomPointsGAN after the same steps: .history, .sample(64)",
    "gan-steps": "the GANStepper after the same sub-steps: .history, .trainer",
    "cycle": "the CycleRun after the same steps: .history, .translate(x), .round_trip(x)",
    "learned-style": "the LearnedStyleRun after the same steps: .history, .preview()",
    "style/fast": "the stylised image (3, H, W)",
    "style/arbitrary": "the stylised image (3, H, W)",
    "inpaint": "{method: {'image', 'scores'}} for every method of the run",
}


def notebook_cell(record: "ExperimentRecord", file_name: str, inputs: Mapping[str, str] | None = None) -> str:
    """The cell's source: import, load the downloaded file, replay the run.

    Args:
        record: the run's experiment record (the one the page offers for download).
        file_name: the name of that download (the cell loads it from the notebook's folder).
        inputs: the pictures of the run as bundled names or paths (``{"content": "photo:astronaut"}``);
            the ones not given are written as placeholders to replace, because a record holds
            settings and numbers, never the pictures themselves.
    """
    from ..record import KINDS, kind_of

    kind = kind_of(record)
    given = dict(inputs or {})
    names = list(KINDS[kind])
    if kind == "inpaint" and record.config.get("mask", {}).get("tool") not in ("Rectangle", "Random strokes", "Centre hole"):
        names.append("mask")
    args = ", ".join(f"{n}={given.get(n, _PLACEHOLDERS.get(n, f'your_{n}.png'))!r}" for n in names)
    missing = [n for n in names if n not in given]
    comment = f"  # your pictures ({', '.join(missing)}): bundled names or file paths" if missing else ""
    return (
        "from stylelab.record import load\n"
        f"run = load({file_name!r})  # the record you downloaded, next to this notebook\n"
        f"result = run.replay({args}){comment}  # -> {_RESULT.get(kind, 'the run after the same steps')}"
    )


def notebook_link(record: "ExperimentRecord", file_name: str, inputs: Mapping[str, str] | None = None) -> None:
    """An expander "Open this run in a notebook" with the cell (call it next to ``download_record``)."""
    import streamlit as st

    from ..errors import StylelabError

    with st.expander("📓 Open this run in a notebook"):
        try:
            cell = notebook_cell(record, file_name, inputs)
        except StylelabError as exc:
            st.caption(f"This record cannot be replayed in a notebook: {exc}")
            return
        st.markdown("Download the record, start JupyterLab with `bash scripts/stylelab.sh notebooks`, "
                    "put the file next to your notebook and run this cell: the same config and seed, run again, "
                    "with every step in your hands.")
        st.code(cell, language="python")
