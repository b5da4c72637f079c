"""One protocol test for every run kind in ``stylelab.run.catalog()`` (the Run contract).

Each check could fail: rows must match exactly (bit for bit on the CPU) between a run stepped
alone and one interleaved with another seed, resumed from a ``weights_only`` state, rebuilt from
its record, or run in two threads at once; torch's, NumPy's and Python's global RNGs must be
left exactly as they were.
"""

from __future__ import annotations

import io
import json
import random
import re
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from stylelab import run as runlib
from stylelab.device import get_device
from stylelab.errors import CheckpointError, RecordError
from stylelab.record import ExperimentRecord

KINDS = sorted(runlib.CATALOG)
STEPS = 3


def make(name: str, seed: int = 0) -> runlib.Run:
    return runlib.catalog()[name](seed=seed)


def steps(run: runlib.Run, n: int) -> list[dict]:
    return [run.step() for _ in range(n)]


def same_preview(a: runlib.Run, b: runlib.Run) -> bool:
    pa, pb = a.preview(), b.preview()
    if pa is None or pb is None:
        return pa is None and pb is None
    return torch.equal(pa, pb)


_alone: dict[tuple[str, int], list[dict]] = {}


def alone(name: str, seed: int) -> list[dict]:
    """The rows a run of ``name`` with ``seed`` makes on its own (computed once per test session)."""
    if (name, seed) not in _alone:
        _alone[(name, seed)] = steps(make(name, seed), STEPS)
    return _alone[(name, seed)]


@pytest.fixture(params=KINDS)
def name(request) -> str:
    return request.param


def test_catalog_names_every_kind_the_issue_asks_for():
    want = {"gan-2d", "gan-image", "gatys", "fast-style", "mixing", "adjust", "dip", "inpaint-train",
            "loss-study", "gan-compare"}
    assert want <= set(KINDS)


def test_contract_shape_and_default_device(name):
    run = make(name)
    assert isinstance(run, runlib.Run)
    assert run.device == get_device(), "the default device must be get_device()"
    assert run.step_count == 0 and run.history == [] and not run.done
    row = run.step()
    assert row["step"] == 1 == run.step_count and run.history == [row]
    json.dumps(row, allow_nan=False)  # a row is plain numbers (and short strings/lists)
    assert run.seconds > 0
    pic = run.preview()
    if pic is not None:
        assert pic.ndim == 3 and pic.shape[0] == 3 and pic.device.type == "cpu" and pic.dtype == torch.float32
        assert float(pic.min()) >= 0.0 and float(pic.max()) <= 1.0


def test_global_rngs_untouched(name):
    torch_state, np_state, py_state = torch.get_rng_state(), np.random.get_state(), random.getstate()
    run = make(name, seed=5)
    steps(run, 2)
    run.preview()
    run.record()
    assert torch.equal(torch.get_rng_state(), torch_state), "the run reseeded or drew from torch's global RNG"
    assert np.array_equal(np.random.get_state()[1], np_state[1]), "the run touched NumPy's global RNG"
    assert random.getstate() == py_state, "the run touched Python's global RNG"


def test_two_seeds_interleaved_match_each_alone(name):
    a, b = make(name, 0), make(name, 1)
    for _ in range(STEPS):
        a.step()
        b.step()
    assert a.history == alone(name, 0)
    assert b.history == alone(name, 1)


def test_two_threads_at_once_match_each_alone(name):
    expect = {s: alone(name, s) for s in (0, 1)}
    got: dict[int, list[dict]] = {}
    errors: list[BaseException] = []
    threads_now = torch.get_num_threads()  # OpenMP's count is per thread: new threads start at the default

    def work(seed: int) -> None:
        try:
            torch.set_num_threads(threads_now)  # the same reduction order as the run alone in this thread
            got[seed] = steps(make(name, seed), STEPS)
        except BaseException as exc:  # re-raised below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    assert not errors, errors
    assert got == expect


def test_stop_then_continue_equals_continuous(name):
    run = make(name)
    finished = runlib.run_to_end(run, stop=lambda: run.step_count >= 2)
    assert finished is False and run.step_count == 2 and not run.done
    stop = threading.Event()
    stop.set()
    assert runlib.advance(run, 10.0, stop=stop) == []  # an Event stops before the next step
    runlib.advance(run, 0.0, max_steps=1)  # continue: one more step
    assert run.history == alone(name, 0)


def test_resume_from_weights_only_state_equals_continuous(name):
    first = make(name)
    steps(first, 2)
    buf = io.BytesIO()
    torch.save(first.state_dict(), buf)
    state = torch.load(io.BytesIO(buf.getvalue()), weights_only=True)
    resumed = make(name)
    resumed.load_state_dict(state)
    assert resumed.step_count == 2 and resumed.history == first.history
    resumed.step()
    first.step()
    assert resumed.history == alone(name, 0) == first.history
    assert same_preview(resumed, first)


def test_state_of_another_kind_or_seed_is_refused(name):
    run = make(name)
    state = run.state_dict()
    with pytest.raises(CheckpointError):
        make(name).load_state_dict({**state, "kind": "something-else"})
    with pytest.raises(CheckpointError):
        make(name, seed=1).load_state_dict(state)
    with pytest.raises(CheckpointError):
        make(name).load_state_dict({"format": "not-a-run"})


def test_record_rebuilds_the_same_run(name):
    run = make(name)
    steps(run, STEPS)
    rec = ExperimentRecord.from_json(run.record().to_json())
    assert rec.seed == run.seed and len(rec.metrics) == STEPS
    again = type(run).from_record(rec, device=run.device, **run.inputs())
    assert again.step_count == 0
    steps(again, STEPS)
    assert again.history == run.history


def _numeric_fields(config: dict) -> list[str]:
    return [k for k, v in config.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]


def test_bad_record_values_are_typed_errors_never_clamped(name):
    run = make(name)
    data = run.record().to_dict()
    cls, inputs = type(run), run.inputs()

    def rebuild(config: dict) -> None:
        cls.from_record({**data, "config": config}, device=run.device, **inputs)

    numeric = _numeric_fields(data["config"])
    assert numeric, "a run config with no numbers?"
    for key in numeric:
        with pytest.raises(RecordError):
            rebuild({**data["config"], key: "twelve"})
    with pytest.raises(RecordError):
        rebuild({**data["config"], "no_such_setting": 1})
    with pytest.raises(RecordError):
        rebuild({**data["config"], **{k: -10**12 for k in numeric}})
    with pytest.raises(RecordError):
        cls.from_record({**data, "lab": "not-a-lab"}, device=run.device, **inputs)


# ----------------------------------------------------------------------------- whole-tree rules
_CPU_DEFAULT = re.compile(r"""(?<![.\w])device\s*(:\s*[^=\n]*)?=\s*(torch\.device\()?["']cpu["']""")


def test_no_library_default_of_cpu():
    root = Path(runlib.__file__).resolve().parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            # a signature's or a dataclass field's default (a call that passes "cpu" on purpose is fine)
            if _CPU_DEFAULT.search(code) and ("def " in code or re.match(r"\s+device\s*:", code)):
                offenders.append(f"{path.relative_to(root.parent)}:{i}: {line.strip()}")
    assert not offenders, "library defaults of device='cpu' (use None -> get_device()):\n" + "\n".join(offenders)
