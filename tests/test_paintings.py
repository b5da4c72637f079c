"""Tests of stylelab.paintings: the Qt resource reader, the reassembly and the painting cache.

The reader is tested on small resource files built here (versions 1-3, plain/zlib/zstd entries)
and on corrupt input. The reassembly and cache tests need Debian's ``gcompris-qt-data`` and are
skipped without it; they extract all paintings once into a temporary cache (a few seconds).
"""

from __future__ import annotations

import json
import struct
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stylelab import paintings as P
from stylelab.data.paintings import boards as B
from stylelab.data.paintings import cache as C
from stylelab.data.paintings import reassemble as R
from stylelab.errors import AssetError

RCC = P.DEFAULT_RCC
needs_rcc = pytest.mark.skipif(
    not RCC.is_file(), reason=f"{RCC} missing: install the Debian package gcompris-qt-data"
)


# ----------------------------------------------------------------------------- a tiny rcc writer
def make_qres(files: dict[str, bytes], version: int = 3, zlib_names: frozenset[str] = frozenset(),
              zstd_blobs: dict[str, bytes] | None = None) -> bytes:
    """Build a Qt resource file holding ``files`` (paths with '/'), for the reader tests.

    Entries named in ``zlib_names`` are stored qCompress-style (flag 1); ``zstd_blobs`` maps a
    path to an already zstd-compressed payload stored with flag 4.
    """
    zstd_blobs = zstd_blobs or {}
    tree: dict = {}
    for path in list(files) + list(zstd_blobs):
        node = tree
        *dirs, leaf = path.split("/")
        for d in dirs:
            node = node.setdefault(d, {})
        node[leaf] = path
    names = bytearray()
    name_offsets: dict[str, int] = {}

    def name_offset(name: str) -> int:
        if name not in name_offsets:
            name_offsets[name] = len(names)
            names.extend(struct.pack(">HI", len(name), 0) + name.encode("utf-16-be"))
        return name_offsets[name]

    data = bytearray()
    # Breadth-first: every directory's children are consecutive nodes.
    nodes: list[tuple[str, object]] = [("", tree)]
    records: list[bytes] = []
    i = 0
    while i < len(nodes):
        name, content = nodes[i]
        offset = name_offset(name) if i else 0
        if isinstance(content, dict):
            first = len(nodes)
            for child in sorted(content):
                nodes.append((child, content[child]))
            body = struct.pack(">IHII", offset, 2, len(content), first)
        else:
            path = str(content)
            if path in zstd_blobs:
                blob, flags = zstd_blobs[path], 4
            elif path in zlib_names:
                blob, flags = struct.pack(">I", len(files[path])) + zlib.compress(files[path]), 1
            else:
                blob, flags = files[path], 0
            body = struct.pack(">IHHHI", offset, flags, 0, 1, len(data))
            data.extend(struct.pack(">I", len(blob)) + blob)
        records.append(body + (b"" if version == 1 else struct.pack(">Q", 0)))
        i += 1
    header_size = 24 if version >= 3 else 20
    data_offset = header_size
    names_offset = data_offset + len(data)
    tree_offset = names_offset + len(names)
    header = b"qres" + struct.pack(">IIII", version, tree_offset, data_offset, names_offset)
    if version >= 3:
        header += struct.pack(">I", 0)
    return header + bytes(data) + bytes(names) + b"".join(records)


SAMPLE = {
    "a.txt": b"hello",
    "dir/b.bin": bytes(range(256)) * 40,
    "dir/sub/c.qml": "QtObject { property string t: qsTr(\"Dürer\") }".encode(),
    "dir/sub/d.txt": b"",
}


@pytest.mark.parametrize("version", [1, 2, 3])
def test_read_qres_round_trips_every_version(tmp_path: Path, version: int) -> None:
    path = tmp_path / "x.rcc"
    path.write_bytes(make_qres(SAMPLE, version=version, zlib_names=frozenset({"dir/b.bin", "dir/sub/c.qml"})))
    assert P.read_qres(path) == SAMPLE


def test_zstd_entry_needs_zstandard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "z.rcc"
    path.write_bytes(make_qres({}, zstd_blobs={"z.bin": b"\x28\xb5\x2f\xfd not really zstd"}))
    monkeypatch.setitem(sys.modules, "zstandard", None)  # import fails as if not installed
    with pytest.raises(AssetError, match="zstandard"):
        P.read_qres(path)


def test_zstd_entry_is_decompressed(tmp_path: Path) -> None:
    zstandard = pytest.importorskip("zstandard", reason="optional: only Qt 6 zstd resources need it")
    payload = b"zstd payload " * 100
    path = tmp_path / "z.rcc"
    path.write_bytes(make_qres({"plain": b"p"}, zstd_blobs={"z.bin": zstandard.ZstdCompressor().compress(payload)}))
    assert P.read_qres(path) == {"plain": b"p", "z.bin": payload}


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"qres\x00\x00",  # truncated header
        np.random.default_rng(0).bytes(4096),  # random bytes
        b"qres" + struct.pack(">IIII", 9, 24, 24, 24) + b"\0" * 64,  # unknown version
        b"qres" + struct.pack(">IIII", 3, 10_000, 24, 24) + b"\0" * 64,  # tree outside the file
        make_qres(SAMPLE)[:-30],  # tree cut short
    ],
    ids=["empty", "truncated-header", "random", "bad-version", "tree-outside", "truncated-tree"],
)
def test_corrupt_files_raise_asset_error(tmp_path: Path, blob: bytes) -> None:
    path = tmp_path / "bad.rcc"
    path.write_bytes(blob)
    with pytest.raises(AssetError):
        P.read_qres(path)


def test_corrupt_zlib_entry_and_cyclic_tree(tmp_path: Path) -> None:
    good = make_qres({"f": b"x" * 100}, zlib_names=frozenset({"f"}))
    bad_zlib = bytearray(good)
    at = good.index(b"x\x9c")  # zlib stream header
    bad_zlib[at + 2 : at + 6] = b"\xff\xff\xff\xff"
    path = tmp_path / "z.rcc"
    path.write_bytes(bytes(bad_zlib))
    with pytest.raises(AssetError):
        P.read_qres(path)
    # a zlib entry that inflates to more than the size it declares (zip-bomb guard)
    lying = bytearray(good)
    lying[at - 4 : at] = struct.pack(">I", 10)
    path.write_bytes(bytes(lying))
    with pytest.raises(AssetError, match="declares"):
        P.read_qres(path)
    # root directory whose only child is the root itself
    tree_offset = struct.unpack(">I", good[8:12])[0]
    cyclic = bytearray(good)
    cyclic[tree_offset + 10 : tree_offset + 14] = struct.pack(">I", 0)
    path.write_bytes(bytes(cyclic))
    with pytest.raises(AssetError):
        P.read_qres(path)


def test_missing_file_raises_asset_error(tmp_path: Path) -> None:
    with pytest.raises(AssetError):
        P.read_qres(tmp_path / "nope.rcc")


def test_caption_parsing() -> None:
    assert B._split_caption("Leonardo da Vinci, Mona Lisa - 1503-19") == ("Leonardo da Vinci", "Mona Lisa", "1503-19")
    assert B._split_caption("Katsushika Hokusai, Oiran and Kamuro") == ("Katsushika Hokusai", "Oiran and Kamuro", None)
    assert B._split_caption("Katsushika Hokusai, Kazusa sea Route - 1830.")[2] == "1830"
    assert B._title_from_file("image/GreatWave_a1.webp") == "Great Wave"
    assert B._title_from_file("image/renoir-moulin_de_la_galette-4.webp") == "Renoir Moulin De La Galette"
    assert B._slug("Pietà") == "pieta"


def test_missing_package_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STYLELAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(C, "DEFAULT_RCC", tmp_path / "absent.rcc")
    assert P.cache_dir() == tmp_path / "cache" / "paintings"
    assert not P.paintings_available()
    with pytest.raises(AssetError, match="apt-get install gcompris-qt-data"):
        P.list_paintings()
    with pytest.raises(AssetError, match="apt-get install gcompris-qt-data"):
        P.load_painting("mona lisa")


def test_atomic_write_leaves_nothing_on_failure(tmp_path: Path) -> None:
    def boom(tmp: Path) -> None:
        tmp.write_bytes(b"partial")
        raise OSError("disk full")

    with pytest.raises(OSError):
        C._atomic_write(tmp_path / "f.png", boom)
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- the real package
@pytest.fixture(scope="module")
def entries() -> dict[str, bytes]:
    if not RCC.is_file():
        pytest.skip(f"{RCC} missing: install the Debian package gcompris-qt-data")
    return P.read_qres(RCC)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[P.Painting], dict]:
    """All paintings extracted once into a temporary $STYLELAB_CACHE, plus the assemblies made."""
    if not RCC.is_file():
        pytest.skip(f"{RCC} missing: install the Debian package gcompris-qt-data")
    root = tmp_path_factory.mktemp("stylelab-cache")
    assemblies: dict[str, R._Assembly] = {}
    real_assemble = C._assemble  # what the cache calls

    def recording(board, entries):  # noqa: ANN001, ANN202 - test spy
        result = real_assemble(board, entries)
        assemblies[board.key] = result
        return result

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STYLELAB_CACHE", str(root))
        mp.setattr(C, "_assemble", recording)
        paintings = P.list_paintings()
    return root / "paintings", paintings, assemblies


@needs_rcc
def test_real_rcc_holds_the_paintings(entries: dict[str, bytes]) -> None:
    header = RCC.read_bytes()[:24]
    assert header[:4] == b"qres"
    assert struct.unpack(">I", header[4:8])[0] in (1, 2, 3)
    boards = B._boards(entries)
    assert len(boards) >= 20
    assert sum(name.endswith(".webp") for name in entries) >= 200
    titles = {b.title: b for b in boards}
    assert titles["Mona Lisa"].artist == "Leonardo da Vinci"
    assert titles["The Great Wave off Kanagawa"].artist == "Katsushika Hokusai"
    assert titles["Composition VIII"].artist == "Wassily Kandinsky"
    assert all(b.artist and b.title and b.key for b in boards)
    assert len({b.key for b in boards}) == len(boards)


def _seam_ratio(image: Image.Image, owner: np.ndarray) -> float:
    """Mean jump across piece boundaries / mean jump two pixels away on either side."""
    rgb = np.asarray(image, dtype=np.float32)
    across, near = [], []
    for img, lab in ((rgb, owner), (rgb.transpose(1, 0, 2), owner.T)):
        jump = np.abs(np.diff(img, axis=0)).mean(axis=2)  # jump[i] = |img[i+1] - img[i]|
        seam = (lab[:-1] != lab[1:]) & (lab[:-1] >= 0) & (lab[1:] >= 0)
        seam[:2] = seam[-2:] = False
        ys, xs = np.nonzero(seam)
        across.append(jump[ys, xs])
        near.append((jump[ys - 2, xs] + jump[ys + 2, xs]) / 2)
    return float(np.concatenate(across).mean() / np.concatenate(near).mean())


@needs_rcc
def test_every_painting_is_whole_and_seamless(extracted, entries) -> None:
    cache, paintings, assemblies = extracted
    assert len(paintings) >= 20
    boards = {b.key: b for b in B._boards(entries)}
    for painting in paintings:
        with Image.open(painting.path) as im:
            image = im.copy()
        assert image.mode == "RGB", painting.key
        w, h = image.size
        assert 400 <= max(w, h) <= 760 and min(w, h) >= 300, (painting.key, image.size)
        assembly = assemblies[painting.key]
        assert np.array_equal(np.asarray(image), np.asarray(assembly.image)), painting.key
        # No holes: black pixels only where the pieces themselves have them, uncovered pixels rare.
        pieces = R._decode_pieces(boards[painting.key], entries)
        opaque = np.concatenate([a[a[..., 3] > 0][:, :3] for a in pieces])
        black_source = float((opaque.max(axis=1) <= 3).mean())
        black = float((np.asarray(image).max(axis=2) <= 3).mean())
        assert black <= black_source + 0.01, (painting.key, black, black_source)
        assert assembly.holes_filled <= 0.002 * w * h, (painting.key, assembly.holes_filled)
        # The painting covers about what the pieces cover (less where margins overlap).
        assert 0.85 * len(opaque) <= w * h <= 1.01 * len(opaque), (painting.key, w * h, len(opaque))
        # Seams: the jump across a piece boundary is like the jumps next to it. Rectangular
        # tiles were compressed separately and keep a faint step; jigsaw seams vanish.
        limit = 1.6 if assembly.layout == "tiles" else 1.15
        assert _seam_ratio(image, assembly.owner) < limit, (painting.key, assembly.layout)


@needs_rcc
def test_index_round_trips_and_warm_calls_are_fast(extracted, monkeypatch: pytest.MonkeyPatch) -> None:
    cache, paintings, _ = extracted
    monkeypatch.setenv("STYLELAB_CACHE", str(cache.parent))
    index = json.loads((cache / "index.json").read_text(encoding="utf-8"))
    assert [e["key"] for e in index["paintings"]] == [p.key for p in paintings]
    assert not [f for f in cache.iterdir() if f.name.endswith(".tmp")]
    stamps = {p.path: p.path.stat().st_mtime_ns for p in paintings}
    start = time.perf_counter()
    again = P.extract_paintings(cache=cache)
    assert time.perf_counter() - start < 0.5
    assert again == paintings == P.list_paintings()
    assert {p.path: p.path.stat().st_mtime_ns for p in again} == stamps  # nothing rewritten
    assert all(p.path.parent == cache for p in paintings)
    assert P.paintings_available()
    # A stale index (other version or source) is not trusted.
    assert C._read_index(cache, RCC) == paintings
    index["version"] = -1
    (cache / "index.json").write_text(json.dumps(index), encoding="utf-8")
    assert C._read_index(cache, RCC) is None
    index["version"] = C._INDEX_VERSION
    index["source"]["size"] += 1
    (cache / "index.json").write_text(json.dumps(index), encoding="utf-8")
    assert C._read_index(cache, RCC) is None
    index["source"]["size"] -= 1
    (cache / "index.json").write_text(json.dumps(index), encoding="utf-8")
    assert C._read_index(cache, RCC) == paintings
    # A warm cache keeps working when the package is removed later.
    monkeypatch.setattr(C, "DEFAULT_RCC", cache / "absent.rcc")
    assert P.list_paintings() == paintings and P.paintings_available()


@needs_rcc
def test_load_painting_by_key_title_or_fragment(extracted, monkeypatch: pytest.MonkeyPatch) -> None:
    cache, paintings, _ = extracted
    monkeypatch.setenv("STYLELAB_CACHE", str(cache.parent))
    mona = P.load_painting("mona-lisa")
    assert mona.mode == "RGB" and mona.height > mona.width
    assert P.load_painting("Mona Lisa").size == mona.size
    wave = P.load_painting("great wave")
    assert wave.mode == "RGB" and wave.width > wave.height
    assert P.load_painting("COMPOSITION VIII").size[0] > 600
    with pytest.raises(AssetError, match="several"):
        P.load_painting("the")
    with pytest.raises(AssetError, match="no painting"):
        P.load_painting("Starry Night")
    by_key = {p.key: p for p in paintings}
    assert by_key["the-great-wave-off-kanagawa"].year == "1823-1829"
    assert by_key["oiran-and-kamuro"].year is None


def test_the_old_module_re_exports_the_public_names() -> None:
    """``stylelab.paintings`` (the old path) and ``stylelab.data.paintings`` are the same functions."""
    import stylelab.data.paintings as D

    assert set(P.__all__) == set(D.__all__)
    for name in P.__all__:
        assert getattr(P, name) is getattr(D, name)
    assert P.list_paintings is C.list_paintings and P.read_qres.__module__ == "stylelab.data.paintings.qres"
