r"""Your own 2-D distribution: points from a CSV file or drawn on a canvas, and a 2-D GAN run on them.

A list of points :math:`p_1, \dots, p_P` becomes a distribution the 2-D GAN can learn: a mixture of
small Gaussians, one on each point (the ring and the grid of :mod:`stylelab.gan.data` are the same
kind of distribution with fixed centres)::

    x = p_I + sigma * eps,   I ~ Uniform{1..P},   eps ~ N(0, I_2)        (sample_custom)

**A CSV of points** (:func:`parse_points_csv`): two numeric columns ``x, y`` (comma, semicolon, tab
or spaces; one optional header row; ``#`` comment lines and blank lines are skipped), at most
:data:`MAX_ROWS` rows and :data:`MAX_BYTES` bytes, every value finite and within
:data:`MAX_ABS`. Anything else is a :class:`PointsError` that names the line and what is wrong;
nothing is clamped, dropped or guessed. The points are then **centred and scaled**
(:func:`normalise_points`) so the GAN sees the same range as the built-in distributions, whatever
the units of the file:

.. math::
    p_i' = \frac{T}{s}\,(p_i - \bar p), \qquad \bar p = \frac1P \sum_i p_i, \qquad
    s = \max_i \|p_i - \bar p\|_\infty, \qquad T = 3

so the points fill the square :math:`[-3, 3]^2` (one of the two axes touches its edges); the shape
is kept (one scale for both axes).

**A drawing** (:func:`points_from_canvas`): each dot placed on the canvas (its ``point`` tool) and
each vertex of a free-hand stroke is one point, mapped from canvas pixels to the square
:math:`[-E, E]^2` drawn on the canvas (:data:`CANVAS_EXTENT`), y upwards. A drawing is not rescaled:
the points stay where they were drawn.

**The run** (:class:`CustomPointsGAN`, kind ``"gan-custom"``) is the 2-D GAN of
:class:`stylelab.gan.train.GANTrainer` (same models, losses, optimisers, random streams) whose
training set is drawn from these points. The points are the run's *input*
(:meth:`CustomPointsGAN.inputs`): a record stores the config and ``from_record(record, points=...)``
replays it; a checkpoint carries them too, so it resumes on its own.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import torch
from torch import Tensor

from ..errors import CheckpointError, ConfigError, RecordError
from ..run import as_record, check_state, config_from_record, config_to_dict, make_generator
from .config import DEFAULT_LR, GANConfig
from .train import GANTrainer, _as_run_state

#: the name of the data set of a run on your own points
CUSTOM = "custom"
#: at least this many points (fewer is not a distribution a GAN can learn anything from)
MIN_POINTS = 3
#: at most this many rows in a CSV (and points in a drawing)
MAX_ROWS = 10_000
#: at most this many bytes in a CSV file
MAX_BYTES = 2_000_000
#: values beyond +-MAX_ABS are refused (a unit mistake, or a number that is not a coordinate)
MAX_ABS = 1e6
#: a CSV's points are scaled into [-TARGET_EXTENT, TARGET_EXTENT]^2 (see :func:`normalise_points`)
TARGET_EXTENT = 3.0
#: the canvas shows the square [-CANVAS_EXTENT, CANVAS_EXTENT]^2
CANVAS_EXTENT = 4.0
#: the spread around each point of a custom distribution unless the config says otherwise
DEFAULT_CUSTOM_NOISE = 0.05

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(nan|inf|infinity)$", re.IGNORECASE)


class PointsError(ConfigError):
    """A list of 2-D points (a CSV file, a drawing) the lab cannot use; the message says why and where."""


# ----------------------------------------------------------------------------- checking and reading points
def check_points(points: Any, what: str = "The points") -> Tensor:
    """``points`` as a float32 ``(P, 2)`` CPU tensor, or a :class:`PointsError` (never clamped).

    ``MIN_POINTS <= P <= MAX_ROWS``, every value finite and within ``MAX_ABS``.
    """
    if not isinstance(points, Tensor):
        raise PointsError(f"{what} must be a (P, 2) tensor of x, y coordinates, not a {type(points).__name__}.")
    if points.ndim != 2 or points.shape[1] != 2:
        raise PointsError(f"{what} must have shape (P, 2) (one x, y per row), got {tuple(points.shape)}.")
    n = points.shape[0]
    if n < MIN_POINTS:
        raise PointsError(f"{what} hold {n} point{'s' if n != 1 else ''}; a distribution needs at least {MIN_POINTS}.")
    if n > MAX_ROWS:
        raise PointsError(f"{what} hold {n:,} points; at most {MAX_ROWS:,} are allowed.")
    if not points.is_floating_point():
        points = points.double()
    if not bool(torch.isfinite(points).all()):
        raise PointsError(f"{what} contain NaN or infinity.")
    big = float(points.abs().max())
    if big > MAX_ABS:
        raise PointsError(f"{what} contain a coordinate of {big:.3g}, beyond ±{MAX_ABS:.0e}.")
    return points.detach().to("cpu", torch.float32).contiguous()


def _split(line: str) -> list[str]:
    for sep in (",", ";", "\t"):
        if sep in line:
            return [c.strip() for c in line.split(sep)]
    return line.split()


def read_points_csv(data: bytes) -> Tensor:
    """The raw ``(P, 2)`` float64 points of a CSV file (not yet centred or scaled).

    Raises:
        PointsError: empty or too large file, not UTF-8 text, a row without exactly two columns,
            a cell that is not a number, NaN or infinity, a value beyond ``MAX_ABS``, too few or
            too many rows. The message names the (1-based) line.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise PointsError(f"A CSV of points is read from bytes, not from a {type(data).__name__}.")
    data = bytes(data)
    if len(data) > MAX_BYTES:
        raise PointsError(f"The file is {len(data) / 1e6:.1f} MB; a CSV of points may be at most {MAX_BYTES / 1e6:.0f} MB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PointsError(f"The file is not a text CSV (not UTF-8 at byte {exc.start}).") from exc
    lines = [(i, s.strip()) for i, s in enumerate(text.splitlines(), 1)]
    lines = [(i, s) for i, s in lines if s and not s.startswith("#")]
    if not lines:
        raise PointsError("The file is empty: it needs one x, y pair of numbers per line.")
    first_cells = _split(lines[0][1])
    if not any(_NUMBER.match(c) for c in first_cells) and len(lines) > 1:
        lines = lines[1:]  # a header row such as "x,y"
    if len(lines) > MAX_ROWS:
        raise PointsError(f"The file has {len(lines):,} rows of points; at most {MAX_ROWS:,} are allowed.")
    rows: list[tuple[float, float]] = []
    for number, line in lines:
        cells = _split(line)
        if len(cells) == 1:
            raise PointsError(f"Line {number} has one column ({cells[0][:30]!r}); each line needs two numbers, x and y.")
        if len(cells) != 2:
            raise PointsError(f"Line {number} has {len(cells)} columns; each line needs exactly two numbers, x and y.")
        values = []
        for cell in cells:
            if not _NUMBER.match(cell):
                raise PointsError(f"Line {number}: {cell[:30]!r} is not a number.")
            value = float(cell)
            if not math.isfinite(value):
                raise PointsError(f"Line {number} holds {cell!r}; every coordinate must be a finite number.")
            if abs(value) > MAX_ABS:
                raise PointsError(f"Line {number}: {cell} is beyond ±{MAX_ABS:.0e}; "
                                  "rescale the file (a coordinate this large is probably a unit mistake).")
            values.append(value)
        rows.append((values[0], values[1]))
    if len(rows) < MIN_POINTS:
        raise PointsError(f"The file holds {len(rows)} point{'s' if len(rows) != 1 else ''}; "
                          f"a distribution needs at least {MIN_POINTS}.")
    return torch.tensor(rows, dtype=torch.float64)  # (P, 2)


@dataclasses.dataclass(frozen=True)
class Normalised:
    """Points after :func:`normalise_points`: ``points = (raw - centre) * scale``."""

    points: Tensor  # (P, 2) float32
    centre: tuple[float, float]
    scale: float


def normalise_points(raw: Tensor, extent: float = TARGET_EXTENT) -> Normalised:
    r"""Centre and scale points into :math:`[-T, T]^2`: :math:`p' = \frac{T}{s}(p - \bar p)`, :math:`s = \max_i \|p_i - \bar p\|_\infty`.

    Raises:
        PointsError: all points are the same (there is no shape to scale).
    """
    if not (isinstance(extent, (int, float)) and 0 < extent <= 100):
        raise ConfigError(f"The target extent must be a number in (0, 100], got {extent!r}.")
    raw = raw.double()
    centre = raw.mean(dim=0)  # (2,)
    spread = float((raw - centre).abs().max())
    if not spread > 1e-12 * max(1.0, float(raw.abs().max())):
        raise PointsError("All the points are at the same place: a distribution needs points that differ.")
    scale = extent / spread
    return Normalised(((raw - centre) * scale).float().contiguous(), (float(centre[0]), float(centre[1])), scale)


def parse_points_csv(data: bytes) -> Tensor:
    """A CSV file of 2-D points as the ``(P, 2)`` float32 points a GAN trains on (centred and scaled:
    :func:`normalise_points`); see :func:`read_points_csv` for the format and its errors."""
    return check_points(normalise_points(read_points_csv(data)).points, "The file's points")


def parse_points_text(text: str) -> Tensor:
    """Points typed as text, one ``x, y`` per line (the same format and rules as :func:`parse_points_csv`)."""
    if not isinstance(text, str):
        raise PointsError(f"Typed points are text, not a {type(text).__name__}.")
    return parse_points_csv(text.encode("utf-8"))


_ORIGIN = {"left": 0.0, "top": 0.0, "center": 0.5, "right": 1.0, "bottom": 1.0}


def _object_points(obj: Mapping[str, Any]) -> list[tuple[float, float]]:
    """Canvas-pixel points of one Fabric.js object: a dot (circle) is its centre, a stroke (path) its vertices."""
    kind = str(obj.get("type", "")).lower()
    sx, sy = float(obj.get("scaleX", 1) or 1), float(obj.get("scaleY", 1) or 1)
    angle = math.radians(float(obj.get("angle", 0) or 0))
    stroke = float(obj.get("strokeWidth", 0) or 0)
    if kind == "circle":
        w = (2 * float(obj.get("radius", 0)) + stroke) * sx
        h = (2 * float(obj.get("radius", 0)) + stroke) * sy
        local = [(0.0, 0.0)]
    elif kind == "path":
        w = (float(obj.get("width", 0)) + stroke) * sx
        h = (float(obj.get("height", 0)) + stroke) * sy
        off = obj.get("pathOffset") or {}
        ox, oy = float(off.get("x", 0)), float(off.get("y", 0))
        local = [((float(c[-2]) - ox) * sx, (float(c[-1]) - oy) * sy) for c in obj.get("path", []) if len(c) >= 3]
    else:
        return []
    # (left, top) is the object's origin point; its centre lies half a box away, rotated by the angle
    dx, dy = (0.5 - _ORIGIN.get(obj.get("originX", "left"), 0.0)) * w, (0.5 - _ORIGIN.get(obj.get("originY", "top"), 0.0)) * h
    cos, sin = math.cos(angle), math.sin(angle)
    cx = float(obj.get("left", 0)) + cos * dx - sin * dy
    cy = float(obj.get("top", 0)) + sin * dx + cos * dy
    return [(cx + cos * u - sin * v, cy + sin * u + cos * v) for u, v in local]


def points_from_canvas(drawing: Mapping[str, Any] | None, width: int, height: int,
                       extent: float = CANVAS_EXTENT) -> Tensor:
    r"""The points of a drawing (streamlit-drawable-canvas ``json_data``) in plot coordinates ``(P, 2)``.

    A canvas pixel ``(u, v)`` of a ``width x height`` canvas maps to
    :math:`x = E\,(2u / W - 1)`, :math:`y = E\,(1 - 2v / H)` (y upwards), :math:`E` = ``extent``.

    Raises:
        PointsError: fewer than :data:`MIN_POINTS` points, or more than :data:`MAX_ROWS`.
    """
    if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
        raise ConfigError(f"A canvas has a positive integer width and height, got {width!r} x {height!r}.")
    objects = (drawing or {}).get("objects") or []
    pixels = [p for obj in objects if isinstance(obj, Mapping) for p in _object_points(obj)]
    if not pixels:
        raise PointsError(f"The drawing holds no points yet: place at least {MIN_POINTS} dots or draw a stroke.")
    uv = torch.tensor(pixels, dtype=torch.float64)  # (P, 2) canvas pixels
    xy = torch.stack([extent * (2 * uv[:, 0] / width - 1), extent * (1 - 2 * uv[:, 1] / height)], dim=1)
    return check_points(xy, "The drawing's points")


# ----------------------------------------------------------------------------- the distribution
def sample_custom(points: Tensor, n: int, noise: float = DEFAULT_CUSTOM_NOISE,
                  generator: torch.Generator | None = None) -> Tensor:
    r"""``n`` draws of the mixture of Gaussians centred on ``points`` ``(P, 2)``: :math:`p_I + \sigma\epsilon`.

    Draws (in this order, from ``generator``): ``eps`` ``(n, 2)`` then the indices ``I`` ``(n,)``
    (the order :func:`stylelab.gan.data.sample_toy` uses for the ring and the grid). Returns ``(n, 2)`` float32.
    """
    points = check_points(points)
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 1_000_000:
        raise ConfigError(f"Number of points must be an integer in [1, 1000000], got {n!r}.")
    sigma = float(noise)
    if not (math.isfinite(sigma) and 0.0 <= sigma <= 2.0):
        raise ConfigError(f"Noise must be in [0, 2], got {noise!r}.")
    eps = torch.randn(n, 2, generator=generator)  # (n, 2)
    idx = torch.randint(points.shape[0], (n,), generator=generator)  # (n,)
    return points[idx] + sigma * eps


# ----------------------------------------------------------------------------- the run
@dataclasses.dataclass
class CustomGANConfig(GANConfig):
    """A :class:`GANConfig` for your own points (``data = "custom"``); every other field means the same.

    ``data_noise`` is the spread :math:`\\sigma` around each point (default
    :data:`DEFAULT_CUSTOM_NOISE`); ``n_points`` the size of the training set drawn from the mixture.
    """

    data: Literal["custom"] = CUSTOM
    data_noise: float | None = DEFAULT_CUSTOM_NOISE

    def validate(self) -> None:
        """Every field is checked exactly as for a built-in 2-D distribution (and ``data`` must be ``custom``)."""
        if self.data != CUSTOM:
            raise ConfigError(f"A run on your own points has data={CUSTOM!r}, got {self.data!r}.")
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        GANConfig(**{**fields, "data": "gaussian"})  # the built-in checks of every other field

    @property
    def is_toy(self) -> bool:
        return True

    @property
    def lr_g_value(self) -> float:
        return self.lr_g if self.lr_g is not None else DEFAULT_LR["points"]

    @property
    def lr_d_value(self) -> float:
        return self.lr_d if self.lr_d is not None else DEFAULT_LR["points"]


class CustomPointsGAN(GANTrainer):
    """The 2-D GAN trained on your own points: a :class:`GANTrainer` whose data is :func:`sample_custom`.

    Args:
        config: a :class:`CustomGANConfig`.
        points: ``(P, 2)`` the points (plot coordinates; see :func:`parse_points_csv`, :func:`points_from_canvas`).
        device: where to train (None: ``config.device``, then :func:`stylelab.device.get_device`).
    """

    kind = "gan-custom"
    config_class = CustomGANConfig

    def __init__(self, config: CustomGANConfig, points: Tensor, rank: int = 0, world_size: int = 1, *,
                 device: Any = None, seed: int | None = None) -> None:
        if not isinstance(config, CustomGANConfig):
            raise ConfigError("A run on your own points needs a CustomGANConfig (data='custom').")
        self.points = check_points(points)
        super().__init__(config, rank, world_size, device=device, seed=seed)

    def _build_data(self) -> None:
        cfg = self.config
        gen = make_generator(self.seed, "cpu", stream=0)  # stream 0, as every GAN run's data set
        sigma = DEFAULT_CUSTOM_NOISE if cfg.data_noise is None else cfg.data_noise
        self.real = sample_custom(self.points, cfg.n_points, sigma, generator=gen).to(self.device)  # (N, 2)
        self.labels = self.images = self.modes = None
        self.num_classes = 0
        order = torch.randperm(self.real.shape[0], generator=gen)  # the shard, as GANTrainer._build_data
        self.shard = order[self.rank :: self.world_size].to(self.device)
        self._shard_x = self.real[self.shard]
        self._shard_y = None

    def inputs(self) -> dict[str, Any]:
        """The points: what a record does not carry (``from_record(record, points=...)``)."""
        return {"points": self.points}

    @classmethod
    def from_record(cls, record: Any, *, device: Any = None, **inputs: Any) -> "CustomPointsGAN":
        """The run of a record (before its first step) on the points given; bad values are a :class:`RecordError`."""
        extra = sorted(set(inputs) - {"points"})
        if extra or "points" not in inputs:
            raise RecordError(f"A run on your own points is rebuilt from its record and its points; got {sorted(inputs)}.")
        rec = as_record(record, cls.lab)
        config = config_from_record(rec, CustomGANConfig, kind=cls.kind)
        if rec.seed != config.seed:
            raise RecordError(f"This record's seed ({rec.seed!r}) differs from its config's seed ({config.seed}).")
        try:
            return cls(config, inputs["points"], device=device)
        except ConfigError as exc:
            raise RecordError(f"Record config is not a valid run on your own points: {exc}") from exc

    def _state(self) -> dict[str, Any]:
        return {**super()._state(), "points": self.points}

    def _load_state(self, state: Mapping[str, Any]) -> None:
        points = state.get("points")
        if not isinstance(points, Tensor) or points.shape != self.points.shape or not torch.equal(points.float(), self.points):
            raise CheckpointError("This checkpoint was made on other points than this run's.")
        super()._load_state(state)

    @classmethod
    def load(cls, source: "str | Path | bytes | Any", device: str | None = None) -> "CustomPointsGAN":
        """Rebuild a run on your own points from its checkpoint (``weights_only=True``; the points are in it)."""
        from ..checkpoint import load_checkpoint

        state = _as_run_state(load_checkpoint(source, "GAN Lab checkpoint", map_location="cpu"))
        check_state(state, cls.kind)
        cfg = state.get("config")
        points = state["state"].get("points")
        if not isinstance(cfg, Mapping) or not isinstance(points, Tensor):
            raise CheckpointError("This checkpoint of a run on your own points has no config or no points.")
        cfg = {k: v for k, v in cfg.items() if k != "kind"}
        cfg["device"] = device
        try:
            config = CustomGANConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in cfg.items()})
            run = cls(config, points)
        except (TypeError, ConfigError) as exc:
            raise CheckpointError(f"Checkpoint config is not valid: {exc}") from exc
        run.load_state_dict({**state, "config": config_to_dict(config)})
        return run


def custom_run(points: Tensor, base: GANConfig | None = None, **changes: Any) -> CustomPointsGAN:
    """A run on ``points`` with the set-up of ``base`` (a 2-D config; None: the defaults) and ``changes``."""
    fields = {} if base is None else {f.name: getattr(base, f.name) for f in dataclasses.fields(GANConfig)}
    fields.update(data=CUSTOM, classes=(), conditional=False)
    if base is not None and base.data != CUSTOM:
        fields["data_noise"] = DEFAULT_CUSTOM_NOISE  # a built-in distribution's spread means something else
    fields.update(changes)
    return CustomPointsGAN(CustomGANConfig(**fields), points)


#: a smile of 14 points (eyes and a mouth): the small run of the protocol tests
SMILE: Sequence[tuple[float, float]] = ((-1.0, 1.0), (-1.2, 1.2), (-0.8, 1.2), (1.0, 1.0), (1.2, 1.2), (0.8, 1.2),
                                        *((1.6 * math.cos(a), -0.4 + 1.2 * math.sin(a))
                                          for a in (math.pi * (1.15 + 0.1 * i) for i in range(8))))


def small_run(seed: int = 0, device: Any = None) -> CustomPointsGAN:
    """A small run on a 14-point smile: 16-wide MLPs, batch 32, 50 steps, evaluated every 2 steps."""
    cfg = CustomGANConfig(n_points=256, hidden=16, batch_size=32, metrics_every=2, eval_samples=64, steps=50, seed=seed)
    return CustomPointsGAN(cfg, torch.tensor(SMILE, dtype=torch.float32), device=device)


__all__ = ["CANVAS_EXTENT", "CUSTOM", "CustomGANConfig", "CustomPointsGAN", "MAX_ABS", "MAX_BYTES", "MAX_ROWS",
           "MIN_POINTS", "Normalised", "PointsError", "TARGET_EXTENT", "check_points", "custom_run", "normalise_points",
           "parse_points_csv", "parse_points_text", "points_from_canvas", "read_points_csv", "sample_custom", "small_run"]
