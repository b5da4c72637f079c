r"""Train your own fast style network (Johnson, Alahi & Fei-Fei 2016), optionally adversarial.

The :class:`~stylelab.style.transformer_net.TransformerNet` :math:`f_W` is trained over content
photos :math:`c` for ONE style image :math:`s`:

.. math::

    \min_W \; \mathbb{E}_c\Big[\alpha\,\mathcal{L}_{content}(f_W(c), c) + \beta\,\mathcal{L}_{style}(f_W(c), s)
            + \lambda_{TV}\,\frac{TV(f_W(c))}{HW} + \lambda_{adv}\,\mathcal{L}_G\big(D(f_W(c))\big)\Big]

with the perceptual losses on VGG16 (Johnson's layers: content ``relu2_2``, style
``relu1_2, relu2_2, relu3_3, relu4_3``) and an optional adversarial term from a small
:class:`~stylelab.patchgan.PatchDiscriminator` ``D`` trained to tell crops of the style painting
(real) from the network's outputs (fake); its GAN loss (``adv_kind``) is applied to every patch logit
and averaged over patches and samples. All loss functions come from :mod:`stylelab.losses`.

Content photos: the bundled photos (scikit-image / scikit-learn), random crops + flips.

Runs on one process, or under ``torchrun --nproc_per_node N python -m stylelab.style.train_fast``
with DistributedDataParallel (gloo on CPU, nccl on CUDA): each rank draws its own crops; rank 0
writes the checkpoint. Checkpoints hold the config, the step, and the network (and discriminator)
weights; they are loaded with ``torch.load(weights_only=True)`` and validated.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F

from ..errors import CheckpointError, ConfigError, NonFiniteError, ShapeError
from .transformer_net import TransformerNet

CHECKPOINT_KIND = "stylelab.fast_style/1"


@dataclass
class FastStyleConfig:
    """A fast-style training run. Defaults give a visible result on a 2-core CPU in minutes."""

    style_name: str = ""  #: what the style was (path or bundled name), for the record
    size: int = 128  #: training crop size (pixels)
    batch_size: int = 2
    steps: int = 300
    lr: float = 2e-3
    content_weight: float = 1.0
    style_weight: float = 1e5
    tv_weight: float = 1e-2
    adv_weight: float = 0.0  #: 0 = no discriminator
    adv_kind: Literal["ns", "lsgan", "hinge"] = "lsgan"
    width: int = 16
    n_res: int = 3
    content_layers: tuple[str, ...] = ("relu2_2",)
    style_layers: tuple[str, ...] = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    seed: int = 0

    def validate(self) -> "FastStyleConfig":
        if not 32 <= int(self.size) <= 1024 or int(self.size) % 4:
            raise ConfigError(f"Training size must be a multiple of 4 between 32 and 1024; got {self.size}.")
        if int(self.batch_size) < 1 or int(self.steps) < 0:
            raise ConfigError("batch_size must be >= 1 and steps >= 0.")
        for name in ("lr", "content_weight", "style_weight", "tv_weight", "adv_weight"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or v != v or v < 0 or v == float("inf"):
                raise ConfigError(f"{name} must be a finite number >= 0; got {v!r}.")
        if self.adv_kind not in ("ns", "lsgan", "hinge"):
            raise ConfigError(f"adv_kind must be ns, lsgan or hinge; got {self.adv_kind!r}.")
        if self.width < 1 or self.n_res < 0:
            raise ConfigError("width must be >= 1 and n_res >= 0.")
        return self


# ----------------------------------------------------------------------------- data
class ContentCrops:
    """Random crops (with horizontal flips) of the bundled photos, on the CPU."""

    def __init__(self, size: int, generator: torch.Generator, names: list[str] | None = None) -> None:
        from ..assets import image_catalog, load_bundled

        names = names or image_catalog().get("Photos", [])
        imgs = []
        for n in names:
            img = load_bundled(n, size=int(size * 1.5))
            if min(img.shape[-2:]) >= size:
                imgs.append(img)
        if not imgs:
            raise ConfigError("No bundled photos are large enough to train on; install scikit-image.")
        self.images, self.size, self.gen = imgs, size, generator

    def batch(self, n: int) -> torch.Tensor:
        out = []
        for _ in range(n):
            img = self.images[int(torch.randint(len(self.images), (1,), generator=self.gen))]
            h, w = img.shape[-2:]
            top = int(torch.randint(h - self.size + 1, (1,), generator=self.gen))
            left = int(torch.randint(w - self.size + 1, (1,), generator=self.gen))
            crop = img[:, top:top + self.size, left:left + self.size]
            if float(torch.rand((), generator=self.gen)) < 0.5:
                crop = crop.flip(-1)
            out.append(crop)
        return torch.stack(out)  # (B, 3, S, S)


# ----------------------------------------------------------------------------- trainer
class FastStyleTrainer:
    """Holds the network, optimiser(s), VGG and style targets; ``step()`` does one update.

    Args:
        style: ``(3, H, W)`` style image in [0, 1].
        config: :class:`FastStyleConfig`.
        device: torch device. ``rank``/``world_size``: set by :func:`main` under torchrun.
    """

    def __init__(self, style: torch.Tensor, config: FastStyleConfig | None = None, device: torch.device | str = "cpu",
                 rank: int = 0, world_size: int = 1) -> None:
        from ..device import seed_everything
        from ..features import get_extractor
        from ..imageio import resize_tensor
        from ..losses import gram_matrix

        self.config = (config or FastStyleConfig()).validate()
        if not isinstance(style, torch.Tensor) or style.ndim != 3 or style.shape[0] != 3:
            raise ShapeError(f"The style image must be (3, H, W); got {getattr(style, 'shape', type(style).__name__)}.")
        self.device = torch.device(device)
        self.rank, self.world_size = rank, world_size
        seed_everything(int(self.config.seed))  # same initial weights on every rank
        self.net = TransformerNet(self.config.width, self.config.n_res).to(self.device)
        self.data_gen = torch.Generator().manual_seed(int(self.config.seed) * 1000 + rank)  # own crops per rank
        self.data = ContentCrops(self.config.size, self.data_gen)
        self.vgg = get_extractor("vgg16", self.device)
        self.model: torch.nn.Module = self.net
        if world_size > 1:
            from torch.nn.parallel import DistributedDataParallel

            self.model = DistributedDataParallel(self.net, device_ids=[self.device.index] if self.device.type == "cuda" else None)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=self.config.lr)
        self.style = resize_tensor(style.detach().float().cpu().clamp(0, 1), self.config.size)
        s = self.style.unsqueeze(0).to(self.device)  # (1, 3, h, w)
        with torch.no_grad():
            feats = self._features(s, self.config.style_layers)
            self.style_grams = {k: gram_matrix(v) for k, v in feats.items()}
        self.disc = None
        if self.config.adv_weight > 0:
            from ..patchgan import PatchDiscriminator

            self.disc = PatchDiscriminator(3, base_channels=16, n_layers=2).to(self.device)
            if world_size > 1:
                from torch.nn.parallel import DistributedDataParallel

                self.disc_model: torch.nn.Module = DistributedDataParallel(self.disc)
            else:
                self.disc_model = self.disc
            self.opt_d = torch.optim.Adam(self.disc.parameters(), lr=self.config.lr, betas=(0.5, 0.999))
        self.step_count = 0
        self.history: list[dict[str, float]] = []

    def _use_bf16(self) -> bool:
        from ..device import fast_dtype

        if self.config.precision == "fp32":
            return False
        if self.config.precision == "bf16":
            return True
        return fast_dtype(self.device) == torch.bfloat16

    def _features(self, x: torch.Tensor, layers) -> dict[str, torch.Tensor]:
        from ..device import autocast

        with autocast(self.device, enabled=self._use_bf16()):
            feats = self.vgg(x, list(layers))
        return {k: v.float() for k, v in feats.items()}  # Grams and losses in fp32

    def _style_crops(self, n: int) -> torch.Tensor:
        """Random crops of the style painting: the 'real' examples for the discriminator."""
        s = self.style
        size = min(self.config.size // 2, *s.shape[-2:])
        out = []
        for _ in range(n):
            top = int(torch.randint(s.shape[-2] - size + 1, (1,), generator=self.data_gen))
            left = int(torch.randint(s.shape[-1] - size + 1, (1,), generator=self.data_gen))
            out.append(s[:, top:top + size, left:left + size])
        return torch.stack(out).to(self.device)  # (B, 3, size, size)

    def _loss(self, c: torch.Tensor) -> tuple[torch.Tensor, dict[str, float], torch.Tensor]:
        """Weighted generator loss on content batch ``c`` ``(B, 3, S, S)``: (total, terms, output)."""
        from ..device import autocast
        from ..losses import content_loss, generator_loss, style_loss, total_variation, weighted_sum

        cfg = self.config
        with autocast(self.device, enabled=self._use_bf16()):
            y = self.model(c).float()  # (B, 3, S, S)
        layers = list(dict.fromkeys([*cfg.content_layers, *cfg.style_layers]))
        fy = self._features(y, layers)
        with torch.no_grad():
            fc = self._features(c, cfg.content_layers)
        terms = {
            "content": content_loss(fy, fc, cfg.content_layers),
            "style": style_loss(fy, self.style_grams, {n: 1.0 for n in cfg.style_layers}),
            "tv": total_variation(y, "l2", per_pixel=True),
        }
        weights = {"content": cfg.content_weight, "style": cfg.style_weight, "tv": cfg.tv_weight}
        if self.disc is not None:
            fake_patches = F.interpolate(y, scale_factor=0.5, mode="bilinear", align_corners=False)
            terms["adversarial"] = generator_loss(self.disc_model(fake_patches), cfg.adv_kind)
            weights["adversarial"] = cfg.adv_weight
        total, values = weighted_sum(terms, weights)
        return total, values, y

    @torch.no_grad()
    def evaluate(self, content: torch.Tensor) -> dict[str, float]:
        """Loss terms on a fixed batch ``(B, 3, S, S)`` without updating anything."""
        self.model.eval()
        return self._loss(content.to(self.device))[1]

    def step(self) -> dict[str, float]:
        """One optimisation step on one batch; returns every loss term (weighted and raw)."""
        from ..losses import discriminator_loss

        cfg = self.config
        self.model.train()
        c = self.data.batch(cfg.batch_size).to(self.device)  # (B, 3, S, S)
        total, values, y = self._loss(c)
        d_loss = None
        self.opt.zero_grad(set_to_none=True)
        total.backward()
        self.opt.step()
        if self.disc is not None:  # D step: real style crops vs (detached) outputs
            real = self._style_crops(cfg.batch_size)
            fake = F.interpolate(y.detach(), size=real.shape[-2:], mode="bilinear", align_corners=False)
            d_loss = discriminator_loss(self.disc_model(real), self.disc_model(fake), cfg.adv_kind)
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
            values["discriminator"] = float(d_loss.detach())
        if values["total"] != values["total"]:
            raise NonFiniteError("Training loss became NaN: lower the learning rate or the weights.")
        self.step_count += 1
        values["step"] = self.step_count
        self.history.append(values)
        return values

    def train(self, steps: int | None = None, callback: Callable[[int, dict], None] | None = None,
              stop: Callable[[], bool] | threading.Event | None = None) -> bool:
        """Run ``steps`` more steps (default: up to ``config.steps``). Returns True if stopped early."""
        todo = (self.config.steps - self.step_count) if steps is None else int(steps)
        for _ in range(max(0, todo)):
            if stop is not None and (stop.is_set() if isinstance(stop, threading.Event) else stop()):
                return True
            values = self.step()
            if callback is not None:
                callback(self.step_count, values)
        return False

    @torch.inference_mode()
    def stylize(self, content: torch.Tensor) -> torch.Tensor:
        """Apply the network to ``(3, H, W)`` -> ``(3, H, W)`` (eval mode)."""
        self.net.eval()
        return self.net(content.unsqueeze(0).to(self.device).float())[0].float().cpu()

    def state(self) -> dict[str, Any]:
        """Everything a checkpoint holds (plain tensors and JSON-able values only)."""
        out: dict[str, Any] = {
            "kind": CHECKPOINT_KIND,
            "config": dataclasses.asdict(self.config),
            "step": self.step_count,
            "net": self.net.state_dict(),
            "opt": self.opt.state_dict(),
        }
        if self.disc is not None:
            out["disc"] = self.disc.state_dict()
            out["opt_d"] = self.opt_d.state_dict()
        return out

    def save(self, path: str | Path) -> Path:
        """Write a checkpoint (atomically: a half-written file never replaces a good one)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        torch.save(self.state(), tmp)
        os.replace(tmp, path)
        return path

    def load_state(self, ckpt: dict[str, Any]) -> None:
        """Resume from :func:`read_checkpoint`'s dict (same architecture required)."""
        self.net.load_state_dict(ckpt["net"])
        if "opt" in ckpt:
            self.opt.load_state_dict(ckpt["opt"])
        if self.disc is not None and "disc" in ckpt:
            self.disc.load_state_dict(ckpt["disc"])
            self.opt_d.load_state_dict(ckpt["opt_d"])
        self.step_count = int(ckpt.get("step", 0))


def read_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load and validate a fast-style checkpoint (``weights_only=True``: no code is executed).

    Raises:
        CheckpointError: missing/unreadable file, or a file that is not a stylelab fast-style checkpoint.
    """
    from ..checkpoint import load_checkpoint

    path = Path(path)
    ckpt = load_checkpoint(path, "stylelab fast-style checkpoint", map_location=map_location,
                           format_key="kind", format_value=CHECKPOINT_KIND)
    if not isinstance(ckpt.get("config"), dict) or not isinstance(ckpt.get("net"), dict):
        raise CheckpointError(f"{path.name} is missing its config or network weights.")
    return ckpt


def load_fast_style(path: str | Path, device: str | torch.device = "cpu") -> tuple[TransformerNet, FastStyleConfig]:
    """The trained network (eval mode, frozen) and its config from a checkpoint."""
    ckpt = read_checkpoint(path)
    names = {f.name for f in dataclasses.fields(FastStyleConfig)}
    raw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in ckpt["config"].items() if k in names}
    try:
        config = FastStyleConfig(**raw).validate()
    except (TypeError, ConfigError) as exc:
        raise CheckpointError(f"The checkpoint's config is not valid: {exc}") from exc
    net = TransformerNet(config.width, config.n_res)
    try:
        net.load_state_dict(ckpt["net"])
    except RuntimeError as exc:
        raise CheckpointError(f"The checkpoint's weights do not fit the network it describes: {exc}") from exc
    return net.to(device).eval().requires_grad_(False), config


# ----------------------------------------------------------------------------- entry point (also under torchrun)
def build_arg_parser() -> argparse.ArgumentParser:
    from .cli import add_train_arguments

    p = argparse.ArgumentParser(prog="python -m stylelab.style.train_fast", description="Train a fast style network.")
    add_train_arguments(p)
    return p


def config_from_args(args: argparse.Namespace) -> FastStyleConfig:
    """A :class:`FastStyleConfig` from CLI arguments (options left out keep the config's defaults)."""
    given = {
        "size": args.size, "batch_size": args.batch_size, "steps": args.steps, "lr": args.lr,
        "content_weight": args.content_weight, "style_weight": args.style_weight, "tv_weight": args.tv_weight,
        "adv_weight": args.adv_weight, "width": args.width, "n_res": args.n_res, "seed": args.seed,
    }
    return FastStyleConfig(style_name=args.style, **{k: v for k, v in given.items() if v is not None}).validate()


def load_style_arg(spec: str, size: int | None = None) -> torch.Tensor:
    """A style given on the command line: a bundled name (``painting:KEY``, ``photo:NAME``) or a path."""
    from ..assets import load_bundled
    from ..imageio import load_image

    if spec.split(":", 1)[0] in ("painting", "photo", "texture") and not Path(spec).exists():
        return load_bundled(spec, size=size)
    return load_image(spec, size=size)


def run_training(args: argparse.Namespace) -> int:
    """Train from parsed arguments; handles torchrun's environment (DDP) if present."""
    import torch.distributed as dist

    from ..device import configure_threads, get_device

    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = get_device(args.device)
    if device.type == "cuda" and world_size > 1:
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    if world_size > 1:  # share the cores between the processes instead of oversubscribing them
        configure_threads(max(1, (os.cpu_count() or 1) // world_size))
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    else:
        configure_threads()
    try:
        config = config_from_args(args)
        style = load_style_arg(args.style, size=max(config.size, 256))
        trainer = FastStyleTrainer(style, config, device, rank, world_size)
        if args.resume:
            trainer.load_state(read_checkpoint(args.resume, device))
        bar = None
        if rank == 0 and not args.quiet:
            from tqdm import tqdm

            bar = tqdm(total=config.steps, initial=trainer.step_count, desc="train-style", unit="step")
        t0 = time.perf_counter()

        def on_step(step: int, values: dict) -> None:
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{values['total']:.3g}")
            if rank == 0 and args.save_every and step % args.save_every == 0:
                trainer.save(args.out)

        trainer.train(None, on_step)
        if bar is not None:
            bar.close()
        if rank == 0:
            trainer.save(args.out)
            last = trainer.history[-1] if trainer.history else {}
            print(f"saved {args.out} after {trainer.step_count} steps on {world_size} process(es) "
                  f"in {time.perf_counter() - t0:.1f} s; last loss {last.get('total', float('nan')):.4g}")
        if world_size > 1:  # no rank tears gloo down while another still saves (that aborted rank 1 ~1 run in 5)
            dist.barrier()
    finally:
        if world_size > 1 and dist.is_initialized():
            dist.destroy_process_group()
    return 0


def main(argv: list[str] | None = None) -> int:
    from ..device import tune_allocator
    from ..errors import StylelabError

    args = build_arg_parser().parse_args(argv)
    tune_allocator()
    try:
        return run_training(args)
    except StylelabError as exc:
        import sys

        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
