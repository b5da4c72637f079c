r"""Training the gated inpainter (:mod:`stylelab.inpaint.gated`): a :class:`~stylelab.run.Run` that checkpoints and resumes.

One step draws a batch of crops :math:`x` with free-form / rectangular holes :math:`m`, alternately at
64 px and at 128 px (``every_large``), fills the hole with Telea (:math:`c`), predicts
:math:`\hat x = f_\theta([x(1-m), m, c])` and composites :math:`y = m\hat x + (1-m)x`. The generator minimises

.. math::
    \mathcal L_G = \lambda_1 \mathrm{L1}_\Omega(\hat x, x) + \lambda_s (1 - \mathrm{SSIM}(y, x))
        + \lambda_p \sum_l \tfrac{1}{C_l H_l W_l}\|F^l(y) - F^l(x)\|^2 + \lambda_a \mathcal L_G^{hinge}(D(y)),

with VGG16 features :math:`F^l` (relu1_2, relu2_2, relu3_3) and a per-patch PatchGAN :math:`D`
(:class:`stylelab.patchgan.PatchDiscriminator`, spectral norm), which first takes one hinge step on real
crops vs. composites, every patch logit a term (:func:`stylelab.losses.discriminator_loss`).

Command line (background training that resumes from ``--state`` when started again)::

    python -m stylelab inpaint-gated-train --state /root/.cache/stylelab/train/h_inpaint/run.pt \
        --best /root/.cache/stylelab/train/h_inpaint/best.pt --minutes 45

Every ``eval_every`` steps the model is scored on the bench's held-out pictures x fixed masks at 64 and
128 px (:func:`held_out_score`: LPIPS in the hole relative to Telea's, mean of both sizes); the best
weights so far go to ``--best`` (early stopping). Randomness: weights from the run's own generator,
crops and masks from the samplers' own streams; torch's global RNG is never used.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, ClassVar

import torch

from ..device import autocast
from ..errors import CheckpointError, ConfigError
from ..run import Run, config_to_dict, make_generator
from .data import InpaintData
from .gated import GatedInpaintNet
from .gated_config import GatedTrainConfig, register
from .gated_model import GatedInpainter, gated_input, save_gated
from .losses import masked_l1
from .masks import composite

__all__ = ["GatedTrainConfig", "GatedTrainer", "held_out_score", "main", "register", "small_run"]

PERCEPTUAL_LAYERS = ("relu1_2", "relu2_2", "relu3_3")


class GatedTrainer(Run):
    """Trains a :class:`GatedInpaintNet` (kind ``"inpaint-gated"``); rows hold the weighted loss terms."""

    kind: ClassVar[str] = "inpaint-gated"
    lab: ClassVar[str] = "inpaint"
    config_class: ClassVar[type] = GatedTrainConfig

    def __init__(self, config: GatedTrainConfig | None = None, device: Any = None, *, seed: int | None = None) -> None:
        cfg = config or GatedTrainConfig()
        if seed is not None and seed != cfg.seed:
            cfg = replace(cfg, seed=seed)
        cfg.validate()
        super().__init__(cfg, seed=cfg.seed, device=device)
        from .unet import build_seeded

        gen = make_generator(cfg.seed, "cpu", stream=0)
        net_cfg = cfg.net_config()
        self.net = build_seeded(lambda: GatedInpaintNet(net_cfg), gen, None).zero_head().to(self.device)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
        self.disc = self.d_opt = None
        if cfg.adv > 0:
            from ..patchgan import PatchDiscriminator

            self.disc = build_seeded(lambda: PatchDiscriminator(3, base_channels=cfg.d_base, n_layers=2, norm="none",
                                                                spectral=True), gen, self.device)
            self.d_opt = torch.optim.Adam(self.disc.parameters(), lr=cfg.d_lr, betas=(0.5, 0.999))
        self.features = None
        if cfg.perceptual > 0:
            from ..features import get_extractor

            self.features = get_extractor("vgg16", device=self.device, normalisation="imagenet")
        self.small = InpaintData(cfg.data, cfg.size, seed=cfg.seed, scale=tuple(cfg.scale_small))
        self.big = InpaintData(cfg.data, cfg.large, seed=cfg.seed + 1, scale=tuple(cfg.scale_large)) if cfg.large else None

    @property
    def total_steps(self) -> int:  # type: ignore[override]
        return self.config.steps

    def _batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.config
        if self.big is not None and (self.step_count + 1) % cfg.every_large == 0:
            return self.big.batch(cfg.batch_large)
        return self.small.batch(cfg.batch)

    def _step(self) -> dict[str, Any]:
        from ..losses import content_loss, discriminator_loss, generator_loss, ssim_loss

        cfg = self.config
        x, m = self._batch()  # (B, 3, S, S), (B, 1, S, S) binary
        x, m = x.to(self.device), m.to(self.device)
        inp = gated_input(x, m)  # (B, 7, S, S): the Telea fill is part of the input
        self.net.train()
        with autocast(self.device, enabled=cfg.bf16):
            pred = self.net(inp)
        pred = pred.float()
        comp = composite(pred, x, m)
        row: dict[str, Any] = {"size": int(x.shape[-1])}
        if self.disc is not None:
            with autocast(self.device, enabled=cfg.bf16):
                real_logits, fake_logits = self.disc(x), self.disc(comp.detach())
            d_loss = discriminator_loss(real_logits.float(), fake_logits.float(), kind="hinge")  # per patch
            self.d_opt.zero_grad(set_to_none=True)  # type: ignore[union-attr]
            d_loss.backward()
            self.d_opt.step()  # type: ignore[union-attr]
            row["d_loss"] = float(d_loss.detach())
        terms: dict[str, torch.Tensor] = {"l1": cfg.l1 * masked_l1(pred, x, m)}
        if cfg.ssim > 0:
            terms["ssim"] = cfg.ssim * ssim_loss(comp, x, window_size=7)
        if self.features is not None:
            with autocast(self.device, enabled=cfg.bf16):
                fy = self.features(comp, layers=list(PERCEPTUAL_LAYERS))
                with torch.no_grad():
                    fx = self.features(x, layers=list(PERCEPTUAL_LAYERS))
            terms["perceptual"] = cfg.perceptual * content_loss({k: v.float() for k, v in fy.items()},
                                                                {k: v.float() for k, v in fx.items()},
                                                                layers=list(PERCEPTUAL_LAYERS))
        if self.disc is not None:
            with autocast(self.device, enabled=cfg.bf16):
                logits = self.disc(comp)
            terms["adv"] = cfg.adv * generator_loss(logits.float(), kind="hinge")
        total = sum(terms.values())
        self.opt.zero_grad(set_to_none=True)
        total.backward()  # type: ignore[union-attr]
        self.opt.step()
        row.update({k: float(v.detach()) for k, v in terms.items()})
        row["total"] = float(total.detach())  # type: ignore[union-attr]
        return row

    def _state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"net": self.net.state_dict(), "opt": self.opt.state_dict(),
                                 "small": self.small.get_state()}
        if self.big is not None:
            state["big"] = self.big.get_state()
        if self.disc is not None:
            state.update(disc=self.disc.state_dict(), d_opt=self.d_opt.state_dict())  # type: ignore[union-attr]
        return state

    def _load_state(self, state: dict[str, Any]) -> None:
        self.net.load_state_dict(state["net"])
        self.opt.load_state_dict(state["opt"])
        self.small.set_state(state["small"])
        if self.big is not None:
            self.big.set_state(state["big"])
        if self.disc is not None:
            self.disc.load_state_dict(state["disc"])
            self.d_opt.load_state_dict(state["d_opt"])  # type: ignore[union-attr]

    def inpainter(self) -> GatedInpainter:
        """The model being trained as a ready :class:`GatedInpainter` (shares the weights; eval mode)."""
        return GatedInpainter(self.net, {"steps": self.step_count}, _plain(self.config))

    def save(self, path: str | Path, meta: dict[str, Any] | None = None, half: bool = False) -> Path:
        """The weights as a shipped-format checkpoint (:func:`~stylelab.inpaint.gated_model.save_gated`)."""
        info = {"steps": self.step_count, "wall_s": round(self.seconds, 1), **(meta or {})}
        out = save_gated(path, self.net, _plain(self.config), info, half=half)
        self.net.train()
        return out


def _plain(cfg: GatedTrainConfig) -> dict[str, Any]:
    d = asdict(cfg)
    for k in ("dilations", "scale_small", "scale_large"):
        d[k] = list(d[k])
    return d


_REFERENCE: dict[tuple[int, str], dict[str, float]] = {}


def held_out_score(model: Any, sizes: tuple[int, ...] = (64, 128), reference: str = "telea") -> dict[str, float]:
    """Bench held-out pictures x fixed masks: the model's and ``reference``'s LPIPS / PSNR in the hole per size.

    Returns ``{"lpips_64", "psnr_64", "ref_lpips_64", ..., "ratio"}`` where ``ratio`` is the mean over
    sizes of LPIPS(model) / LPIPS(reference) (lower is better; the early-stopping score).
    """
    from .bench import evaluate, fixed_masks
    from .data import held_out_images

    out: dict[str, float] = {}
    ratios = []
    for s in sizes:
        images, masks = held_out_images(s), fixed_masks(s)
        key = (s, reference)
        if key not in _REFERENCE:
            _REFERENCE[key] = evaluate(reference, images, masks)
        ref = _REFERENCE[key]
        mine = evaluate("gated", images, masks, model=model)
        out.update({f"lpips_{s}": mine["lpips_hole"], f"psnr_{s}": mine["psnr_hole"],
                    f"ref_lpips_{s}": ref["lpips_hole"], f"ref_psnr_{s}": ref["psnr_hole"]})
        ratios.append(mine["lpips_hole"] / ref["lpips_hole"])
    out["ratio"] = float(sum(ratios) / len(ratios))
    return out


def small_run(seed: int = 0, device: Any = None) -> GatedTrainer:
    """The catalogue's small run: width 4, 32 / 48 px crops, batch 2, no VGG and no D (fast steps)."""
    return GatedTrainer(GatedTrainConfig(width=4, dilations=(2, 4), size=32, large=48, batch=2, batch_large=1,
                                         steps=10, perceptual=0.0, adv=0.0, seed=seed), device=device)


# ----------------------------------------------------------------------------- command line
def _config_from_state(state: dict[str, Any]) -> GatedTrainConfig:
    """The config a run state was saved with (lists back to tuples)."""
    try:
        return GatedTrainConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in state["config"].items()})
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"This run state does not hold a gated-inpainter config: {exc}") from exc


def train_command(args: argparse.Namespace) -> int:
    """``inpaint-gated-train``: train, score on the held-out bench every ``--eval-every`` steps, resume from ``--state``."""
    from ..checkpoint import load_checkpoint, save_checkpoint
    from ..entry import config_from_args

    cfg = config_from_args(args, GatedTrainConfig)
    if args.dry_run:
        cfg = replace(cfg, steps=1)
    state_path = Path(args.state) if args.state else None
    best = {"ratio": float("inf")}
    state = None
    if state_path is not None and state_path.is_file() and not args.dry_run:
        state = load_checkpoint(state_path, "gated inpainter run state")
        saved = _config_from_state(state)
        if replace(saved, steps=cfg.steps) != cfg:
            raise ConfigError(f"{state_path} was saved with other settings than these flags; pass the same ones "
                              "(only --steps may change) or another --state.")
        cfg = replace(cfg, steps=max(cfg.steps, int(state["step_count"])))
        state = {**state, "config": config_to_dict(cfg)}
    run = GatedTrainer(cfg)
    init_from = state.get("init_from") if state is not None else None
    if state is None and getattr(args, "init", None):
        from .gated_model import load_gated

        start = load_gated(args.init, device=run.device)
        try:
            run.net.load_state_dict(start.net.state_dict())
        except RuntimeError as exc:
            raise CheckpointError(f"--init {args.init} does not fit width {cfg.width}, dilations "
                                  f"{cfg.dilations}: {exc}") from exc
        init_from = {"path": str(args.init), **{k: v for k, v in (start.meta or {}).items() if k in ("steps", "wall_s")}}
        print(f"started from {args.init} ({init_from})", flush=True)
    if state is not None:
        run.load_state_dict(state)
        best = dict(state.get("best", best))
        print(f"resumed {state_path} at step {run.step_count} (best ratio so far {best['ratio']:.4f})", flush=True)
    t0 = last_save = time.monotonic()

    def save_state() -> None:
        if state_path is not None and not args.dry_run:
            state_path.parent.mkdir(parents=True, exist_ok=True)
            extra = {"init_from": init_from} if init_from else {}
            save_checkpoint({**run.state_dict(), "best": best, **extra}, state_path)

    while not run.done:
        row = run.step()
        if row["step"] % args.log_every == 0 or row["step"] == 1:
            print(json.dumps({k: round(v, 5) if isinstance(v, float) else v for k, v in row.items()}
                             | {"wall_s": round(run.seconds, 1)}), flush=True)
        if args.eval_every and row["step"] % args.eval_every == 0 and not args.dry_run:
            score = held_out_score(run.inpainter())
            run.net.train()
            print(json.dumps({"eval_step": row["step"], **{k: round(v, 4) for k, v in score.items()}}), flush=True)
            if score["ratio"] < best["ratio"]:
                best = {"ratio": score["ratio"], "step": row["step"], **score}
                if args.best:
                    run.save(args.best, meta={"held_out": score, **({"init_from": init_from} if init_from else {})})
            save_state()
            last_save = time.monotonic()
        if time.monotonic() - last_save > 60 * args.save_minutes:
            save_state()
            last_save = time.monotonic()
        if args.minutes and time.monotonic() - t0 > 60 * args.minutes:
            print(f"time limit: stopping at step {run.step_count}", flush=True)
            break
    save_state()
    if args.dry_run:
        print(f"dry run: 1 step on {run.device} ({run.seconds:.2f} s); nothing written", flush=True)
    else:
        print(json.dumps({"done_step": run.step_count, "wall_s": round(run.seconds, 1), "best": best}), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m stylelab.inpaint.gated_train ...`` = ``python -m stylelab inpaint-gated-train ...``."""
    from ..entry import run_main

    def _main(a: list[str] | None) -> int:
        parser = argparse.ArgumentParser(prog="python -m stylelab.inpaint.gated_train")
        sub = parser.add_subparsers()
        register(sub)
        ns = parser.parse_args(["inpaint-gated-train", *(a or [])])
        return ns.func(ns)

    return run_main(_main, argv)


if __name__ == "__main__":
    raise SystemExit(main())
