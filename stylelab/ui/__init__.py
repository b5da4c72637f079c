"""Streamlit building blocks shared by every page: sidebar, image picker, session gallery, records.

Pages lay out UI and call ``stylelab``; this module holds the UI pieces they all need so that
each page stays short and every lab behaves the same way. No math lives here.

Heavy modules (torch) are imported inside functions so the home page renders fast.
"""

from __future__ import annotations

import functools
import sys
from typing import TYPE_CHECKING, Any

import streamlit as st

from ..errors import StylelabError
from .cache import SessionLRU, bytes_digest, shared, tensor_digest  # noqa: F401  (pages import them from here)
from .state import forget, keep, remember, shadow_key, view_picker  # noqa: F401  (pages import them from here)

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from ..record import ExperimentRecord

#: The labs, in the order of the sidebar: (page file, title, icon, one-line summary).
LABS = [
    ("pages/1_Loss_Lab.py", "Loss Lab", "📐", "Every loss of the field as one function: see what each one sees."),
    ("pages/2_Style_Studio.py", "Style Studio", "🎨", "Gatys optimisation, 26 pretrained styles, arbitrary style codes."),
    ("pages/3_GAN_Lab.py", "GAN Lab", "🎲", "Train small GANs live: 2-D points, digits, clothes."),
    ("pages/4_Inpainting_Lab.py", "Inpainting Lab", "🩹", "Draw a hole, fill it five ways, compare the losses."),
    ("pages/5_Aesthetics_Lab.py", "Aesthetics Lab", "🌈", "Measure what makes an image pleasing, then nudge it."),
    ("pages/8_Translate.py", "Translate", "🔁", "Unpaired translation: a digit becomes a clothing item, and comes back."),
]
MAX_SESSION_RESULTS = 12
RESULTS_KEY = "stylelab_results"
#: decoded uploads (picker x file x size), least recently used dropped first
UPLOADS_KEY = "stylelab_uploads"
MAX_DECODED_UPLOADS = 8


def page_setup(title: str, icon: str = "🧪", wide: bool = True) -> None:
    """``st.set_page_config`` + the shared sidebar. Call first on every page."""
    st.set_page_config(page_title=f"{title} · stylelab", page_icon=icon, layout="wide" if wide else "centered")
    sidebar()


@st.cache_resource(show_spinner=False)
def device_line() -> str:
    """One line about the device the labs compute on (e.g. ``CPU (2 threads, bf16 fast path)``); imports torch."""
    from ..device import describe_device, get_device

    return describe_device(get_device())


def sidebar() -> None:
    """The sidebar every page shows: what stylelab is, the device, this session's results."""
    with st.sidebar:
        st.markdown("### 🧪 stylelab")
        st.caption("Learn how image generation works, one equation at a time.")
        # The page list itself is Streamlit's navigation (st.navigation in app.py), shown above this.
        st.divider()
        if "torch" in sys.modules:  # never import torch (~1.3 s) just for this line: the page comes first
            st.caption(f"Device · {device_line()}")
        results = st.session_state.get(RESULTS_KEY, {})
        if results:
            st.caption(f"This session's results: {', '.join(results)}")


def show_error(exc: BaseException, what: str = "That did not work") -> None:
    """Show a typed stylelab error as a clear message (never a traceback for bad input)."""
    if isinstance(exc, StylelabError):
        st.error(f"{what}: {exc}")
    else:  # a bug: show it so it gets reported, but keep the page alive
        st.exception(exc)


# ----------------------------------------------------------------------------- images
@st.cache_data(show_spinner=False, max_entries=64)
def _bundled(name: str, size: int | None) -> Any:
    from ..assets import load_bundled

    return load_bundled(name, size=size)


@st.cache_data(show_spinner=False)
def bundled_catalog() -> dict[str, list[str]]:
    from ..assets import image_catalog

    return image_catalog()


@st.cache_data(show_spinner=False)
def bundled_label(name: str) -> str:
    from ..assets import bundled_label as label

    return label(name)


def load_upload(data: bytes, size: int | None, name: str = "upload") -> "torch.Tensor":
    """Decode uploaded bytes (raises typed ImageError on bad files, naming the file)."""
    import io

    from ..imageio import load_image

    fh = io.BytesIO(data)
    fh.name = name  # so error messages say which file
    return load_image(fh, size=size)


def image_picker(
    label: str,
    key: str,
    default: str = "photo:astronaut",
    size: int | None = 256,
    groups: tuple[str, ...] = ("Photos", "Paintings", "Textures"),
    allow_upload: bool = True,
    allow_session: bool = True,
) -> "torch.Tensor | None":
    """Pick an image: bundled (photos / paintings / textures), an upload, or a result of this session.

    Returns a ``(3, H, W)`` float tensor in [0, 1] (longer side = ``size``), or None when nothing
    usable is chosen (a bad upload shows a clear message and keeps the previous image, if any).
    """
    catalog = bundled_catalog()
    sources = [g for g in groups if catalog.get(g)]
    if allow_upload:
        sources.append("Upload")
    results = st.session_state.get(RESULTS_KEY, {})
    if allow_session and results:
        sources.append("This session")
    default_group = next((g for g in sources if default in catalog.get(g, [])), sources[0])
    source = st.radio(label, sources, horizontal=True, key=keep(f"{key}_src", default_group, sources))
    last_key = f"{key}_last_good"
    if source == "Upload":
        up = st.file_uploader("Upload an image", type=None, key=f"{key}_upload",
                              help="PNG, JPEG, WebP, GIF, TIFF, BMP... up to 40 megapixels.")
        if up is None:
            return st.session_state.get(last_key)
        data = up.getvalue()
        uploads = SessionLRU(UPLOADS_KEY, MAX_DECODED_UPLOADS)
        try:
            img = uploads.get_or_compute((key, bytes_digest(data), size), lambda: load_upload(data, size, up.name))
        except StylelabError as exc:
            show_error(exc, f"Could not use {up.name!r}")
            prev = st.session_state.get(last_key)
            if prev is not None:
                st.caption("Keeping the previous image.")
            return prev
    elif source == "This session":
        name = st.selectbox("Result", list(results), key=keep(f"{key}_session", list(results)[-1], list(results)))
        from ..imageio import resize_tensor

        img = results[name]
        img = resize_tensor(img, size) if size else img
    else:
        options = catalog[source]
        name = st.selectbox(source[:-1] if source.endswith("s") else source, options, format_func=bundled_label,
                            key=keep(f"{key}_{source}", default if default in options else options[0], options))
        try:
            img = _bundled(name, size)
        except StylelabError as exc:
            show_error(exc, "Could not load the bundled image")
            return st.session_state.get(last_key)
    st.session_state[last_key] = img
    return img


def select_result(picker_key: str, name: str) -> None:
    """Make :func:`image_picker` ``picker_key`` (on any page) show session result ``name`` next time it is drawn."""
    remember(f"{picker_key}_src", "This session")
    remember(f"{picker_key}_session", name)


def push_result(name: str, image: "torch.Tensor") -> None:
    """Keep an image in this session's gallery so other labs can pick it ("This session")."""
    results: dict[str, Any] = st.session_state.setdefault(RESULTS_KEY, {})
    results.pop(name, None)
    results[name] = image.detach().cpu().clamp(0, 1)
    while len(results) > MAX_SESSION_RESULTS:
        results.pop(next(iter(results)))


def show_image(image: "torch.Tensor", caption: str | None = None, width: int | str = "stretch") -> None:
    from ..imageio import to_pil

    st.image(to_pil(image), caption=caption, width=width)


#: the longer side of a picture file drawn by :func:`show_image_file` (a gallery's column is narrower)
THUMB_PX = 480


@functools.lru_cache(maxsize=96)
def thumbnail_bytes(path: str, mtime_ns: int, max_px: int = THUMB_PX) -> bytes:
    """JPEG bytes of the picture file ``path`` with its longer side at most ``max_px``, made once per
    server process (``mtime_ns``, the file's modification time, is part of the key: a changed file is
    read again). Streamlit would otherwise decode, resize and encode a large file on every page run
    (the paintings gallery: 22 files on every load of the Style Studio). Raises ``OSError`` or
    ``PIL.UnidentifiedImageError`` for a file that cannot be read as a picture."""
    import io

    from PIL import Image

    if max_px < 1:
        raise ValueError(f"max_px must be >= 1, got {max_px}.")
    with Image.open(path) as im:
        im = im.convert("RGB")
        im.thumbnail((max_px, max_px), Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        im.save(buf, format="JPEG", quality=88)
    return buf.getvalue()


def show_image_file(path: Any, caption: str | None = None, width: int | str = "stretch", max_px: int = THUMB_PX) -> bool:
    """Draw the picture file ``path`` from :func:`thumbnail_bytes` (its bytes made once per server);
    a file that cannot be read is said in a caption instead. Returns whether the picture was drawn."""
    from pathlib import Path

    from PIL import UnidentifiedImageError

    p = Path(path)
    try:
        data = thumbnail_bytes(str(p), p.stat().st_mtime_ns, max_px)
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        st.caption(f"{caption or p.name}: this picture could not be read ({type(exc).__name__}).")
        return False
    st.image(data, caption=caption, width=width)
    return True


def download_image(image: "torch.Tensor", file_name: str, label: str = "Download PNG", key: str | None = None) -> None:
    from ..imageio import to_png_bytes

    st.download_button(label, to_png_bytes(image), file_name=file_name, mime="image/png", key=key)


# ----------------------------------------------------------------------------- records
def download_record(record: "ExperimentRecord", file_name: str, key: str | None = None) -> None:
    """A download button for the experiment record (config + seed + metrics JSON)."""
    st.download_button("Download experiment record (JSON)", record.to_json(), file_name=file_name,
                       mime="application/json", key=key)


def upload_record(lab: str, key: str) -> "ExperimentRecord | None":
    """Upload a record made by ``lab``; a wrong or broken file gets a clear message, returns None."""
    from ..record import ExperimentRecord

    up = st.file_uploader("Load an experiment record (JSON)", type=["json"], key=key)
    if up is None:
        return None
    try:
        return ExperimentRecord.from_json(up.getvalue(), lab=lab)
    except StylelabError as exc:
        show_error(exc, f"Could not load {up.name!r}")
        return None


def equation(latex: str, label: str | None = None) -> None:
    """Render the LaTeX of a term (optionally under a short label)."""
    if label:
        st.caption(label)
    st.latex(latex)
