r"""The report card: every measure of one image as a dict / pandas row, and a batch scorer.

:data:`MEASURES` is the registry the page, the CLI and the notebook read: for each measure its
function, a label, its LaTeX, its usual range, which direction is better, what moves it and the
paper it comes from. :meth:`Measure.goodness` maps a value to [0, 1] (1 = best) for radar charts.

Each measure is one equation of :mod:`stylelab.equations`: the five the losses share
(colourfulness, saturation, brightness, RMS contrast, exposure error) take their LaTeX and usual
range from :data:`stylelab.losses.registry.MEASURE_SPECS` (registered once, as ``"loss.<name>"``);
every other measure is exported here as ``"aesthetics.<name>"`` (:data:`EQUATIONS`).

Size policy: :func:`report` scores the image as given, except that images whose longer side
exceeds ``max_side`` (default 1024 px) are scored on a resized copy. Sharpness, noise and NIQE
depend on the scale, so compare images at the same size (``score_batch(..., size=384)``).
Images smaller than 8x8 px are refused (:class:`~stylelab.errors.ShapeError`); measures that need
more pixels than the image has (BRISQUE 16 px, NIQE 96 px per side) report ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ..equations import Equation
from ..errors import ShapeError, StylelabError
from ..losses.registry import REGISTRY as _LOSSES
from . import brisque_iqa as _brisque
from . import niqe_iqa as _niqe
from .composition import balance, rule_of_thirds, symmetry
from .detail import entropy, laplacian_variance, noise_sigma, tenengrad
from .harmony import hue_harmony
from .inputs import MAX_SIDE, as_batch, fit_max_side
from .tone import clipped_highlights, clipped_shadows, michelson_contrast

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: Smallest side (px) :func:`report` accepts.
REPORT_MIN_SIDE = 8


@dataclass(frozen=True)
class Measure:
    """One aesthetic / quality measure and everything a UI needs to explain it."""

    name: str
    label: str
    group: str  #: "colour", "tone", "detail", "composition", "quality", "reference"
    latex: str
    range: tuple[float, float]  #: usual range (values may fall outside; used for the radar)
    higher_is_better: bool | None  #: None: neither (see ``ideal``) or a matter of style
    moves: str  #: what raises / lowers it
    reference: str
    fn: Callable[..., torch.Tensor] = field(repr=False)  #: (N, 3, H, W) -> (N,)
    unit: str = ""
    ideal: float | None = None  #: for two-sided measures (brightness 0.5)
    min_side: int = 1
    slow: bool = False  #: BRISQUE / NIQE: worth a checkbox in the UI
    needs_reference: bool = False  #: full-reference: fn(x, reference)
    radar: bool = True
    short: str = ""  #: a shorter label for crowded charts (default: ``label``)

    @property
    def short_label(self) -> str:
        return self.short or self.label

    @property
    def equation_name(self) -> str:
        """This measure's name in :mod:`stylelab.equations` (shared measures keep the loss registry's)."""
        shared = SHARED_WITH_LOSSES.get(self.name)
        return f"loss.{shared}" if shared else f"aesthetics.{self.name}"

    def as_equation(self) -> Equation:
        direction = {True: "higher", False: "lower", None: ""}[self.higher_is_better]
        return Equation(self.equation_name, self.label, self.latex, "measure", fn=self.fn, range=self.range,
                        direction=direction, lab="aesthetics", description=f"{self.moves} ({self.reference})")

    def goodness(self, value: float | None) -> float | None:
        """``value`` mapped to [0, 1], 1 = best end of the usual range (None if not rankable)."""
        if value is None or not math.isfinite(value):
            return None
        lo, hi = self.range
        t = min(max((value - lo) / (hi - lo), 0.0), 1.0)
        if self.ideal is not None:
            half = max(self.ideal - lo, hi - self.ideal)
            return max(0.0, 1.0 - abs(value - self.ideal) / half)
        if self.higher_is_better is None:
            return None
        return t if self.higher_is_better else 1.0 - t


def _psnr(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    from ..losses.pixel import psnr

    return psnr(x, y, reduction="none")


def _ssim(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    from ..losses.ssim import ssim

    return ssim(x, y, reduction="none")


def _lpips(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    from ..losses.lpips import lpips

    with torch.no_grad():
        return lpips(x, y, net="vgg", reduction="none")


_H_S = "Hasler & Süsstrunk 2003, Measuring colourfulness in natural images"
#: measure name here -> its entry in the loss registry (one LaTeX, one range, one function for both labs)
SHARED_WITH_LOSSES = {"colorfulness": "colorfulness", "saturation": "saturation", "brightness": "brightness",
                      "rms_contrast": "rms_contrast", "exposure_error": "exposure",
                      "psnr": "psnr", "ssim": "ssim", "lpips": "lpips_vgg"}


def _shared(name: str, group: str, higher_is_better: bool | None, moves: str, reference: str,
            fn: Callable[..., torch.Tensor] | None = None, **kw: Any) -> Measure:
    """A measure whose label, LaTeX and usual range (and function, unless a per-image wrapper is
    given) come from the loss registry: one entry for both labs."""
    spec = _LOSSES[SHARED_WITH_LOSSES[name]]
    return Measure(name, kw.pop("label", spec.label), group, spec.latex, spec.range, higher_is_better, moves,
                   reference, fn or spec.fn, **kw)

MEASURES: dict[str, Measure] = {m.name: m for m in [
    _shared("colorfulness", "colour", True, "Raised by saturation and by many different hues; 0 for any grey image. "
            "~33 moderately, ~59 quite, >109 extremely colourful (0-255 scale).", _H_S),
    _shared("saturation", "colour", True, "Raised by a saturation boost; 0 for greys, 1 for pure colours. Dark noisy pixels "
            "can read as saturated.", "HSV model (Smith 1978)"),
    Measure("hue_harmony", "Hue harmony (deviation)", "colour",
            r"\min_{m,\alpha}\frac{\sum_p \lVert H(p) - E_{T_m(\alpha)}(p)\rVert\,S(p)}{\sum_p S(p)}",
            (0.0, 30.0), False, "Mean hue distance (degrees) outside the best harmonic template. Raised by "
            "hues spread round the whole wheel; 0 when every hue fits a template.",
            "Cohen-Or et al. 2006, Color harmonization (Matsuda's templates)", hue_harmony, unit="°",
            short="Hue harmony"),
    _shared("brightness", "tone", None, "Exposure and gamma move it; best near the middle for most scenes.",
            "Rec. 601 luma", ideal=0.5),
    _shared("exposure_error", "tone", False,
            "Zero when the mean luma sits mid-grey; grows as the picture is under- or over-exposed.",
            "a simple exposure target"),
    Measure("clipped_shadows", "Clipped shadows", "tone", r"\tfrac{1}{|P|}\sum_p [Y_p \le 2/255]", (0.0, 0.2), False,
            "Share of pixels crushed to black: raised by underexposure and strong contrast.", "exposure clipping",
            clipped_shadows),
    Measure("clipped_highlights", "Clipped highlights", "tone", r"\tfrac{1}{|P|}\sum_p [Y_p \ge 253/255]", (0.0, 0.2), False,
            "Share of pixels blown out to white: raised by overexposure and strong contrast.", "exposure clipping",
            clipped_highlights),
    _shared("rms_contrast", "tone", True, "Raised by a contrast stretch or strong lights and darks; 0 for a flat image, "
            "0.5 for half black and half white.", "Peli 1990, Contrast in complex images"),
    Measure("michelson_contrast", "Michelson contrast", "tone", r"\frac{Y_{99\%} - Y_{1\%}}{Y_{99\%} + Y_{1\%}}",
            (0.0, 1.0), True, "Only the extremes count: a few black pixels make it 1.", "Michelson 1927",
            michelson_contrast),
    Measure("sharpness_laplacian", "Sharpness (Laplacian variance)", "detail",
            r"\operatorname{Var}_p\big[\nabla^2 Y(p)\big]", (0.0, 2000.0), True,
            "Lowered by blur and by downscaling; raised by fine texture and also by noise.",
            "Pech-Pacheco et al. 2000", laplacian_variance, min_side=3, short="Laplacian var."),
    Measure("sharpness_tenengrad", "Sharpness (Tenengrad)", "detail", r"\operatorname{mean}_p\ G_x(p)^2 + G_y(p)^2",
            (0.0, 20000.0), True, "Squared Sobel gradient: strong edges dominate; blur lowers it.",
            "Tenenbaum 1970; Krotkov 1987", tenengrad, min_side=3, short="Tenengrad"),
    Measure("entropy", "Entropy", "detail", r"-\sum_k p_k \log_2 p_k", (0.0, 8.0), True,
            "Raised by a wide spread of grey levels (and by noise); 0 for a flat image. Ignores layout.",
            "Shannon 1948", entropy, unit="bits"),
    Measure("noise_sigma", "Noise level", "detail",
            r"\sqrt{\pi/2}\,\frac{1}{6(W-2)(H-2)}\sum_p |(Y*N)(p)|", (0.0, 15.0), False,
            "Raised by sensor noise and film grain (also a little by fine texture).",
            "Immerkær 1996, Fast noise variance estimation", noise_sigma, unit="grey levels", min_side=3),
    Measure("thirds_score", "Rule of thirds", "composition",
            r"\tfrac12\big(e^{-D_c^2/2\sigma^2} + e^{-D_p^2/2\sigma^2}\big),\ \sigma=0.17",
            (0.0, 1.0), True, "1 when the salient centroid and peak sit on power points; cropping moves it.",
            "Liu et al. 2010, Optimizing photo composition; saliency: Hou & Zhang 2007",
            lambda x: rule_of_thirds(x).score),
    Measure("thirds_line_mass", "Salient mass on thirds lines", "composition",
            r"\frac{\sum_p S(p)\,[d_{\text{line}}(p) \le 1/12]}{\sum_p S(p)}", (0.0, 1.0), True,
            "Share of the saliency within 1/12 of a thirds line (5/9 for uniform saliency).",
            "rule of thirds", lambda x: rule_of_thirds(x).line_mass, radar=False),
    Measure("balance", "Balance", "composition", r"1 - 2\,|\bar x_S - \tfrac12|", (0.0, 1.0), True,
            "1 when the visual weight is centred left to right; pulls against the rule of thirds.",
            "Arnheim 1954; saliency centroid", balance),
    Measure("symmetry", "Mirror symmetry", "composition", r"\operatorname{corr}(Y, \overleftarrow{Y})", (-1.0, 1.0),
            None, "1 for mirror-symmetric scenes, ~0 for unrelated halves, -1 for a dark/bright split.",
            "correlation with the mirror image", symmetry, radar=False),
    Measure("brisque", "BRISQUE", "quality", r"\sum_i c_i e^{-\gamma\lVert \tilde f(x) - s_i\rVert^2} - \rho",
            (0.0, 100.0), False, "Raised by blur, noise, JPEG blocks: departures from natural-scene statistics.",
            "Mittal, Moorthy & Bovik 2012 (LIVE SVR)", _brisque.brisque, min_side=_brisque.MIN_SIDE, slow=True),
    Measure("niqe", "NIQE", "quality",
            r"\sqrt{(\mu_p-\mu_d)^\top\big(\tfrac{\Sigma_p+\Sigma_d}{2}\big)^{+}(\mu_p-\mu_d)}", (0.0, 30.0), False,
            "Distance of the patch statistics to pristine photos: raised by blur and noise.",
            "Mittal, Soundararajan & Bovik 2013", _niqe.niqe, min_side=_niqe.PATCH, slow=True),
    _shared("psnr", "reference", True, "Pixel-wise agreement with the reference, in dB.", "(shared with the Loss Lab)",
            _psnr, label="PSNR", unit="dB", needs_reference=True),
    _shared("ssim", "reference", True, "Structural agreement with the reference.", "Wang et al. 2004", _ssim,
            min_side=11, needs_reference=True),
    _shared("lpips", "reference", False, "Perceptual distance to the reference (VGG16 features).", "Zhang et al. 2018",
            _lpips, label="LPIPS", min_side=16, needs_reference=True, slow=True),
]}

#: The measures as equations of :mod:`stylelab.equations`, less those the loss registry already holds.
EQUATIONS: list[Equation] = [m.as_equation() for m in MEASURES.values() if m.name not in SHARED_WITH_LOSSES]

#: Keys the CLI prints at least (the issue's list).
CLI_KEYS = ("colorfulness", "rms_contrast", "michelson_contrast", "brightness", "saturation",
            "sharpness_laplacian", "entropy", "thirds_score", "brisque", "niqe")


def get_measure(name: str) -> Measure:
    try:
        return MEASURES[name]
    except KeyError:
        raise StylelabError(f"Unknown measure {name!r}; choose from {sorted(MEASURES)}.") from None


def prepare_image(image: torch.Tensor, max_side: int | None = MAX_SIDE) -> torch.Tensor:
    """Validate one image for the report and cap its size: -> ``(1, 3, H, W)``."""
    x = as_batch(image, min_side=REPORT_MIN_SIDE)
    if x.shape[0] != 1:
        raise ShapeError(f"report() scores one image; got a batch of {x.shape[0]} (use score_batch).")
    return fit_max_side(x.detach().float(), max_side)


def report(image: torch.Tensor, reference: torch.Tensor | None = None, quality: bool = True,
           max_side: int | None = MAX_SIDE, names: Iterable[str] | None = None) -> dict[str, float | None]:
    """Every measure of one image.

    Args:
        image: ``(3, H, W)`` (or ``(1, 3, H, W)``; grey accepted) in [0, 1], at least 8x8 px.
        reference: optional image of the same size for the full-reference measures (PSNR, SSIM, LPIPS).
        quality: include BRISQUE and NIQE (the slow ones, ~0.1-0.5 s each at 512 px).
        max_side: longer side above which a resized copy is scored (``reference`` follows).
        names: only these measures (default: all that apply).

    Returns:
        ``{name: float or None}`` in :data:`MEASURES` order; ``None`` where the image is too small
        for that measure.
    """
    x = prepare_image(image, max_side)
    ref = None
    if reference is not None:
        ref = as_batch(reference, name="reference").detach().float()
        ref = torch.nn.functional.interpolate(ref, size=x.shape[-2:], mode="bilinear", antialias=True) \
            if ref.shape[-2:] != x.shape[-2:] and tuple(image.shape[-2:]) == tuple(ref.shape[-2:]) else ref
        if ref.shape[-2:] != x.shape[-2:]:
            raise ShapeError(f"The reference is {tuple(ref.shape[-2:])} but the image is {tuple(image.shape[-2:])}: "
                             "full-reference measures compare images of the same size.")
    wanted = list(MEASURES) if names is None else [get_measure(n).name for n in names]
    side = min(x.shape[-2:])
    out: dict[str, float | None] = {}
    with torch.no_grad():
        for name in wanted:
            m = MEASURES[name]
            if (m.slow and not quality and not m.needs_reference) or (m.needs_reference and ref is None):
                continue
            if side < m.min_side:
                out[name] = None
                continue
            value = m.fn(x, ref) if m.needs_reference else m.fn(x)
            out[name] = float(value.reshape(-1)[0])
    return out


def report_row(image: torch.Tensor, name: str = "image", **kwargs: Any) -> "pd.Series":
    """:func:`report` as a pandas Series named ``name`` (one row of a table)."""
    import pandas as pd

    return pd.Series(report(image, **kwargs), name=name, dtype="float64")


def score_batch(images: Sequence[torch.Tensor | str | Path | bytes], names: Sequence[str] | None = None,
                size: int | None = None, quality: bool = True, max_side: int | None = MAX_SIDE,
                on_error: str = "raise", progress: Callable[[int, int], None] | None = None) -> "pd.DataFrame":
    """Score many images into one table (one row per image, one column per measure).

    Args:
        images: tensors ``(3, H, W)`` in [0, 1], file paths or encoded bytes (read with
            :func:`stylelab.imageio.load_image`).
        names: row labels (default: file names, else ``image 1, image 2, ...``).
        size: resize each image so its longer side is ``size`` px first (comparable sharpness).
        quality: include BRISQUE and NIQE.
        on_error: ``"raise"`` (default) stops at the first bad image; ``"record"`` keeps going and
            writes the error message in an ``error`` column of that row.
        progress: called with ``(done, total)`` after each image.

    Returns:
        A DataFrame indexed by name with ``width``, ``height`` (as scored), every measure, and
        ``error`` (empty string when fine).
    """
    import pandas as pd

    from ..imageio import load_image, resize_tensor

    if on_error not in ("raise", "record"):
        raise StylelabError(f"on_error must be 'raise' or 'record'; got {on_error!r}.")
    if names is not None and len(names) != len(images):
        raise ShapeError(f"Got {len(names)} names for {len(images)} images.")
    rows = []
    for i, item in enumerate(images):
        label = names[i] if names is not None else (Path(item).name if isinstance(item, (str, Path)) else f"image {i + 1}")
        row: dict[str, Any] = {"name": label}
        try:
            img = item if isinstance(item, torch.Tensor) else load_image(item)
            if size is not None:
                img = resize_tensor(as_batch(img)[0], size)
            x = prepare_image(img, max_side)
            row.update(width=int(x.shape[-1]), height=int(x.shape[-2]))
            row.update(report(x, quality=quality, max_side=None))
            row["error"] = ""
        except StylelabError as exc:
            if on_error == "raise":
                raise
            row["error"] = str(exc)
        rows.append(row)
        if progress is not None:
            progress(i + 1, len(images))
    df = pd.DataFrame(rows).set_index("name")
    cols = ["width", "height"] + [c for c in MEASURES if c in df.columns] + ["error"]
    return df.reindex(columns=[c for c in cols if c in df.columns])
