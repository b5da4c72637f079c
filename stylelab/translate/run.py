r"""Training a cycle-consistent GAN: a config and a :class:`stylelab.run.Run` (kinds ``"cycle-2d"``, ``"cycle-image"``).

One training step (Zhu et al. 2017; the least-squares adversarial loss, Adam, no image pool)::

    x ~ X, y ~ Y                                        # a batch of each domain (unpaired)
    G(x), F(y), F(G(x)), G(F(y))  [, G(y), F(x)]        # translations, round trips [, identities]
    L_GF = L_adv(D_Y(G(x))) + L_adv(D_X(F(y)))          # stylelab.translate.losses.cycle_generator_objective
           + lambda_cyc (|F(G(x)) - x|_1 + |G(F(y)) - y|_1) + lambda_id (|G(y) - y|_1 + |F(x) - x|_1)
    (theta_G, theta_F) <- Adam(grad L_GF)
    L_DY = discriminator_loss(D_Y(y), D_Y(G(x).detach()))   # stylelab.losses.adversarial
    L_DX = discriminator_loss(D_X(x), D_X(F(y).detach()))
    (theta_DX, theta_DY) <- Adam(grad (L_DX + L_DY))

The 2-D version translates the ring (8 Gaussians) into the grid (25 Gaussians) of
:mod:`stylelab.gan.data` and back; the image version MNIST digits (5,000, ``mnist5k``) into
Fashion-MNIST clothes (the first 10,000) and back, at 28 px. ``held_out`` images of each set (the
last ``held_out / 10`` of each class) are never trained on: the measures (:mod:`stylelab.translate.metrics`) use them.

Randomness: the data set and the held-out split (stream 0), the initial weights (stream 1, CPU),
the training batches (stream 100) -- the training stream's state is in the checkpoint, so N + N
steps with a save in between equal 2N steps. Nothing draws from torch's global RNG.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import torch
from torch import Tensor

from ..device import torch_threads
from ..errors import CheckpointError, ConfigError
from ..gan.models import build_seeded
from ..losses.adversarial import ADVERSARIAL_LOSSES, discriminator_loss
from ..run import Run, check_state, config_to_dict, make_generator
from .losses import cycle_generator_objective
from .models import TranslationGenerator, image_discriminator, point_discriminator, point_generator

#: the pairs of domains a cycle run translates between: name -> (X, Y)
PAIRS: dict[str, tuple[str, str]] = {"ring2grid": ("ring", "grid"), "mnist2fashion": ("mnist5k", "fashion")}
#: config fields a page may change between steps (the weights of the terms)
LIVE_FIELDS = ("lambda_cyc", "lambda_id")


@dataclass
class CycleConfig:
    """Everything that defines a cycle-GAN run (its seed is the run's, not part of the config).

    Attributes:
        pair: ``"ring2grid"`` (2-D points) or ``"mnist2fashion"`` (28 px images), see :data:`PAIRS`.
        steps: generator updates in all (0: open-ended).
        lambda_cyc: weight of the cycle term (0 switches it off: see what breaks).
        lambda_id: weight of the identity term.
        loss: the adversarial loss (``lsgan`` as in the paper).
        batch_size: samples of each domain per step (None: 64 points, 32 images).
        lr, beta1, beta2: Adam, for all four networks (lr None: 1e-3 for points, 2e-4 for images).
        hidden, depth: the 2-D MLPs.
        base_channels, res_blocks: the image generators (and ``base_channels`` for the discriminators).
        n_points: points per 2-D domain; ``held_out``: images per domain kept out of training (a multiple
            of 10: the last ``held_out / 10`` of each class).
        metrics_every: measure every k steps (0: never during training).
        eval_samples: held-out samples measured (images) / points drawn (2-D).
        threads: torch threads while stepping (0: one on the CPU).
    """

    pair: Literal["ring2grid", "mnist2fashion"] = "ring2grid"
    steps: int = 2000
    lambda_cyc: float = 10.0
    lambda_id: float = 0.0
    loss: Literal["minimax", "ns", "lsgan", "hinge"] = "lsgan"
    batch_size: int | None = None
    lr: float | None = None
    beta1: float = 0.5
    beta2: float = 0.999
    hidden: int = 64
    depth: int = 3
    base_channels: int = 16
    res_blocks: int = 2
    n_points: int = 2000
    held_out: int = 500  # stylelab.translate.metrics.HELD_OUT
    metrics_every: int = 100
    eval_samples: int = 500
    threads: int = 0

    @property
    def is_points(self) -> bool:
        return self.pair == "ring2grid"

    @property
    def lr_value(self) -> float:
        return self.lr if self.lr is not None else (1e-3 if self.is_points else 2e-4)

    @property
    def batch_value(self) -> int:
        return self.batch_size if self.batch_size is not None else (64 if self.is_points else 32)

    def validate(self) -> None:
        if self.pair not in PAIRS:
            raise ConfigError(f"Unknown domain pair {self.pair!r}; choose one of {', '.join(PAIRS)}.")
        if self.loss not in ADVERSARIAL_LOSSES or self.loss == "wgan-gp":
            raise ConfigError(f"A cycle run's adversarial loss is one of minimax, ns, lsgan, hinge; got {self.loss!r}.")
        ints = {"steps": (0, 1_000_000), "batch_value": (2, 1024), "hidden": (4, 1024), "depth": (1, 8),
                "base_channels": (4, 128), "res_blocks": (0, 9), "n_points": (16, 100_000), "held_out": (10, 2000),
                "metrics_every": (0, 1_000_000), "eval_samples": (10, 5000), "threads": (0, 256)}
        for name, (low, high) in ints.items():
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or not low <= v <= high:
                raise ConfigError(f"{name} must be an integer in [{low}, {high}], got {v!r}.")
        if self.held_out % 10:
            raise ConfigError(f"held_out takes the same number of images from each of 10 classes: a multiple of 10, "
                              f"got {self.held_out}.")
        for name in ("lambda_cyc", "lambda_id"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (math.isfinite(v) and 0 <= v <= 100):
                raise ConfigError(f"{name} must be a number in [0, 100], got {v!r}.")
        if isinstance(self.lr_value, bool) or not isinstance(self.lr_value, (int, float)) or not (0 < self.lr_value <= 1):
            raise ConfigError(f"lr must be in (0, 1], got {self.lr!r}.")
        for name in ("beta1", "beta2"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < 1:
                raise ConfigError(f"{name} must be in [0, 1), got {v!r}.")


def image_config(**changes: Any) -> CycleConfig:
    """The image run's defaults: MNIST <-> Fashion-MNIST, 3,000 steps, no identity term, measured every 250."""
    base = dict(pair="mnist2fashion", steps=3000, lambda_id=0.0, metrics_every=250)
    return CycleConfig(**{**base, **changes})




class CycleRun(Run):
    """Trains G: X -> Y, F: Y -> X and the discriminators D_Y, D_X, one step at a time.

    Args:
        config: a :class:`CycleConfig` (validated).
        seed: the run's seed (every random stream derives from it).
        device: where to train (None: :func:`stylelab.device.get_device`).

    Attributes:
        G, F, D_X, D_Y: the four networks.
        x_train, y_train: ``(P, 2)`` points or ``(N, 1, 28, 28)`` images in [-1, 1]; ``x_test``,
            ``y_test`` (images: the held-out ones, with labels ``x_test_labels``, ``y_test_labels``).
        history: one row per step (``loss_d``, ``loss_g_total``, ``adv_g``, ``adv_f``, ``cycle_x``,
            ``cycle_y``, ``identity``), plus the measures every ``metrics_every`` steps.
    """

    kind: ClassVar[str] = "cycle"
    lab: ClassVar[str] = "translate"
    config_class: ClassVar[type] = CycleConfig

    def __init__(self, config: CycleConfig, *, seed: int = 0, device: Any = None) -> None:
        if not isinstance(config, CycleConfig):
            raise ConfigError("CycleRun needs a CycleConfig.")
        config.validate()
        super().__init__(config, seed=seed, device=device)
        self._build_data()
        weights = make_generator(self.seed, "cpu", stream=1)
        cfg = config
        if cfg.is_points:
            self.G = build_seeded(lambda: point_generator(cfg.hidden, cfg.depth), weights)
            self.F = build_seeded(lambda: point_generator(cfg.hidden, cfg.depth), weights)
            self.D_Y = build_seeded(lambda: point_discriminator(cfg.hidden, cfg.depth), weights)
            self.D_X = build_seeded(lambda: point_discriminator(cfg.hidden, cfg.depth), weights)
        else:
            self.G = build_seeded(lambda: TranslationGenerator(1, cfg.base_channels, cfg.res_blocks), weights)
            self.F = build_seeded(lambda: TranslationGenerator(1, cfg.base_channels, cfg.res_blocks), weights)
            self.D_Y = build_seeded(lambda: image_discriminator(cfg.base_channels), weights)
            self.D_X = build_seeded(lambda: image_discriminator(cfg.base_channels), weights)
        for m in (self.G, self.F, self.D_X, self.D_Y):
            m.to(self.device)
        betas = (cfg.beta1, cfg.beta2)
        self.opt_g = torch.optim.Adam([*self.G.parameters(), *self.F.parameters()], lr=cfg.lr_value, betas=betas)
        self.opt_d = torch.optim.Adam([*self.D_X.parameters(), *self.D_Y.parameters()], lr=cfg.lr_value, betas=betas)
        self.gen = make_generator(self.seed, self.device, stream=100)
        self._metrics = None

    @property
    def pair(self) -> tuple[str, str]:
        """The names of X and Y (``("ring", "grid")``, ``("mnist5k", "fashion")``)."""
        return PAIRS[self.config.pair]

    @property
    def total_steps(self) -> int | None:  # type: ignore[override]
        return self.config.steps or None

    # ------------------------------------------------------------------ data
    def _build_data(self) -> None:
        cfg = self.config
        gen = make_generator(self.seed, "cpu", stream=0)
        x_name, y_name = self.pair
        if cfg.is_points:
            from ..gan.data import sample_toy

            self.x_train = sample_toy(x_name, cfg.n_points, generator=gen).to(self.device)  # (P, 2)
            self.y_train = sample_toy(y_name, cfg.n_points, generator=gen).to(self.device)  # (P, 2)
            self.x_test = sample_toy(x_name, cfg.eval_samples, generator=gen).to(self.device)  # fresh points
            self.y_test = sample_toy(y_name, cfg.eval_samples, generator=gen).to(self.device)
            self.x_test_labels = self.y_test_labels = None
            return
        from ..gan.data import load_image_set
        from .metrics import held_out_index, held_out_mask

        xs, ys = load_image_set(x_name), load_image_set(y_name)
        # held out: the last held_out / 10 images of each class, classes interleaved (a fixed split for every seed)
        ix, iy = held_out_index(xs.labels, cfg.held_out), held_out_index(ys.labels, cfg.held_out)
        mx, my = held_out_mask(xs.labels, cfg.held_out), held_out_mask(ys.labels, cfg.held_out)
        self.x_train, self.x_test = xs.images[~mx].to(self.device), xs.images[ix].to(self.device)
        self.y_train, self.y_test = ys.images[~my].to(self.device), ys.images[iy].to(self.device)
        self.x_test_labels, self.y_test_labels = xs.labels[ix], ys.labels[iy]
        self.x_names, self.y_names = xs.class_names, ys.class_names

    def _batch(self, data: Tensor) -> Tensor:
        pick = torch.randint(data.shape[0], (self.config.batch_value,), generator=self.gen, device=self.device)
        return data[pick]  # (B, ...)

    # ------------------------------------------------------------------ live changes
    def update(self, **changes: Any) -> None:
        """Change the terms' weights (:data:`LIVE_FIELDS`) between steps; validated first."""
        bad = sorted(set(changes) - set(LIVE_FIELDS))
        if bad:
            raise ConfigError(f"{bad} cannot change during a run; start a new run instead.")
        new = dataclasses.replace(self.config, **changes)
        new.validate()
        self.config = new

    def running(self) -> contextlib.AbstractContextManager[None]:
        """One torch thread on the CPU while stepping (these nets are small; see stylelab.gan.train)."""
        return torch_threads(self.config.threads or (1 if self.device.type == "cpu" else 0))

    # ------------------------------------------------------------------ one step
    def _step(self) -> dict[str, Any]:
        cfg = self.config
        with self.running():
            x = self._batch(self.x_train)  # (B, ...) real x
            y = self._batch(self.y_train)  # (B, ...) real y
            for m in (self.G, self.F, self.D_X, self.D_Y):
                m.train()
            # -- generators: adversarial + lambda_cyc cycle + lambda_id identity
            self.D_X.requires_grad_(False)
            self.D_Y.requires_grad_(False)
            gx = self.G(x)  # (B, ...) G(x) in Y
            fy = self.F(y)  # (B, ...) F(y) in X
            identity = cfg.lambda_id > 0
            terms = cycle_generator_objective(
                self.D_Y(gx), self.D_X(fy), x, self.F(gx), y, self.G(fy),
                lambda_cyc=cfg.lambda_cyc, lambda_id=cfg.lambda_id,
                g_of_y=self.G(y) if identity else None, f_of_x=self.F(x) if identity else None, kind=cfg.loss)
            self.opt_g.zero_grad(set_to_none=True)
            terms.total.backward()
            self.opt_g.step()
            self.D_X.requires_grad_(True)
            self.D_Y.requires_grad_(True)
            # -- discriminators: real vs the (detached) translations
            real_y, fake_y = self.D_Y(y), self.D_Y(gx.detach())
            real_x, fake_x = self.D_X(x), self.D_X(fy.detach())
            loss_dy = discriminator_loss(real_y, fake_y, cfg.loss, check=False)
            loss_dx = discriminator_loss(real_x, fake_x, cfg.loss, check=False)
            self.opt_d.zero_grad(set_to_none=True)
            (loss_dx + loss_dy).backward()
            self.opt_d.step()
        row: dict[str, Any] = {"loss_d": float((loss_dx + loss_dy).detach()), **terms.row()}
        for k, v in row.items():
            if not math.isfinite(v):
                raise ConfigError(f"Training diverged at step {self.step_count + 1}: {k} = {v}. "
                                  "Lower the learning rate or start again with another seed.")
        if cfg.metrics_every and (self.step_count + 1) % cfg.metrics_every == 0:
            row.update(self.evaluate())
        return row

    # ------------------------------------------------------------------ using it
    @torch.no_grad()
    def translate(self, x: Tensor, direction: Literal["G", "F"] = "G") -> Tensor:
        """``G(x)`` (X -> Y) or ``F(y)`` (Y -> X) in eval mode, in chunks of 500: same shape as ``x``."""
        net = self.G if direction == "G" else self.F
        was = net.training
        net.eval()
        try:
            return torch.cat([net(x[i : i + 500].to(self.device)) for i in range(0, x.shape[0], 500)])
        finally:
            net.train(was)

    @torch.no_grad()
    def round_trip(self, x: Tensor, direction: Literal["G", "F"] = "G") -> tuple[Tensor, Tensor]:
        """``(G(x), F(G(x)))`` (or ``(F(y), G(F(y)))`` for ``direction="F"``)."""
        other = "F" if direction == "G" else "G"
        there = self.translate(x, direction)
        return there, self.translate(there, other)

    def evaluate(self) -> dict[str, float]:
        """The measures of :func:`stylelab.translate.metrics.evaluate_points` / ``evaluate_images``
        on the held-out samples (deterministic: no randomness, so measuring never changes training)."""
        from . import metrics

        with self.running():
            if self.config.is_points:
                return metrics.evaluate_points(self)
            return metrics.evaluate_images(self)

    def preview(self) -> Tensor:
        """The current picture ``(3, H, W)`` in [0, 1].

        Images: 8 held-out digits (row 1), G of them (row 2), F(G(.)) (row 3), grey to RGB.
        Points: real x (blue), G(x) (orange) and F(G(x)) (green) on a white 128 x 128 canvas.
        """
        from ..gan.data import to_unit
        from ..imageio import image_grid

        if not self.config.is_points:
            x = self.x_test[:8]
            gx, fgx = self.round_trip(x)
            return image_grid(to_unit(torch.cat([x, gx, fgx]).cpu()), nrow=8).expand(3, -1, -1).contiguous().float()
        size = 128
        x = self.x_test[:300]
        gx, fgx = self.round_trip(x)
        lo, hi = -5.5, 5.5
        canvas = torch.ones(3, size, size)
        for pts, rgb in ((x, (0.12, 0.47, 0.71)), (gx, (1.0, 0.5, 0.05)), (fgx, (0.17, 0.63, 0.17))):
            ij = ((pts.cpu() - lo) / (hi - lo) * (size - 1)).round().long()  # (n, 2) pixel columns / rows
            keep = ((ij >= 0) & (ij < size)).all(dim=1)
            cols, rows = ij[keep, 0], (size - 1) - ij[keep, 1]
            for c in range(3):
                canvas[c, rows, cols] = rgb[c]
        return canvas

    def summary(self) -> dict[str, Any]:
        """Steps, wall time and the last measures."""
        last = next((r for r in reversed(self.history) if "cycle_error" in r or "clothing_rate" in r), {})
        return {"steps": self.step_count, "seconds": round(self.seconds, 3),
                **{k: v for k, v in last.items() if k != "step"}}

    # ------------------------------------------------------------------ checkpoints
    def _state(self) -> dict[str, Any]:
        return {"G": self.G.state_dict(), "F": self.F.state_dict(), "D_X": self.D_X.state_dict(),
                "D_Y": self.D_Y.state_dict(), "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
                "rng": self.gen.get_state()}

    def _load_state(self, state: Mapping[str, Any]) -> None:
        try:
            for name in ("G", "F", "D_X", "D_Y"):
                getattr(self, name).load_state_dict(state[name])
            self.opt_g.load_state_dict(state["opt_g"])
            self.opt_d.load_state_dict(state["opt_d"])
            self.gen.set_state(state["rng"])
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            raise CheckpointError(f"Checkpoint does not fit this cycle run: {exc}") from exc

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from :meth:`state_dict`; the saved config may differ only in ``steps``,
        ``metrics_every``, ``threads`` and the live weights (which are taken from the checkpoint)."""
        check_state(state, self.kind)
        free = ("steps", "metrics_every", "threads", *LIVE_FIELDS)
        theirs = dict(state.get("config") or {})
        mine = {k: v for k, v in config_to_dict(self.config).items() if k not in free}
        other = {k: v for k, v in theirs.items() if k not in free}
        if mine != other:
            diff = sorted(k for k in set(mine) | set(other) if mine.get(k) != other.get(k))
            raise CheckpointError(f"This cycle checkpoint was made for another configuration (differs in {diff}).")
        if state.get("seed") != self.seed:
            raise CheckpointError(f"This cycle checkpoint was saved with seed {state.get('seed')!r}, not {self.seed}.")
        self._load_state(state["state"])
        self.update(**{k: theirs[k] for k in LIVE_FIELDS if k in theirs})
        self.step_count = int(state["step_count"])
        self.seconds = float(state.get("seconds", 0.0))
        self.history = [dict(r) for r in state["history"]]

    def save(self, path: str | Path) -> Path:
        """Write the full resumable state atomically (:func:`stylelab.checkpoint.save_checkpoint`)."""
        from ..checkpoint import save_checkpoint

        return save_checkpoint(self.state_dict(), path)

    @classmethod
    def load(cls, source: Any, device: Any = None, **config_changes: Any) -> "CycleRun":
        """A run rebuilt from a :meth:`save` file (``weights_only=True``), continued where it stopped.

        ``config_changes``: ``steps``/``metrics_every``/``threads`` for the continued run.
        """
        from ..checkpoint import load_checkpoint
        from ..record import ExperimentRecord
        from ..run import config_from_record

        state = load_checkpoint(source, "cycle run checkpoint")
        check_state(state, cls.kind)
        rec = ExperimentRecord(lab=cls.lab, config={"kind": cls.kind, **dict(state["config"])}, seed=state["seed"])
        config = config_from_record(rec, CycleConfig, kind=cls.kind)
        run = cls(config, seed=int(state["seed"]), device=device)
        run.load_state_dict(state)
        if config_changes:
            run.config = dataclasses.replace(run.config, **config_changes)
            run.config.validate()
        return run


# ----------------------------------------------------------------------------- catalogue (stylelab.run.CATALOG)
def small_run_2d(seed: int = 0, device: Any = None) -> CycleRun:
    """A small 2-D run: ring <-> grid, 16-wide MLPs, batch 32, 40 steps, measured every 10."""
    cfg = CycleConfig(pair="ring2grid", steps=40, hidden=16, depth=2, batch_size=32, n_points=256,
                      eval_samples=64, metrics_every=10, lambda_id=1.0)
    return CycleRun(cfg, seed=seed, device=device)


def small_run_image(seed: int = 0, device: Any = None) -> CycleRun:
    """A small image run: MNIST <-> Fashion-MNIST, 4-channel generators with one residual block,
    batch 4, 20 steps, no measures (they need the classifiers, trained once and cached)."""
    cfg = image_config(steps=20, batch_size=4, base_channels=4, res_blocks=1, metrics_every=0, held_out=50,
                       eval_samples=50)
    return CycleRun(cfg, seed=seed, device=device)


__all__ = ["CycleConfig", "CycleRun", "LIVE_FIELDS", "PAIRS", "image_config", "small_run_2d", "small_run_image"]
