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

:class:`FastStyleTrainer` is a :class:`~stylelab.run.Run` (kind ``"fast-style"``): one step is one
update; its weights and crops come from its own generators. The command line (``python -m stylelab
train-style``, also under ``torchrun --nproc_per_node N -m stylelab.style.train_fast``, with
DistributedDataParallel: gloo on CPU, nccl on CUDA; each rank draws its own crops, rank 0 writes the
checkpoint) lives in :mod:`stylelab.style.cli`. Checkpoints (``format`` :data:`CHECKPOINT_FORMAT`) hold
the config, the step, the history, the network (and discriminator) and optimiser weights; they are
written atomically and read with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import CheckpointError, ConfigError, NonFiniteError
from ..run import STATE_FORMAT, Run, StopSignal, make_generator, run_to_end
from .configs import FastStyleConfig
from .transformer_net import TransformerNet

#: the ``format`` of the checkpoints :meth:`FastStyleTrainer.save` writes
CHECKPOINT_FORMAT = "stylelab.fast_style/2"
#: the tag of the first checkpoints (``{"kind": "stylelab.fast_style/1", ...}``): still read
LEGACY_KIND = "stylelab.fast_style/1"
CHECKPOINT_KIND = LEGACY_KIND  # the old name of the tag (kept for code that imported it)

#: generator streams of a run (see :func:`stylelab.run.make_generator`): the initial weights (the
#: same on every rank, so DDP starts from one network) and the crops (one stream per rank)
INIT_STREAM = 0
DATA_STREAM = 1000


# ----------------------------------------------------------------------------- weights from the run's generator
def seeded_module(build: Callable[[], nn.Module], generator: torch.Generator) -> nn.Module:
    r"""``build()`` with its weights drawn from ``generator`` (CPU), never from torch's global RNG.

    The module is built on the ``meta`` device (no values, no random draws), materialised on the
    CPU and initialised as PyTorch does by default: convolutions and linear layers
    :math:`W \sim U(-b, b)` with Kaiming's :math:`b = \sqrt{6 / ((1 + a^2)\,\mathrm{fan_{in}})}`,
    :math:`a = \sqrt 5`, biases :math:`U(-1/\sqrt{\mathrm{fan_{in}}}, 1/\sqrt{\mathrm{fan_{in}}})`; norm layers
    :math:`\gamma = 1, \beta = 0`. Any other layer with parameters is refused (TypeError).
    """
    with torch.device("meta"):
        module = build()
    module = module.to_empty(device="cpu")
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d, nn.Linear)):
                nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=generator)
                if m.bias is not None:
                    fan_in, _ = nn.init._calculate_fan_in_and_fan_out(m.weight)
                    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
                    nn.init.uniform_(m.bias, -bound, bound, generator=generator)
            elif isinstance(m, (nn.modules.batchnorm._NormBase, nn.GroupNorm, nn.LayerNorm)):
                m.reset_parameters()  # ones and zeros (and running statistics): no random draws
            elif next(m.parameters(recurse=False), None) is not None or next(m.buffers(recurse=False), None) is not None:
                raise TypeError(f"seeded_module does not know how to initialise {type(m).__name__}.")
    return module


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
class FastStyleTrainer(Run):
    """A fast-style training run (the :class:`~stylelab.run.Run` contract): one :meth:`step` = one
    Adam update of the network on one batch of crops (and one discriminator update when
    ``adv_weight > 0``); the row holds every loss term (weighted and ``_raw``) and ``total``.

    Args:
        style: ``(3, H, W)`` style image in [0, 1] (a batch of one and grey pictures are accepted).
        config: :class:`FastStyleConfig` (its ``seed`` is the run's seed).
        device: torch device (default None: :func:`stylelab.device.get_device`).
        rank, world_size: this process's place under torchrun (see :mod:`stylelab.style.cli`).
        seed: overrides ``config.seed`` when given.

    Randomness: the initial weights come from the run's generator stream :data:`INIT_STREAM` (the
    same on every rank), the crops and flips from stream ``DATA_STREAM + rank``; nothing touches
    torch's global RNG.
    """

    kind = "fast-style"
    lab = "style"
    config_class = FastStyleConfig

    def __init__(self, style: torch.Tensor, config: FastStyleConfig | None = None,
                 device: torch.device | str | None = None, rank: int = 0, world_size: int = 1, *,
                 seed: int | None = None) -> None:
        from ..features import get_extractor
        from ..imageio import resize_tensor
        from ..losses import gram_matrix
        from ..validate import as_image_batch

        config = config or FastStyleConfig()
        if seed is not None and seed != config.seed:
            config = dataclasses.replace(config, seed=seed)
        config.validate()
        super().__init__(config, seed=config.seed, device=device)
        picture, _ = as_image_batch(style, name="style image", max_batch=1)
        self.rank, self.world_size = int(rank), int(world_size)
        init_gen = make_generator(self.seed, "cpu", INIT_STREAM)  # the same initial weights on every rank
        self.data_gen = make_generator(self.seed, "cpu", DATA_STREAM + self.rank)  # own crops per rank
        self.net = seeded_module(lambda: TransformerNet(self.config.width, self.config.n_res), init_gen).to(self.device)
        self.data = ContentCrops(self.config.size, self.data_gen)
        self.vgg = get_extractor("vgg16", self.device)
        self.model: torch.nn.Module = self.net
        if self.world_size > 1:
            from torch.nn.parallel import DistributedDataParallel

            self.model = DistributedDataParallel(self.net, device_ids=[self.device.index] if self.device.type == "cuda" else None)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=self.config.lr)
        self.style = resize_tensor(picture[0].detach().float().cpu().clamp(0, 1), self.config.size)  # (3, h, w)
        s = self.style.unsqueeze(0).to(self.device)  # (1, 3, h, w)
        with torch.no_grad():
            feats = self._features(s, self.config.style_layers)
            self.style_grams = {k: gram_matrix(v) for k, v in feats.items()}
        self.disc = None
        if self.config.adv_weight > 0:
            from ..patchgan import PatchDiscriminator

            self.disc = seeded_module(lambda: PatchDiscriminator(3, base_channels=16, n_layers=2), init_gen).to(self.device)
            if self.world_size > 1:
                from torch.nn.parallel import DistributedDataParallel

                self.disc_model: torch.nn.Module = DistributedDataParallel(self.disc)
            else:
                self.disc_model = self.disc
            self.opt_d = torch.optim.Adam(self.disc.parameters(), lr=self.config.lr, betas=(0.5, 0.999))

    @property
    def total_steps(self) -> int:  # type: ignore[override]
        return int(self.config.steps)

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

    def _step(self) -> dict[str, Any]:
        """One optimisation step on one batch; returns every loss term (weighted and raw)."""
        from ..losses import discriminator_loss

        cfg = self.config
        self.model.train()
        c = self.data.batch(cfg.batch_size).to(self.device)  # (B, 3, S, S)
        total, values, y = self._loss(c)
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
        return values

    def train(self, steps: int | None = None, callback: Callable[[int, dict], None] | None = None,
              stop: StopSignal = None) -> bool:
        """Run ``steps`` more steps (default: up to ``config.steps``); True if ``stop`` ended it early.

        A thin wrapper over :func:`stylelab.run.run_to_end`; ``callback(step, row)`` after each step.
        """
        cb = None if callback is None else (lambda run, row: callback(run.step_count, row))
        before = self.step_count
        if run_to_end(self, cb, stop, max_steps=steps):
            return False
        return steps is None or self.step_count - before < steps

    @torch.inference_mode()
    def stylize(self, content: torch.Tensor) -> torch.Tensor:
        """Apply the network to ``(3, H, W)`` -> ``(3, H, W)`` (eval mode), on the CPU."""
        from ..validate import as_image_batch

        x, _ = as_image_batch(content, name="content image", max_batch=1)
        self.net.eval()
        return self.net(x.to(self.device).float())[0].float().cpu()

    def preview(self) -> None:
        """No picture of its own (the page shows :meth:`stylize` of the user's photo)."""
        return None

    def inputs(self) -> dict[str, Any]:
        return {"style": self.style}

    def summary(self) -> dict[str, Any]:
        last = self.history[-1] if self.history else {}
        return {"method": "fast-style", "steps_done": self.step_count, "final_loss": last.get("total")}

    # -------------------------------------------------------------- state and checkpoints
    def _state(self) -> dict[str, Any]:
        """Network and optimiser weights (and the discriminator's), and the crop generator."""
        out: dict[str, Any] = {"net": self.net.state_dict(), "opt": self.opt.state_dict(),
                               "data_gen": self.data_gen.get_state()}
        if self.disc is not None:
            out["disc"] = self.disc.state_dict()
            out["opt_d"] = self.opt_d.state_dict()
        return out

    def _load_state(self, state: dict[str, Any]) -> None:
        try:
            self.net.load_state_dict(state["net"])
            if "opt" in state:
                self.opt.load_state_dict(state["opt"])
            if self.disc is not None and "disc" in state:
                self.disc.load_state_dict(state["disc"])
                self.opt_d.load_state_dict(state["opt_d"])
        except (RuntimeError, KeyError, ValueError) as exc:
            raise CheckpointError(f"The saved weights do not fit this network: {exc}") from exc
        if "data_gen" in state and self.world_size == 1:  # under DDP each rank keeps its own crop stream
            self.data_gen.set_state(state["data_gen"])

    def checkpoint(self) -> dict[str, Any]:
        """The checkpoint :meth:`save` writes: ``format`` :data:`CHECKPOINT_FORMAT`, the config, the
        step, the history and the weights (plain tensors and JSON values: ``weights_only`` loads it)."""
        from ..record import _jsonable

        return {"format": CHECKPOINT_FORMAT, "config": dataclasses.asdict(self.config), "step": self.step_count,
                "history": _jsonable(self.history), **self._state()}

    def save(self, path: str | Path) -> Path:
        """Write :meth:`checkpoint` with :func:`stylelab.checkpoint.save_checkpoint` (atomic)."""
        from ..checkpoint import save_checkpoint

        return save_checkpoint(self.checkpoint(), path)

    def resume(self, ckpt: dict[str, Any]) -> None:
        """Continue from :func:`read_checkpoint`'s dict (same architecture; old checkpoints too)."""
        self._load_state(ckpt)
        self.step_count = int(ckpt.get("step", 0))
        self.history = [dict(r) for r in ckpt.get("history", [])]


def read_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load and validate a fast-style checkpoint (``weights_only=True``: no code is executed).

    Reads :data:`CHECKPOINT_FORMAT` checkpoints, the first ones (tagged ``"kind":`` :data:`LEGACY_KIND`)
    and the run states of :meth:`FastStyleTrainer.state_dict` (what the app's download button gives:
    ``run.to_bytes()``), each returned in the checkpoint layout.

    Raises:
        CheckpointError: missing/unreadable file, or a file that is not a stylelab fast-style checkpoint.
    """
    from ..checkpoint import load_checkpoint

    path = Path(path)
    what = "stylelab fast-style checkpoint"
    ckpt = load_checkpoint(path, what, map_location=map_location)
    if isinstance(ckpt, dict) and ckpt.get("format") == STATE_FORMAT and ckpt.get("kind") == FastStyleTrainer.kind:
        state = ckpt.get("state") if isinstance(ckpt.get("state"), dict) else {}
        ckpt = {**state, "format": CHECKPOINT_FORMAT, "config": ckpt.get("config"), "step": ckpt.get("step_count", 0),
                "history": ckpt.get("history", [])}
    if not isinstance(ckpt, dict) or (ckpt.get("format") != CHECKPOINT_FORMAT and ckpt.get("kind") != LEGACY_KIND):
        raise CheckpointError(f"{path.name} is not a {what} (expected format {CHECKPOINT_FORMAT!r}).")
    if not isinstance(ckpt.get("config"), dict) or not isinstance(ckpt.get("net"), dict):
        raise CheckpointError(f"{path.name} is missing its config or network weights.")
    return ckpt


def load_fast_style(path: str | Path, device: str | torch.device | None = None) -> tuple[TransformerNet, FastStyleConfig]:
    """The trained network (eval mode, frozen) on ``device`` (default :func:`~stylelab.device.get_device`)
    and its config, from a checkpoint. The network is built on the ``meta`` device and takes the
    saved tensors (no random initialisation is drawn)."""
    from ..run import resolve_device

    ckpt = read_checkpoint(path)
    names = {f.name for f in dataclasses.fields(FastStyleConfig)}
    raw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in ckpt["config"].items() if k in names}
    try:
        config = FastStyleConfig(**raw).validate()
    except (TypeError, ConfigError) as exc:
        raise CheckpointError(f"The checkpoint's config is not valid: {exc}") from exc
    with torch.device("meta"):
        net = TransformerNet(config.width, config.n_res)
    try:
        net.load_state_dict(ckpt["net"], assign=True)
    except RuntimeError as exc:
        raise CheckpointError(f"The checkpoint's weights do not fit the network it describes: {exc}") from exc
    return net.to(resolve_device(device)).eval().requires_grad_(False), config


def load_style_arg(spec: str, size: int | None = None) -> torch.Tensor:
    """A style given on the command line: a bundled name (``painting:KEY``, ``photo:NAME``) or a path."""
    from ..assets import load_bundled
    from ..imageio import load_image

    if spec.split(":", 1)[0] in ("painting", "photo", "texture") and not Path(spec).exists():
        return load_bundled(spec, size=size)
    return load_image(spec, size=size)


def small_run(seed: int = 0, device: Any = None) -> FastStyleTrainer:
    """A small fast-style run for the catalogue: a width-4 network with one residual block, trained on
    32 px crops (one per step) for the 32 px brick texture; its crops depend on the seed."""
    from ..assets import load_bundled

    config = FastStyleConfig(style_name="texture:brick", size=32, batch_size=1, steps=6, width=4, n_res=1, seed=seed)
    return FastStyleTrainer(load_bundled("texture:brick", size=32), config, device)


if __name__ == "__main__":  # torchrun --nproc_per_node N -m stylelab.style.train_fast STYLE ...
    from ..entry import run_main
    from .cli import train_main

    raise SystemExit(run_main(train_main))
