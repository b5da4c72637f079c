"""stylelab entry point: the navigation between labs, and the home page.

Run with ``bash scripts/stylelab.sh app`` (or ``streamlit run app.py`` inside the venv).
The home page says what the labs teach, where each lives, this machine and its offline assets;
it imports no torch until it shows the device, so it renders fast.
"""

from pathlib import Path

import streamlit as st

from stylelab.device import tune_allocator
from stylelab.errors import ConfigError
from stylelab.serve.collector import DEFAULT_INTERVAL_S, start_collector
from stylelab.serve.switching import DEFAULT_MS, apply_switch_interval
from stylelab.ui import LABS, page_setup
from stylelab.ui.classroom import classroom_pages

tune_allocator()  # once per server process: freed feature maps are reused, not page-faulted in again
try:  # garbage collection on a clock for the whole server, not after every page run (.streamlit/config.toml)
    start_collector()
except ConfigError as exc:
    st.warning(f"{exc} Collecting every {DEFAULT_INTERVAL_S:g} s instead.")
    start_collector(DEFAULT_INTERVAL_S)
try:  # how long a computing thread keeps Python's lock while the event loop waits (stylelab.serve.switching)
    apply_switch_interval()
except ConfigError as exc:
    st.warning(f"{exc} Using {DEFAULT_MS:g} ms instead.")
    apply_switch_interval(DEFAULT_MS)

ROOT = Path(__file__).parent
MODULES = {
    "Loss Lab": ("stylelab.losses", "notebooks/01_losses.ipynb"),
    "Style Studio": ("stylelab.style", "notebooks/02_style_transfer.ipynb"),
    "GAN Lab": ("stylelab.gan", "notebooks/03_gan.ipynb"),
    "Inpainting Lab": ("stylelab.inpaint", "notebooks/04_inpainting.ipynb"),
    "Aesthetics Lab": ("stylelab.aesthetics", "notebooks/05_aesthetics.ipynb"),
    "Translate": ("stylelab.translate", "notebooks/07_unpaired_translation.ipynb"),
}


@st.cache_data(show_spinner=False, ttl=60)
def _asset_rows() -> list[dict]:
    from stylelab.assets import asset_table

    return asset_table()


def home() -> None:
    """The home page."""
    page_setup("Home", "🧪")
    st.title("🧪 stylelab")
    st.markdown(
        "**Learn how image generation works, one equation at a time.** Every slider in these labs "
        "weighs a term of an equation, every chart is computed by the same `stylelab` function the "
        "notebooks derive by hand, and everything runs offline on a classroom CPU (a GPU is used when present)."
    )

    st.subheader("The labs")
    per_row = 3  # five cards in one row leave ~170 px each: labels and paths would be cut or broken mid-word
    for start in range(0, len(LABS), per_row):
        cols = st.columns(per_row)
        for col, (path, title, icon, summary) in zip(cols, LABS[start:start + per_row]):
            module, notebook = MODULES[title]
            with col.container(border=True):
                st.markdown(f"#### {icon} {title}")
                st.write(summary)
                if (ROOT / path).exists():
                    st.page_link(path, label=f"Open {title}", icon="➡️")
                st.caption(f"Library: `{module}`  \nNotebook: `{notebook}`")

    st.subheader("How a lesson can go")
    st.markdown(
        "1. **Loss Lab**: what does MSE, SSIM, LPIPS, a Gram matrix *see*? Distort an image and watch each loss respond.\n"
        "2. **Style Studio**: turn the content, style and smoothness weights of Gatys et al. and watch the optimisation live; "
        "then compare with feed-forward networks that do it in milliseconds.\n"
        "3. **GAN Lab**: a generator and a discriminator play a game on 2-D points, then on digits; see why the "
        "original minimax loss stalls.\n"
        "4. **Inpainting Lab**: draw a hole and fill it with classical methods, an untrained network (Deep Image Prior) "
        "and U-Nets trained with different losses.\n"
        "5. **Aesthetics Lab**: measure colourfulness, contrast, composition; then let an optimiser nudge a photo."
    )

    st.subheader("This machine")
    with st.spinner("Checking the device…"):
        from stylelab.ui import device_line

        st.write(f"Computing on **{device_line()}**.")

    rows = _asset_rows()
    missing = [r["name"] for r in rows if not r["present"] and r["required"]]
    if missing:
        st.warning(f"Missing assets: {', '.join(missing)}. The set-up script installs them; see the 'install' column.")
    else:
        st.success(f"All {sum(r['required'] for r in rows)} required assets are present.")
    with st.expander("Offline assets: where every model and picture comes from, and its licence"):
        _asset_table(rows)


def _asset_table(rows: list[dict]) -> None:
    st.caption(
        "Everything comes from installed packages (PyPI or Debian): nothing is downloaded while you work. "
        "`python -m stylelab assets` prints the same table."
    )
    st.dataframe(
        [{k: r[k] for k in ("name", "kind", "present", "license", "source", "install")} for r in rows],
        hide_index=True,
        width="stretch",
    )


pages = [st.Page(home, title="Home", icon="🏠", default=True)]
pages += [st.Page(path, title=title, icon=icon) for path, title, icon, _ in LABS if (ROOT / path).exists()]
pages += [st.Page(path, title=title, icon=icon) for path, title, icon in classroom_pages()]  # Teacher: only with its key
st.navigation(pages).run()
