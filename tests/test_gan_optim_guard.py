"""LeanAdam's guard around torch's private fused-Adam op: absent op, changed signature."""

from __future__ import annotations

import pytest
import torch

from stylelab.gan import models
from stylelab.gan.optim import LeanAdam


def _pair(seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    a = models.MLPDiscriminator()
    with torch.no_grad():
        for p in a.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.3)
    b = models.MLPDiscriminator()
    b.load_state_dict(a.state_dict())
    return a, b


def _train(pairs, steps: int, seed: int = 1) -> None:
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x = torch.randn(32, 2, generator=gen)
        for net, update in pairs:
            for p in net.parameters():
                p.grad = None
            net(x).pow(2).mean().backward()
            update()


def test_missing_private_op_gives_plain_unfused_adam(monkeypatch):
    monkeypatch.delattr(torch, "_fused_adam_")
    a, b = _pair()
    start = [p.detach().clone() for p in a.parameters()]
    ref = torch.optim.Adam(a.parameters(), lr=1e-3, betas=(0.5, 0.999), fused=False)
    lean = LeanAdam(b.parameters(), lr=1e-3, betas=(0.5, 0.999))
    assert lean.param_groups[0]["fused"] is False
    _train(((a, ref.step), (b, lean.fast_step)), 12)
    assert any(not torch.equal(p, q) for p, q in zip(a.parameters(), start))  # it trained
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)


def test_changed_signature_falls_back_without_a_half_step(monkeypatch):
    import stylelab.gan.optim as optim

    a, b = _pair()
    ref = torch.optim.Adam(a.parameters(), lr=1e-3, betas=(0.5, 0.999), fused=True)
    lean = LeanAdam(b.parameters(), lr=1e-3, betas=(0.5, 0.999))
    _train(((a, ref.step), (b, lean.fast_step)), 3)  # state exists: the lean path is in use

    def stale(*args, **kwargs):  # as a newer torch would answer our call (torch's own Adam is unaffected)
        raise TypeError("_fused_adam_() got an unexpected keyword argument 'beta1'")

    monkeypatch.setattr(optim, "_fused_op", lambda: stale)
    with pytest.warns(RuntimeWarning, match="no longer takes this call"):
        _train(((a, ref.step), (b, lean.fast_step)), 1, seed=2)
    assert lean._lean_ok is False
    _train(((a, ref.step), (b, lean.fast_step)), 5, seed=3)  # stays on torch's step, no further warning
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)  # the failed call moved nothing and counted no extra step
    assert all(float(s["step"]) == 9 for s in lean.state.values())
