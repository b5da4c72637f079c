"""PatchGAN losses per patch and the gradient penalty of a patch critic, against hand-written formulas.

A PatchGAN discriminator outputs logits ``(N, 1, h, w)``, one per patch: every GAN loss is the
per-patch loss averaged over samples and patches, and a sample's critic score is the MEAN of its
patch scores (so the gradient penalty constrains the gradient of that mean, not of the sum).
The expected values below are written out with ``math`` from the formulas, patch by patch.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch.autograd import gradcheck

from stylelab.errors import ShapeError
from stylelab.losses.adversarial import ADVERSARIAL_LOSSES, discriminator_loss, generator_loss, gradient_penalty


def sp(x: float) -> float:
    """softplus(x) = log(1 + e^x), written out."""
    return math.log(1.0 + math.exp(x))


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


# Two samples; real logits on a 1x2 patch grid, fake logits on a 2x1 grid (grids may differ).
REAL = [[3.0, -3.0], [1.0, 0.5]]
FAKE = [[-2.0, 4.0], [0.0, -1.0]]


def patches(values: list[list[float]], shape: tuple[int, int]) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64).reshape(len(values), 1, *shape)  # (N, 1, h, w)


def flat(values: list[list[float]]) -> list[float]:
    return [v for row in values for v in row]


def hand_d(kind: str, real: list[float], fake: list[float]) -> float:
    if kind in ("minimax", "ns"):  # -E[log D(x)] - E[log(1 - D(G(z)))] per patch
        return mean([sp(-r) for r in real]) + mean([sp(f) for f in fake])
    if kind == "lsgan":
        return mean([0.5 * (r - 1) ** 2 for r in real]) + mean([0.5 * f**2 for f in fake])
    if kind == "hinge":
        return mean([max(0.0, 1 - r) for r in real]) + mean([max(0.0, 1 + f) for f in fake])
    return mean(fake) - mean(real)  # wgan-gp critic loss


def hand_g(kind: str, fake: list[float]) -> float:
    if kind == "minimax":
        return mean([-sp(f) for f in fake])  # E[log(1 - D(G(z)))]
    if kind == "ns":
        return mean([sp(-f) for f in fake])  # -E[log D(G(z))]
    if kind == "lsgan":
        return mean([0.5 * (f - 1) ** 2 for f in fake])
    return -mean(fake)  # hinge, wgan-gp


def test_ns_on_patches_plus_and_minus_three_is_the_mean_of_the_patch_losses():
    real = torch.tensor([3.0, -3.0]).reshape(1, 1, 1, 2)  # one sample, two patches
    certain_fake = torch.full((1, 1, 1, 2), -60.0)  # softplus(-60) ~ 1e-26: only the real term counts
    loss = discriminator_loss(real, certain_fake, "ns").item()
    assert loss == pytest.approx((sp(-3.0) + sp(3.0)) / 2, rel=1e-6)
    assert loss == pytest.approx(1.5486, abs=1e-4)
    assert abs(loss - math.log(2)) > 0.8  # not softplus(mean logit) = softplus(0) = 0.693


@pytest.mark.parametrize("kind", ADVERSARIAL_LOSSES)
def test_every_gan_loss_is_the_mean_of_its_patch_losses(kind):
    real, fake = patches(REAL, (1, 2)), patches(FAKE, (2, 1))
    assert discriminator_loss(real, fake, kind).item() == pytest.approx(hand_d(kind, flat(REAL), flat(FAKE)), rel=1e-12)
    assert generator_loss(fake, kind).item() == pytest.approx(hand_g(kind, flat(FAKE)), rel=1e-12)
    # per sample ("none") and summed over samples: each sample's loss is the mean over its own patches
    per_d = discriminator_loss(real, fake, kind, reduction="none")
    per_g = generator_loss(fake, kind, reduction="none")
    for n in range(2):
        assert per_d[n].item() == pytest.approx(hand_d(kind, REAL[n], FAKE[n]), rel=1e-12)
        assert per_g[n].item() == pytest.approx(hand_g(kind, FAKE[n]), rel=1e-12)
    assert generator_loss(fake, kind, reduction="sum").item() == pytest.approx(
        hand_g(kind, FAKE[0]) + hand_g(kind, FAKE[1]), rel=1e-12)


@pytest.mark.parametrize("kind", ["minimax", "ns", "lsgan", "hinge"])
def test_nonlinear_losses_differ_from_the_loss_of_the_mean_logit(kind):
    real, fake = patches(REAL, (1, 2)), patches(FAKE, (2, 1))
    mean_logit_form = hand_d(kind, [mean(r) for r in REAL], [mean(f) for f in FAKE])
    assert abs(discriminator_loss(real, fake, kind).item() - mean_logit_form) > 0.05


def test_wgan_is_linear_so_per_patch_and_mean_logit_agree():
    real, fake = patches(REAL, (1, 2)), patches(FAKE, (2, 1))
    assert discriminator_loss(real, fake, "wgan-gp").item() == pytest.approx(
        mean([mean(f) for f in FAKE]) - mean([mean(r) for r in REAL]), rel=1e-12)


def test_patch_gradient_is_the_per_patch_derivative_over_n_times_p():
    real = patches(REAL, (1, 2)).requires_grad_(True)
    fake = patches(FAKE, (2, 1))
    discriminator_loss(real, fake, "ns").backward()
    # d/dr_p (1/(NP)) sum softplus(-r) = -sigmoid(-r_p) / (N P), N = 2 samples, P = 2 patches
    expected = [[-1.0 / (1.0 + math.exp(r)) / 4 for r in row] for row in REAL]
    assert torch.allclose(real.grad.reshape(2, 2), torch.tensor(expected, dtype=torch.float64), rtol=1e-12)


def test_one_patch_is_the_per_sample_case():
    r, f = torch.tensor([0.3, -1.2]), torch.tensor([-0.5, 0.7])
    for kind in ADVERSARIAL_LOSSES:
        assert torch.allclose(discriminator_loss(r.reshape(2, 1, 1, 1), f.reshape(2, 1, 1, 1), kind),
                              discriminator_loss(r, f, kind))
        assert torch.allclose(generator_loss(f.reshape(2, 1, 1, 1), kind), generator_loss(f, kind))


def test_patch_discriminator_output_scored_patch_by_patch():
    from stylelab.patchgan import PatchDiscriminator

    disc = PatchDiscriminator(3, base_channels=4, n_layers=2, norm="none").double()
    x = torch.rand(2, 3, 32, 32, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        logits = disc(x)  # (2, 1, h, w)
        other = disc(x.flip(-1))
    assert logits.shape[0] == 2 and logits[0].numel() > 1
    values = logits.flatten().tolist()
    assert generator_loss(logits, "ns").item() == pytest.approx(mean([sp(-v) for v in values]), rel=1e-10)
    assert discriminator_loss(other, logits, "hinge").item() == pytest.approx(
        hand_d("hinge", other.flatten().tolist(), values), rel=1e-10)


@pytest.mark.parametrize("kind", ADVERSARIAL_LOSSES)
def test_patch_losses_gradcheck(kind):
    g = torch.Generator().manual_seed(0)
    r = torch.randn(3, 1, 2, 2, dtype=torch.float64, generator=g).add_(0.37).requires_grad_(True)
    f = torch.randn(3, 1, 3, 1, dtype=torch.float64, generator=g).add_(-0.29).requires_grad_(True)
    assert gradcheck(lambda a, b: discriminator_loss(a, b, kind), (r, f))
    assert gradcheck(lambda b: generator_loss(b, kind), (f,))
    assert gradcheck(lambda a, b: discriminator_loss(a, b, kind, reduction="none"), (r, f))


# ---------------------------------------------------------------- gradient penalty of a patch critic


def pixel_critic(a: torch.Tensor):
    """Linear patch critic: one score per pixel, D_p(x) = a_p x_p: (N, 1, 2, 2) -> (N, 1, 2, 2)."""
    return lambda x: x * a


def test_gradient_penalty_uses_the_gradient_of_the_mean_patch_score():
    # score(x) = (1/P) sum_p a_p x_p, P = 4: its gradient is a / 4 everywhere.
    a = torch.tensor([3.0, 4.0, 0.0, 0.0]).reshape(1, 1, 2, 2)
    real, fake = torch.rand(5, 1, 2, 2), torch.rand(5, 1, 2, 2)
    gp = gradient_penalty(pixel_critic(a), real, fake, weight=10.0, generator=torch.Generator().manual_seed(0))
    norm = math.hypot(3.0 / 4, 4.0 / 4)  # 1.25
    assert gp.item() == pytest.approx(10.0 * (norm - 1) ** 2, rel=1e-5)  # 0.625
    assert abs(gp.item() - 10.0 * (5.0 - 1) ** 2) > 100  # the gradient of the SUM (norm 5) would give 160


def test_a_one_lipschitz_mean_patch_score_has_no_penalty():
    a = torch.tensor([4.0, 0.0, 0.0, 0.0]).reshape(1, 1, 2, 2)  # mean score = x_0: slope exactly 1
    real, fake = torch.rand(3, 1, 2, 2), torch.rand(3, 1, 2, 2)
    gp = gradient_penalty(pixel_critic(a), real, fake, weight=10.0, generator=torch.Generator().manual_seed(1))
    assert gp.item() == pytest.approx(0.0, abs=1e-8)


def test_gradient_penalty_of_a_linear_conv_critic_by_hand():
    # 2x2 convolution on a 3x3 image: 4 patch scores; d mean / d x_ij = (sum of the kernel taps
    # that touch pixel ij over the patches covering it) / 4.
    conv = torch.nn.Conv2d(1, 1, 2, bias=True).double()
    k = [[1.0, -2.0], [0.5, 3.0]]
    with torch.no_grad():
        conv.weight.copy_(torch.tensor(k).reshape(1, 1, 2, 2))
        conv.bias.fill_(0.7)
    grad = [[0.0] * 3 for _ in range(3)]
    for pi in range(2):
        for pj in range(2):  # patch (pi, pj) covers pixels (pi + u, pj + v)
            for u in range(2):
                for v in range(2):
                    grad[pi + u][pj + v] += k[u][v] / 4
    norm = math.sqrt(sum(g * g for row in grad for g in row))
    g = torch.Generator().manual_seed(2)
    real = torch.rand(4, 1, 3, 3, dtype=torch.float64, generator=g)
    fake = torch.rand(4, 1, 3, 3, dtype=torch.float64, generator=g)
    gp = gradient_penalty(conv, real, fake, weight=2.0, generator=torch.Generator().manual_seed(3))
    assert gp.item() == pytest.approx(2.0 * (norm - 1) ** 2, rel=1e-10)


def test_patch_scores_and_their_mean_give_the_same_penalty():
    conv = torch.nn.Conv2d(2, 1, 3, padding=1).double()
    g = torch.Generator().manual_seed(4)
    real = torch.rand(3, 2, 5, 5, dtype=torch.float64, generator=g)
    fake = torch.rand(3, 2, 5, 5, dtype=torch.float64, generator=g)
    mlp = lambda x: torch.tanh(conv(x))  # noqa: E731  (a non-linear patch critic)
    by_patch = gradient_penalty(mlp, real, fake, generator=torch.Generator().manual_seed(5))
    by_sample = gradient_penalty(lambda x: mlp(x).mean((1, 2, 3)), real, fake, generator=torch.Generator().manual_seed(5))
    assert by_patch.item() == pytest.approx(by_sample.item(), rel=1e-12)


def test_patch_critic_gradient_penalty_gradcheck():
    g = torch.Generator().manual_seed(6)
    real = torch.rand(2, 1, 3, 3, dtype=torch.float64, generator=g)
    fake = torch.rand(2, 1, 3, 3, dtype=torch.float64, generator=g)
    weight = torch.randn(1, 1, 2, 2, dtype=torch.float64, generator=g).requires_grad_(True)
    bias = torch.zeros(1, dtype=torch.float64, requires_grad=True)

    def gp_of(w, b):
        critic = lambda x: torch.tanh(torch.nn.functional.conv2d(x, w, b))  # noqa: E731
        return gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(7))

    assert gradcheck(gp_of, (weight, bias))


def test_critic_must_score_each_sample():
    real, fake = torch.zeros(3, 1, 2, 2), torch.ones(3, 1, 2, 2)
    with pytest.raises(ShapeError, match="per sample"):
        gradient_penalty(lambda x: x.sum(), real, fake)  # one scalar for the whole batch
    with pytest.raises(ShapeError, match="per sample"):
        gradient_penalty(lambda x: x.reshape(-1), real, fake)  # (N * 4,) scores


# ---------------------------------------------------------------- the trainers that use a PatchGAN


def test_fast_style_adversarial_term_is_the_per_patch_lsgan_loss():
    import torch.nn.functional as F

    from stylelab.assets import load_bundled
    from stylelab.style.train_fast import FastStyleConfig, FastStyleTrainer

    cfg = FastStyleConfig(size=32, batch_size=2, steps=1, width=4, n_res=1, adv_weight=0.1, adv_kind="lsgan",
                          precision="fp32", seed=0)
    trainer = FastStyleTrainer(load_bundled("texture:brick", 64), cfg)
    content = trainer.data.batch(2)  # (2, 3, 32, 32)
    values = trainer.evaluate(content)
    with torch.no_grad():
        y = trainer.model(content)
        logits = trainer.disc(F.interpolate(y, scale_factor=0.5, mode="bilinear", align_corners=False))  # (2, 1, h, w)
    assert logits[0].numel() > 1
    by_hand = mean([0.5 * (v - 1) ** 2 for v in logits.flatten().tolist()])
    assert values["adversarial_raw"] == pytest.approx(by_hand, rel=1e-5)
