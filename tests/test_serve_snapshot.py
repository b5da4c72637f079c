"""Drawing snapshots (stylelab.serve.snapshot): what is copied, what is shared, and the fallbacks."""

from __future__ import annotations

import threading

import pytest
import torch

from stylelab.run import Run
from stylelab.serve import Limits, Scheduler
from stylelab.serve.snapshot import SHARE_MIN_BYTES, SnapshotUnavailable, plan, snapshot


class _Toy(Run):
    """A run with every kind of part: a trainable model + optimiser, a frozen model, a large data
    tensor, a small running tensor changed in place, a generator and its rows."""

    kind = "toy-snapshot"

    def __init__(self, seed: int = 0):
        super().__init__({"steps": 50}, seed=seed, device="cpu")
        self.gen = torch.Generator().manual_seed(seed)
        self.model = torch.nn.Linear(4, 4)
        self.frozen = torch.nn.Linear(4, 4).requires_grad_(False)
        with torch.no_grad():  # initialised from the run's own generator, not torch's global one
            for p in (*self.model.parameters(), *self.frozen.parameters()):
                p.copy_(torch.randn(p.shape, generator=self.gen))
        self.data = torch.zeros(SHARE_MIN_BYTES // 4 + 1)  # >= SHARE_MIN_BYTES of float32: shared
        self.ema = torch.zeros(4)  # small, changed in place each step: copied
        self.opt = torch.optim.Adam(self.model.parameters(), lr=0.1)

    total_steps = 50

    def _step(self):
        x = torch.randn(8, 4, generator=self.gen)
        loss = (self.model(x) - self.frozen(x)).pow(2).mean()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.ema.mul_(0.5).add_(self.model.weight.detach().mean())
        return {"loss": float(loss.detach())}

    def _state(self):
        return {"model": self.model.state_dict()}

    def _load_state(self, state):
        self.model.load_state_dict(state["model"])


def test_copies_what_a_step_changes_and_shares_the_rest():
    run = _Toy()
    for _ in range(3):
        run.step()
    snap = snapshot(run)
    # copied: the trainable model, its optimiser state, small tensors, the generator, counters
    assert snap.model is not run.model and snap.model.weight is not run.model.weight
    assert torch.equal(snap.model.weight, run.model.weight)
    assert snap.opt.param_groups[0]["params"][0] is snap.model.weight  # the copy's optimiser drives the copy
    assert snap.ema is not run.ema and snap.gen is not run.gen
    # shared: the frozen model, the large data, the rows themselves (a list of its own)
    assert snap.frozen is run.frozen and snap.data is run.data
    assert snap.history is not run.history and all(a is b for a, b in zip(snap.history, run.history))
    before = (snap.step_count, snap.model.weight.clone(), snap.ema.clone(), len(snap.history))
    run.step()  # the live run goes on: the snapshot does not move
    assert snap.step_count == before[0] and len(snap.history) == before[3]
    assert torch.equal(snap.model.weight, before[1]) and torch.equal(snap.ema, before[2])
    assert not torch.equal(run.model.weight, before[1])


def test_stepping_a_snapshot_leaves_the_live_run_alone():
    run = _Toy()
    run.step()
    ref = _Toy()
    ref.step()
    snap = snapshot(run)
    for _ in range(5):
        snap.step()  # a draw that changes its copy (e.g. draws from its generator)
    run.step()
    ref.step()
    assert run.history == ref.history and torch.equal(run.model.weight, ref.model.weight)


def test_plan_counts_only_what_it_copies():
    run = _Toy()
    memo, copy_bytes = plan(run)
    assert id(run.data) in memo and id(run.frozen) in memo
    assert copy_bytes < SHARE_MIN_BYTES  # the large data tensor is not copied


def test_a_run_that_cannot_be_copied_says_why(monkeypatch):
    run = _Toy()
    run.lock = threading.Lock()  # deepcopy refuses locks
    with pytest.raises(SnapshotUnavailable, match="cannot be copied"):
        snapshot(run)
    from stylelab.serve import snapshot as snap_mod

    monkeypatch.setattr(snap_mod, "MAX_COPY_BYTES", 16)
    with pytest.raises(SnapshotUnavailable, match="MB of tensors"):
        snapshot(_Toy())


def test_the_handle_falls_back_to_borrow_for_a_run_it_cannot_copy():
    with Scheduler(Limits(workers=1, slice_s=0.02)) as s:
        tok = s.open_session()
        run = _Toy()
        run.lock = threading.Lock()
        h = s.submit(tok, run, paused=True)
        assert h.snapshot() is None and "cannot be copied" in h.snapshot_note
        with h.borrow() as live:
            assert live is run  # the page draws it live, under its step lock
        ok = s.submit(tok, _Toy(seed=1), paused=True)
        snap = ok.snapshot()
        assert snap is not None and snap is not ok.instance() and ok.snapshot_note == ""


def test_a_gan_snapshot_is_cheap_and_shares_its_data():
    from stylelab.gan.train import GANConfig, GANTrainer

    tr = GANTrainer(GANConfig(data="ring", loss="ns", seed=0))
    tr.play_until(None)
    for _ in range(20):
        tr.step()
    memo, copy_bytes = plan(tr)
    assert copy_bytes < 2**20  # two small MLPs and their Adam states
    snap = snapshot(tr)
    assert snap.G is not tr.G and snap.step_count == tr.step_count
    assert torch.equal(snap.sample(50, seed=3), tr.sample(50, seed=3))  # the same generator weights
