"""stylelab.entry: the one error -> exit-code handler, torchrun set-up and flags generated from config dataclasses."""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional

import pytest

from stylelab.entry import (
    TorchrunContext,
    add_config_arguments,
    add_dry_run,
    config_from_args,
    run_main,
    torchrun,
    torchrun_environment,
)
from stylelab.errors import ConfigError, ShapeError

ROOT = Path(__file__).resolve().parents[1]
TORCHRUN_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


@dataclass
class Toy:
    steps: int = 100
    lr: float = 1e-3
    name: str = "ring"
    loss: Literal["ns", "hinge", "wgan-gp"] = "ns"
    bf16: bool = True
    layers: tuple[str, ...] = ("relu1_2", "relu2_2")
    size: tuple[int, int] = (32, 48)
    limit: Optional[int] = None  # noqa: UP045 - the old spelling must work too
    batch_size: int = field(default=8, metadata={"help": "images per step (50% of memory)"})

    def validate(self) -> "Toy":
        if self.steps < 1:
            raise ConfigError(f"steps must be >= 1, got {self.steps}.")
        return self


@dataclass
class NeedsData:
    data: str
    seed: int = 0
    extra: dict = field(default_factory=dict)


def parser_for(cls=Toy, **kw) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="toy")
    add_config_arguments(p, cls, **kw)
    return p


@pytest.fixture()
def no_torchrun_env(monkeypatch):
    for name in TORCHRUN_VARS:
        monkeypatch.delenv(name, raising=False)


# ----------------------------------------------------------------------------- run_main
def test_run_main_typed_error_is_one_line_and_exit_2(capsys):
    def main(argv):
        raise ShapeError("The content image must be (3, H, W), got (4, 8).")

    assert run_main(main, []) == 2
    err = capsys.readouterr().err
    assert err == "error: The content image must be (3, H, W), got (4, 8).\n"


def test_run_main_passes_argv_and_exit_code(capsys):
    seen = []

    def main(argv):
        seen.append(argv)
        return 3

    assert run_main(main, ["--x", "1"]) == 3
    assert seen == [["--x", "1"]]
    assert run_main(lambda argv: None) == 0


def test_run_main_interrupt_is_130(capsys):
    def main(argv):
        raise KeyboardInterrupt

    assert run_main(main) == 130
    assert "interrupted" in capsys.readouterr().err


def test_run_main_keeps_bugs_loud():
    def main(argv):
        raise ZeroDivisionError("a bug")

    with pytest.raises(ZeroDivisionError):
        run_main(main)


def test_stylelab_cli_typed_error_exit_2(monkeypatch, capsys):
    import stylelab.cli as cli

    def fake_parser():
        p = argparse.ArgumentParser(prog="python -m stylelab")
        sub = p.add_subparsers(dest="command")
        q = sub.add_parser("boom")
        q.set_defaults(func=lambda args: (_ for _ in ()).throw(ConfigError("--size must be >= 16, got 3.")))
        return p

    monkeypatch.setattr(cli, "build_parser", fake_parser)
    assert cli.main(["boom"]) == 2
    assert capsys.readouterr().err == "error: --size must be >= 16, got 3.\n"


# ----------------------------------------------------------------------------- flags from dataclasses
def test_flags_defaults_types_and_choices():
    p = parser_for()
    args = p.parse_args([])
    assert args.steps == 100 and args.lr == 1e-3 and args.name == "ring" and args.loss == "ns"
    assert args.bf16 is True and args.layers == ("relu1_2", "relu2_2") and args.size == (32, 48)
    assert args.limit is None and args.batch_size == 8
    args = p.parse_args(["--steps", "7", "--lr", "0.5", "--loss", "hinge", "--batch-size", "2"])
    assert (args.steps, args.lr, args.loss, args.batch_size) == (7, 0.5, "hinge", 2)
    assert isinstance(args.steps, int) and isinstance(args.lr, float)
    with pytest.raises(SystemExit):
        p.parse_args(["--loss", "minimax"])  # not one of the Literal's choices
    with pytest.raises(SystemExit):
        p.parse_args(["--steps", "1.5"])


def test_help_shows_defaults_choices_and_metadata_help(capsys):
    text = parser_for(help={"lr": "Adam learning rate"}).format_help()
    assert "--steps STEPS" in text and "(default: 100)" in text
    assert "Adam learning rate (default: 0.001)" in text
    assert "{ns,hinge,wgan-gp}" in text
    assert "images per step (50% of memory)" in text  # metadata help; the % does not break argparse
    assert "--bf16, --no-bf16" in text or "--bf16 | --no-bf16" in text


def test_bool_flags():
    p = parser_for()
    assert p.parse_args(["--no-bf16"]).bf16 is False
    assert p.parse_args(["--bf16"]).bf16 is True


def test_tuple_flags():
    p = parser_for()
    args = p.parse_args(["--layers", "relu3_3", "relu4_3", "relu5_3", "--size", "64", "96"])
    cfg = config_from_args(args, Toy)
    assert cfg.layers == ("relu3_3", "relu4_3", "relu5_3") and cfg.size == (64, 96)
    with pytest.raises(SystemExit):
        p.parse_args(["--size", "64"])  # tuple[int, int] needs exactly two


def test_optional_flag_reads_none():
    p = parser_for()
    assert p.parse_args(["--limit", "5"]).limit == 5
    assert p.parse_args(["--limit", "none"]).limit is None


def test_skip_rename_and_required():
    p = parser_for(skip=("name",), rename={"batch_size": "batch"})
    args = p.parse_args(["--batch", "3"])
    assert not hasattr(args, "name") and args.batch_size == 3
    cfg = config_from_args(args, Toy, name="grid")
    assert cfg.name == "grid" and cfg.batch_size == 3
    q = parser_for(NeedsData, skip=("extra",))
    with pytest.raises(SystemExit):
        q.parse_args([])  # a field without a default is a required flag
    assert config_from_args(q.parse_args(["--data", "mnist"]), NeedsData).data == "mnist"


def test_unsupported_field_and_unknown_names_are_type_errors():
    with pytest.raises(TypeError, match="extra"):
        parser_for(NeedsData)
    with pytest.raises(TypeError, match="nope"):
        parser_for(skip=("nope",))
    with pytest.raises(TypeError, match="nope"):
        config_from_args(parser_for().parse_args([]), Toy, nope=1)


def test_config_from_args_validates():
    args = parser_for().parse_args(["--steps", "0"])
    with pytest.raises(ConfigError, match="steps"):
        config_from_args(args, Toy)


def test_dry_run_flag():
    p = parser_for()
    add_dry_run(p)
    assert p.parse_args([]).dry_run is False
    assert p.parse_args(["--dry-run"]).dry_run is True


# ----------------------------------------------------------------------------- torchrun
def test_torchrun_plain_process(no_torchrun_env):
    from stylelab.device import get_device

    ctx = torchrun(lambda c: c, threads=1)
    assert isinstance(ctx, TorchrunContext)
    assert (ctx.rank, ctx.world_size, ctx.local_rank, ctx.backend) == (0, 1, 0, None)
    assert ctx.is_main and not ctx.distributed and ctx.device == get_device() and ctx.threads == 1
    ctx.barrier()  # nothing to wait for
    assert torchrun_environment() is None


def test_torchrun_refuses_outside_torchrun_when_required(no_torchrun_env):
    with pytest.raises(ConfigError, match="torchrun --nproc_per_node 2 -m stylelab.gan.ddp"):
        torchrun(lambda c: None, require_distributed=True, command="-m stylelab.gan.ddp")


def test_torchrun_bad_environment(monkeypatch, no_torchrun_env):
    monkeypatch.setenv("RANK", "x")
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(ConfigError, match="RANK"):
        torchrun(lambda c: None)
    monkeypatch.setenv("RANK", "2")
    with pytest.raises(ConfigError, match="do not fit"):
        torchrun(lambda c: None)
    monkeypatch.delenv("WORLD_SIZE")
    with pytest.raises(ConfigError, match="Only one"):
        torchrun(lambda c: None)
    with pytest.raises(ConfigError, match="threads"):
        torchrun(lambda c: None, threads=0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_torchrun_one_rank_group_is_created_and_destroyed(monkeypatch, no_torchrun_env):
    import torch
    import torch.distributed as dist

    for k, v in {"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0", "LOCAL_WORLD_SIZE": "1",
                 "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(_free_port())}.items():
        monkeypatch.setenv(k, v)
    threads = torch.get_num_threads()
    try:
        def body(ctx):
            assert dist.is_initialized() and dist.get_world_size() == 1
            t = torch.ones(2)
            dist.all_reduce(t)
            ctx.barrier()
            return ctx, t.tolist()

        ctx, total = torchrun(body, device="cpu", threads=1)
        assert total == [1.0, 1.0] and ctx.backend == "gloo" and ctx.distributed and ctx.is_main
        assert not dist.is_initialized()

        with pytest.raises(ShapeError):  # an error in the body still tears the group down
            torchrun(lambda c: (_ for _ in ()).throw(ShapeError("bad")), device="cpu", threads=1)
        assert not dist.is_initialized()
    finally:
        torch.set_num_threads(threads)


@pytest.mark.ddp
def test_torchrun_two_ranks_split_cores_and_agree(tmp_path):
    script = tmp_path / "body.py"
    script.write_text(textwrap.dedent("""
        import json, sys
        import torch, torch.distributed as dist
        from stylelab.entry import run_main, torchrun

        def main(argv):
            def body(ctx):
                t = torch.tensor([float(ctx.rank + 1)])
                dist.all_reduce(t)
                out = {"rank": ctx.rank, "world": ctx.world_size, "backend": ctx.backend,
                       "threads": torch.get_num_threads(), "sum": t.item(), "device": str(ctx.device)}
                with open(f"{argv[0]}/rank{ctx.rank}.json", "w") as fh:
                    json.dump(out, fh)
                return 0
            return torchrun(body, device="cpu")

        sys.exit(run_main(main, sys.argv[1:]))
    """))
    env = {k: v for k, v in os.environ.items() if k not in TORCHRUN_VARS}
    env["PYTHONPATH"] = str(ROOT)
    env["OMP_NUM_THREADS"] = "1"
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                           "--master_port", str(_free_port()), str(script), str(tmp_path)],
                          env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    for r, row in enumerate(rows):
        assert row["rank"] == r and row["world"] == 2 and row["backend"] == "gloo" and row["device"] == "cpu"
        assert row["sum"] == 3.0  # 1 + 2: the ranks really talked
        assert row["threads"] == max(1, cores // 2)


# ----------------------------------------------------------------------------- the package entry point
def test_python_m_stylelab_help_from_another_cwd(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run([sys.executable, "-m", "stylelab", "--help"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "usage: python -m stylelab" in proc.stdout and "COMMAND" in proc.stdout


def test_python_m_stylelab_bad_input_exit_2(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "stylelab", "assets", "--no-such-flag"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "unrecognized arguments" in proc.stderr


def test_stylelab_is_installed_for_any_cwd(tmp_path):
    """The venv's editable install (scripts/stylelab.sh) makes `import stylelab` work without PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", "import stylelab, stylelab.run, stylelab.entry; print(stylelab.__file__)"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("stylelab/__init__.py")
