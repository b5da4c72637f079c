r"""Step mode: the 2-D GAN's training step taken apart, one sub-step per call (a Run of kind ``"gan-steps"``).

:class:`GANStepper` drives the objects of a 2-D :class:`~stylelab.gan.train.GANTrainer` (its G, D,
optimisers, random stream, loss functions; a :class:`~stylelab.gan.custom.CustomPointsGAN` too)
through exactly the computation of ``GANTrainer._step`` (Goodfellow et al. 2014, Algorithm 1), cut
into sub-steps. One iteration is ``d_steps`` D steps and one G step; each step is five sub-steps::

    sample     D: x ~ data, z ~ N(0, I), G(z) (+ instance noise)   G: the last D step's G(z) (+ noise)
    scores     D: d_r = D(x), d_f = D(G(z))                        G: d_f = D(G(z)) by the updated D
    loss       D: L_D = l_D(d_r, d_f) (+ smoothing, + GP)          G: L_G = l_G(d_f)
    gradients  D: grad_theta_D L_D, and the push -B dL_D/dd_i      G: grad_theta_G L_G, and the arrows
               on every score (> 0: D raises its score there)         -B grad_x L_G on every fake
    update     D: theta_D <- opt(theta_D, grad), ||Delta theta_D||  G: theta_G <- opt(...), the fakes move

:meth:`GANStepper.step` (the Run step) is ONE sub-step; :meth:`GANStepper.d_step`,
:meth:`GANStepper.g_step` and :meth:`GANStepper.iteration` run sub-steps up to the end of a D step,
the G step or the iteration. A whole iteration leaves the trainer exactly where its own
``step()`` would (weights, optimiser moments, random stream, history row: bit for bit on the CPU,
``tests/test_gan_stepper.py``), and counts in its ``step_count`` and ``history``. Parameters change
only at the ``update`` sub-steps. The G step follows the schedule of the trainer: it reuses the
codes z of the last D step, so it comes after that iteration's D steps.

What each sub-step computed is :attr:`GANStepper.current` (a :class:`SubStep`: the batch, D's
outputs, the loss and the names of its equations in :mod:`stylelab.equations`, the gradients on the
points, the size of the update), for the 2-D view to draw.

Resuming: the state holds the trainer's state and, mid-step, the random stream's state at the start
of that step; loading replays the sub-steps already done in it (they change no weights), so a
resumed stepper continues bit for bit. ``pace_s`` (slow motion) waits after each sub-step while the
stepper plays, so a page sees every sub-step; it never changes a number.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import Tensor

from ..errors import CheckpointError, ConfigError, RecordError, StopRequested
from ..losses.adversarial import discriminator_loss, generator_loss, gradient_penalty
from ..run import Run, as_record, check_state, config_from_record, config_to_dict
from .config import LIVE_FIELDS, GANConfig
from .objectives import smoothing_equation
from .train import GANTrainer, _critic, _update, d_output, label_smoothing_term

#: the sub-steps of one D or G step, in order
SUBSTEPS: tuple[str, ...] = ("sample", "scores", "loss", "gradients", "update")
#: the longest slow-motion pause after a sub-step (seconds)
MAX_PACE_S = 5.0
#: the stepper's own live field (the GAN's live fields, :data:`stylelab.gan.config.LIVE_FIELDS`, pass to the trainer)
LIVE_STEP_FIELDS = ("pace_s",)
#: the update equation of each optimiser
UPDATE_EQUATIONS = {"adam": "gan.step_update_adam", "sgd": "gan.step_update_sgd", "rmsprop": "gan.step_update_rmsprop"}


def _gan_config(value: Any) -> GANConfig:
    if isinstance(value, GANConfig):
        return value
    if not isinstance(value, Mapping):
        raise ConfigError(f"Step mode needs the 2-D GAN's config (a GANConfig), got a {type(value).__name__}.")
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in value.items() if k != "kind"}
    if fields.get("data") == "custom":
        from .custom import CustomGANConfig

        return CustomGANConfig(**fields)
    return GANConfig(**fields)


@dataclasses.dataclass
class StepConfig:
    """Step mode on a 2-D GAN.

    Attributes:
        gan: the 2-D GAN's config (a toy distribution, or ``data="custom"``: your own points).
        iterations: how many iterations this stepper makes (0: open-ended).
        pace_s: slow motion: seconds to wait after each sub-step while it plays (0 ... 5; live).
    """

    gan: GANConfig = dataclasses.field(default_factory=GANConfig)
    iterations: int = 0
    pace_s: float = 0.0

    def __post_init__(self) -> None:
        self.gan = _gan_config(self.gan)
        self.validate()

    def validate(self) -> None:
        """Raise :class:`ConfigError` for a value out of range (never clamped)."""
        self.gan.validate()
        if not self.gan.is_toy:
            raise ConfigError("Step mode shows the 2-D GAN (points); image runs step with the page's Step button.")
        if not isinstance(self.iterations, int) or isinstance(self.iterations, bool) or not 0 <= self.iterations <= 10**9:
            raise ConfigError(f"iterations must be an integer in [0, 1000000000], got {self.iterations!r}.")
        p = self.pace_s
        if not isinstance(p, (int, float)) or isinstance(p, bool) or not (math.isfinite(p) and 0 <= p <= MAX_PACE_S):
            raise ConfigError(f"pace_s must be a number of seconds in [0, {MAX_PACE_S:g}], got {p!r}.")


@dataclasses.dataclass
class SubStep:
    r"""What the step so far has computed, after its sub-step ``name`` (tensors on the CPU).

    Attributes:
        iteration: the iteration (1-based: the trainer's step it becomes); phase: ``"D"`` or ``"G"``;
        k: the D step (1 ... d_steps; 0 for G); d_steps: D steps in this iteration.
        name: the sub-step just done (one of :data:`SUBSTEPS`); equations: its equations' names.
        real: ``(B, 2)`` the real batch (D steps); fake: ``(B, 2)`` the generated batch G(z).
        d_real, d_fake: ``(B,)`` D's outputs on them (probability for minimax/ns, else raw score).
        loss: the loss of this step; loss_name: its equation (``loss.d_ns`` ...).
        push: ``(2B,)`` D steps: :math:`-B\,\partial\mathcal L_D/\partial d_i` on the real then fake scores.
        arrows: ``(B, 2)`` G step: :math:`-B\,\nabla_{\tilde x_i}\mathcal L_G` on each fake.
        grad_norm: :math:`\|\nabla_\theta \mathcal L\|` of the player being trained.
        update_norm: :math:`\|\theta_{new} - \theta_{old}\|` of that player.
        d_after: ``(2B,)`` D steps: D's outputs on the batch after the update; moved: ``(B, 2)`` G step: G(z) after it.
    """

    iteration: int
    phase: str
    k: int
    d_steps: int
    name: str = ""
    equations: tuple[str, ...] = ()
    real: Tensor | None = None
    fake: Tensor | None = None
    d_real: Tensor | None = None
    d_fake: Tensor | None = None
    loss: float | None = None
    loss_name: str = ""
    push: Tensor | None = None
    arrows: Tensor | None = None
    grad_norm: float | None = None
    update_norm: float | None = None
    d_after: Tensor | None = None
    moved: Tensor | None = None

    def numbers(self) -> dict[str, float]:
        """The means the page prints: D's outputs before / after the update, the push on real and
        fake scores, the mean arrow length and how far the fakes moved (only what exists so far)."""
        out: dict[str, float] = {}
        n = None if self.real is None else self.real.shape[0]
        for name, t in (("d_real", self.d_real), ("d_fake", self.d_fake)):
            if t is not None:
                out[name] = float(t.mean())
        if self.d_after is not None:
            out["d_real_after"], out["d_fake_after"] = float(self.d_after[:n].mean()), float(self.d_after[n:].mean())
        if self.push is not None:
            out["push_real"], out["push_fake"] = float(self.push[:n].mean()), float(self.push[n:].mean())
        if self.arrows is not None:
            out["arrow_length"] = float(self.arrows.norm(dim=1).mean())
        if self.moved is not None:
            out["moved"] = float((self.moved - self.fake).norm(dim=1).mean())
        return out

    @property
    def label(self) -> str:
        step = f"D step {self.k} of {self.d_steps}" if self.phase == "D" else "G step"
        return f"iteration {self.iteration} · {step} · {self.name}"

    def row(self) -> dict[str, Any]:
        """This sub-step's numbers (plain JSON): where it is and the one quantity it made."""
        out: dict[str, Any] = {"iteration": self.iteration, "phase": self.phase, "k": self.k, "substep": self.name}
        if self.name == "sample":
            out["batch"] = int(self.fake.shape[0])
        elif self.name == "scores":
            if self.d_real is not None:
                out["d_real"] = float(self.d_real.mean())
            out["d_fake"] = float(self.d_fake.mean())
        elif self.name == "loss":
            out["loss"] = self.loss
        elif self.name == "gradients":
            out["grad_norm"] = self.grad_norm
        else:
            out["update_norm"] = self.update_norm
        return out


def _norm(tensors: list[Tensor]) -> float:
    return float(torch.sqrt(sum((t.double() ** 2).sum() for t in tensors)))


class GANStepper(Run):
    """Step mode over a 2-D GAN run (see the module docstring).

    Args:
        config: a :class:`StepConfig` (its ``gan`` is the run's config; the seed lives there).
        seed: optional; must equal ``config.gan.seed``.
        device: where to train (None: the GAN config's, then :func:`stylelab.device.get_device`).
        points: ``(P, 2)`` your own points, for ``config.gan.data == "custom"``.
        trainer: drive this existing 2-D run (its config must be ``config.gan``) instead of building one.

    Attributes:
        trainer: the GAN run being stepped (its ``step_count`` / ``history`` count whole iterations).
        current: the :class:`SubStep` of the last sub-step (None before the first).
        iterations_done: whole iterations this stepper made.
    """

    kind = "gan-steps"
    lab = "gan"
    config_class = StepConfig

    def __init__(self, config: StepConfig, *, seed: int | None = None, device: Any = None,
                 points: Tensor | None = None, trainer: GANTrainer | None = None) -> None:
        if not isinstance(config, StepConfig):
            raise ConfigError("GANStepper needs a StepConfig.")
        config.validate()
        if seed is not None and seed != config.gan.seed:
            raise ConfigError(f"A step-mode run's seed lives in its GAN config (seed={config.gan.seed}); got seed={seed!r}.")
        if trainer is None:
            trainer = self._build_trainer(config.gan, points, device)
        elif not isinstance(trainer, GANTrainer) or not trainer.config.is_toy:
            raise ConfigError("Step mode drives a 2-D GAN run (GANTrainer on points).")
        elif config_to_dict(trainer.config) != config_to_dict(config.gan):
            raise ConfigError("The run to step has another config than this step mode's.")
        if trainer.world_size != 1:
            raise ConfigError("Step mode drives a single-process run.")
        super().__init__(config, seed=config.gan.seed, device=trainer.device)
        self.trainer = trainer
        self.current: SubStep | None = None
        self.iterations_done = 0
        self._plan: int | None = None  # d_steps of the iteration under way (None: between iterations)
        self._phase = 0  # 0 .. plan-1: D steps, plan: the G step
        self._sub = 0  # the next sub-step of this phase
        self._gen_phase: Tensor | None = None  # the random stream's state when this phase began
        self._w: dict[str, Any] = {}  # what this phase computed (tensors with their graphs)
        self._last_d: dict[str, Any] | None = None  # z and the row numbers of the last D step
        self._pace = True
        self._target: int | None = None

    @staticmethod
    def _build_trainer(cfg: GANConfig, points: Tensor | None, device: Any) -> GANTrainer:
        if cfg.data == "custom":
            from .custom import CustomPointsGAN

            if points is None:
                raise ConfigError("A step-mode run on your own points needs the points (points=...).")
            return CustomPointsGAN(cfg, points, device=device)
        if points is not None:
            raise ConfigError(f"Points are for a run on your own points, not for the {cfg.data!r} distribution.")
        return GANTrainer(cfg, device=device)

    # ------------------------------------------------------------------ where it is
    @property
    def at_boundary(self) -> bool:
        """True between two iterations (the trainer's state is then exactly that of its own steps)."""
        return self._plan is None

    @property
    def next_phase(self) -> str:
        """``"D"`` or ``"G"``: the player the next sub-step belongs to."""
        if self._plan is None:
            return "D"
        return "G" if self._phase >= self._plan else "D"

    @property
    def next_substep(self) -> str:
        return SUBSTEPS[self._sub]

    def position(self) -> str:
        """Where the next sub-step is, in words (``"iteration 3 · D step 1 of 1 · next: scores"``)."""
        d = self._plan if self._plan is not None else self.trainer.config.d_steps
        step = f"D step {self._phase + 1} of {d}" if self.next_phase == "D" else "G step"
        return f"iteration {self.trainer.step_count + 1} · {step} · next: {self.next_substep}"

    @property
    def target(self) -> int:
        """The iterations after which it stops: :meth:`play_until`'s, else ``config.iterations`` (0: never)."""
        return self._target if self._target is not None else self.config.iterations

    @property
    def done(self) -> bool:  # type: ignore[override]
        return bool(self.target) and self.iterations_done >= self.target

    @property
    def total_steps(self) -> int | None:  # type: ignore[override]
        """Sub-steps up to :attr:`target` at the current ``d_steps`` (None: open-ended)."""
        if not self.target:
            return None
        d = self._plan if self._plan is not None else self.trainer.config.d_steps
        in_this = 0 if self._plan is None else self._phase * len(SUBSTEPS) + self._sub  # done in this iteration
        left = max(0, self.target - self.iterations_done) * len(SUBSTEPS) * (d + 1) - in_this
        return self.step_count + max(0, left)

    def play_until(self, iterations: int | None) -> None:
        """Stop after ``iterations`` whole iterations in all (None: back to ``config.iterations``); the page's
        "train N iterations" sets ``iterations_done + N`` here, then plays."""
        if iterations is not None and (not isinstance(iterations, int) or isinstance(iterations, bool) or iterations < 0):
            raise ConfigError(f"A number of iterations must be a non-negative integer, got {iterations!r}.")
        self._target = iterations

    def running(self):  # noqa: ANN201 - the trainer's thread setting around a batch of sub-steps
        return self.trainer.running()

    def preview(self) -> Tensor:
        return self.trainer.preview()

    # ------------------------------------------------------------------ live changes
    def update(self, **changes: Any) -> None:
        """Change ``pace_s`` and the GAN's live hyper-parameters (they act from the next sub-step;
        ``d_steps`` from the next iteration)."""
        bad = sorted(set(changes) - set(LIVE_STEP_FIELDS) - set(LIVE_FIELDS))
        if bad:
            raise ConfigError(f"{bad} cannot change during a run; start a new one instead.")
        mine = {k: v for k, v in changes.items() if k in LIVE_STEP_FIELDS}
        new = dataclasses.replace(self.config, **mine) if mine else self.config  # validates
        gan = {k: v for k, v in changes.items() if k in LIVE_FIELDS}
        if gan:
            self.trainer.update(**gan)
        self.config = dataclasses.replace(new, gan=self.trainer.config)

    # ------------------------------------------------------------------ the sub-steps
    def _d_substep(self, name: str, s: SubStep) -> None:
        tr, w, cfg = self.trainer, self._w, self.trainer.config
        kind = cfg.loss
        if name == "sample":  # x ~ data, z ~ N(0, I), G(z); instance noise on both (the trainer's draws, in order)
            real, _ = tr._real_batch()  # (B, 2)
            z = tr.noise(tr.local_batch)  # (B, Z)
            with torch.no_grad():
                fake = tr.G_train(z, None)  # (B, 2); the G step recomputes it with its graph
            w.update(real=real, z=z, fake=fake, real_in=tr._noisy(real), fake_in=tr._noisy(fake))
            s.real, s.fake = real.detach().cpu(), fake.detach().cpu()
            s.equations = ("gan.step_sample",) + (("gan.instance_noise",) if tr.instance_noise_std() > 0 else ())
        elif name == "scores":  # d_r = D(x), d_f = D(G(z)): one pass over both, as the trainer
            d_r, d_f = tr._d_logits(tr.D_train, w["real_in"], w["fake_in"], None, None)
            w.update(d_r=d_r, d_f=d_f)
            s.d_real, s.d_fake = d_output(d_r, kind).detach().cpu(), d_output(d_f, kind).detach().cpu()
            s.equations = ("gan.step_scores",)
        elif name == "loss":  # L_D = l_D(d_r, d_f) + s E[d_r] + lambda GP
            loss = discriminator_loss(w["d_r"], w["d_f"], kind, check=False)
            extra: tuple[str, ...] = ()
            if cfg.label_smoothing:
                loss = loss + label_smoothing_term(w["d_r"], cfg.label_smoothing, kind)
                extra += (smoothing_equation(kind),)
            if kind == "wgan-gp" and cfg.gp_weight > 0:
                critic = functools.partial(_critic, tr.D, None)
                loss = loss + gradient_penalty(critic, w["real_in"], w["fake_in"], weight=cfg.gp_weight, generator=tr.gen)
                extra += ("loss.gradient_penalty",)
            w["loss"] = loss
            s.loss, s.loss_name = float(loss.detach()), f"loss.d_{kind}"
            s.equations = (s.loss_name, *extra)
            if not math.isfinite(s.loss):
                raise StopRequested(f"Training diverged at iteration {s.iteration} (D's loss is NaN or infinite); "
                                    "lower the learning rates or change the loss.")
        elif name == "gradients":  # grad_theta_D L_D (what the optimiser uses) and the push on every score
            d_r, d_f = w["d_r"], w["d_f"]
            g_r, g_f = torch.autograd.grad(w["loss"], [d_r, d_f], retain_graph=True)
            s.push = (-torch.cat([g_r, g_f]) * d_r.shape[0]).detach().cpu()  # (2B,)
            for p in tr._d_params:
                p.grad = None
            w["loss"].backward()
            s.grad_norm = _norm([p.grad for p in tr._d_params if p.grad is not None])
            s.equations = ("gan.step_grad_d",)
        else:  # update: theta_D <- opt(theta_D, grad L_D)
            before = [p.detach().clone() for p in tr._d_params]
            _update(tr.opt_d)
            s.update_norm = _norm([p.detach() - b for p, b in zip(tr._d_params, before)])
            with torch.no_grad():
                after_r, after_f = tr._d_logits(tr.D_train, w["real_in"], w["fake_in"], None, None)
            s.d_after = d_output(torch.cat([after_r, after_f]), kind).cpu()
            s.equations = (UPDATE_EQUATIONS[cfg.optimizer],)

    def _g_substep(self, name: str, s: SubStep) -> None:
        tr, w, kind = self.trainer, self._w, self.trainer.config.loss
        z = self._last_d["z"]
        if name == "sample":  # the last D step's codes z, through G with its graph (same G: only D moved)
            fake = tr.G_train(z, None)  # (B, 2)
            w.update(fake=fake, fake_in=tr._noisy(fake))
            s.fake = fake.detach().cpu()
            s.equations = ("gan.step_sample_g",) + (("gan.instance_noise",) if tr.instance_noise_std() > 0 else ())
        elif name == "scores":  # d_f = D(G(z)) by the updated D
            w["d_g"] = tr.D(w["fake_in"], None).float()  # (B,)
            s.d_fake = d_output(w["d_g"], kind).detach().cpu()
            s.equations = ("gan.step_scores",)
        elif name == "loss":
            w["loss"] = generator_loss(w["d_g"], kind, check=False)
            s.loss, s.loss_name = float(w["loss"].detach()), f"loss.g_{kind}"
            s.equations = (s.loss_name,)
            if not math.isfinite(s.loss):
                raise StopRequested(f"Training diverged at iteration {s.iteration} (G's loss is NaN or infinite); "
                                    "lower the learning rates or change the loss.")
        elif name == "gradients":  # the arrows -B grad_x L_G on the fakes, then grad_theta_G L_G
            (gx,) = torch.autograd.grad(w["loss"], [w["fake"]], retain_graph=True)
            s.arrows = (-gx * gx.shape[0]).detach().cpu()  # (B, 2)
            for p in tr._g_params:
                p.grad = None
            w["loss"].backward(inputs=tr._g_params)
            s.grad_norm = _norm([p.grad for p in tr._g_params if p.grad is not None])
            s.equations = ("gan.step_grad_g",)
        else:  # update: theta_G <- opt(theta_G, grad L_G); where the same z land now
            before = [p.detach().clone() for p in tr._g_params]
            _update(tr.opt_g)
            s.update_norm = _norm([p.detach() - b for p, b in zip(tr._g_params, before)])
            with torch.no_grad():
                s.moved = tr.G_train(z, None).cpu()
            s.equations = (UPDATE_EQUATIONS[tr.config.optimizer],)

    def _one(self) -> SubStep:
        """Do the next sub-step (no bookkeeping of this Run's rows)."""
        tr = self.trainer
        if self._plan is None:  # a new iteration: d_steps is read now, as the trainer reads it per step
            self._plan, self._phase, self._sub, self._last_d = tr.config.d_steps, 0, 0, None
        if self._sub == 0:
            self._gen_phase = tr.gen.get_state()
            self._w = {}
            phase = "G" if self._phase >= self._plan else "D"
            self.current = SubStep(tr.step_count + 1, phase, 0 if phase == "G" else self._phase + 1, self._plan)
        s = self.current
        s.name = SUBSTEPS[self._sub]
        with tr._threads():
            (self._d_substep if s.phase == "D" else self._g_substep)(s.name, s)
            self._sub += 1
            if self._sub == len(SUBSTEPS):
                self._end_phase(s)
        return s

    def _end_phase(self, s: SubStep) -> None:
        tr, w = self.trainer, self._w
        self._sub = 0
        if s.phase == "D":
            kind = tr.config.loss
            with torch.no_grad():  # the trainer's row numbers of its last D step (one stack, as it logs them)
                values = torch.stack([w["loss"].detach(), d_output(w["d_r"], kind).mean(),
                                      d_output(w["d_f"], kind).mean()]).tolist()
            self._last_d = {"z": w["z"].detach(), "loss_d": values[0], "d_real": values[1], "d_fake": values[2]}
            self._phase += 1
            self._w = {}
            return
        # the G step ends the iteration: the trainer's row, evaluation and counters, as GANTrainer.step
        cfg, step = tr.config, tr.step_count + 1
        row: dict[str, Any] = {"loss_d": self._last_d["loss_d"], "loss_g": float(w["loss"].detach()),
                               "d_real": self._last_d["d_real"], "d_fake": self._last_d["d_fake"]}
        if cfg.metrics_every and step % cfg.metrics_every == 0:
            row.update(tr._evaluate())
        tr.step_count = step
        tr.history.append({"step": step, **row})
        self.iterations_done += 1
        self._plan, self._phase, self._w, self._last_d, self._gen_phase = None, 0, {}, None, None

    def _step(self) -> dict[str, Any]:
        t0 = time.perf_counter()
        s = self._one()
        self.trainer.seconds += time.perf_counter() - t0  # the GAN's own training time (no pauses)
        if self._pace and self.config.pace_s > 0:
            time.sleep(self.config.pace_s)  # slow motion: the page shows this sub-step before the next
        return s.row()

    # ------------------------------------------------------------------ the buttons
    def _until(self, stop: Callable[[SubStep], bool]) -> list[dict[str, Any]]:
        rows = []
        if self._target is not None and self.done:
            self._target = None  # a finished "train N iterations" does not block the buttons
        self._pace = False  # a button runs its sub-steps at full speed
        try:
            with self.running():
                while True:
                    rows.append(self.step())
                    if stop(self.current):
                        return rows
        finally:
            self._pace = True

    def substep(self) -> dict[str, Any]:
        """One sub-step ("Next sub-step"); its row."""
        return self._until(lambda s: True)[0]

    def d_step(self) -> list[dict[str, Any]]:
        """Sub-steps to the end of the next (or current) D step; a :class:`ConfigError` when the G step is next."""
        if self.next_phase != "D":
            raise ConfigError("This iteration's D steps are done: the G step comes next (G step, or Next sub-step).")
        return self._until(lambda s: s.phase == "D" and s.name == SUBSTEPS[-1])

    def g_step(self) -> list[dict[str, Any]]:
        """Sub-steps to the end of the G step; a :class:`ConfigError` while D steps of this iteration remain."""
        if self.next_phase != "G":
            left = (self._plan or self.trainer.config.d_steps) - self._phase
            raise ConfigError(f"The G step comes after this iteration's D step{'s' if left != 1 else ''} "
                              f"({left} left): it reuses their codes z. Press D step first.")
        return self._until(lambda s: s.phase == "G" and s.name == SUBSTEPS[-1])

    def iteration(self) -> list[dict[str, Any]]:
        """Sub-steps to the end of the iteration under way (a whole one from a boundary)."""
        return self._until(lambda s: s.phase == "G" and s.name == SUBSTEPS[-1])

    # ------------------------------------------------------------------ records and checkpoints
    def inputs(self) -> dict[str, Any]:
        return self.trainer.inputs()

    def summary(self) -> dict[str, Any]:
        # the trainer's own numbers, then this run's: "steps" counts sub-steps (what a replay repeats)
        return {**self.trainer.summary(), "steps": self.step_count, "iterations": self.iterations_done}

    @classmethod
    def from_record(cls, record: Any, *, device: Any = None, **inputs: Any) -> "GANStepper":
        """The step-mode run of a record (before its first sub-step); a bad value is a :class:`RecordError`."""
        extra = sorted(set(inputs) - {"points"})
        if extra:
            raise RecordError(f"A step-mode record needs at most its points; got {sorted(inputs)}.")
        rec = as_record(record, cls.lab)
        config = config_from_record(rec, StepConfig, kind=cls.kind)
        if rec.seed != config.gan.seed:
            raise RecordError(f"This record's seed ({rec.seed!r}) differs from its GAN config's seed ({config.gan.seed}).")
        try:
            return cls(config, device=device, points=inputs.get("points"))
        except ConfigError as exc:
            raise RecordError(f"Record config is not a valid step-mode run: {exc}") from exc

    def _state(self) -> dict[str, Any]:
        pos = {"plan": -1 if self._plan is None else self._plan, "phase": self._phase, "sub": self._sub,
               "iterations_done": self.iterations_done}
        out: dict[str, Any] = {"gan": self.trainer.state_dict(), "pos": pos}
        if self._plan is not None and self._sub > 0:
            out["gen_phase"] = self._gen_phase
            out["gen_now"] = self.trainer.gen.get_state()
        if self._last_d is not None:
            out["last_d"] = dict(self._last_d)
        return out

    def _load_state(self, state: Mapping[str, Any]) -> None:
        try:
            self.trainer.load_state_dict(state["gan"])
            pos = state["pos"]
            plan, phase, sub = int(pos["plan"]), int(pos["phase"]), int(pos["sub"])
            last_d = state.get("last_d")
            self.iterations_done = int(pos["iterations_done"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"This step-mode state is incomplete: {exc}") from exc
        self._plan = None if plan < 0 else plan
        self._phase, self._sub, self._w, self.current = phase, 0, {}, None
        self._last_d = dict(last_d) if last_d is not None else None
        if self._plan is None or sub == 0:
            return
        # mid-step: replay its sub-steps from the stream's state at the step's start (no weight changes)
        self.trainer.gen.set_state(state["gen_phase"])
        seconds = self.trainer.seconds
        for _ in range(sub):
            self._one()
        self.trainer.seconds = seconds
        if not torch.equal(self.trainer.gen.get_state(), state["gen_now"]):
            raise CheckpointError("This step-mode state does not replay to where it was saved (another torch version?).")

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from :meth:`state_dict`; live settings (``pace_s``, the GAN's live fields) come from it."""
        check_state(state, self.kind)
        if state.get("seed") != self.seed:
            raise CheckpointError(f"This step-mode state was saved with seed {state.get('seed')!r}, not {self.seed}.")
        theirs = state.get("config")
        if not isinstance(theirs, Mapping) or not isinstance(theirs.get("gan"), Mapping):
            raise CheckpointError("This step-mode state has no config.")
        mine = config_to_dict(self.config)
        if {k: v for k, v in theirs.items() if k not in ("gan", *LIVE_STEP_FIELDS)} != \
                {k: v for k, v in mine.items() if k not in ("gan", *LIVE_STEP_FIELDS)}:
            raise CheckpointError("This step-mode state was saved with other settings.")
        self._load_state(state["state"])
        try:
            self.config = dataclasses.replace(self.config, gan=self.trainer.config,
                                              **{k: theirs[k] for k in LIVE_STEP_FIELDS if k in theirs})
        except ConfigError as exc:
            raise CheckpointError(f"This step-mode state's settings are not valid: {exc}") from exc
        self.step_count = int(state["step_count"])
        self.seconds = float(state.get("seconds", 0.0))
        self.history = [dict(r) for r in state["history"]]


def step_mode(trainer: GANTrainer, pace_s: float = 0.0) -> GANStepper:
    """Step mode over an existing 2-D run, from where it is (the run itself is driven: it is the same GAN)."""
    return GANStepper(StepConfig(gan=trainer.config, pace_s=pace_s), trainer=trainer)


def copy_of(trainer: GANTrainer) -> GANTrainer:
    """A new run at the same point as ``trainer`` (weights, optimisers, random stream, history)."""
    clone = GANStepper._build_trainer(dataclasses.replace(trainer.config), trainer.inputs().get("points"), trainer.device)
    # a deep copy: torch's Optimizer.load_state_dict keeps the very tensors it is given (same dtype and
    # device), so loading a live state_dict would make both runs update one set of Adam moments
    clone.load_state_dict(copy.deepcopy(trainer.state_dict()))
    return clone


def small_run(seed: int = 0, device: Any = None) -> GANStepper:
    """A small step-mode run on the ring: 16-wide MLPs, batch 32, 3 iterations (30 sub-steps)."""
    gan = GANConfig(data="ring", loss="ns", n_points=256, hidden=16, batch_size=32, metrics_every=1,
                    eval_samples=64, seed=seed)
    return GANStepper(StepConfig(gan=gan, iterations=3), device=device)


__all__ = ["GANStepper", "LIVE_STEP_FIELDS", "MAX_PACE_S", "SUBSTEPS", "StepConfig", "SubStep", "UPDATE_EQUATIONS",
           "copy_of", "small_run", "step_mode"]
