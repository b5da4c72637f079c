"""BRISQUE and NIQE: ordering on photos vs distorted copies, agreement with reference code, safety."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from stylelab.aesthetics import brisque, niqe
from stylelab.aesthetics.brisque_iqa import _NoClassUnpickler, brisque_features, load_brisque_model
from stylelab.errors import AssetError, ShapeError


def _distorted(x: torch.Tensor) -> dict[str, torch.Tensor]:
    import torchvision.transforms.functional as TF

    g = torch.Generator().manual_seed(0)
    return {
        "blur": TF.gaussian_blur(x, [13, 13], [2.5, 2.5]),
        "noise": (x + 0.1 * torch.randn(x.shape, generator=g)).clamp(0, 1),
    }


@pytest.fixture(scope="module")
def photos():
    from stylelab.assets import load_bundled

    return {n: load_bundled(f"photo:{n}", size=256) for n in ("astronaut", "coffee")}


def test_brisque_orders_photos_before_their_distorted_copies(photos):
    for name, x in photos.items():
        d = _distorted(x)
        scores = brisque(torch.stack([x, d["blur"], d["noise"]]))
        assert scores.shape == (3,)
        assert float(scores[0]) < float(scores[1]) and float(scores[0]) < float(scores[2]), (name, scores)


def test_niqe_orders_photos_before_their_distorted_copies(photos):
    from stylelab.assets import load_bundled

    x = load_bundled("photo:astronaut", size=384)  # NIQE wants several 96 px patches
    d = _distorted(x)
    scores = niqe(torch.stack([x, d["blur"], d["noise"]]))
    assert float(scores[0]) < float(scores[1]) and float(scores[0]) < float(scores[2]), scores


def test_brisque_svr_matches_libsvm(photos):
    svmutil = pytest.importorskip("libsvm.svmutil")
    from stylelab.assets import brisque_model_dir

    model = load_brisque_model()
    feats = brisque_features(photos["coffee"])
    scaled = -1 + 2 * (feats - model.feature_min) / (model.feature_max - model.feature_min)
    ref = svmutil.svm_load_model(str(brisque_model_dir() / "svm.txt"))
    nodes, _ = svmutil.gen_svm_nodearray([float(v) for v in scaled[0]], isKernel=False)
    assert float(model.predict(feats)[0]) == pytest.approx(svmutil.libsvm.svm_predict(ref, nodes), abs=1e-6)


def test_niqe_matches_scikit_video_reference():
    # scikit-video 1.1.11's niqe() (patched to run on today's SciPy: np.int -> int, scipy.misc.imresize
    # -> PIL bicubic) on the luma of the 512 px astronaut gives 8.8202.
    from stylelab.assets import load_bundled

    assert float(niqe(load_bundled("photo:astronaut"))) == pytest.approx(8.820, abs=0.05)


def test_quality_bad_inputs():
    with pytest.raises(ShapeError, match="96x96"):
        niqe(torch.rand(3, 64, 200))
    with pytest.raises(ShapeError):
        brisque(torch.rand(3, 8, 8))
    flat = torch.full((3, 128, 128), 0.5)
    assert np.isfinite(float(brisque(flat))) and np.isfinite(float(niqe(flat)))


def test_normalize_pickle_loader_refuses_code():
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    import io

    with pytest.raises(AssetError, match="Refusing"):
        _NoClassUnpickler(io.BytesIO(pickle.dumps({"min_": [Evil()]}))).load()
    ok = _NoClassUnpickler(io.BytesIO(pickle.dumps({"min_": [0.5, 1.0]}))).load()
    assert ok == {"min_": [0.5, 1.0]}
