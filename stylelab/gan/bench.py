"""GAN Lab benchmark: steps per second and seconds until MNIST-5k digits are recognisable.

Rows (``run(quick)``, collected by ``python -m stylelab bench``):

- ``gan2d_steps_per_s``: the 2-D ring GAN (MLP 2-64-64-2, batch 64, non-saturating), one thread,
  **including** the metrics it reports: every step's losses and D outputs, and the energy
  distance + mode coverage every 100 steps. Baseline: docs/performance.md (~700 steps/s).
- ``dcgan_b64_steps_per_s`` / ``dcgan_b128_steps_per_s`` (fp32) and ``dcgan_b64_bf16_steps_per_s``:
  the 28x28 DCGAN (width 32) on MNIST-5k, one thread (the trainer's default), and
  ``dcgan_b64_2threads_steps_per_s`` with all cores. Baseline: docs/performance.md (~12 steps/s at batch 64).
- ``mnist_recognisable_s`` (full run only): training seconds until generated digits are
  recognisable, measured every 100 steps on 1,000 samples (evaluation time excluded).
  "Recognisable" (see :func:`recognisable`): FID (classifier features) at most ``FID_SHARE`` of
  the FID of uniform noise AND mean classifier confidence at most ``CONFIDENCE_GAP`` below its
  confidence on real held-out digits. Calibration (seed 0, grids saved every 250 steps, judged
  by eye): noise scores FID ~75 and confidence ~0.70, real digits FID ~0.2 and confidence ~0.95;
  at step 1000 (FID ~4.5 but confidence ~0.72) the digits are still mostly scribbles; from step
  ~1500 (FID ~4.5, confidence ~0.77) most samples read as a digit. The thresholds
  (FID <= ~4.5, confidence >= ~0.75) sit at that transition.

StyleGAN-lite (:mod:`stylelab.gan.stylegan`):

- ``stylegan_fid_psi_<psi>`` (quick and full): the truncation curve of the shipped StyleGAN-lite
  (``stylelab/gan/checkpoints/stylegan_mnist5k.pt``), FID on the same 1,000 codes at each psi,
  against its own FID at psi = 1 measured in the same call (KID and confidence in the note).
- ``stylegan_b64_steps_per_s`` (quick and full): StyleGAN-lite training steps per second against the
  DCGAN's measured in the same call (MNIST-5k, batch 64, one thread, the same D).
- ``stylegan_ppl_w`` (full): perceptual path length in w against the same measure in z (300 pairs).
- ``stylegan_fid_equal_time`` / ``stylegan_kid_equal_time`` / ``stylegan_recognisable_s`` (full):
  StyleGAN-lite and the DCGAN (same D, data, loss, batch, seed) trained for the same training time
  by :func:`stylelab.gan.stylegan.race` (taking turns, so load changes hit both), measured on the
  same 1,000 codes; the DCGAN's figure is the baseline. "Recognisable" as above.

Medians over repeats after a warm-up; machine contention shows as spread, so run it on a quiet machine.
"""

from __future__ import annotations

import time
from typing import Any

LAB = "gan"
BASELINE_2D = 700.0  # docs/performance.md: MLP GAN on 2-D points, ~1.4 ms/step
BASELINE_DCGAN_B64 = 12.0  # docs/performance.md: DCGAN 28x28, batch 64, fp32, ~85 ms/step
FID_SHARE = 0.06  # of the FID of uniform noise (~75 -> ~4.5)
CONFIDENCE_GAP = 0.2  # below the classifier's confidence on real digits (~0.95 -> ~0.75)


def _row(name: str, value: float, unit: str, baseline: float | None, baseline_name: str | None, note: str) -> dict[str, Any]:
    from ..bench import row

    return row(LAB, name, value, unit, baseline=baseline, baseline_name=baseline_name, note=note)


def _steps_per_second(trainer: Any, chunk: int, repeats: int) -> tuple[float, list[float]]:
    """Median steps/s of ``chunk``-step runs (:func:`stylelab.bench.median_time`) and every run's rate."""
    from ..bench import median_time

    trainer.train(max(2, chunk // 5))  # warm-up (allocator, first-call overheads)
    rates: list[float] = []

    def one() -> None:
        t0 = time.perf_counter()
        trainer.train(chunk)
        rates.append(chunk / (time.perf_counter() - t0))

    return chunk / median_time(one, repeats, warmup=0), rates


def bench_2d(quick: bool = False) -> dict[str, Any]:
    import torch

    from .train import GANConfig, GANTrainer

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        t = GANTrainer(GANConfig(data="ring", loss="ns", seed=0, metrics_every=100))
        rate, rates = _steps_per_second(t, 500, 3 if quick else 7)
        naive = naive_2d_steps_per_second(500, 3 if quick else 7)
    finally:
        torch.set_num_threads(threads)
    return _row("gan2d_steps_per_s", rate, "steps/s", BASELINE_2D, "docs/performance.md MLP GAN 2-64-64-2",
                f"ring, batch 64, 1 thread, incl. per-step logging + energy distance/coverage every 100 steps; "
                f"runs {min(rates):.0f}-{max(rates):.0f}; textbook loop measured alongside: {naive:.0f} steps/s "
                f"({rate / naive:.2f}x)")


def naive_2d_steps_per_second(steps: int, repeats: int) -> float:
    """The textbook loop (pytorch/examples dcgan style) on the same ring GAN, for a side-by-side ratio.

    Separate D passes on real and fake, ``zero_grad()``, default (for-each) Adam, a fresh G pass
    for the G step, ``.item()`` per logged number, no metrics. Same model sizes, batch and losses.
    """
    import torch

    from ..bench import median_time
    from ..losses.adversarial import discriminator_loss, generator_loss
    from .data import sample_toy
    from .models import MLPDiscriminator, MLPGenerator, build_seeded

    gen = torch.Generator().manual_seed(0)  # its own generator: a benchmark leaves the global RNG alone too
    real_all = sample_toy("ring", 2000, generator=gen)
    g, d = build_seeded(lambda: MLPGenerator(2), gen), build_seeded(MLPDiscriminator, gen)
    opt_g = torch.optim.Adam(g.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=1e-3, betas=(0.5, 0.999))

    def step() -> None:
        real = real_all[torch.randint(2000, (64,), generator=gen)]
        fake = g(torch.randn(64, 2, generator=gen))
        opt_d.zero_grad()
        loss_d = discriminator_loss(d(real), d(fake.detach()), "ns")
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        loss_g = generator_loss(d(g(torch.randn(64, 2, generator=gen))), "ns")
        loss_g.backward()
        opt_g.step()
        _ = (loss_d.item(), loss_g.item())

    for _ in range(50):
        step()

    def chunk() -> None:
        for _ in range(steps):
            step()

    return steps / median_time(chunk, repeats, warmup=0)


def bench_dcgan(batch: int, amp: bool = False, quick: bool = False, threads: int = 0) -> dict[str, Any]:
    import torch

    from ..device import configure_threads
    from .train import GANConfig, GANTrainer

    before = torch.get_num_threads()
    threads = configure_threads(threads or None)
    try:
        t = GANTrainer(GANConfig(data="mnist5k", loss="ns", seed=0, batch_size=batch, metrics_every=0, amp=amp,
                                 threads=threads))
        rate, rates = _steps_per_second(t, 10 if quick else 40, 3 if quick else 5)
    finally:
        torch.set_num_threads(before)
    name = f"dcgan_b{batch}{'_bf16' if amp else ''}{f'_{threads}threads' if threads > 1 else ''}_steps_per_s"
    baseline = BASELINE_DCGAN_B64 if batch == 64 and not amp else None
    return _row(name, rate, "steps/s", baseline, "docs/performance.md DCGAN 28x28 batch 64 fp32" if baseline else None,
                f"MNIST-5k 28x28, width 32, {'bf16 autocast' if amp else 'fp32'}, {threads} threads "
                f"(torch {torch.__version__}); runs {min(rates):.1f}-{max(rates):.1f}")


def recognisable(result: dict[str, Any], real: dict[str, Any], noise: dict[str, Any]) -> bool:
    """Generated digits count as recognisable (see the module docstring for the two thresholds)."""
    return result["fid"] <= FID_SHARE * noise["fid"] and result["confidence"] >= real["confidence"] - CONFIDENCE_GAP


def bench_time_to_digits(max_steps: int = 3000, amp: bool = True) -> dict[str, Any]:
    import torch

    from .train import GANConfig, GANTrainer

    threads = 1  # the trainer's default on CPU
    t = GANTrainer(GANConfig(data="mnist5k", loss="ns", seed=0, metrics_every=0, eval_samples=1000, amp=amp))
    ev = t.evaluator  # trained/cached classifier; not counted
    gen = torch.Generator().manual_seed(123)
    held = t.images.images[torch.randperm(len(t.images), generator=gen)[:1000]]
    real = ev.evaluate(held)
    noise = ev.evaluate(torch.rand(1000, 1, 28, 28, generator=gen) * 2 - 1)
    reached = None
    while t.step_count < max_steps:
        t.train(100)
        res = t.evaluate(1000)
        if recognisable(res, real, noise):
            reached = res
            break
    value = t.seconds if reached else float("nan")
    note = (f"ns loss, batch 64, {'bf16 autocast' if amp else 'fp32'}, {threads} thread(s); recognisable = FID <= {FID_SHARE * noise['fid']:.2f} "
            f"({FID_SHARE:.0%} of noise's {noise['fid']:.1f}; real {real['fid']:.2f}) and confidence >= "
            f"{real['confidence'] - CONFIDENCE_GAP:.2f} (real {real['confidence']:.2f}); ")
    note += (f"reached at step {t.step_count}: confidence {reached['confidence']:.2f}, FID {reached['fid']:.2f}"
             if reached else f"not reached in {max_steps} steps")
    return _row("mnist_recognisable_s", value, "s", 120.0, "aim: under 2 minutes on 2 cores", note)


def reference_scores(trainer: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The evaluator's scores of 1,000 real held-out digits and of 1,000 uniform-noise images (seed 123)."""
    import torch

    ev = trainer.evaluator
    gen = torch.Generator().manual_seed(123)
    held = trainer.images.images[torch.randperm(len(trainer.images), generator=gen)[:1000]]
    size = trainer.images.image_size
    return ev.evaluate(held), ev.evaluate(torch.rand(1000, 1, size, size, generator=gen) * 2 - 1)


def bench_stylegan_speed(quick: bool = False) -> dict[str, Any]:
    """StyleGAN-lite steps/s, with the DCGAN's measured alongside (alternating repeats) as the baseline."""
    import torch

    from .train import GANConfig, GANTrainer

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        runs = {m: GANTrainer(GANConfig(data="mnist5k", loss="ns", model=m, seed=0, metrics_every=0)) for m in ("stylegan", "dcgan")}
        rates: dict[str, list[float]] = {m: [] for m in runs}
        for _ in range(2 if quick else 4):  # alternate, so a change of load hits both
            for m, t in runs.items():
                rates[m].append(_steps_per_second(t, 10 if quick else 30, 1)[0])
    finally:
        torch.set_num_threads(before)
    med = {m: sorted(r)[len(r) // 2] for m, r in rates.items()}
    return _row("stylegan_b64_steps_per_s", med["stylegan"], "steps/s", med["dcgan"], "DCGAN measured alongside",
                f"MNIST-5k 28x28, batch 64, fp32, 1 thread, same D; StyleGAN-lite runs {min(rates['stylegan']):.1f}-"
                f"{max(rates['stylegan']):.1f}, DCGAN {min(rates['dcgan']):.1f}-{max(rates['dcgan']):.1f}")


def bench_truncation(quick: bool = False) -> list[dict[str, Any]]:
    """The shipped StyleGAN-lite's FID/KID against psi (no rows when the checkpoint is missing)."""
    import torch

    from . import stylegan as sg
    from .train import GANTrainer

    path = sg.SHIPPED
    if not path.is_file():
        return []
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        t = GANTrainer.load(path, device="cpu")
        psis = (0.5, 0.7, 1.0) if quick else (0.0, 0.25, 0.5, 0.7, 0.85, 1.0)
        curve = sg.truncation_curve(t.G, t.evaluator.evaluate, psis=psis, n=1000)
        rows = []
        full = next(r for r in curve if r["psi"] == 1.0)
        for r in curve:
            rows.append(_row(f"stylegan_fid_psi_{r['psi']:g}", r["fid"], "FID", full["fid"], "the same model at psi = 1",
                             f"shipped StyleGAN-lite ({t.step_count} steps), 1,000 codes, classifier features; KID "
                             f"{r['kid']:.3f}, confidence {r['confidence']:.2f}, class coverage {r['coverage']:.0%}"))
        if not quick:
            ppl = sg.ppl_z_and_w(t.G, sg.float64_features(t.evaluator), n=300)
            rows.append(_row("stylegan_ppl_w", ppl["ppl_w"], "PPL", ppl["ppl_z"], "the same model's PPL in z",
                             f"eps 1e-4, 300 pairs, squared classifier-feature distance; +- {ppl['ppl_w_sem']:.2g} "
                             f"(z: +- {ppl['ppl_z_sem']:.2g})"))
    finally:
        torch.set_num_threads(before)
    return rows


def bench_stylegan_vs_dcgan(minutes: float = 5.0) -> list[dict[str, Any]]:
    """StyleGAN-lite and the DCGAN at equal training time (:func:`stylelab.gan.stylegan.race`)."""
    import torch

    from . import stylegan as sg
    from .train import GANConfig, GANTrainer

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        runs = {m: GANTrainer(GANConfig(data="mnist5k", loss="ns", model=m, seed=0, metrics_every=0)) for m in ("stylegan", "dcgan")}
        snaps = sg.race(runs, 60.0 * minutes, chunk=5.0, snapshot_every=30.0)
        curves = {m: sg.quality_over_time(runs[m], snaps[m]) for m in runs}
        real, noise = reference_scores(runs["dcgan"])
    finally:
        torch.set_num_threads(before)
    last = {m: c[-1] for m, c in curves.items()}
    reached = {m: next((r["seconds"] for r in c if recognisable(r, real, noise)), float("nan")) for m, c in curves.items()}
    note = (f"{minutes:g} min of training each, taking turns, 1 thread, batch 64, ns loss, same D; steps: StyleGAN-lite "
            f"{last['stylegan']['step']}, DCGAN {last['dcgan']['step']}; 1,000 samples, classifier features")
    return [
        _row("stylegan_fid_equal_time", last["stylegan"]["fid"], "FID", last["dcgan"]["fid"], "DCGAN, same time", note),
        _row("stylegan_kid_equal_time", last["stylegan"]["kid"], "KID", last["dcgan"]["kid"], "DCGAN, same time", note),
        _row("stylegan_recognisable_s", reached["stylegan"], "s", reached["dcgan"], "DCGAN, same race",
             note + "; NaN: not reached in the race; snapshots every 30 s of training"),
    ]


def run(quick: bool = False) -> list[dict[str, Any]]:
    """All GAN Lab rows; ``quick`` skips the time-to-digits runs and shortens the rest (< 60 s)."""
    rows = [bench_2d(quick), bench_dcgan(64, quick=quick, threads=1), bench_dcgan(128, quick=quick, threads=1),
            bench_dcgan(64, quick=quick)]
    rows.append(bench_stylegan_speed(quick))
    rows += bench_truncation(quick)
    if not quick:
        rows.append(bench_dcgan(64, amp=True, threads=1))
        rows.append(bench_time_to_digits())
        rows += bench_stylegan_vs_dcgan()
    return rows


if __name__ == "__main__":  # pragma: no cover
    import json

    print(json.dumps(run(quick=True), indent=2))
