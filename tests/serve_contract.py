"""The scheduler checks every backend must pass (thread, worker processes, Ray), written once.

Each takes a scheduler built on the backend under test; the test modules only build it.
"""

from __future__ import annotations

import torch
from test_serve_scheduler import _until, alone, sleep_run

from stylelab.errors import StylelabError


def rows_previews_records_and_failures(s, timeout: float = 60) -> None:
    """Rows equal the run alone, bit for bit; previews and records come back; a failing run fails alone."""
    token = s.open_session()
    hs = [s.submit(token, sleep_run, seed, steps=25, heavy=False) for seed in (0, 1)]
    for seed, h in enumerate(hs):
        assert h.wait(timeout=timeout) == "done", h.error_text
        assert h.rows() == alone(seed, 25)
        assert isinstance(h.preview(), torch.Tensor) and h.preview().shape == (3, 2, 2)
        assert h.record().metrics == alone(seed, 25)
    bad = s.submit(token, sleep_run, 0, steps=10, fail_at=2)
    assert bad.wait(timeout=timeout) == "failed" and "broke on purpose" in bad.error_text
    assert isinstance(bad.error, StylelabError)


def fair_share_cheap_vs_dear(s, timeout: float = 90, more_steps: int = 5) -> tuple[float, float]:
    """Deficit round robin on compute seconds: a 2 ms-step run and a 100 ms-step run on one worker
    share it about equally (plain round robin of slices would give the dear one ~5/6)."""
    cheap, dear = s.open_session(), s.open_session()
    hc = s.submit(cheap, sleep_run, 0, steps=None, cost_s=0.002)
    hd = s.submit(dear, sleep_run, 1, steps=None, cost_s=0.1)

    def compute(tok):
        return s.session_info(tok)["compute_s"]

    _until(lambda: compute(cheap) + compute(dear) >= 3.0, timeout=timeout, what="3 s of compute")
    a, b = compute(cheap), compute(dear)
    print(f"\nDRR on 1 worker ({s.backend.name}): cheap {a:.2f} s ({hc.step_count} steps), dear {b:.2f} s "
          f"({hd.step_count} steps), min share {min(a, b) / (a + b):.2f}")
    assert min(a, b) / (a + b) >= 0.35
    assert hc.step_count > more_steps * hd.step_count  # the cheap run really made many more steps
    return a, b


def queue_priorities_cancel_pause(s, timeout: float = 60) -> None:
    """One worker, one active heavy run: priorities order the queue, cancel stops within one step,
    pause and continue equal a continuous run."""
    a, b, c = s.open_session(), s.open_session(), s.open_session()
    ha = s.submit(a, sleep_run, 0, steps=None, cost_s=0.05)
    second = s.submit(a, sleep_run, 9, steps=5)
    ha.wait_steps(2, timeout=timeout)
    hb = s.submit(b, sleep_run, 1, steps=30, cost_s=0.01)
    hc = s.submit(c, sleep_run, 2, steps=5, priority=5)
    assert hc.position == 1 and hb.status == "queued" and second.status == "queued"
    at_cancel = ha.step_count
    ha.cancel()
    assert hc.wait(timeout=timeout) == "done" and hc.rows() == alone(2, 5)
    assert ha.step_count <= at_cancel + 1  # stopped within one step
    hb.wait_steps(5, timeout=timeout)
    hb.pause()
    frozen = hb.step_count
    _until(lambda: not hb._in_slice, what="the slice to end")
    assert hb.status == "paused" and hb.step_count <= frozen + 1
    hb.resume()
    assert hb.wait(timeout=timeout) == "done" and hb.rows() == alone(1, 30)
    assert second.wait(timeout=timeout) == "done" and second.rows() == alone(9, 5)


def eviction_comes_back_bit_for_bit(s, clock, instance: bool = False, timeout: float = 60) -> None:
    """An idle session's run goes to disk and comes back with the same rows as running it alone;
    ``instance``: submit a Run object (it travels) rather than a factory."""
    token = s.open_session()
    h = s.submit(token, sleep_run(7, steps=60, cost_s=0.002)) if instance else \
        s.submit(token, sleep_run, 7, steps=60, cost_s=0.002)
    h.wait_steps(10, timeout=timeout)
    clock.advance(61)
    s.maintain()
    _until(lambda: h.evicted, timeout=timeout, what="eviction")
    assert list(s.dir.glob("*.pt")) and s.stats()["memory_mb"] == 0
    s.touch(token)
    assert h.wait(timeout=timeout) == "done"
    assert h.rows() == alone(7, 60)
