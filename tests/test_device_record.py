"""Device selection, no global seeding in the library, and the experiment record round trip."""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import stylelab.device
from stylelab.device import autocast, describe_device, fast_dtype, get_device
from stylelab.errors import ConfigError, RecordError
from stylelab.record import ExperimentRecord


def test_get_device_defaults_and_override(monkeypatch):
    monkeypatch.delenv("STYLELAB_DEVICE", raising=False)
    dev = get_device()
    assert dev.type in ("cpu", "cuda", "mps")
    assert get_device("cpu").type == "cpu"
    monkeypatch.setenv("STYLELAB_DEVICE", "cpu")
    assert get_device().type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA"):
            get_device("cuda")
    assert describe_device("cpu").startswith("CPU")


def test_fast_dtype_never_fp16_on_cpu():
    assert fast_dtype("cpu") in (torch.bfloat16, torch.float32)
    with autocast("cpu"):
        y = torch.nn.Linear(4, 4)(torch.rand(2, 4))
    assert y.dtype == fast_dtype("cpu")


#: calls that seed (or reseed) a process-wide RNG; a run seeds only its own torch.Generator
_GLOBAL_SEEDING = re.compile(r"(?<![\w.])(torch\.(cuda\.)?manual_seed(_all)?|np\.random\.seed|numpy\.random\.seed|"
                             r"random\.seed|seed_everything)\s*\(")


def test_the_library_never_seeds_a_global_rng():
    """No seed_everything any more, and no module of stylelab seeds torch's, NumPy's or Python's global RNG.

    The one exception the Run contract allows: ``torch.manual_seed`` inside ``torch.random.fork_rng``
    (which restores the global state), within the three lines after the ``fork_rng``.
    """
    assert not hasattr(stylelab.device, "seed_everything")
    root = Path(stylelab.device.__file__).resolve().parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            code = line.split("#", 1)[0]
            if not _GLOBAL_SEEDING.search(code):
                continue
            if "torch.manual_seed" in code and any("fork_rng" in prev for prev in lines[max(0, i - 3):i]):
                continue
            offenders.append(f"{path.relative_to(root.parent)}:{i + 1}: {line.strip()}")
    assert not offenders, "library code seeding a global RNG:\n" + "\n".join(offenders)


@dataclasses.dataclass
class Cfg:
    lr: float = 0.1
    layers: tuple = ("relu1_1",)


def test_record_roundtrip(tmp_path):
    rec = ExperimentRecord(lab="style", config=Cfg(), seed=7)
    rec.log(step=0, loss=torch.tensor(1.5), bad=float("nan"))
    rec.summary["final"] = 0.25
    path = rec.save(tmp_path / "r.json")
    back = ExperimentRecord.load(path, lab="style")
    assert back.config == {"lr": 0.1, "layers": ["relu1_1"]}
    assert back.metrics == [{"step": 0, "loss": 1.5, "bad": None}]
    assert back.config_as(Cfg) == Cfg()
    assert json.loads(path.read_text())["schema"] == "stylelab.record/1"
    assert rec.device == str(get_device()) and back.device == rec.device  # the default is where runs run


def test_old_record_without_device_reads_as_unknown():
    data = {"schema": "stylelab.record/1", "lab": "style", "config": {"lr": 0.1}}
    assert ExperimentRecord.from_dict(data).device == "unknown"
    assert ExperimentRecord(lab="gan", config={}, device="cuda:1").device == "cuda:1"


@pytest.mark.parametrize(
    "payload, match",
    [
        (b"", "empty"),
        (b"{not json", "not valid JSON"),
        (b'{"schema": "other"}', "Not a stylelab"),
        (json.dumps({"schema": "stylelab.record/1", "lab": "gan", "config": {}}).encode(), "made by the 'gan' lab"),
        (json.dumps({"schema": "stylelab.record/1", "lab": "style", "config": {}, "seed": "x"}).encode(), "seed"),
        (b"\xff\xfe\x00", "UTF-8"),
    ],
)
def test_bad_records_are_refused(payload, match):
    with pytest.raises(RecordError, match=match):
        ExperimentRecord.from_json(payload, lab="style")


def test_record_with_unknown_config_fields():
    rec = ExperimentRecord(lab="style", config={"lr": 1.0, "zzz": 2})
    with pytest.raises(RecordError, match="zzz"):
        rec.config_as(Cfg)


@pytest.mark.parametrize("env, expect", [({}, "True"), ({"STYLELAB_TUNE_MALLOC": "0"}, "False")])
def test_tune_allocator_sets_glibc_thresholds_or_is_switched_off(env, expect):
    # a fresh process: the setting is process-wide and applied once
    code = ("import sys; from stylelab.device import tune_allocator as t; "
            "a = t(); b = t(); assert a == b; print(a)")
    environ = {k: v for k, v in os.environ.items() if k != "STYLELAB_TUNE_MALLOC"} | env
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environ, timeout=60,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 0, out.stderr
    if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
        assert out.stdout.strip() == expect
    else:
        assert out.stdout.strip() == "False"
