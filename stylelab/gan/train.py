r"""Training a GAN: a config and a trainer that is a :class:`stylelab.run.Run` (kind ``"gan"``).

One training step (Goodfellow et al. 2014, Algorithm 1; the loss of each player is a function of
``stylelab.losses.adversarial``, chosen by ``GANConfig.loss``)::

    for k in range(d_steps):                      # update D (the critic) k times
        x ~ data, z ~ N(0, I)
        L_D = discriminator_loss(D(x), D(G(z)))   # + gradient_penalty for wgan-gp
              + label_smoothing_term(D(x))        # one-sided label smoothing, if any
        theta_D <- optimiser(theta_D, grad L_D)
    L_G = generator_loss(D(G(z)))                 # reuses the last G(z) (as pytorch/examples dcgan)
    theta_G <- optimiser(theta_G, grad L_G)

Everything random comes from the trainer's own generators (:func:`stylelab.run.make_generator`,
one stream each): the data set (stream 0), the initial weights (stream 1, on the CPU, built
without the global RNG by :func:`stylelab.gan.models.build_seeded`), the fixed noise (2), the
default samples (3), and the training stream of batches, z, instance noise and the WGAN-GP epsilon
(100 + rank), whose state is part of the checkpoint: training 2N steps equals training N, saving,
loading and training N more (bit for bit, same device and versions). Evaluation (energy distance,
mode coverage, FID, KID) uses its own seeded generator, so measuring never changes the course of
training. Nothing here seeds or draws from torch's global RNG.

The trainer holds no UI code: the page (through :func:`stylelab.ui.live.live_run`), the CLI and
``stylelab.gan.ddp`` drive it with :func:`stylelab.run.advance` / :func:`stylelab.run.run_to_end`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ..device import torch_threads
from ..errors import CheckpointError, ConfigError, RecordError, StopRequested
from ..losses.adversarial import discriminator_loss, generator_loss, gradient_penalty
from ..run import (
    STATE_FORMAT,
    Run,
    as_record,
    check_state,
    config_from_record,
    config_to_dict,
    make_generator,
    run_to_end,
)
from .config import (  # re-exported: the config is importable without torch (stylelab.gan.config)
    DEFAULT_LR,
    LIVE_FIELDS,
    OPTIMIZERS,
    GANConfig,
    default_lr,
    default_metrics_every,
)
from .data import is_toy, load_image_set, sample_toy, to_unit, toy_modes
from .metrics import energy_distance, mode_collapse_warning, mode_coverage
from .models import DCDiscriminator, DCGenerator, MLPDiscriminator, MLPGenerator, build_seeded
from .objectives import PROBABILISTIC, SMOOTHING_OK, check_smoothing
from .optim import LeanAdam
from .stylegan import StyleGenerator

#: The format of the GAN checkpoints written before the Run contract; :meth:`GANTrainer.load` still reads them.
CHECKPOINT_FORMAT = "stylelab.gan.checkpoint/1"

#: Fields a checkpoint may differ in from the run it is loaded into (how, where and how long it runs).
_RESUMABLE_FIELDS = (*LIVE_FIELDS, "device", "eval_samples", "threads", "amp", "steps")


def label_smoothing_term(real_logits: Tensor, smoothing: float, kind: str) -> Tensor:
    r"""What one-sided label smoothing adds to the discriminator loss (Salimans et al. 2016).

    With the real label softened from 1 to :math:`1 - s`, the real part of the D loss becomes
    :math:`(1 - s)\,\ell_1(d_r) + s\,\ell_0(d_r)`, where :math:`\ell_1` / :math:`\ell_0` are the
    losses for labels 1 / 0. So the smoothed loss is the plain loss plus
    :math:`s\,\mathbb{E}[\ell_0(d_r) - \ell_1(d_r)]`, and the difference is simple:

    .. math::
        \text{minimax, ns:}\quad \mathrm{softplus}(d) - \mathrm{softplus}(-d) = d
        \qquad\qquad \text{lsgan:}\quad \tfrac12 d^2 - \tfrac12 (d - 1)^2 = d - \tfrac12

    i.e. label smoothing is a linear penalty :math:`s\,\mathbb{E}[d_r]` on how sure D is about
    real samples (a constant apart for LSGAN).

    Args:
        real_logits: ``(N,)`` D logits on real samples.
        smoothing: ``s`` in [0, 0.5].
        kind: ``minimax``, ``ns`` or ``lsgan`` (:data:`stylelab.gan.objectives.SMOOTHING_OK`).

    Returns:
        Scalar to add to ``discriminator_loss(real_logits, fake_logits, kind)``.
    """
    if kind not in SMOOTHING_OK:
        check_smoothing(kind, 1.0)
    shift = 0.5 if kind == "lsgan" else 0.0
    return smoothing * (real_logits.mean() - shift)


def r1_penalty(critic: Callable[[Tensor], Tensor], real: Tensor, weight: float) -> Tensor:
    r"""The R1 penalty (Mescheder et al. 2018): D's gradient at the real samples, squared.

    .. math::
        R_1 = rac{\gamma}{2}\,\mathbb{E}_{x \sim p_{data}}ig[\|
abla_x D(x)\|^2ig]

    It pulls D towards flat scores on the data (no gradient for G to chase round the real samples)
    and is what StyleGAN trains its non-saturating loss with. Built with ``create_graph=True`` so
    that it can be minimised by D.

    Args:
        critic: images ``(N, C, H, W)`` -> D's logits ``(N,)``.
        real: ``(N, C, H, W)`` real samples (as D sees them).
        weight: ``gamma``.

    Returns:
        Scalar to add to D's loss.
    """
    x = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)  # (N, C, H, W)
    return 0.5 * weight * grad.square().flatten(1).sum(dim=1).mean()


def d_output(logits: Tensor, kind: str) -> Tensor:
    """D's output in its own units: the probability ``sigmoid(d)`` for minimax/ns, the raw score otherwise."""
    return torch.sigmoid(logits) if kind in PROBABILISTIC else logits


def _critic(d: nn.Module, labels: Tensor | None, x: Tensor) -> Tensor:
    return d(x, labels).float()




def _fused_ok(device: torch.device) -> bool:
    return device.type in ("cpu", "cuda")


def _update(opt: torch.optim.Optimizer) -> None:
    (opt.fast_step if isinstance(opt, LeanAdam) else opt.step)()


class GANTrainer(Run):
    """Trains one GAN, a step at a time: a :class:`stylelab.run.Run` of kind ``"gan"``.

    Args:
        config: the run's :class:`GANConfig` (its ``seed`` is the run's seed).
        rank, world_size: this process and the number of processes (``stylelab.gan.ddp``).
            Model weights are initialised identically on every rank; each rank draws its data
            shard and noise from its own stream.
        device: where to train (None: ``config.device``, and if that is None too
            :func:`stylelab.device.get_device`).
        seed: optional; must equal ``config.seed`` (the seed lives in the config).

    Attributes:
        G, D: the generator and discriminator (plain modules, also under DDP).
        history: one row per step (``step``, ``loss_d``, ``loss_g``, ``d_real``, ``d_fake``) plus
            evaluation keys every ``metrics_every`` steps.
        step_count: generator updates done; ``seconds``: wall time spent stepping.
        total_steps: ``config.steps`` (None when 0: open-ended), or the target set by :meth:`play_until`.
    """

    kind = "gan"
    lab = "gan"
    config_class = GANConfig

    def __init__(self, config: GANConfig, rank: int = 0, world_size: int = 1, *, device: Any = None,
                 seed: int | None = None) -> None:
        if not isinstance(config, GANConfig):
            raise ConfigError("GANTrainer needs a GANConfig.")
        config.validate()
        if seed is not None and seed != config.seed:
            raise ConfigError(f"A GAN run's seed lives in its config (seed={config.seed}); got seed={seed!r} as well.")
        super().__init__(config, seed=config.seed, device=device if device is not None else config.device)
        self.rank, self.world_size = rank, world_size
        if config.batch_size % world_size:
            raise ConfigError(f"batch_size {config.batch_size} must be divisible by the {world_size} processes.")
        self.local_batch = config.batch_size // world_size
        self._target: int | None = None
        self._build_data()
        weights = make_generator(self.seed, "cpu", stream=1)  # same initial weights on every rank and device
        self.G, self.D = self._build_models(weights)
        self.G.to(self.device)
        self.D.to(self.device)
        self.G_train: nn.Module = self.G  # replaced by DDP wrappers in stylelab.gan.ddp
        self.D_train: nn.Module = self.D
        self._g_params, self._d_params = list(self.G.parameters()), list(self.D.parameters())
        self.opt_g = self._optimizer(self.G, config.lr_g_value)
        self.opt_d = self._optimizer(self.D, config.lr_d_value)
        self.gen = make_generator(self.seed, self.device, stream=100 + rank)  # rank-specific training stream
        if self.is_style:  # StyleGAN-lite's noise inputs and style mixing draw from the training stream
            self.G.noise_generator = self.gen
        fixed = make_generator(self.seed, self.device, stream=2)
        self.fixed_z = torch.randn(config.num_fixed, config.z_dim, generator=fixed, device=self.device)  # (F, Z)
        self.fixed_labels = (torch.arange(config.num_fixed, device=self.device) % max(1, self.num_classes))
        self._evaluator = None
        self._d_bn: bool | None = None

    # ------------------------------------------------------------------ construction
    def _build_data(self) -> None:
        cfg = self.config
        gen = make_generator(self.seed, "cpu", stream=0)  # the data set is the same on every rank
        if cfg.is_toy:
            self.real = sample_toy(cfg.data, cfg.n_points, cfg.data_noise, generator=gen).to(self.device)  # (P, 2)
            self.labels = None
            self.images = None
            self.modes = toy_modes(cfg.data)
            self.num_classes = 0
        else:
            self.images = load_image_set(cfg.data, cfg.classes or None)
            self.real = self.images.images.to(self.device)  # (N, 1, H, W) in [-1, 1]
            self.labels = self.images.labels.to(self.device)  # (N,)
            self.modes = None
            self.num_classes = self.images.num_classes
        # DistributedSampler-style shard: a seeded permutation, every world_size-th index from rank.
        order = torch.randperm(self.real.shape[0], generator=gen)
        self.shard = order[self.rank :: self.world_size].to(self.device)
        self._shard_x = self.real[self.shard]  # this rank's samples: one gather per batch instead of two
        self._shard_y = None if self.labels is None else self.labels[self.shard]

    def _build_models(self, generator: torch.Generator) -> tuple[nn.Module, nn.Module]:
        cfg = self.config
        if cfg.is_toy:
            return (build_seeded(lambda: MLPGenerator(cfg.z_dim, cfg.hidden, cfg.depth), generator),
                    build_seeded(lambda: MLPDiscriminator(2, cfg.hidden, cfg.depth), generator))
        k = self.num_classes if cfg.conditional else 0
        size = self.images.image_size
        if cfg.model == "stylegan":
            g = build_seeded(lambda: StyleGenerator(cfg.z_dim, size, 1, cfg.base_channels), generator)
        else:
            g = build_seeded(lambda: DCGenerator(cfg.z_dim, size, 1, cfg.base_channels, num_classes=k), generator)
        # WGAN-GP penalises each sample's gradient: batch norm would couple samples (Gulrajani et al.).
        d = build_seeded(lambda: DCDiscriminator(size, 1, cfg.base_channels, num_classes=k,
                                                 batch_norm=cfg.loss != "wgan-gp"), generator)
        return g, d

    def _optimizer(self, model: nn.Module, lr: float) -> torch.optim.Optimizer:
        cfg = self.config
        params = list(model.parameters())
        if cfg.optimizer == "adam":
            if _fused_ok(self.device):  # torch's fused Adam kernel, called with less Python (see .optim)
                return LeanAdam(params, lr=lr, betas=(cfg.beta1, cfg.beta2))
            return torch.optim.Adam(params, lr=lr, betas=(cfg.beta1, cfg.beta2))
        if cfg.optimizer == "rmsprop":
            return torch.optim.RMSprop(params, lr=lr, foreach=True)
        return torch.optim.SGD(params, lr=lr, momentum=cfg.beta1, foreach=True)

    @property
    def conditional(self) -> bool:
        return self.config.conditional and self.num_classes > 0

    @property
    def is_style(self) -> bool:
        """True when G is StyleGAN-lite (:class:`stylelab.gan.stylegan.StyleGenerator`)."""
        return isinstance(self.G, StyleGenerator)

    @property
    def d_has_batchnorm(self) -> bool:
        if self._d_bn is None:
            self._d_bn = any(isinstance(m, nn.BatchNorm2d) for m in self.D.modules())
        return self._d_bn

    # ------------------------------------------------------------------ live changes
    def update(self, **changes: Any) -> None:
        """Change live hyper-parameters (:data:`LIVE_FIELDS`) between steps; validated first."""
        bad = sorted(set(changes) - set(LIVE_FIELDS))
        if bad:
            raise ConfigError(f"{bad} cannot change during a run; start a new run instead.")
        new = dataclasses.replace(self.config, **changes)  # validates
        if new.loss == "wgan-gp" and self.d_has_batchnorm:
            raise ConfigError("WGAN-GP needs a discriminator without batch norm: start a new run with loss wgan-gp.")
        self.config = new
        for opt, lr in ((self.opt_g, new.lr_g_value), (self.opt_d, new.lr_d_value)):
            for group in opt.param_groups:
                group["lr"] = lr
                if "betas" in group:
                    group["betas"] = (new.beta1, new.beta2)
                if "momentum" in group and new.optimizer == "sgd":
                    group["momentum"] = new.beta1

    # ------------------------------------------------------------------ sampling
    def noise(self, n: int) -> Tensor:
        """``n`` codes z ~ N(0, I) from the training stream: ``(n, Z)``."""
        return torch.randn(n, self.config.z_dim, generator=self.gen, device=self.device)  # (n, Z)

    def _real_batch(self) -> tuple[Tensor, Tensor | None]:
        pick = torch.randint(self.shard.shape[0], (self.local_batch,), generator=self.gen, device=self.device)
        return self._shard_x[pick], (self._shard_y[pick] if self._shard_y is not None else None)

    def _noisy(self, x: Tensor) -> Tensor:
        if self.config.instance_noise <= 0:
            return x
        sigma = self.instance_noise_std()
        if sigma <= 0:
            return x
        return x + sigma * torch.randn(x.shape, generator=self.gen, device=x.device, dtype=x.dtype)

    def instance_noise_std(self) -> float:
        cfg = self.config
        if cfg.instance_noise <= 0:
            return 0.0
        if cfg.instance_noise_decay <= 0:
            return cfg.instance_noise
        return cfg.instance_noise * max(0.0, 1.0 - self.step_count / cfg.instance_noise_decay)

    @torch.no_grad()
    def sample(self, n: int, labels: Tensor | None = None, seed: int | None = None) -> Tensor:
        """``n`` generated samples in eval mode: ``(n, 2)`` points or ``(n, 1, H, W)`` images in [-1, 1].

        ``seed``: draw z from a generator seeded with it (None: the run's own sample stream, so the
        same weights always give the same samples). Never touches the global RNG.
        """
        gen = (make_generator(self.seed, self.device, stream=3) if seed is None
               else torch.Generator(device=self.device).manual_seed(seed))
        z = torch.randn(n, self.config.z_dim, generator=gen, device=self.device)
        if self.conditional and labels is None:
            labels = torch.arange(n, device=self.device) % self.num_classes
        return self.generate(z, labels)

    @torch.no_grad()
    def generate(self, z: Tensor, labels: Tensor | None = None, noise: bool = True) -> Tensor:
        """G(z) in eval mode (batch-norm running statistics), in chunks of 1,000.

        StyleGAN-lite: its noise inputs draw from the run's evaluation stream (4), re-seeded on
        every call, so the same weights and z give the same images and the training stream is
        untouched; ``noise=False`` switches them off.
        """
        was = self.G.training
        self.G.eval()
        scope = (self.G.noise_from(make_generator(self.seed, self.device, stream=4), enabled=noise) if self.is_style
                 else contextlib.nullcontext())
        try:
            with scope:
                outs = [self.G(z[i : i + 1000], None if labels is None else labels[i : i + 1000])
                        for i in range(0, z.shape[0], 1000)]
        finally:
            self.G.train(was)
        return torch.cat(outs).float()

    def latent(self, seed: int) -> Tensor:
        """The code z ~ N(0, I) of sample ``seed``: ``(Z,)`` on the CPU (the same for every run with this z size)."""
        return torch.randn(self.config.z_dim, generator=torch.Generator().manual_seed(int(seed)))

    def fixed_samples(self) -> Tensor:
        """G on the fixed noise: the sample grid that stays comparable across steps."""
        return self.generate(self.fixed_z, self.fixed_labels if self.conditional else None)

    # ------------------------------------------------------------------ training
    def _d_logits(self, module: nn.Module, real: Tensor, fake: Tensor, y_real: Tensor | None,
                  y_fake: Tensor | None) -> tuple[Tensor, Tensor]:
        if not self.d_has_batchnorm:  # one pass over real + fake: fewer, larger kernels
            y = None if y_real is None else torch.cat([y_real, y_fake])
            out = module(torch.cat([real, fake]), y).float()  # (2B,)
            return out[: real.shape[0]], out[real.shape[0] :]
        # Batch norm: separate real and fake batches, as in DCGAN (mixed statistics would leak labels).
        return module(real, y_real).float(), module(fake, y_fake).float()

    def _step(self) -> dict[str, Any]:
        r"""One generator update after ``d_steps`` discriminator updates; returns this step's numbers.

        For k = 1..d_steps, with :math:`x \sim` data, :math:`z \sim N(0, I)` (``(B, Z)``):

        .. math::
            \mathcal{L}_D = \ell_D(D(x + \sigma\epsilon), D(G(z) + \sigma\epsilon))
                + s\,\mathbb{E}[d_r] + \lambda\,\mathrm{GP},\qquad
            \theta_D \leftarrow \mathrm{opt}(\theta_D, \nabla_{\theta_D}\mathcal{L}_D)

        then, on the last fakes judged by the updated D,
        :math:`\mathcal{L}_G = \ell_G(D(G(z) + \sigma\epsilon))`,
        :math:`\theta_G \leftarrow \mathrm{opt}(\theta_G, \nabla_{\theta_G}\mathcal{L}_G)`.

        Raises:
            StopRequested: the loss became NaN or infinite (the run stops; lower the learning rates).
        """
        with self._threads():
            return self._update_once()

    def _update_once(self) -> dict[str, Any]:
        cfg, kind = self.config, self.config.loss
        amp = cfg.amp and not cfg.is_toy
        if amp:
            from ..device import autocast

            precision = functools.partial(autocast, self.device)
        else:  # no autocast bookkeeping at all on the fast 2-D path
            precision = contextlib.nullcontext
        for k in range(cfg.d_steps):
            real, y_real = self._real_batch()  # (B, ...)
            z = self.noise(self.local_batch)  # (B, Z)
            y_fake = y_real  # conditional: generate the classes of the real batch
            last = k == cfg.d_steps - 1
            with precision():
                if last:
                    fake = self.G_train(z, y_fake)  # kept with its graph for the G step
                else:
                    with torch.no_grad():
                        fake = self.G_train(z, y_fake)
                real_in, fake_in = self._noisy(real), self._noisy(fake.detach())
                d_r, d_f = self._d_logits(self.D_train, real_in, fake_in, y_real, y_fake)
            # L_D = l_D(d_r, d_f): the loss itself is checked below, once per step
            loss_d = discriminator_loss(d_r, d_f, kind, check=False)
            if cfg.label_smoothing:  # + s E[d_r] (- s/2 for LSGAN): the real label is 1 - s
                loss_d = loss_d + label_smoothing_term(d_r, cfg.label_smoothing, kind)
            if kind == "wgan-gp" and cfg.gp_weight > 0:  # + lambda E[(||grad D(x_hat)|| - 1)^2]
                critic = functools.partial(_critic, self.D, y_real if self.conditional else None)
                loss_d = loss_d + gradient_penalty(critic, real_in, fake_in, weight=cfg.gp_weight, generator=self.gen)
            if cfg.r1_weight > 0:  # + gamma/2 E[||grad_x D(x)||^2] on the real batch
                critic = functools.partial(_critic, self.D, y_real if self.conditional else None)
                loss_d = loss_d + r1_penalty(critic, real_in, cfg.r1_weight)
            for p in self._d_params:
                p.grad = None
            loss_d.backward()
            _update(self.opt_d)  # theta_D <- opt(theta_D, grad L_D)
        # L_G = l_G(D(G(z))) on the last fakes, judged by the updated D (plain module: D is not trained here).
        with precision():
            d_g = self.D(self._noisy(fake), y_fake).float()  # (B,)
        loss_g = generator_loss(d_g, kind, check=False)
        for p in self._g_params:
            p.grad = None
        loss_g.backward(inputs=self._g_params)
        _update(self.opt_g)  # theta_G <- opt(theta_G, grad L_G)
        step = self.step_count + 1
        with torch.no_grad():  # one stack, one copy to Python: the cheapest way to log 4 numbers
            values = torch.stack([loss_d.detach(), loss_g.detach(), d_output(d_r, kind).mean(),
                                  d_output(d_f, kind).mean()]).tolist()
        row: dict[str, Any] = {"loss_d": values[0], "loss_g": values[1], "d_real": values[2], "d_fake": values[3]}
        if not (math.isfinite(row["loss_d"]) and math.isfinite(row["loss_g"])):
            raise StopRequested(f"Training diverged at step {step} (loss is NaN or infinite); "
                                "lower the learning rates or change the loss.")
        if cfg.metrics_every and step % cfg.metrics_every == 0:
            row.update(self._evaluate())
        return row

    # ------------------------------------------------------------------ length and drivers
    @property
    def total_steps(self) -> int | None:  # type: ignore[override]
        """Where the run stops: the target of :meth:`play_until`, else ``config.steps`` (None if 0: open-ended)."""
        if self._target is not None:
            return self._target
        return self.config.steps or None

    def play_until(self, steps: int | None) -> None:
        """Make the run stop after ``steps`` steps in all (None: back to ``config.steps``).

        The page's "Step" and "Train N" buttons set ``step_count + N`` here, then let the live driver
        play the run to that point.
        """
        if steps is not None and (not isinstance(steps, int) or isinstance(steps, bool) or steps < 0):
            raise ConfigError(f"A run length must be a non-negative integer, got {steps!r}.")
        self._target = steps

    def train(self, steps: int, callback: Callable[["GANTrainer", dict[str, Any]], bool | None] | None = None) -> list[dict[str, Any]]:
        """Run ``steps`` more steps with :func:`stylelab.run.run_to_end`; returns their rows.

        ``callback(trainer, row)`` after each step may return False (or raise :class:`StopRequested`)
        to stop early; the trainer stays consistent and can be continued or saved.
        """
        if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
            raise ConfigError(f"steps must be a non-negative integer, got {steps!r}.")
        first = len(self.history)
        stopped = False

        def after(run: Run, row: dict[str, Any]) -> bool | None:
            nonlocal stopped
            if callback is None:
                return None
            try:
                keep_going = callback(self, row)
            except StopRequested:
                keep_going = False
            stopped = keep_going is False
            return keep_going

        run_to_end(self, after, stop=lambda: stopped, max_steps=steps)
        return self.history[first:]

    @contextlib.contextmanager
    def _threads(self) -> Iterator[None]:
        """The CPU threads this run uses (``config.threads``; 0: one thread on CPU).

        These models are small: a second thread mostly adds synchronisation, and when other work
        shares the CPU its spin-waiting made a digits8 DCGAN 20x slower here (2.4 vs 48 steps/s).
        Re-entrant: inside :meth:`running` (entered once per batch by the drivers) a step does not
        set and restore the thread count again (that cost ~10% of a DCGAN step).
        """
        if getattr(self, "_threads_held", False):
            yield
            return
        self._threads_held = True
        try:
            with torch_threads(self.config.threads or (1 if self.device.type == "cpu" else 0)):
                yield
        finally:
            self._threads_held = False

    def running(self) -> contextlib.AbstractContextManager[None]:
        """The drivers hold this run's thread setting once around a batch of steps."""
        return self._threads()

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, n: int | None = None) -> dict[str, Any]:
        """See :meth:`_evaluate`; runs with this run's thread setting."""
        with self._threads():
            return self._evaluate(n)

    def _evaluate(self, n: int | None = None) -> dict[str, Any]:
        """Measures of the current generator (seeded, so the same weights give the same numbers).

        Points: ``energy_distance`` to the training points, and ``coverage`` / ``high_quality``
        where the distribution has modes (ring, grid). Images: ``fid``, ``kid``, ``confidence``,
        ``coverage`` (classes), ``class_hist`` in the feature space of ``stylelab.gan.classifier``.
        """
        n = n or self.config.eval_samples
        fake = self.sample(n, seed=self.config.seed + 3)
        if self.config.is_toy:
            ref = self.real[: min(n, self.real.shape[0])]
            out: dict[str, Any] = {"energy_distance": float(energy_distance(ref.float(), fake))}
            if self.modes is not None:
                sigma = self.config.data_noise if self.config.data_noise is not None else 0.05
                cov = mode_coverage(fake.cpu(), self.modes, radius=max(3 * sigma, 0.1))
                out.update(coverage=cov.fraction, high_quality=cov.high_quality, modes_covered=cov.covered)
            return out
        return dict(self.evaluator.evaluate(fake.cpu()))

    @property
    def evaluator(self):  # noqa: ANN201 - ImageEvaluator, imported lazily
        if self._evaluator is None:
            from .classifier import ImageEvaluator

            self._evaluator = ImageEvaluator(self.images, num_real=1000, seed=self.config.seed)
        return self._evaluator

    def collapse_warning(self) -> str | None:
        """Mode-collapse warning from the coverage history (modes for points, classes for images)."""
        return mode_collapse_warning([r["coverage"] for r in self.history if "coverage" in r])

    def export_samples(self, n: int = 1000) -> "Any":
        """``n`` samples as numpy: points ``(n, 2)`` or images ``(n, H, W)`` in [0, 1]."""
        x = self.sample(n).cpu()
        return x.numpy() if self.config.is_toy else to_unit(x)[:, 0].numpy()

    def sample_grid(self, n: int | None = None, nrow: int = 8) -> Tensor:
        """The fixed-noise samples (the first ``n``) tiled into one ``(1, H', W')`` grid in [0, 1] (images only)."""
        from ..imageio import image_grid

        if self.config.is_toy:
            raise ConfigError("A sample grid is for image runs; 2-D runs are drawn as points.")
        pics = self.fixed_samples().cpu()
        return image_grid(to_unit(pics if n is None else pics[:n]), nrow=nrow)

    def preview(self) -> Tensor:
        """The current picture ``(3, H, W)`` in [0, 1] on the CPU.

        Images: the fixed-noise sample grid (grey repeated to RGB). Points: 500 real (blue) and
        500 generated (orange) points drawn as dots on a white 128 x 128 canvas over the real
        points' bounds (the page draws the full interactive view itself).
        """
        if not self.config.is_toy:
            return self.sample_grid().expand(3, -1, -1).contiguous().float()
        size = 128
        real = self.real[:500].float().cpu()
        fake = self.sample(500).cpu()
        lo, hi = float(real.min()) - 0.5, float(real.max()) + 0.5
        canvas = torch.ones(3, size, size)
        for pts, rgb in ((real, (0.12, 0.47, 0.71)), (fake, (1.0, 0.5, 0.05))):
            ij = ((pts - lo) / (hi - lo) * (size - 1)).round().long()  # (n, 2) pixel columns / rows
            keep = ((ij >= 0) & (ij < size)).all(dim=1)
            x, y = ij[keep, 0], (size - 1) - ij[keep, 1]  # y grows upwards in the plot
            for c in range(3):
                canvas[c, y, x] = rgb[c]
        return canvas

    # ------------------------------------------------------------------ records
    def summary(self) -> dict[str, Any]:
        """Steps, wall time and the last evaluation (without the class histogram)."""
        last_eval = next((r for r in reversed(self.history) if "fid" in r or "energy_distance" in r), {})
        return {"steps": self.step_count, "seconds": round(self.seconds, 3),
                **{k: v for k, v in last_eval.items() if k not in ("class_hist", "step")}}

    def record(self, notes: str = "") -> "Any":
        """The run as an :class:`~stylelab.record.ExperimentRecord` (lab ``gan``, config kind ``gan``)."""
        from ..device import describe_device

        rec = super().record(notes)
        rec.device = describe_device(self.device)
        return rec

    @classmethod
    def from_record(cls, record: Any, *, device: Any = None, **inputs: Any) -> "GANTrainer":
        """The run of a record (before its first step); a bad value is a :class:`RecordError`, never clamped.

        Records written before the Run contract (no ``kind`` in their config) are read too.
        """
        if inputs:
            raise RecordError(f"A GAN record needs no pictures; got {sorted(inputs)}.")
        rec = as_record(record, cls.lab)
        config = config_from_record(rec, GANConfig, kind=cls.kind)
        if rec.seed != config.seed:
            raise RecordError(f"This GAN record's seed ({rec.seed!r}) differs from its config's seed ({config.seed}).")
        try:
            return cls(config, device=device)
        except ConfigError as exc:
            raise RecordError(f"Record config is not a valid GAN run: {exc}") from exc

    # ------------------------------------------------------------------ checkpoints
    def _state(self) -> dict[str, Any]:
        return {
            "G": self.G.state_dict(),
            "D": self.D.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "rng": self.gen.get_state(),
            "fixed_z": self.fixed_z,
        }

    def _load_state(self, state: Mapping[str, Any]) -> None:
        try:
            self.G.load_state_dict(state["G"])
            self.D.load_state_dict(state["D"])
            self.opt_g.load_state_dict(state["opt_g"])
            self.opt_d.load_state_dict(state["opt_d"])
            self.gen.set_state(state["rng"])
            self.fixed_z = state["fixed_z"].to(self.device)
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            raise CheckpointError(f"Checkpoint does not fit this GAN: {exc}") from exc

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from a :meth:`state_dict` (or a checkpoint of the old ``stylelab.gan.checkpoint/1`` format).

        The checkpoint may differ from this run only in :data:`LIVE_FIELDS` (taken from the
        checkpoint) and where/how long it runs; anything else is a :class:`CheckpointError`.
        """
        state = _as_run_state(state)
        check_state(state, self.kind)
        if state.get("seed") != self.seed:
            raise CheckpointError(f"This GAN checkpoint was saved with seed {state.get('seed')!r}, not {self.seed}.")
        theirs = state.get("config")
        if not isinstance(theirs, Mapping):
            raise CheckpointError("This GAN Lab checkpoint has no config.")
        mine = {k: v for k, v in config_to_dict(self.config).items() if k not in _RESUMABLE_FIELDS}
        other = {k: v for k, v in config_to_dict({"model": "dcgan", **theirs}).items()  # before StyleGAN-lite: a DCGAN
                 if k not in _RESUMABLE_FIELDS}
        if mine != other:
            diff = sorted(k for k in set(mine) | set(other) if mine.get(k) != other.get(k))
            raise CheckpointError(f"Checkpoint was made for another configuration (differs in {diff}).")
        self._load_state(state["state"])
        try:
            self.update(**{k: v for k, v in theirs.items() if k in LIVE_FIELDS})
        except ConfigError as exc:
            raise CheckpointError(f"Checkpoint settings are not valid: {exc}") from exc
        self.step_count = int(state["step_count"])
        self.seconds = float(state.get("seconds", 0.0))
        self.history = [dict(r) for r in state["history"]]

    def save(self, path: str | Path) -> Path:
        """Save a checkpoint atomically (:func:`stylelab.checkpoint.save_checkpoint`); read it with :meth:`load`."""
        from ..checkpoint import save_checkpoint

        return save_checkpoint(self.state_dict(), path)

    @classmethod
    def load(cls, source: "str | Path | bytes | Any", device: str | None = None) -> "GANTrainer":
        """Rebuild a trainer from a checkpoint file, bytes or file object (``weights_only=True``).

        Reads the Run format (``stylelab.run/1``, kind ``gan``) and the GAN Lab's older
        ``stylelab.gan.checkpoint/1``. ``device``: where to continue (None: get_device()).
        """
        from ..checkpoint import load_checkpoint

        state = _as_run_state(load_checkpoint(source, "GAN Lab checkpoint", map_location="cpu"))
        check_state(state, cls.kind)
        if not isinstance(state.get("config"), Mapping):
            raise CheckpointError("This GAN Lab checkpoint has no config.")
        cfg_dict = dict(state["config"])
        cfg_dict.pop("kind", None)
        names = {f.name for f in dataclasses.fields(GANConfig)}
        unknown = sorted(set(cfg_dict) - names)
        if unknown:
            raise CheckpointError(f"This GAN Lab checkpoint has settings {unknown} that this version does not know.")
        cfg_dict["device"] = device
        try:
            config = GANConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in cfg_dict.items()})
        except (TypeError, ConfigError) as exc:
            raise CheckpointError(f"Checkpoint config is not valid: {exc}") from exc
        trainer = cls(config)
        trainer.load_state_dict({**state, "config": config_to_dict(config)})
        return trainer


def _as_run_state(state: Any) -> Any:
    """A checkpoint in the Run layout; one of the old ``stylelab.gan.checkpoint/1`` format is converted."""
    if not isinstance(state, Mapping):
        raise CheckpointError(f"This is not a GAN Lab checkpoint (a {type(state).__name__}, not a dict).")
    if state.get("format") != CHECKPOINT_FORMAT:
        if state.get("format") != STATE_FORMAT:
            raise CheckpointError("This is not a GAN Lab checkpoint (missing or unknown 'format').")
        return state
    try:
        config = dict(state["config"])
        return {"format": STATE_FORMAT, "kind": GANTrainer.kind, "seed": config.get("seed"), "config": config,
                "step_count": int(state["step"]), "seconds": float(state.get("seconds", 0.0)),
                "history": list(state.get("history", [])),
                "state": {k: state[k] for k in ("G", "D", "opt_g", "opt_d", "rng", "fixed_z")}}
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"This GAN Lab checkpoint ({CHECKPOINT_FORMAT}) is incomplete: {exc}") from exc


# ----------------------------------------------------------------------------- catalogue (stylelab.run.CATALOG)
def small_run_2d(seed: int = 0, device: Any = None) -> GANTrainer:
    """A small 2-D run for the protocol tests and benchmarks: the ring, 16-wide MLPs, batch 32, 50 steps,
    evaluated every 2 steps (so rows carry the energy distance and coverage too)."""
    cfg = GANConfig(data="ring", loss="ns", n_points=256, hidden=16, batch_size=32, metrics_every=2,
                    eval_samples=64, steps=50, seed=seed)
    return GANTrainer(cfg, device=device)


def small_run_image(seed: int = 0, device: Any = None) -> GANTrainer:
    """A small image run: 8x8 digits, an 8-wide DCGAN, batch 16, instance noise, 50 steps, no evaluation
    (FID needs the feature classifier, trained once per data set)."""
    cfg = GANConfig(data="digits8", loss="ns", base_channels=8, latent_dim=16, batch_size=16, metrics_every=0,
                    instance_noise=0.1, num_fixed=16, steps=50, seed=seed)
    return GANTrainer(cfg, device=device)


def small_run_stylegan(seed: int = 0, device: Any = None) -> GANTrainer:
    """A small StyleGAN-lite run: 8x8 digits, width 8, z and w of 16, batch 16, 50 steps, no evaluation."""
    cfg = GANConfig(data="digits8", loss="ns", model="stylegan", base_channels=8, latent_dim=16, batch_size=16,
                    metrics_every=0, num_fixed=16, steps=50, seed=seed)
    return GANTrainer(cfg, device=device)


__all__ = ["DEFAULT_LR", "GANConfig", "GANTrainer", "LIVE_FIELDS", "OPTIMIZERS", "PROBABILISTIC", "d_output", "default_lr",
           "default_metrics_every", "is_toy", "label_smoothing_term", "r1_penalty", "small_run_2d", "small_run_image",
           "small_run_stylegan"]
