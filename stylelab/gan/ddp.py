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
checksum of its generator weights (the test checks they agree).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ..device import tune_allocator
from ..errors import ConfigError, StylelabError


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
    from ..losses.adversarial import ADVERSARIAL_LOSSES
    from .data import DATASETS

    p = argparse.ArgumentParser(prog="torchrun --nproc_per_node N -m stylelab.gan.ddp",
                                description="Train a GAN with DistributedDataParallel (one process per device or CPU core).")
    p.add_argument("--data", choices=DATASETS, default="ring")
    p.add_argument("--loss", choices=ADVERSARIAL_LOSSES, default="ns")
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--batch-size", type=int, default=64, help="global batch, split across processes")
    p.add_argument("--d-steps", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--metrics-every", type=int, default=0, help="rank 0 evaluates every k steps (0: only at the end)")
    p.add_argument("--out", required=True, help="output folder")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    tune_allocator()
    try:
        return run(args)
    except StylelabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace) -> int:
    import torch
    import torch.distributed as dist

    from .train import GANConfig, GANTrainer

    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        raise ConfigError("Run this under torchrun, e.g. `torchrun --nproc_per_node 2 -m stylelab.gan.ddp ...`.")
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    if args.steps < 1:
        raise ConfigError(f"--steps must be >= 1, got {args.steps}.")
    if torch.cuda.is_available():
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
        backend = "nccl"
    else:
        device = torch.device("cpu")
        backend = "gloo"
        torch.set_num_threads(1)  # one core per process: N processes share the CPU
    dist.init_process_group(backend)
    try:
        config = GANConfig(data=args.data, loss=args.loss, batch_size=args.batch_size, d_steps=args.d_steps,
                           seed=args.seed, device=str(device), metrics_every=args.metrics_every if rank == 0 else 0)
        trainer = GANTrainer(config, rank=rank, world_size=world)
        wrap_ddp(trainer, device)
        bar = None
        if rank == 0:
            from tqdm import tqdm

            bar = tqdm(total=args.steps, desc=f"GAN x{world} ({backend})", unit="step")

        def tick(_trainer: GANTrainer, row: dict) -> None:
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss_d=f"{row['loss_d']:.3f}", loss_g=f"{row['loss_g']:.3f}")

        trainer.train(args.steps, callback=tick)
        if bar is not None:
            bar.close()
        g_params = weights_checksum(trainer.G, buffers=False)
        sync_buffers(trainer)
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / f"rank{rank}.json").write_text(json.dumps({
            "rank": rank, "world_size": world, "backend": backend, "steps": trainer.step_count,
            "g_params_checksum": g_params,
            "g_checksum": weights_checksum(trainer.G), "d_checksum": weights_checksum(trainer.D),
            "last": trainer.history[-1],
        }, indent=2))
        if rank == 0:
            trainer.history[-1].update(trainer.evaluate())
            trainer.save(out / "checkpoint.pt")
            (out / "metrics.json").write_text(json.dumps(trainer.history, indent=1))
        dist.barrier()
    finally:
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
