"""stylelab.checkpoint: one safe loader (weights_only), one atomic saver, one readable error for every bad file."""

from __future__ import annotations

import io
import os
import pickle
from pathlib import Path

import pytest
import torch

from stylelab.checkpoint import load_checkpoint, save_checkpoint, to_bytes
from stylelab.errors import CheckpointError

ROOT = Path(__file__).resolve().parents[1]


def blob() -> dict:
    return {"format": "stylelab.test/1", "w": torch.arange(6.0).reshape(2, 3), "steps": 3, "names": ["a", "b"]}


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) if isinstance(a[k], torch.Tensor) else a[k] == b[k]
                                        for k in a)


def test_round_trip_from_path_bytes_and_file_object(tmp_path):
    path = save_checkpoint(blob(), tmp_path / "deep" / "er" / "run.pt")  # folders are made
    assert path.is_file()
    assert same(load_checkpoint(path), blob())
    assert same(load_checkpoint(to_bytes(blob())), blob())
    assert same(load_checkpoint(bytearray(to_bytes(blob()))), blob())
    assert same(load_checkpoint(io.BytesIO(to_bytes(blob()))), blob())
    got = load_checkpoint(path, format_key="format", format_value="stylelab.test/1")
    assert got["steps"] == 3


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path, monkeypatch):
    path = save_checkpoint(blob(), tmp_path / "run.pt")
    before = path.read_bytes()

    def broken_save(obj, fh, *a, **k):
        fh.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint({"format": "new"}, path)
    assert path.read_bytes() == before  # the previous checkpoint is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.pt"]  # and no .tmp is left behind


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def write(name: str, data: bytes):
    def make(folder: Path) -> Path:
        (folder / name).write_bytes(data)
        return folder / name

    return make


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize(("make", "match"), [
    (lambda d: d / "missing.pt", "No checkpoint at"),
    (write("empty.pt", b""), "empty.pt is empty"),
    (write("text.pt", b"hello"), "text.pt is not a readable"),
    (write("evil.pt", pickle.dumps(Evil())), "evil.pt is not a readable"),
])
def test_bad_files_are_one_readable_error(tmp_path, make, match):
    with pytest.raises(CheckpointError, match=match):
        load_checkpoint(make(tmp_path))


def test_pickled_objects_never_run(tmp_path):
    buf = io.BytesIO()
    torch.save({"format": "x", "obj": Evil()}, buf)  # a torch file with an arbitrary object inside
    with pytest.raises(CheckpointError, match="GAN Lab checkpoint"):
        load_checkpoint(buf.getvalue(), what="GAN Lab checkpoint")
    with pytest.raises(CheckpointError, match="empty"):
        load_checkpoint(b"")


def test_another_format_is_refused():
    data = to_bytes(blob())
    with pytest.raises(CheckpointError, match="expected format 'stylelab.gan/2'"):
        load_checkpoint(data, what="GAN checkpoint", format_key="format", format_value="stylelab.gan/2")
    with pytest.raises(CheckpointError):
        load_checkpoint(to_bytes([1, 2, 3]), format_key="format", format_value="stylelab.test/1")


@pytest.mark.parametrize("path", sorted((ROOT / "stylelab" / "inpaint" / "checkpoints").glob("*.pt")), ids=lambda p: p.name)
def test_shipped_checkpoints_load_safely(path):
    got = load_checkpoint(path, what="inpainting checkpoint")
    assert isinstance(got, dict) and any(isinstance(v, (dict, torch.Tensor)) for v in got.values())
