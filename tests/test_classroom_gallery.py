"""The class gallery (stylelab.classroom.gallery): SQLite in WAL mode, caps, persistence, concurrency."""

from __future__ import annotations

import io
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from stylelab.classroom import gallery as G
from stylelab.errors import CorruptImageError, ImageError, ImageTooLargeError, NonFiniteError, RecordError, ShapeError
from stylelab.record import ExperimentRecord

ROOT = Path(__file__).resolve().parents[1]


def _image(h: int = 24, w: int = 32, seed: int = 0) -> torch.Tensor:
    return torch.rand(3, h, w, generator=torch.Generator().manual_seed(seed))


def _record(lab: str = "style", **config) -> ExperimentRecord:
    cfg = {"method": "gatys", "size": 64, "steps": 3, "style_weight": 1e6, **config}
    return ExperimentRecord(lab=lab, config=cfg, seed=3, metrics=[{"loss": 1.5}, {"loss": 0.25}],
                            summary={"steps": 2}, device="cpu", created="2026-12-01T13:00:00Z")


def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture()
def gallery(tmp_path):
    return G.Gallery(tmp_path / "class.sqlite3")


def test_publish_then_get_gives_everything_back(gallery):
    img, rec = _image(), _record()
    eid = gallery.publish(img, rec, caption="β = 1e6 <script>alert(1)</script>", session="table 3")
    e = gallery.get(eid)
    assert (e.id, e.lab, e.session, e.width, e.height) == (eid, "style", "table 3", 32, 24)
    assert e.caption == "β = 1e6 <script>alert(1)</script>"  # stored as given ...
    assert e.caption_html == "β = 1e6 &lt;script&gt;alert(1)&lt;/script&gt;"  # ... shown escaped
    assert e.record.to_dict() == rec.to_dict()
    assert e.settings == "style · gatys · seed 3 · size=64, steps=3, style_weight=1e+06"
    assert e.created.endswith("Z") and e.created[:4].isdigit()
    # a picture at most THUMB_SIDE is stored pixel for pixel (8-bit, as every PNG export of the app)
    want = (img.permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(e.png)).convert("RGB")), want)
    assert '"lab": "style"' in G.entry_json(e)


def test_large_pictures_are_stored_as_a_thumbnail(gallery):
    e = gallery.get(gallery.publish(_image(600, 1024), _record()))
    assert (e.width, e.height) == (512, 300)
    assert Image.open(io.BytesIO(e.png)).size == (512, 300)
    tall = gallery.get(gallery.publish(_png(Image.new("RGB", (300, 2000), (10, 200, 30))), _record()))
    assert (tall.width, tall.height) == (77, 512)


def test_png_bytes_grey_and_batched_tensors_are_accepted(gallery):
    rgba = Image.new("RGBA", (20, 10), (255, 0, 0, 255))
    e = gallery.get(gallery.publish(_png(rgba), _record().to_dict()))  # a record's dict is fine too
    assert np.asarray(Image.open(io.BytesIO(e.png)).convert("RGB"))[0, 0].tolist() == [255, 0, 0]
    assert gallery.get(gallery.publish(_image()[None], _record())).width == 32
    assert gallery.get(gallery.publish(_image()[:1], _record())).width == 32  # grey (1, H, W): shown as RGB


@pytest.mark.parametrize("image, error", [
    (b"not an image", CorruptImageError),
    (b"", ImageError),
    ("photo.png", ImageError),
    (np.zeros((8, 8, 3)), ImageError),
    (torch.zeros(2, 3, 8, 8), ShapeError),
    (torch.zeros(4, 8, 8), ShapeError),
    (torch.full((3, 8, 8), 2.0), ImageError),
    (torch.full((3, 8, 8), float("nan")), NonFiniteError),
    (torch.zeros(3, 8, 8, dtype=torch.uint8), ImageError),
])
def test_bad_pictures_are_typed_errors(gallery, image, error):
    with pytest.raises(error):
        gallery.publish(image, _record())
    assert gallery.count() == 0


def test_pixel_and_byte_caps(gallery, monkeypatch):
    bomb = _png(Image.new("L", (5000, 4000)))  # 20 MP that compresses to a few kB
    with pytest.raises(ImageTooLargeError):
        gallery.publish(bomb, _record())
    monkeypatch.setattr(G, "MAX_INPUT_PIXELS", 100)
    with pytest.raises(ImageTooLargeError, match="at most 100 pixels"):
        gallery.publish(_image(11, 10), _record())
    monkeypatch.setattr(G, "MAX_INPUT_BYTES", 50)
    with pytest.raises(ImageTooLargeError, match="MiB"):
        gallery.publish(_png(Image.new("RGB", (8, 8))), _record())
    assert gallery.count() == 0


def test_record_checks(gallery, monkeypatch):
    with pytest.raises(RecordError, match="No stylelab lab"):
        gallery.publish(_image(), _record(lab="painting"))
    with pytest.raises(RecordError):
        gallery.publish(_image(), {"lab": "style"})  # not a record (no schema)
    with pytest.raises(RecordError):
        gallery.publish(_image(), "record.json")
    monkeypatch.setattr(G, "MAX_RECORD_BYTES", 200)
    with pytest.raises(RecordError, match="log fewer rows"):
        gallery.publish(_image(), _record())
    assert gallery.count() == 0


def test_caption_and_session_caps(gallery):
    gallery.publish(_image(), _record(), caption="x" * G.MAX_CAPTION)
    with pytest.raises(G.GalleryError, match="at most 280 characters; this one has 281"):
        gallery.publish(_image(), _record(), caption="x" * (G.MAX_CAPTION + 1))
    with pytest.raises(G.GalleryError, match="text"):
        gallery.publish(_image(), _record(), caption=None)
    with pytest.raises(G.GalleryError):
        gallery.publish(_image(), _record(), session="s" * (G.MAX_SESSION + 1))
    assert gallery.count() == 1


def test_list_count_delete(gallery):
    ids = [gallery.publish(_image(seed=i), _record(lab=lab)) for i, lab in enumerate(["style", "gan", "style", "loss"])]
    assert [e.id for e in gallery.list()] == ids[::-1]  # newest first
    assert [e.id for e in gallery.list(limit=2, offset=1)] == [ids[2], ids[1]]
    assert [e.id for e in gallery.list(lab="style")] == [ids[2], ids[0]]
    assert (gallery.count(), gallery.count("style"), gallery.count("inpaint")) == (4, 2, 0)
    assert gallery.delete(ids[1]) is True and gallery.delete(ids[1]) is False
    with pytest.raises(G.GalleryError, match=f"no entry #{ids[1]}"):
        gallery.get(ids[1])
    assert gallery.count() == 3
    for bad in ({"limit": 0}, {"limit": G.MAX_LIST + 1}, {"offset": -1}, {"limit": 2.0}, {"lab": "painting"}):
        with pytest.raises(G.GalleryError):
            gallery.list(**bad)
    for bad_id in (0, -3, "1", True, 1.0):
        with pytest.raises(G.GalleryError):
            gallery.get(bad_id)


def test_nothing_is_lost_across_a_restart(tmp_path):
    path = tmp_path / "g.sqlite3"
    g = G.Gallery(path)
    eid = g.publish(_image(), _record(), caption="first")
    before = g.get(eid)
    g.close()
    with pytest.raises(G.GalleryError, match="closed"):
        g.count()
    with G.Gallery(path) as again:
        assert again.get(eid) == before and again.count() == 1
    code = (f"from stylelab.classroom.gallery import Gallery; e = Gallery({str(path)!r}).get({eid}); "
            "import hashlib; print(e.caption, hashlib.sha256(e.png).hexdigest())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, timeout=120)
    import hashlib

    assert out.stdout.split() == ["first", hashlib.sha256(before.png).hexdigest()]


def test_the_file_is_in_wal_mode_with_a_versioned_schema(gallery):
    con = sqlite3.connect(gallery.path)
    try:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()[0] == G.FORMAT
    finally:
        con.close()


def test_a_newer_or_foreign_file_is_refused(tmp_path):
    path = tmp_path / "g.sqlite3"
    G.Gallery(path)
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value = 'stylelab.gallery/9' WHERE key = 'format'")
    con.commit()
    con.close()
    with pytest.raises(G.GalleryError, match="stylelab.gallery/9"):
        G.Gallery(path)
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(G.GalleryError):
        G.Gallery(junk)
    with pytest.raises(G.GalleryError, match="in-memory"):
        G.Gallery(":memory:")


def test_the_path_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(G.DB_ENV, str(tmp_path / "env" / "class.db"))
    assert G.Gallery().path == tmp_path / "env" / "class.db" and (tmp_path / "env" / "class.db").is_file()
    monkeypatch.delenv(G.DB_ENV)
    monkeypatch.setenv("STYLELAB_CACHE", str(tmp_path / "cache"))
    assert G.default_path() == tmp_path / "cache" / G.DEFAULT_NAME


_WRITER = """
import io, sys
from PIL import Image
from stylelab.classroom.gallery import Gallery
from stylelab.record import ExperimentRecord
g = Gallery(sys.argv[1])
rec = ExperimentRecord(lab="gan", config={"data": "ring"}, seed=1, device="cpu")
print("ready", flush=True)
sys.stdin.readline()
for i in range(10):
    buf = io.BytesIO(); Image.new("RGB", (8, 8), (i, 0, 0)).save(buf, format="PNG")
    g.publish(buf.getvalue(), rec, caption=f"process {i}")
print("done", flush=True)
"""


def test_concurrent_publishing_from_threads_and_a_second_process(tmp_path):
    path = tmp_path / "busy.sqlite3"
    g = G.Gallery(path)
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        errors: list[BaseException] = []
        ids: list[int] = []
        start = threading.Barrier(9)
        lock = threading.Lock()

        def publish(t: int) -> None:
            start.wait()
            try:
                for i in range(10):
                    eid = g.publish(_image(8, 8, seed=t * 10 + i), _record(), caption=f"thread {t} #{i}")
                    with lock:
                        ids.append(eid)
            except BaseException as exc:  # collected, then asserted empty below
                errors.append(exc)

        threads = [threading.Thread(target=publish, args=(t,)) for t in range(8)]
        for th in threads:
            th.start()
        proc.stdin.write("go\n")
        proc.stdin.flush()
        start.wait()
        for th in threads:
            th.join(timeout=300)
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert errors == [] and proc.returncode == 0, (errors, err)
    assert "done" in out and "locked" not in err
    assert len(set(ids)) == 80
    assert g.count() == 90 and g.count("gan") == 10 and g.count("style") == 80
    captions = {e.caption for e in g.list(limit=100)}
    assert {f"thread {t} #{i}" for t in range(8) for i in range(10)} | {f"process {i}" for i in range(10)} == captions
