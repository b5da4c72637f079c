r"""Training the U-Net inpainter: a plain loop with callbacks, checkpoints and optional DDP.

One step, for a batch of crops :math:`x` with holes :math:`m`:

.. math::
    \hat x = f_\theta\big(x \odot (1 - m),\ m\big), \qquad y = m \odot \hat x + (1 - m) \odot x,

    \mathcal{L}_G = \lambda_{mse}\,\mathrm{MSE}_\Omega(\hat x, x) + \lambda_s (1 - \mathrm{SSIM}(y, x))
        + \lambda_p\,\mathcal{L}_{content}(y, x) + \lambda_a\,\mathcal{L}_G(D(y))
        + \lambda_\partial\,\mathcal{L}_\partial(\hat x, x),

with the weights of the chosen :data:`~stylelab.inpaint.losses.LOSS_CHOICES` entry (absent terms
have weight 0) and :math:`\lambda_\partial` = ``TrainConfig.boundary`` (default 0) for the
known-ring term :func:`~stylelab.inpaint.losses.boundary_mse` against seams. With the adversarial term, a PatchGAN :math:`D` first takes one step on
real crops vs. composites, with the loss ``TrainConfig.adv_kind`` (hinge by default) applied to every
patch logit; ``"wgan-gp"`` adds :func:`~stylelab.losses.adversarial.gradient_penalty` (weight
``TrainConfig.gp_weight``) on the critic's per-sample score, the mean of its patch scores.

Use it from Python (:class:`Trainer`: ``step()``, ``run(steps, callback, should_stop)``,
``save()`` / ``resume``) or from a shell, also on several processes::

    python -m stylelab.inpaint.train --loss mse --steps 300 --out /tmp/unet.pt
    torchrun --nproc_per_node 2 -m stylelab.inpaint.train --steps 50 --out /tmp/unet.pt

Under ``torchrun`` every rank samples its own crops and the gradients are averaged
(DistributedDataParallel, ``gloo`` on CPU); rank 0 writes the checkpoint.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from ..device import autocast, seed_everything
from ..errors import CheckpointError, ConfigError, StylelabError
from .data import SOURCES, InpaintData
from .losses import boundary_mse, get_loss_choice, masked_mse
from .masks import composite
from .model import FORMAT, _load_payload, network_input, save_checkpoint
from .unet import UNet, UNetConfig

__all__ = ["PERCEPTUAL_LAYERS", "TrainConfig", "Trainer", "main"]

#: VGG16 layers of the perceptual term (Johnson et al. 2016's choice, minus relu4_3 at 64 px).
PERCEPTUAL_LAYERS = ("relu1_2", "relu2_2", "relu3_3")


@dataclass
class TrainConfig:
    """Everything a training run depends on (stored in every checkpoint and record).

    Defaults are small and CPU-friendly: ~0.1-0.3 s per step on 2 cores for ``loss="mse"``.
    """

    loss: str = "mse"
    data: str = "photos"
    size: int = 64
    batch: int = 8
    steps: int = 300
    lr: float = 2e-3
    base: int = 16
    depth: int = 4
    seed: int = 0
    bf16: bool = True
    d_lr: float = 2e-4
    d_base: int = 32
    adv_kind: str = "hinge"
    gp_weight: float = 10.0  #: lambda of the gradient penalty, used when adv_kind == "wgan-gp"
    boundary: float = 0.0
    boundary_width: int = 2

    def validate(self) -> None:
        get_loss_choice(self.loss)
        if self.data not in SOURCES:
            raise ConfigError(f"Unknown training data {self.data!r}; choose one of {SOURCES}.")
        if self.size < 16 or self.size % (2 ** (self.depth - 1)):
            raise ConfigError(f"Crop size {self.size} must be >= 16 and a multiple of {2 ** (self.depth - 1)}.")
        if self.batch < 1 or self.steps < 0:
            raise ConfigError("batch must be >= 1 and steps >= 0.")
        if not 0 < self.lr < 1 or not 0 < self.d_lr < 1:
            raise ConfigError("Learning rates must be in (0, 1).")
        if self.boundary < 0 or self.boundary_width < 1:
            raise ConfigError("boundary weight must be >= 0 and boundary_width >= 1.")
        from ..losses.adversarial import ADVERSARIAL_LOSSES

        if self.adv_kind not in ADVERSARIAL_LOSSES:
            raise ConfigError(f"Unknown adversarial loss {self.adv_kind!r}; choose one of {ADVERSARIAL_LOSSES}.")
        if self.adv_kind == "wgan-gp" and not self.gp_weight > 0:
            raise ConfigError(f"adv_kind='wgan-gp' needs a gradient penalty: gp_weight must be > 0 (got {self.gp_weight}); "
                              "without it the critic is not Lipschitz and the Wasserstein loss is meaningless.")


class Trainer:
    """Trains one U-Net inpainter; holds no UI code.

    Args:
        config: :class:`TrainConfig`.
        init: checkpoint path to start from (a shipped or resumed checkpoint); its optimiser
            state is restored too when it has one and the loss matches (with ``config.lr``, so a
            resumed run can lower the learning rate).
        device: where to train (CPU here).
        data: a ready sampler (default: built from ``config``; DDP ranks get ``seed + 1000 rank``).
    """

    def __init__(self, config: TrainConfig | None = None, init: str | Path | None = None,
                 device: torch.device | str = "cpu", data: InpaintData | None = None) -> None:
        self.config = cfg = config or TrainConfig()
        cfg.validate()
        self.choice = get_loss_choice(cfg.loss)
        self.device = torch.device(device)
        self.rank, self.world = _rank_world()
        seed_everything(cfg.seed)  # same initial weights on every rank
        self.net = UNet(4, 3, base=cfg.base, depth=cfg.depth).to(self.device, memory_format=torch.channels_last)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=cfg.lr, betas=(0.5, 0.999) if self.choice.adversarial else (0.9, 0.999))
        self.disc = self.d_opt = None
        if self.choice.adversarial:
            from ..patchgan import PatchDiscriminator

            self.disc = PatchDiscriminator(3, base_channels=cfg.d_base, n_layers=2, norm="none", spectral=True).to(self.device)
            self.d_opt = torch.optim.Adam(self.disc.parameters(), lr=cfg.d_lr, betas=(0.5, 0.999))
            # the gradient penalty's interpolation weights: this run's own RNG (one stream per rank)
            self.gp_gen = torch.Generator().manual_seed(cfg.seed + 7919 * (1 + self.rank))
        self.features = None
        if self.choice.perceptual:
            from ..features import get_extractor

            self.features = get_extractor("vgg16", device=self.device, normalisation="imagenet")
        self.step_count = 0
        self.history: list[dict[str, float]] = []
        self.elapsed = 0.0
        if init is not None:
            self._load_init(Path(init))
        self.data = data or InpaintData(cfg.data, cfg.size, seed=cfg.seed + 1000 * self.rank)
        self._net, self._disc = self.net, self.disc
        if self.world > 1:
            from torch.nn.parallel import DistributedDataParallel as DDP

            self._net = DDP(self.net)
            if self.disc is not None:
                self._disc = DDP(self.disc)

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
        self.step_count = int(meta.get("steps", 0)) if same_loss else 0
        self.init_from = {"path": path.name, "steps": int(meta.get("steps", 0)), "loss": payload.get("train", {}).get("loss")}

    def save(self, path: str | Path, meta: dict[str, Any] | None = None, resumable: bool = True,
             half: bool = False) -> Path:
        """Write a weights-only checkpoint (with optimiser state when ``resumable``)."""
        info = {"steps": self.step_count, "loss": self.config.loss, "wall_s": round(self.elapsed, 1),
                "world_size": self.world, **(meta or {})}
        if getattr(self, "init_from", None):
            info["init_from"] = self.init_from
        path = save_checkpoint(path, self.net, asdict(self.config), info, half=half)
        if resumable:
            payload = torch.load(path, map_location="cpu", weights_only=True)
            payload["optimizer"] = self.opt.state_dict()
            if self.disc is not None:
                payload["disc"] = self.disc.state_dict()
                payload["d_optimizer"] = self.d_opt.state_dict()  # type: ignore[union-attr]
            torch.save(payload, path)
        return path

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

    def step(self) -> dict[str, float]:
        """One optimisation step (D first when adversarial); returns the logged values."""
        from ..losses import discriminator_loss, gradient_penalty, weighted_sum

        t0 = time.perf_counter()
        cfg = self.config
        x, m = self.data.batch(cfg.batch)  # (B, 3, S, S), (B, 1, S, S)
        x = x.to(self.device).contiguous(memory_format=torch.channels_last)
        m = m.to(self.device)
        self._net.train()
        with autocast(self.device, enabled=cfg.bf16):
            pred = self._net(network_input(x, m).contiguous(memory_format=torch.channels_last))  # (B, 3, S, S)
        pred = pred.float()
        comp = composite(pred, x, m)  # the result: known pixels kept
        row: dict[str, float] = {}
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
        total, values = weighted_sum(terms, weights)
        self.opt.zero_grad(set_to_none=True)
        total.backward()
        self.opt.step()
        self.step_count += 1
        self.elapsed += time.perf_counter() - t0
        row.update({"step": self.step_count, **values, "seconds": time.perf_counter() - t0})
        self.history.append(row)
        return row

    def run(self, steps: int | None = None, callback: Callable[[dict[str, float]], None] | None = None,
            should_stop: Callable[[], bool] | None = None) -> list[dict[str, float]]:
        """Run ``steps`` steps (default ``config.steps``); stoppable between steps."""
        rows = []
        for _ in range(self.config.steps if steps is None else steps):
            row = self.step()
            rows.append(row)
            if callback is not None:
                callback(row)
            if should_stop is not None and should_stop():
                break
        return rows

    def inpainter(self) -> Any:
        """The model as a ready :class:`~stylelab.inpaint.model.Inpainter` (shares the weights)."""
        from .model import Inpainter

        return Inpainter(self.net, {"steps": self.step_count, "loss": self.config.loss}, asdict(self.config))

    def finish(self) -> None:
        """Put the model back into evaluation mode (call before using it to inpaint)."""
        self.net.eval()


def _rank_world() -> tuple[int, int]:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def parameter_checksum(net: torch.nn.Module) -> float:
    """A number that changes if any weight changes (sum of |w| in float64)."""
    return float(sum(p.detach().double().abs().sum() for p in net.parameters()))


def build_parser() -> argparse.ArgumentParser:
    d = TrainConfig()
    p = argparse.ArgumentParser(prog="python -m stylelab.inpaint.train", description="Train the U-Net inpainter (works under torchrun).")
    p.add_argument("--loss", default=d.loss, help="mse | mse+ssim | mse+ssim+perceptual | mse+ssim+perceptual+adv")
    p.add_argument("--data", default=d.data, choices=SOURCES)
    for name in ("size", "batch", "steps", "base", "depth", "seed"):
        p.add_argument(f"--{name}", type=int, default=getattr(d, name))
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--boundary", type=float, default=d.boundary, help="weight of the known-ring term against seams (0: off)")
    p.add_argument("--adv-kind", default=d.adv_kind, help="GAN loss of the adversarial term: ns | lsgan | hinge | wgan-gp | minimax")
    p.add_argument("--gp-weight", type=float, default=d.gp_weight, help="gradient penalty weight (adv-kind wgan-gp)")
    p.add_argument("--no-bf16", action="store_true", help="train in float32")
    p.add_argument("--init", default=None, help="checkpoint to start from (warm start / resume)")
    p.add_argument("--out", default=None, help="where rank 0 writes the checkpoint")
    p.add_argument("--half", action="store_true", help="store fp16 weights and no optimiser state (shipping)")
    p.add_argument("--log-every", type=int, default=25)
    p.add_argument("--save-every", type=int, default=0, help="rank 0 also saves --out every N steps (0: only at the end)")
    p.add_argument("--threads", type=int, default=None, help="torch threads per process")
    p.add_argument("--checksum-dir", default=None, help="each rank writes its final weight checksum here (DDP check)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1:
        import torch.distributed as dist

        dist.init_process_group("gloo")
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        cfg = TrainConfig(loss=args.loss, data=args.data, size=args.size, batch=args.batch, steps=args.steps,
                          lr=args.lr, base=args.base, depth=args.depth, seed=args.seed, bf16=not args.no_bf16,
                          boundary=args.boundary, adv_kind=args.adv_kind, gp_weight=args.gp_weight)
        trainer = Trainer(cfg, init=args.init)
        rank = trainer.rank

        def log(row: dict[str, float]) -> None:
            if rank == 0 and args.out and args.save_every and row["step"] % args.save_every == 0:
                trainer.save(args.out, resumable=not args.half, half=args.half)
            if rank == 0 and (row["step"] % args.log_every == 0 or row["step"] == 1):
                shown = {k: round(v, 5) if isinstance(v, float) else v for k, v in row.items() if not k.endswith("_raw")}
                print(json.dumps(shown), flush=True)

        trainer.run(callback=log)
        if args.checksum_dir:
            Path(args.checksum_dir).mkdir(parents=True, exist_ok=True)
            (Path(args.checksum_dir) / f"rank{rank}.json").write_text(
                json.dumps({"rank": rank, "world": trainer.world, "checksum": parameter_checksum(trainer.net),
                            "steps": trainer.step_count}))
        if args.out and rank == 0:
            trainer.save(args.out, resumable=not args.half, half=args.half)
            print(f"saved {args.out} ({FORMAT}, {trainer.step_count} steps, {trainer.elapsed:.0f} s)", flush=True)
    except StylelabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if world > 1:
            import torch.distributed as dist

            if dist.is_initialized():
                dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
