"""Data-parallel GAN training over several processes (PyTorch DDP), launched with ``torchrun``.

::

    torchrun --nproc_per_node 2 -m stylelab.gan.ddp --data ring --loss ns --steps 200 --out runs/ddp

Every process builds the same :class:`~stylelab.gan.train.GANTrainer` (same seed, so the same
initial weights), takes its own shard of the data (a seeded permutation, every ``world_size``-th
image from its rank, as ``DistributedSampler`` does), draws its own noise, and computes
``batch_size / world_size`` samples per step. ``DistributedDataParallel`` averages the gradients
of G and D across processes in every backward pass, so all ranks hold identical weights after
every step. Back-end: ``gloo`` on CPU, ``nccl`` on CUDA.

Rank 0 writes the checkpoint and ``metrics.json``; every rank writes ``rank<r>.json`` with a
checksum of its generator weights (the test checks they agree). The process group, device,
back-end and threads come from the shared :func:`stylelab.entry.torchrun`; the flags are those of
``python -m stylelab gan train`` (generated from :class:`~stylelab.gan.config.GANConfig`), and
``--dry-run`` runs one step on every rank and writes nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path


def weights_checksum(module: "object", buffers: bool = True) -> str:
    """SHA-256 of a module's parameters (and buffers): a bit-exact equality test across ranks."""
    import torch

    h = hashlib.sha256()
    items = module.state_dict().items() if buffers else module.named_parameters()  # type: ignore[attr-defined]
    for name, t in items:
        h.update(name.encode())
        h.update(t.detach().to("cpu").reshape(-1).contiguous().view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def wrap_ddp(trainer: "object", device: "object") -> None:
    """Put DDP wrappers around the trainer's G and D for the training passes."""
    from torch.nn.parallel import DistributedDataParallel as DDP

    ids = [device.index] if getattr(device, "type", "cpu") == "cuda" else None
    # D's and G's plain modules stay in use where a pass must not trigger a gradient all-reduce
    # (the G step's look at D, the gradient penalty's double backward, evaluation).
    trainer.G_train = DDP(trainer.G, device_ids=ids)  # type: ignore[attr-defined]
    trainer.D_train = DDP(trainer.D, device_ids=ids)  # type: ignore[attr-defined]


def sync_buffers(trainer: "object") -> None:
    """Copy rank 0's batch-norm running statistics to every rank.

    DDP broadcasts buffers at the start of each wrapped forward pass; after the last step each rank
    still holds the statistics of its own last batches, so the checkpoint would depend on the rank.
    """
    import torch.distributed as dist

    for module in (trainer.G, trainer.D):  # type: ignore[attr-defined]
        for buf in module.buffers():
            dist.broadcast(buf, src=0)


def build_parser() -> argparse.ArgumentParser:
    from ..entry import add_dry_run
    from .cli import add_gan_arguments

    p = argparse.ArgumentParser(prog="torchrun --nproc_per_node N -m stylelab.gan.ddp",
                                description="Train a GAN with DistributedDataParallel (one process per device or CPU core).")
    p.add_argument("--steps", type=int, default=200, help="generator updates")
    p.add_argument("--out", required=True, help="output folder")
    add_gan_arguments(p)
    add_dry_run(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from ..entry import run_main, torchrun

    def command(argv: Sequence[str] | None) -> int:
        args = build_parser().parse_args(argv)
        from .cli import config_from

        config = config_from(args, metrics_every=args.metrics_every or 0)  # rank 0 evaluates; 0: only at the end
        return torchrun(lambda ctx: train(config, ctx, Path(args.out), dry_run=args.dry_run), device=config.device,
                        require_distributed=True, command="-m stylelab.gan.ddp ...")

    return run_main(command, argv)


def train(config: "object", ctx: "object", out: Path, dry_run: bool = False) -> int:
    """The body every rank runs: build, wrap in DDP, train ``config.steps`` steps, write the results."""
    import dataclasses

    from ..run import run_to_end
    from .train import GANTrainer

    if not ctx.is_main:  # type: ignore[attr-defined]
        config = dataclasses.replace(config, metrics_every=0)  # type: ignore[type-var]
    trainer = GANTrainer(config, rank=ctx.rank, world_size=ctx.world_size, device=ctx.device)  # type: ignore[attr-defined]
    wrap_ddp(trainer, ctx.device)  # type: ignore[attr-defined]
    if dry_run:
        row = trainer.step()
        if ctx.is_main:  # type: ignore[attr-defined]
            print(f"dry run: 1 step on {ctx.world_size} processes ({ctx.backend}), loss_d={row['loss_d']:.4g}; "  # type: ignore[attr-defined]
                  "nothing written")
        return 0
    bar = None
    if ctx.is_main:  # type: ignore[attr-defined]
        from tqdm import tqdm

        bar = tqdm(total=trainer.total_steps, desc=f"GAN x{ctx.world_size} ({ctx.backend})", unit="step")  # type: ignore[attr-defined]

    def tick(_trainer: GANTrainer, row: dict) -> None:
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss_d=f"{row['loss_d']:.3f}", loss_g=f"{row['loss_g']:.3f}")

    run_to_end(trainer, tick)
    if bar is not None:
        bar.close()
    g_params = weights_checksum(trainer.G, buffers=False)
    sync_buffers(trainer)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"rank{ctx.rank}.json").write_text(json.dumps({  # type: ignore[attr-defined]
        "rank": ctx.rank, "world_size": ctx.world_size, "backend": ctx.backend, "steps": trainer.step_count,  # type: ignore[attr-defined]
        "g_params_checksum": g_params,
        "g_checksum": weights_checksum(trainer.G), "d_checksum": weights_checksum(trainer.D),
        "last": trainer.history[-1],
    }, indent=2))
    if ctx.is_main:  # type: ignore[attr-defined]
        trainer.history[-1].update(trainer.evaluate())
        trainer.save(out / "checkpoint.pt")
        (out / "metrics.json").write_text(json.dumps(trainer.history, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
