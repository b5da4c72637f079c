"""The plumbing every command-line entry point shares.

One copy of each thing a command needs, instead of one per lab:

- :func:`run_main` -- call ``main(argv)``; a :class:`~stylelab.errors.StylelabError` (bad input,
  written for a human) becomes one line ``error: <message>`` on stderr and exit status 2,
  Ctrl-C exit status 130. Anything else is a bug and keeps its traceback.
- :func:`torchrun` -- the distributed set-up of every trainer that may run under ``torchrun``:
  rank, world size, device, back-end, threads per process, the process group (created, and
  always destroyed, here), given to the body as a :class:`TorchrunContext`.
- :func:`add_config_arguments` / :func:`config_from_args` -- one ``--field-name`` flag per field of
  a config dataclass, its type, choices and default taken from the dataclass (so ``--help`` and
  the library never disagree), and back to the dataclass.
- :func:`add_dry_run` -- ``--dry-run``: one step, nothing written (every training command has it).

A typical training command::

    def main(argv=None):
        p = argparse.ArgumentParser(prog="python -m stylelab.x.train")
        add_config_arguments(p, TrainConfig)
        add_dry_run(p)
        args = p.parse_args(argv)
        config = config_from_args(args, TrainConfig)
        return torchrun(lambda ctx: train(config, ctx, dry_run=args.dry_run))

    if __name__ == "__main__":
        raise SystemExit(run_main(main))
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar, Union

from .errors import ConfigError, StylelabError

T = TypeVar("T")

__all__ = [
    "TorchrunContext",
    "add_config_arguments",
    "add_dry_run",
    "config_from_args",
    "rank_world",
    "run_main",
    "torchrun",
]


# ----------------------------------------------------------------------------- run_main
def run_main(main: Callable[[Sequence[str] | None], int | None], argv: Sequence[str] | None = None) -> int:
    """Run a command's ``main(argv)`` and turn its outcome into an exit status.

    - returns ``int(main(argv) or 0)`` when it finishes;
    - a :class:`~stylelab.errors.StylelabError` prints ``error: <message>`` (one line) on stderr -> 2;
    - ``KeyboardInterrupt`` prints ``interrupted`` -> 130 (the shell's 128 + SIGINT);
    - any other exception is a bug and propagates with its traceback.

    Before ``main`` runs, :func:`~stylelab.device.tune_allocator` keeps freed feature maps for reuse
    (process-wide, so entry points do it, never the library on import).
    """
    from .device import tune_allocator

    tune_allocator()
    try:
        return int(main(argv) or 0)
    except StylelabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


# ----------------------------------------------------------------------------- torchrun
@dataclasses.dataclass(frozen=True)
class TorchrunContext:
    """Where this process stands in a (possibly one-process) run.

    Attributes:
        rank: this process's rank in ``[0, world_size)`` (0 for a plain process).
        world_size: the number of processes (1 for a plain process).
        local_rank: the rank on this machine (picks the GPU: ``cuda:local_rank``).
        device: the device this process computes on.
        backend: ``"nccl"`` (CUDA) or ``"gloo"`` (CPU) when a process group is up, else None.
        threads: torch intra-op threads of this process.
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: Any = None
    backend: str | None = None
    threads: int = 1

    @property
    def is_main(self) -> bool:
        """True on rank 0: the process that prints, saves checkpoints and writes metrics."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """True when a process group is up (the process was started by ``torchrun``)."""
        return self.backend is not None

    def barrier(self) -> None:
        """Wait until every rank reaches this point (nothing to wait for in a plain process)."""
        if not self.distributed:
            return
        import torch.distributed as dist

        if self.backend == "nccl":
            dist.barrier(device_ids=[self.device.index or 0])
        else:
            dist.barrier()


def _env_int(name: str, default: int | None = None) -> int | None:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"The environment variable {name}={raw!r} is not an integer (torchrun sets it).") from None


def _cores() -> int:
    """CPU cores this process may use (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def rank_world() -> tuple[int, int]:
    """``(rank, world size)`` of the process group this process is in, ``(0, 1)`` outside one."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def torchrun_environment() -> tuple[int, int, int, int] | None:
    """``(rank, world_size, local_rank, local_world_size)`` from torchrun's environment, or None outside it.

    Raises:
        ConfigError: a variable that is not an integer, or ranks out of range.
    """
    rank, world = _env_int("RANK"), _env_int("WORLD_SIZE")
    if rank is None and world is None:
        return None
    if rank is None or world is None:
        raise ConfigError("Only one of RANK and WORLD_SIZE is set: start distributed runs with torchrun.")
    if world < 1 or not 0 <= rank < world:
        raise ConfigError(f"RANK={rank} and WORLD_SIZE={world} do not fit (need 0 <= RANK < WORLD_SIZE).")
    local_rank = _env_int("LOCAL_RANK", rank)
    local_world = _env_int("LOCAL_WORLD_SIZE", world)
    assert local_rank is not None and local_world is not None
    if local_world < 1 or not 0 <= local_rank < local_world:
        raise ConfigError(f"LOCAL_RANK={local_rank} and LOCAL_WORLD_SIZE={local_world} do not fit.")
    return rank, world, local_rank, local_world


def torchrun(body: Callable[[TorchrunContext], T], *, device: Any = None, threads: int | None = None,
             require_distributed: bool = False, command: str = "") -> T:
    """Run ``body(ctx)`` in this process, distributed if ``torchrun`` started it.

    Outside torchrun (no ``RANK`` / ``WORLD_SIZE`` in the environment) this is a plain process:
    ``ctx = TorchrunContext(rank=0, world_size=1, device=get_device(device))`` and all cores.

    Under torchrun (``WORLD_SIZE = N`` processes, ``LOCAL_WORLD_SIZE = n`` of them on this machine):

    - device: ``cuda:LOCAL_RANK`` when the wanted device is CUDA (``torch.cuda.set_device`` too),
      else the CPU; back-end ``nccl`` on CUDA, ``gloo`` on the CPU;
    - threads: ``max(1, cores // n)`` per process, so ``n`` ranks never oversubscribe the cores
      (``threads`` overrides);
    - the process group is created before ``body`` and destroyed after it in a ``finally``; when
      ``body`` returns, every rank first waits at a barrier, so no rank tears the group down while
      another still saves (after an exception there is no barrier: the other ranks may be gone).

    Args:
        body: the work; gets a :class:`TorchrunContext`, its return value is returned.
        device: the device wanted (None: :func:`~stylelab.device.get_device`).
        threads: torch threads per process (None: the cores divided between the local ranks).
        require_distributed: refuse to run outside torchrun (for DDP-only commands).
        command: how the command is started, for that refusal's message (``"-m stylelab.gan.ddp ..."``).

    Raises:
        ConfigError: outside torchrun when ``require_distributed``; a bad environment; ``threads < 1``.
    """
    import torch

    from .device import configure_threads, get_device

    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ConfigError(f"threads must be an integer >= 1, got {threads!r}.")
    env = torchrun_environment()
    wanted = get_device(None if device is None else str(device))
    if env is None:
        if require_distributed:
            how = command or "-m <module> ..."
            raise ConfigError(f"Run this under torchrun, e.g. `torchrun --nproc_per_node 2 {how}`.")
        n = configure_threads(threads)
        return body(TorchrunContext(device=wanted, threads=n))

    import torch.distributed as dist

    rank, world, local_rank, local_world = env
    if wanted.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise ConfigError(f"LOCAL_RANK {local_rank} has no GPU: this machine has {torch.cuda.device_count()}.")
        dev, backend = torch.device("cuda", local_rank), "nccl"
        torch.cuda.set_device(dev)
    else:  # gloo computes on the CPU (MPS has no collective back-end)
        dev, backend = torch.device("cpu"), "gloo"
    n = configure_threads(threads if threads is not None else max(1, _cores() // local_world))
    try:
        dist.init_process_group(backend)
    except ValueError as exc:  # e.g. MASTER_ADDR missing: RANK was set by hand, not by torchrun
        raise ConfigError(f"Could not join the torchrun process group: {exc}") from exc
    ctx = TorchrunContext(rank=rank, world_size=world, local_rank=local_rank, device=dev, backend=backend, threads=n)
    try:
        result = body(ctx)
        ctx.barrier()
        return result
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


# ----------------------------------------------------------------------------- flags from a config dataclass
def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    """``(X, True)`` for ``Optional[X]`` / ``X | None``, else ``(annotation, False)``."""
    if typing.get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(args) < len(typing.get_args(annotation)):
            return args[0], True
    return annotation, False


def _optional(convert: Callable[[str], Any]) -> Callable[[str], Any]:
    """A converter that also reads ``none`` as None (for ``Optional`` fields)."""

    def parse(text: str) -> Any:
        return None if text.strip().lower() == "none" else convert(text)

    parse.__name__ = getattr(convert, "__name__", "value")
    return parse


def _scalar_kwargs(annotation: Any, name: str) -> dict[str, Any]:
    """``type=`` / ``choices=`` for one value of ``annotation`` (int, float, str, Literal)."""
    if typing.get_origin(annotation) is typing.Literal:
        choices = typing.get_args(annotation)
        kinds = {type(c) for c in choices}
        if len(kinds) != 1 or not kinds <= {int, float, str}:
            raise TypeError(f"Field {name!r}: a Literal of one type (int, float or str) is needed for a flag.")
        return {"type": kinds.pop(), "choices": choices}
    if annotation in (int, float, str):
        return {"type": annotation}
    raise TypeError(f"Field {name!r} has type {annotation!r}: no command-line flag can be generated "
                    "(skip it and add the flag by hand).")


def _field_default(field: dataclasses.Field) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        return field.default_factory()  # type: ignore[misc]
    return dataclasses.MISSING


def add_config_arguments(parser: argparse.ArgumentParser | Any, config_class: type, skip: Iterable[str] = (),
                         help: Mapping[str, str] | None = None,  # noqa: A002 - argparse's own word
                         rename: Mapping[str, str] | None = None) -> list[str]:
    """Add one ``--field-name`` flag per field of the dataclass ``config_class``.

    ===========================  ==================================================================
    field annotation             flag
    ===========================  ==================================================================
    ``int`` / ``float`` / ``str`` ``--name VALUE`` with that ``type``
    ``bool``                     ``--name`` / ``--no-name`` (``argparse.BooleanOptionalAction``)
    ``Literal["a", "b"]``        ``--name {a,b}`` (``choices``)
    ``tuple[int, ...]``          ``--name V [V ...]`` (``nargs="+"``); ``tuple[int, int]``: ``nargs=2``
    ``X | None``                 as ``X``; the word ``none`` gives None
    ===========================  ==================================================================

    The default is the dataclass default (shown in ``--help``), so a command and the library
    cannot disagree; a field without a default becomes a required flag. The help text comes from
    ``help[field]`` or else the field's ``metadata["help"]``.

    Args:
        parser: an ``ArgumentParser`` (or an argument group).
        config_class: the config dataclass.
        skip: fields to leave out (a command sets them itself or they make no sense as flags).
        help: field name -> help text.
        rename: field name -> flag name (``{"batch_size": "batch"}`` gives ``--batch``); the value is
            still stored under the field name.

    Returns:
        The field names that got a flag (what :func:`config_from_args` reads back).

    Raises:
        TypeError: a field whose type has no flag form (a dict, a nested dataclass): skip it.
    """
    if not (dataclasses.is_dataclass(config_class) and isinstance(config_class, type)):
        raise TypeError(f"add_config_arguments needs a dataclass type, got {config_class!r}.")
    skip = set(skip)
    help = dict(help or {})
    rename = dict(rename or {})
    unknown = (set(help) | set(rename) | skip) - {f.name for f in dataclasses.fields(config_class)}
    if unknown:
        raise TypeError(f"{config_class.__name__} has no fields {sorted(unknown)}.")
    hints = typing.get_type_hints(config_class)
    added: list[str] = []
    for field in dataclasses.fields(config_class):
        if field.name in skip or not field.init:
            continue
        name = field.name
        flag = "--" + rename.get(name, name).replace("_", "-")
        annotation, optional = _strip_optional(hints.get(name, Any))
        default = _field_default(field)
        text = help.get(name, field.metadata.get("help", "")).replace("%", "%%")
        kwargs: dict[str, Any] = {"dest": name}
        if default is dataclasses.MISSING:
            kwargs["required"] = True
        else:
            kwargs["default"] = default
            shown = "%(default)s"
            if isinstance(default, (tuple, list)):  # as it is typed on the command line
                shown = " ".join(str(v) for v in default).replace("%", "%%")
            text = f"{text} (default: {shown})".strip()
        kwargs["help"] = text
        origin = typing.get_origin(annotation)
        if annotation is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif origin in (tuple, list) or annotation in (tuple, list):
            args = typing.get_args(annotation)
            if not args:
                raise TypeError(f"Field {name!r}: say the element type (tuple[int, ...]) to get a flag.")
            if (len(args) == 2 and args[1] is Ellipsis) or origin is list:
                kwargs["nargs"] = "+"
                kwargs.update(_scalar_kwargs(args[0], name))
            else:
                if len(set(args)) != 1:
                    raise TypeError(f"Field {name!r}: a tuple of mixed types has no flag form.")
                kwargs["nargs"] = len(args)
                kwargs.update(_scalar_kwargs(args[0], name))
            if default is not dataclasses.MISSING and default is not None:
                kwargs["metavar"] = name.upper()
        else:
            kwargs.update(_scalar_kwargs(annotation, name))
        if optional and "type" in kwargs:
            kwargs["type"] = _optional(kwargs["type"])
            if "choices" in kwargs:
                kwargs["choices"] = (*kwargs["choices"], None)
        parser.add_argument(flag, **kwargs)
        added.append(name)
    return added


def config_from_args(args: argparse.Namespace, config_class: type, **overrides: Any) -> Any:
    """Build ``config_class`` from the flags :func:`add_config_arguments` added (plus ``overrides``).

    Lists from ``nargs`` flags become tuples; fields without a flag keep their dataclass default.
    The config's own ``validate()`` runs if it has one.

    Raises:
        ConfigError: a value the config refuses (its message names the field).
    """
    names = {f.name for f in dataclasses.fields(config_class) if f.init}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise TypeError(f"{config_class.__name__} has no fields {unknown}.")
    values = {k: getattr(args, k) for k in names if hasattr(args, k)}
    values.update(overrides)
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    try:
        config = config_class(**values)
        validate = getattr(config, "validate", None)
        if callable(validate):
            validate()
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"Invalid {config_class.__name__}: {exc}") from exc
    return config


def add_dry_run(parser: argparse.ArgumentParser | Any) -> None:
    """Add ``--dry-run``: run one step to check the set-up, write nothing (``args.dry_run``)."""
    parser.add_argument("--dry-run", action="store_true",
                        help="run a single step to check the set-up; save nothing")
