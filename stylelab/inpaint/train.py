r"""Training the U-Net inpainter: a :class:`~stylelab.run.Run`, with checkpoints and optional DDP.

One step, for a batch of crops :math:`x` with holes :math:`m`:

.. math::
    \hat x = f_\theta\big(x \odot (1 - m),\ m\big), \qquad y = m \odot \hat x + (1 - m) \odot x,

    \mathcal{L}_G = \lambda_{mse}\,\mathrm{MSE}_\Omega(\hat x, x) + \lambda_s (1 - \mathrm{SSIM}(y, x))
        + \lambda_p\,\mathcal{L}_{content}(y, x) + \lambda_a\,\mathcal{L}_G(D(y))
        + \lambda_\partial\,\mathcal{L}_\partial(\hat x, x),

with the weights of the chosen :data:`~stylelab.inpaint.losses.LOSS_CHOICES` entry (absent terms
have weight 0) and :math:`\lambda_\partial` = ``InpaintTrainConfig.boundary`` (default 0) for the
known-ring term :func:`~stylelab.inpaint.losses.boundary_mse` against seams. With the adversarial
term, a PatchGAN :math:`D` first takes one step on real crops vs. composites, with the loss
``InpaintTrainConfig.adv_kind`` (hinge by default) applied to every patch logit; ``"wgan-gp"`` adds
:func:`~stylelab.losses.adversarial.gradient_penalty` (weight ``InpaintTrainConfig.gp_weight``) on the
critic's per-sample score, the mean of its patch scores.

Use it from Python (:class:`InpaintTrainer`, kind ``"inpaint-train"``: ``step()`` -> row,
``save()``, ``init=`` a checkpoint to continue from) or from a shell, also on several processes::

    python -m stylelab inpaint-train --loss mse --steps 300 --out /tmp/unet.pt
    python -m stylelab inpaint-train --dry-run            # one step, nothing written
    torchrun --nproc_per_node 2 -m stylelab.inpaint.train --steps 50 --out /tmp/unet.pt

Randomness: the initial weights come from the run's own generator (the same seed gives the same
start on every rank), the crops and masks from the sampler's own stream (``seed + 1000 rank``),
the gradient penalty's interpolation weights from a third one; torch's global RNG is never used.
Under ``torchrun`` (:func:`stylelab.entry.torchrun`) every rank samples its own crops and the
gradients are averaged (DistributedDataParallel, ``gloo`` on CPU); rank 0 writes the checkpoint.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, ClassVar

import torch

from ..device import autocast
from ..entry import rank_world
from ..errors import CheckpointError, ConfigError
from ..run import Run, StopSignal, make_generator, run_to_end
from .data import InpaintData
from .losses import boundary_mse, get_loss_choice, masked_mse
from .masks import composite
from .model import FORMAT, _load_payload, network_input, save_checkpoint
from .train_config import InpaintTrainConfig, TrainConfig, add_train_arguments
from .unet import UNet, UNetConfig, build_seeded

__all__ = ["PERCEPTUAL_LAYERS", "InpaintTrainConfig", "InpaintTrainer", "TrainConfig", "Trainer",
           "add_train_arguments", "main", "small_run", "train_command"]

#: VGG16 layers of the perceptual term (Johnson et al. 2016's choice, minus relu4_3 at 64 px).
PERCEPTUAL_LAYERS = ("relu1_2", "relu2_2", "relu3_3")


class InpaintTrainer(Run):
    """Trains one U-Net inpainter (a :class:`~stylelab.run.Run`, kind ``"inpaint-train"``); holds no UI code.

    Args:
        config: :class:`InpaintTrainConfig`.
        init: checkpoint path to start from (a shipped or resumed checkpoint); its optimiser
            state is restored too when it has one and the loss matches (with ``config.lr``, so a
            resumed run can lower the learning rate). The run then makes ``config.steps`` more steps.
        device: where to train (None: :func:`~stylelab.device.get_device`).
        data: a ready sampler (default: built from ``config``; DDP ranks get ``seed + 1000 rank``).
        seed: the run's seed (default ``config.seed``; a different one replaces it in the config).

    Rows: ``{"step", "total", "<term>", "<term>_raw", ...}`` (weighted and raw loss terms, ``d_loss``
    and ``gp`` with the adversarial term); no wall times.
    """

    kind: ClassVar[str] = "inpaint-train"
    lab: ClassVar[str] = "inpaint"
    config_class: ClassVar[type] = InpaintTrainConfig

    def __init__(self, config: InpaintTrainConfig | None = None, init: str | Path | None = None,
                 device: Any = None, data: InpaintData | None = None, *, seed: int | None = None) -> None:
        cfg = config or InpaintTrainConfig()
        if seed is not None and seed != cfg.seed:
            cfg = replace(cfg, seed=seed)
        cfg.validate()
        super().__init__(cfg, seed=cfg.seed, device=device)
        self.choice = get_loss_choice(cfg.loss)
        self.rank, self.world = rank_world()
        dev = self.device
        # Initial weights from the run's own generator: the same on every rank, never the global RNG.
        init_gen = make_generator(cfg.seed, "cpu", stream=0)
        self.net = build_seeded(lambda: UNet(4, 3, base=cfg.base, depth=cfg.depth), init_gen, dev)
        self.net = self.net.to(memory_format=torch.channels_last)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=cfg.lr,
                                    betas=(0.5, 0.999) if self.choice.adversarial else (0.9, 0.999))
        self.disc = self.d_opt = self.gp_gen = None
        if self.choice.adversarial:
            from ..patchgan import PatchDiscriminator

            self.disc = build_seeded(lambda: PatchDiscriminator(3, base_channels=cfg.d_base, n_layers=2, norm="none",
                                                                spectral=True), init_gen, dev)
            self.d_opt = torch.optim.Adam(self.disc.parameters(), lr=cfg.d_lr, betas=(0.5, 0.999))
            # the gradient penalty's interpolation weights: this run's own stream, one per rank
            self.gp_gen = make_generator(cfg.seed, dev, stream=1 + self.rank)
        self.features = None
        if self.choice.perceptual:
            from ..features import get_extractor

            self.features = get_extractor("vgg16", device=dev, normalisation="imagenet")
        self.init = None if init is None else str(init)
        self.init_from: dict[str, Any] | None = None
        self._start = 0
        if init is not None:
            self._load_init(Path(init))
        self.data = data or InpaintData(cfg.data, cfg.size, seed=cfg.seed + 1000 * self.rank)
        self._net, self._disc = self.net, self.disc
        if self.world > 1:
            from torch.nn.parallel import DistributedDataParallel as DDP

            self._net = DDP(self.net)
            if self.disc is not None:
                self._disc = DDP(self.disc)

    @property
    def total_steps(self) -> int:  # type: ignore[override]
        """The steps of the checkpoint it started from (if any) plus ``config.steps``."""
        return self._start + self.config.steps

    @property
    def elapsed(self) -> float:
        """Seconds spent training (the former name of :attr:`seconds`)."""
        return self.seconds

    # ------------------------------------------------------------------ checkpoints
    def _load_init(self, path: Path) -> None:
        payload = _load_payload(path)
        if UNetConfig(**payload["unet"]) != self.net.config:
            raise CheckpointError(f"{path.name} holds a U-Net {payload['unet']}, not {self.net.config.to_dict()}.")
        self.net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in payload["state_dict"].items()})
        meta = payload.get("meta", {})
        same_loss = payload.get("train", {}).get("loss") == self.config.loss
        if same_loss and isinstance(payload.get("optimizer"), dict):
            self.opt.load_state_dict(payload["optimizer"])
            for group in self.opt.param_groups:  # Adam's moments are kept; the step size is this run's
                group["lr"] = self.config.lr
        if same_loss and self.disc is not None and isinstance(payload.get("disc"), dict):
            self.disc.load_state_dict(payload["disc"])
            self.d_opt.load_state_dict(payload["d_optimizer"])  # type: ignore[union-attr]
        self._start = self.step_count = int(meta.get("steps", 0)) if same_loss else 0
        self.init_from = {"path": path.name, "steps": int(meta.get("steps", 0)), "loss": payload.get("train", {}).get("loss")}

    def save(self, path: str | Path, meta: dict[str, Any] | None = None, resumable: bool = True,
             half: bool = False) -> Path:
        """Write a weights-only checkpoint (format :data:`~stylelab.inpaint.model.FORMAT`), once and atomically.

        ``resumable`` adds the optimiser (and discriminator) states, so ``init=`` continues it.
        """
        info = {"steps": self.step_count, "loss": self.config.loss, "wall_s": round(self.seconds, 1),
                "world_size": self.world, **(meta or {})}
        if self.init_from:
            info["init_from"] = self.init_from
        extra: dict[str, Any] = {}
        if resumable:
            extra["optimizer"] = self.opt.state_dict()
            if self.disc is not None:
                extra["disc"] = self.disc.state_dict()
                extra["d_optimizer"] = self.d_opt.state_dict()  # type: ignore[union-attr]
        return save_checkpoint(path, self.net, asdict(self.config), info, half=half, **extra)

    def _state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"net": self.net.state_dict(), "opt": self.opt.state_dict(),
                                 "data": self.data.get_state(), "start": self._start}
        if self.disc is not None:
            state.update(disc=self.disc.state_dict(), d_opt=self.d_opt.state_dict(),  # type: ignore[union-attr]
                         gp_gen=self.gp_gen.get_state())  # type: ignore[union-attr]
        return state

    def _load_state(self, state: dict[str, Any]) -> None:
        self.net.load_state_dict(state["net"])
        self.opt.load_state_dict(state["opt"])
        self.data.set_state(state["data"])
        self._start = int(state["start"])
        if self.disc is not None:
            self.disc.load_state_dict(state["disc"])
            self.d_opt.load_state_dict(state["d_opt"])  # type: ignore[union-attr]
            self.gp_gen.set_state(state["gp_gen"])  # type: ignore[union-attr]

    def inputs(self) -> dict[str, Any]:
        """The checkpoint it started from, if any (a record names only the settings)."""
        return {} if self.init is None else {"init": self.init}

    # ------------------------------------------------------------------ training
    def _generator_terms(self, x: torch.Tensor, m: torch.Tensor, pred: torch.Tensor, comp: torch.Tensor) -> dict[str, torch.Tensor]:
        from ..losses import content_loss, generator_loss, ssim_loss

        w = self.choice.weights
        terms = {"mse": masked_mse(pred, x, m)}  # MSE over the hole only
        if self.config.boundary > 0:
            terms["boundary"] = boundary_mse(pred, x, m, width=self.config.boundary_width)  # known ring
        if w.get("ssim", 0) > 0:
            terms["ssim"] = ssim_loss(comp, x, window_size=7)  # 1 - SSIM(y, x)
        if self.features is not None:
            with autocast(self.device, enabled=self.config.bf16):
                fy = self.features(comp, layers=list(PERCEPTUAL_LAYERS))
                with torch.no_grad():
                    fx = self.features(x, layers=list(PERCEPTUAL_LAYERS))
            terms["perceptual"] = content_loss({k: v.float() for k, v in fy.items()},
                                               {k: v.float() for k, v in fx.items()}, layers=list(PERCEPTUAL_LAYERS))
        if self._disc is not None:
            with autocast(self.device, enabled=self.config.bf16):
                fake_logits = self._disc(comp)  # (N, 1, h, w)
            terms["adv"] = generator_loss(fake_logits.float(), kind=self.config.adv_kind)
        return terms

    def _step(self) -> dict[str, Any]:
        """One optimisation step (D first when adversarial); returns the logged values."""
        from ..losses import discriminator_loss, gradient_penalty, weighted_sum

        cfg = self.config
        x, m = self.data.batch(cfg.batch)  # (B, 3, S, S), (B, 1, S, S)
        x = x.to(self.device).contiguous(memory_format=torch.channels_last)
        m = m.to(self.device)
        self._net.train()
        with autocast(self.device, enabled=cfg.bf16):
            pred = self._net(network_input(x, m).contiguous(memory_format=torch.channels_last))  # (B, 3, S, S)
        pred = pred.float()
        comp = composite(pred, x, m)  # the result: known pixels kept
        row: dict[str, Any] = {}
        if self._disc is not None:
            # D step: max E[log D(x)] + E[log(1 - D(y))] (in its adv_kind form, per patch), on detached fakes.
            with autocast(self.device, enabled=cfg.bf16):
                real_logits = self._disc(x)
                fake_logits = self._disc(comp.detach())
            d_loss = discriminator_loss(real_logits.float(), fake_logits.float(), kind=cfg.adv_kind)  # per patch
            if cfg.adv_kind == "wgan-gp":
                # lambda E[(||grad mean_p D_p(x_hat)|| - 1)^2], in fp32 (double backward). Through the plain
                # module: under DDP its gradient still joins the all-reduced one of the same parameters.
                gp = gradient_penalty(self.disc, x, comp.detach(), weight=cfg.gp_weight, generator=self.gp_gen)
                d_loss = d_loss + gp
                row["gp"] = float(gp.detach())
            self.d_opt.zero_grad(set_to_none=True)  # type: ignore[union-attr]
            d_loss.backward()
            self.d_opt.step()  # type: ignore[union-attr]
            row["d_loss"] = float(d_loss.detach())
        terms = self._generator_terms(x, m, pred, comp)
        weights = {**self.choice.weights, **({"boundary": cfg.boundary} if cfg.boundary > 0 else {})}
        total, values = weighted_sum(terms, weights)  # sum_i lambda_i L_i
        self.opt.zero_grad(set_to_none=True)
        total.backward()
        self.opt.step()
        row.update(values)
        return row

    def run(self, steps: int | None = None, callback: Callable[[dict[str, Any]], None] | None = None,
            stop: StopSignal = None) -> list[dict[str, Any]]:
        """Train ``steps`` more steps (default: to the end); ``callback(row)`` after each; ``stop`` between steps."""
        first = len(self.history)
        run_to_end(self, None if callback is None else (lambda _run, row: callback(row)), stop=stop,
                   max_steps=steps)
        return self.history[first:]

    def inpainter(self) -> Any:
        """The model as a ready :class:`~stylelab.inpaint.model.Inpainter` (shares the weights)."""
        from .model import Inpainter

        return Inpainter(self.net, {"steps": self.step_count, "loss": self.config.loss}, asdict(self.config))

    def finish(self) -> None:
        """Put the model back into evaluation mode (call before using it to inpaint)."""
        self.net.eval()


#: the former name (kept for scripts and notebooks)
Trainer = InpaintTrainer



def parameter_checksum(net: torch.nn.Module) -> float:
    """A number that changes if any weight changes (sum of |w| in float64)."""
    return float(sum(p.detach().double().abs().sum() for p in net.parameters()))


def small_run(seed: int = 0, device: Any = None) -> InpaintTrainer:
    """The catalogue's small training run: a 4-8-16 channel U-Net on 32 px face crops, batch 2, MSE."""
    return InpaintTrainer(InpaintTrainConfig(loss="mse", data="faces", size=32, batch=2, steps=20, base=4, depth=3,
                                             seed=seed), device=device)


# ----------------------------------------------------------------------------- command line
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m stylelab.inpaint.train",
                                description="Train the U-Net inpainter (works under torchrun).")
    add_train_arguments(p)
    return p


def train_command(args: argparse.Namespace) -> int:
    """Train as the flags say (under :func:`stylelab.entry.torchrun`: one process or every DDP rank)."""
    from ..entry import config_from_args, torchrun

    cfg = config_from_args(args, InpaintTrainConfig)
    if args.dry_run:
        cfg = replace(cfg, steps=1)
    if args.log_every < 1 or args.save_every < 0:
        raise ConfigError("--log-every must be >= 1 and --save-every >= 0.")

    def body(ctx: Any) -> int:
        trainer = InpaintTrainer(cfg, init=args.init, device=ctx.device)
        writes = ctx.is_main and args.out and not args.dry_run

        def log(row: dict[str, Any]) -> None:
            if writes and args.save_every and row["step"] % args.save_every == 0:
                trainer.save(args.out, resumable=not args.half, half=args.half)
            if ctx.is_main and (row["step"] % args.log_every == 0 or row["step"] == 1):
                shown = {k: round(v, 5) if isinstance(v, float) else v for k, v in row.items() if not k.endswith("_raw")}
                print(json.dumps(shown), flush=True)

        trainer.run(callback=log)
        if args.dry_run:
            print(f"dry run: 1 step of {cfg.loss} on {trainer.device} ({trainer.seconds:.2f} s); nothing written", flush=True)
            return 0
        if args.checksum_dir:
            Path(args.checksum_dir).mkdir(parents=True, exist_ok=True)
            (Path(args.checksum_dir) / f"rank{ctx.rank}.json").write_text(
                json.dumps({"rank": ctx.rank, "world": trainer.world, "checksum": parameter_checksum(trainer.net),
                            "steps": trainer.step_count}))
        if writes:
            trainer.save(args.out, resumable=not args.half, half=args.half)
            print(f"saved {args.out} ({FORMAT}, {trainer.step_count} steps, {trainer.seconds:.0f} s)", flush=True)
        return 0

    return torchrun(body, threads=args.threads)


def _main(argv: Sequence[str] | None = None) -> int:
    return train_command(build_parser().parse_args(argv))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m stylelab.inpaint.train``: a bad setting is one ``error:`` line and exit status 2."""
    from ..entry import run_main

    return run_main(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
