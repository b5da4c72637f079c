r"""BRISQUE: Blind/Referenceless Image Spatial Quality Evaluator (Mittal, Moorthy & Bovik 2012).

No reference image needed: 36 natural-scene-statistics features (18 per scale, 2 scales) go into
a support-vector regressor trained on the LIVE database to predict the human opinion score.

* Per scale: a GGD fit of the MSCN coefficients -> :math:`(\alpha, \sigma^2)`, and an AGGD fit
  of each of the 4 paired products -> :math:`(\alpha, \eta, \sigma_l^2, \sigma_r^2)`
  (see :mod:`stylelab.aesthetics.nss`). Scale 2 is the image halved (bicubic, antialiased).
* Each feature is scaled to [-1, 1] with the training ranges, then the epsilon-SVR with an RBF
  kernel predicts the score:

  .. math:: \mathrm{BRISQUE}(x) = \sum_i c_i\, e^{-\gamma \lVert \tilde f(x) - s_i\rVert^2} - \rho

Range: about 0 (pristine) to 100 (badly distorted); values slightly outside happen. **Lower is better.**
The 512 px astronaut scores 3.1, blurred (sigma 3) 74, with noise (sigma 0.1) 67.

The features follow the authors' MATLAB ``brisque_feature.m`` (GGD fit for the MSCN, ``x > 0`` on
the right side of the AGGD fit, antialiased ``imresize`` for scale 2). The ``brisque`` package's
own Python features differ (no antialiasing when halving, zeros counted on the right), which is
why it gives the astronaut 10.8: same model, slightly different features.

The model is the original LIVE SVR as packaged by PyPI ``brisque==0.2.0``: ``svm.txt`` (libsvm
text format, parsed here into NumPy, no libsvm needed) and ``normalize.pickle`` (the feature
ranges). That pickle is read only from the installed package folder given by
:func:`stylelab.assets.brisque_model_dir`, with an unpickler that refuses every class (the file
holds only a dict of float lists), so it cannot run code.

Reference: A. Mittal, A. K. Moorthy, A. C. Bovik, "No-Reference Image Quality Assessment in the
Spatial Domain", IEEE TIP 21(12), 2012.
"""

from __future__ import annotations

import functools
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import AssetError
from ..losses.aesthetic import luminance
from .inputs import MAX_SIDE, as_batch, fit_max_side
from .nss import aggd_fit, ggd_fit, mscn, paired_products

#: Smallest side BRISQUE accepts (the half-scale copy must still hold a 7x7 window).
MIN_SIDE = 16
#: Feature names in model order (scale 1 then scale 2).
FEATURE_NAMES = [
    f"s{s}_{name}"
    for s in (1, 2)
    for name in ["mscn_alpha", "mscn_var"]
    + [f"{d}_{p}" for d in ("H", "V", "D1", "D2") for p in ("alpha", "mean", "var_l", "var_r")]
]


@dataclass(frozen=True)
class BrisqueModel:
    """The LIVE epsilon-SVR (RBF kernel) and its feature ranges."""

    support_vectors: np.ndarray  # (S, 36)
    coefs: np.ndarray  # (S,)
    gamma: float
    rho: float
    feature_min: np.ndarray  # (36,)
    feature_max: np.ndarray  # (36,)

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Scores of ``(B, 36)`` raw features -> ``(B,)``."""
        f = np.atleast_2d(np.asarray(features, np.float64))
        scaled = -1 + 2 * (f - self.feature_min) / (self.feature_max - self.feature_min)  # (B, 36)
        d2 = ((scaled[:, None, :] - self.support_vectors[None]) ** 2).sum(-1)  # (B, S)
        return np.exp(-self.gamma * d2) @ self.coefs - self.rho


class _NoClassUnpickler(pickle.Unpickler):
    """Allows only plain containers and numbers: any class or function reference is refused."""

    def find_class(self, module: str, name: str):  # noqa: ANN201
        raise AssetError(f"Refusing to unpickle {module}.{name}: BRISQUE's normalize.pickle holds only numbers.")


def _parse_libsvm_model(path: Path) -> tuple[np.ndarray, np.ndarray, float, float]:
    header: dict[str, str] = {}
    coefs, rows = [], []
    with open(path, encoding="ascii") as fh:
        for line in fh:
            line = line.strip()
            if line == "SV":
                break
            key, _, value = line.partition(" ")
            header[key] = value
        for line in fh:
            parts = line.split()
            if not parts:
                continue
            coefs.append(float(parts[0]))
            row = np.zeros(len(FEATURE_NAMES))
            for item in parts[1:]:
                idx, _, val = item.partition(":")
                row[int(idx) - 1] = float(val)
            rows.append(row)
    if header.get("svm_type") != "epsilon_svr" or header.get("kernel_type") != "rbf" or not rows:
        raise AssetError(f"{path} is not the BRISQUE epsilon-SVR with an RBF kernel.")
    return np.stack(rows), np.asarray(coefs), float(header["gamma"]), float(header["rho"])


@functools.lru_cache(maxsize=1)
def load_brisque_model() -> BrisqueModel:
    """Read the packaged LIVE model (cached). Raises AssetError when ``brisque`` is not installed."""
    from ..assets import brisque_model_dir

    folder = brisque_model_dir()
    svs, coefs, gamma, rho = _parse_libsvm_model(folder / "svm.txt")
    try:
        with open(folder / "normalize.pickle", "rb") as fh:
            ranges = _NoClassUnpickler(fh).load()
        lo = np.asarray(ranges["min_"], np.float64)
        hi = np.asarray(ranges["max_"], np.float64)
    except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError) as exc:
        raise AssetError(f"BRISQUE feature ranges unreadable in {folder}: {exc}") from exc
    if lo.shape != (len(FEATURE_NAMES),) or hi.shape != lo.shape:
        raise AssetError(f"BRISQUE feature ranges in {folder} have shape {lo.shape}, expected (36,).")
    return BrisqueModel(svs, coefs, gamma, rho, lo, hi)


def half_scale(gray: np.ndarray) -> np.ndarray:
    """Halve a ``(H, W)`` grey image with antialiased bicubic resampling (as MATLAB ``imresize(I, 0.5)``)."""
    t = torch.from_numpy(np.ascontiguousarray(gray, np.float64))[None, None]  # (1, 1, H, W)
    h, w = gray.shape
    out = F.interpolate(t, size=(max(1, round(h / 2)), max(1, round(w / 2))), mode="bicubic",
                        antialias=True, align_corners=False)
    return out[0, 0].numpy()


def scale_features(gray: np.ndarray) -> np.ndarray:
    """The 18 BRISQUE features of one scale of a ``(H, W)`` 0-255 grey image."""
    m, _ = mscn(gray, c=1.0, mode="constant")
    g = ggd_fit(m)
    feats = [g.alpha, g.sigma**2]
    for pair in paired_products(m).values():
        a = aggd_fit(pair)
        feats += [a.alpha, a.mean, a.std_left**2, a.std_right**2]
    return np.asarray(feats)


def brisque_features(x: torch.Tensor, max_side: int | None = MAX_SIDE) -> np.ndarray:
    """The 36 BRISQUE features of each image: ``(N, 3, H, W)`` in [0, 1] -> ``(N, 36)`` NumPy.

    Images whose longer side exceeds ``max_side`` are scored on a resized copy.
    """
    x = fit_max_side(as_batch(x, min_side=MIN_SIDE), max_side)
    grays = (luminance(x.detach().double())[:, 0] * 255).cpu().numpy()  # (N, H, W) on 0-255
    return np.stack([np.concatenate([scale_features(g), scale_features(half_scale(g))]) for g in grays])


def brisque(x: torch.Tensor, max_side: int | None = MAX_SIDE) -> torch.Tensor:
    r"""BRISQUE score of each image (about 0-100, **lower is better**).

    Args:
        x: ``(3, H, W)`` or ``(N, 3, H, W)`` in [0, 1] (grey ``(1, H, W)`` is accepted), at least 16x16 px.
        max_side: longer side above which a resized copy is scored (default 1024 px).

    Returns:
        ``(N,)`` float64 tensor. Not differentiable (fits are table look-ups).

    Example:
        >>> from stylelab.assets import load_bundled
        >>> float(brisque(load_bundled("photo:astronaut"))) < 30
        True
    """
    model = load_brisque_model()
    return torch.from_numpy(model.predict(brisque_features(x, max_side)))
