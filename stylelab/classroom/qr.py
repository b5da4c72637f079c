"""A QR code of a link, for the projector: the class scans the set-up instead of typing it.

    png = qr_png(share_url("http://10.0.0.5:8501", "gan", encode("gan", values)))
    st.image(png, width=240)
"""

from __future__ import annotations

import io

from ..errors import ConfigError

#: The most characters a link may have here (a QR code at error level M holds ~2,300 bytes).
MAX_URL_CHARS = 2300


def qr_png(url: str, *, scale: int = 8, border: int = 4) -> bytes:
    """The QR code of ``url`` as PNG bytes (black on white, error correction level M).

    Args:
        url: the link (text, at most :data:`MAX_URL_CHARS` characters).
        scale: pixels per module (1-40): 8 gives a ~400 px code for a typical link.
        border: quiet zone in modules (the standard asks for 4).

    Raises:
        ConfigError: not text, empty, too long for a QR code, or a scale/border out of range.
    """
    import segno
    from segno import DataOverflowError

    if not isinstance(url, str) or not url:
        raise ConfigError(f"A QR code needs a link (non-empty text), not {url!r}.")
    if len(url) > MAX_URL_CHARS:
        raise ConfigError(f"This link has {len(url)} characters; a QR code here holds at most {MAX_URL_CHARS}.")
    for name, value, lo, hi in (("scale", scale, 1, 40), ("border", border, 0, 16)):
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise ConfigError(f"QR {name} must be a whole number in [{lo}, {hi}], not {value!r}.")
    try:
        code = segno.make(url, error="m", boost_error=False, micro=False)
    except DataOverflowError as exc:
        raise ConfigError(f"This link is too long for a QR code ({exc}).") from exc
    buf = io.BytesIO()
    code.save(buf, kind="png", scale=scale, border=border)
    return buf.getvalue()
