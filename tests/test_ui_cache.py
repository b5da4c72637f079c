"""stylelab.ui.cache: one tensor hash and one bounded per-session LRU for every page."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch

from stylelab.ui.cache import SessionLRU, bytes_digest, tensor_digest


def test_tensor_digest_sees_values_dtype_shape_and_settings():
    g = torch.Generator().manual_seed(0)
    a = torch.rand(3, 8, 8, generator=g)
    assert tensor_digest(a) == tensor_digest(a.clone())
    b = a.clone()
    b[0, 0, 0] += 1e-6
    assert tensor_digest(a) != tensor_digest(b)
    assert tensor_digest(a) != tensor_digest(a.double())
    assert tensor_digest(a) != tensor_digest(a.reshape(3, 4, 16))
    assert tensor_digest(a, extra=1) != tensor_digest(a, extra=2)
    assert tensor_digest(a, None) != tensor_digest(None, a)  # order and optional pictures count
    assert tensor_digest(a.bfloat16()) != tensor_digest(a.half())  # bf16 (no NumPy dtype) works
    assert tensor_digest(a.numpy()) == tensor_digest(a)
    assert tensor_digest(torch.empty(0, 3)) != tensor_digest(torch.empty(3, 0))
    with pytest.raises(TypeError):
        tensor_digest([1, 2, 3])


def test_bytes_digest():
    assert bytes_digest(b"abc") == "a9993e364706816aba3e25717850c26c9cd0d89d"


def test_session_lru_is_bounded_and_least_recently_used_goes_first():
    state: dict = {}
    lru = SessionLRU("k", max_entries=2, state=state)
    lru.put("a", 1)
    lru.put("b", 2)
    assert lru.get("a") == 1  # "a" is now the most recent
    lru.put("c", 3)  # drops "b"
    assert "b" not in lru and "a" in lru and "c" in lru and len(lru) == 2
    assert isinstance(state["k"], OrderedDict)
    again = SessionLRU("k", max_entries=2, state=state)  # the same session sees the same items
    assert again.get("c") == 3 and again.get("zz", "none") == "none"


def test_get_or_compute_computes_once_and_stores_nothing_on_error():
    lru = SessionLRU("k", max_entries=3, state={})
    calls = []
    assert lru.get_or_compute("x", lambda: calls.append(1) or 42) == 42
    assert lru.get_or_compute("x", lambda: calls.append(1) or 0) == 42
    assert calls == [1]
    with pytest.raises(ZeroDivisionError):
        lru.get_or_compute("y", lambda: 1 / 0)
    assert "y" not in lru


def test_bad_size_and_outside_reset():
    with pytest.raises(ValueError):
        SessionLRU("k", max_entries=0, state={})
    state: dict = {}
    lru = SessionLRU("k", max_entries=2, state=state)
    lru.put("a", np.zeros(2))
    del state["k"]  # a page's reset button cleared the session
    assert len(lru) == 0 and lru.get("a") is None
    lru.put("b", 1)
    assert state["k"] == OrderedDict(b=1)


def test_image_picker_keeps_a_bounded_number_of_decoded_uploads():
    """Ten pickers, ten uploads: only the last MAX_DECODED_UPLOADS decoded pictures stay in the session."""
    from streamlit.testing.v1 import AppTest

    def page():
        import io

        import numpy as np
        import streamlit as st
        from PIL import Image

        from stylelab import ui

        class Upload:
            def __init__(self, i):
                buf = io.BytesIO()
                Image.fromarray(np.full((20, 30, 3), 20 * i, np.uint8)).save(buf, "PNG")
                self.data, self.name = buf.getvalue(), f"upload{i}.png"

            def getvalue(self):
                return self.data

        real = st.file_uploader
        try:
            shapes = []
            for i in range(10):
                st.session_state.setdefault(f"p{i}_src", "Upload")
                st.file_uploader = lambda *a, i=i, **k: Upload(i)
                img = ui.image_picker("Pick", f"p{i}", size=24)
                shapes.append(tuple(img.shape))
        finally:
            st.file_uploader = real
        st.write(f"decoded={len(st.session_state[ui.UPLOADS_KEY])} shapes={sorted(set(shapes))}")

    at = AppTest.from_function(page).run(timeout=60)
    assert not at.exception, at.exception
    text = " ".join(m.value for m in at.markdown)
    from stylelab.ui import MAX_DECODED_UPLOADS

    assert f"decoded={MAX_DECODED_UPLOADS}" in text and "shapes=[(3, 16, 24)]" in text


def test_shared_lru_computes_once_for_a_class_that_asks_at_once_and_stays_bounded():
    import threading
    import time

    from stylelab.ui.cache import SharedLRU

    cache = SharedLRU(max_entries=2)
    calls = []

    def slow():
        calls.append(1)
        time.sleep(0.2)
        return object()

    got = []
    threads = [threading.Thread(target=lambda: got.append(cache.get_or_compute("k", slow))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and cache.computed == 1
    assert len(got) == 8 and all(g is got[0] for g in got)  # every student got the one result
    cache.get_or_compute("a", lambda: 1)
    cache.get_or_compute("b", lambda: 2)
    assert len(cache) == 2 and "k" not in cache  # the least recently used went


def test_shared_lru_stores_nothing_when_the_computation_fails():
    from stylelab.ui.cache import SharedLRU, shared

    cache = SharedLRU(max_entries=4)

    def bad():
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        cache.get_or_compute("k", bad)
    assert "k" not in cache
    assert cache.get_or_compute("k", lambda: 5) == 5
    assert shared("t-one", 3) is shared("t-one", 3)
    with pytest.raises(ValueError):
        SharedLRU(0)


# ----------------------------------------------------------------------------- page-load caches (issue 15)
def test_thumbnail_bytes_are_small_made_once_and_a_bad_file_is_an_error(tmp_path):
    import io

    from PIL import Image

    from stylelab.ui import thumbnail_bytes

    path = tmp_path / "big.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (900, 1600, 3), dtype=np.uint8)).save(path)
    mtime = path.stat().st_mtime_ns
    before = thumbnail_bytes.cache_info().hits
    data = thumbnail_bytes(str(path), mtime, 480)
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "JPEG" and max(im.size) == 480 and im.size == (480, 270)  # aspect kept
    assert thumbnail_bytes(str(path), mtime, 480) is data  # the second page load reuses the bytes
    assert thumbnail_bytes.cache_info().hits == before + 1
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a picture")
    from PIL import UnidentifiedImageError

    with pytest.raises(UnidentifiedImageError):
        thumbnail_bytes(str(bad), bad.stat().st_mtime_ns, 480)
    with pytest.raises(ValueError):
        thumbnail_bytes(str(path), mtime, 0)


def test_shared_figure_is_built_once_per_key_for_every_session():
    import plotly.graph_objects as go

    from stylelab.ui.charts import shared_figure

    built = []

    def build(v):
        built.append(v)
        return go.Figure(go.Bar(x=["a"], y=[v]))

    a = shared_figure("test_fig", ("digest-1", 3), lambda: build(3))
    b = shared_figure("test_fig", ("digest-1", 3), lambda: build(99))  # another session, same inputs
    c = shared_figure("test_fig", ("digest-2", 3), lambda: build(4))  # other pixels: its own figure
    assert a is b and built == [3, 4] and c.data[0].y == (4,)
    for i in range(60):  # bounded
        shared_figure("test_fig", ("flood", i), lambda i=i: build(i))
    from stylelab.ui.cache import shared

    assert len(shared("figure:test_fig", 48)) <= 48
