"""Total variation, adversarial losses, aesthetic measures and the weighted total."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch.autograd import gradcheck

from stylelab.errors import ConfigError, NonFiniteError, ShapeError
from stylelab.losses import (
    ADVERSARIAL_LOSSES,
    TotalVariation,
    WeightedLoss,
    brightness,
    clipped_fraction,
    colorfulness,
    colorfulness_loss,
    contrast_loss,
    discriminator_loss,
    exposure_error,
    exposure_loss,
    generator_loss,
    gradient_penalty,
    rms_contrast,
    saturation,
    saturation_loss,
    total_variation,
    weighted_sum,
)

# ---------------------------------------------------------------- total variation


def test_tv_known_answers():
    # 3x3 image, columns 0, 1, 10: horizontal jumps 1 and 9 on each of 3 rows, no vertical ones
    x = torch.tensor([[0.0, 1.0, 10.0]] * 3).reshape(1, 1, 3, 3)
    assert total_variation(x, "l1").item() == pytest.approx((1 + 9) * 3)  # 30
    assert total_variation(x, "l2").item() == pytest.approx((1 + 81) * 3)  # 246
    # isotropic over the 2x2 positions where both differences exist: sqrt(1 + 0) + sqrt(81 + 0), 2 rows
    assert total_variation(x, "isotropic", eps=0.0).item() == pytest.approx((1 + 9) * 2)
    # piq-style: l1 TV of a 2-channel image with a 10-vs-1 step = (10 - 1) * 2 * 2 = 36
    y = torch.ones(1, 2, 2, 2)
    y[..., 0, :] = 10.0
    assert total_variation(y, "l1").item() == pytest.approx(36.0)


def test_tv_constant_image_batch_and_module():
    x = torch.full((3, 3, 8, 8), 0.3)
    assert total_variation(x, "l1", reduction="none").tolist() == [0.0, 0.0, 0.0]
    iso = total_variation(x, "isotropic", reduction="none", eps=1e-8)
    assert torch.allclose(iso, torch.full((3,), 3 * 7 * 7 * 1e-4), rtol=1e-3)  # C (H-1)(W-1) sqrt(eps)
    z = torch.rand(2, 3, 8, 8)
    assert TotalVariation("l1", "sum")(z).item() == pytest.approx(total_variation(z, "l1", "sum").item())


@pytest.mark.parametrize("norm", ["l1", "l2", "isotropic"])
def test_tv_gradcheck(norm):
    x = torch.rand(1, 2, 6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0), requires_grad=True)
    assert gradcheck(lambda a: total_variation(a, norm), (x,))


def test_isotropic_tv_gradient_is_finite_on_a_flat_image():
    x = torch.zeros(1, 1, 5, 5, requires_grad=True)
    total_variation(x, "isotropic").backward()
    assert torch.isfinite(x.grad).all()


def test_tv_bad_inputs():
    with pytest.raises(ConfigError, match="TV norm"):
        total_variation(torch.rand(1, 1, 4, 4), "l3")
    with pytest.raises(ShapeError, match="2x2"):
        total_variation(torch.rand(1, 1, 1, 4))
    with pytest.raises(NonFiniteError):
        total_variation(torch.tensor([[[[0.0, float("nan")], [0.0, 0.0]]]]))

# ---------------------------------------------------------------- adversarial


def test_adversarial_known_answers_at_d_equals_one_half():
    zero = torch.zeros(4)  # logits 0 -> D = 1/2 everywhere
    assert discriminator_loss(zero, zero, "minimax").item() == pytest.approx(2 * math.log(2))
    assert discriminator_loss(zero, zero, "ns").item() == pytest.approx(2 * math.log(2))
    assert generator_loss(zero, "minimax").item() == pytest.approx(-math.log(2))  # log(1 - 1/2)
    assert generator_loss(zero, "ns").item() == pytest.approx(math.log(2))  # -log(1/2)
    assert discriminator_loss(zero, zero, "lsgan").item() == pytest.approx(0.5)
    assert discriminator_loss(zero, zero, "hinge").item() == pytest.approx(2.0)
    r, f = torch.tensor([2.0, 4.0]), torch.tensor([-1.0, 1.0])
    assert discriminator_loss(r, f, "wgan-gp").item() == pytest.approx(0.0 - 3.0)
    assert generator_loss(f, "hinge").item() == pytest.approx(0.0)


def test_adversarial_matches_the_log_formulas_and_is_stable():
    r, f = torch.tensor([0.3, -1.2, 2.0]), torch.tensor([-0.5, 0.7, 1.5])
    d_r, d_f = torch.sigmoid(r), torch.sigmoid(f)
    by_hand = -(torch.log(d_r).mean() + torch.log(1 - d_f).mean())  # -E[log D(x)] - E[log(1 - D(G(z)))]
    assert discriminator_loss(r, f, "minimax").item() == pytest.approx(by_hand.item(), rel=1e-6)
    assert generator_loss(f, "minimax").item() == pytest.approx(torch.log(1 - d_f).mean().item(), rel=1e-6)
    assert generator_loss(f, "ns").item() == pytest.approx(-torch.log(d_f).mean().item(), rel=1e-6)
    # saturated logits: log(sigmoid(-200)) is -inf in float32, the softplus form stays finite
    big = torch.tensor([200.0], requires_grad=True)
    loss = discriminator_loss(-big, big, "ns")
    loss.backward()
    assert loss.item() == pytest.approx(400.0) and torch.isfinite(big.grad).all()


def test_minimax_generator_saturates_and_ns_does_not():
    f = torch.tensor([-8.0], requires_grad=True)  # D confidently rejects the fake
    (g_mm,) = torch.autograd.grad(generator_loss(f, "minimax"), f)
    (g_ns,) = torch.autograd.grad(generator_loss(f, "ns"), f)
    assert abs(g_mm.item()) < 1e-3 < abs(g_ns.item())


@pytest.mark.parametrize("kind", ADVERSARIAL_LOSSES)
def test_adversarial_gradcheck(kind):
    g = torch.Generator().manual_seed(0)
    r = torch.randn(5, 1, dtype=torch.float64, generator=g, requires_grad=True)
    f = torch.randn(5, 1, dtype=torch.float64, generator=g, requires_grad=True)
    assert gradcheck(lambda a, b: discriminator_loss(a, b, kind), (r, f))
    assert gradcheck(lambda b: generator_loss(b, kind), (f,))


def test_gradient_penalty_known_answer_and_graph():
    # linear critic D(x) = w . x has gradient w everywhere: penalty = lambda (|w| - 1)^2
    w = torch.tensor([3.0, 4.0], requires_grad=True)
    critic = lambda x: x @ w  # noqa: E731
    real, fake = torch.randn(6, 2), torch.randn(6, 2)
    gp = gradient_penalty(critic, real, fake, weight=10.0, generator=torch.Generator().manual_seed(0))
    assert gp.item() == pytest.approx(10.0 * (5.0 - 1.0) ** 2, rel=1e-5)
    gp.backward()  # create_graph=True: the penalty reaches the critic's parameters
    assert torch.allclose(w.grad, 10.0 * 2 * 4.0 * w.detach() / 5.0, rtol=1e-4)


def test_gradient_penalty_gradcheck_on_a_tiny_critic():
    torch.manual_seed(0)
    lin = torch.nn.Linear(3, 1).double()
    real, fake = torch.randn(4, 3, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64)
    params = tuple(p.detach().clone().requires_grad_(True) for p in lin.parameters())

    def gp_of(wt, b):
        crit = lambda x: torch.tanh(F.linear(x, wt, b))  # noqa: E731
        return gradient_penalty(crit, real, fake, generator=torch.Generator().manual_seed(1))

    assert gradcheck(gp_of, params)


def test_adversarial_bad_inputs():
    with pytest.raises(ConfigError, match="wgan-gp"):
        discriminator_loss(torch.zeros(2), torch.zeros(2), "wasserstein")
    with pytest.raises(NonFiniteError):
        generator_loss(torch.tensor([float("nan")]), "ns")
    with pytest.raises(ShapeError):
        gradient_penalty(lambda x: x.sum(1), torch.zeros(2, 3), torch.zeros(3, 3))

# ---------------------------------------------------------------- aesthetic measures


def test_aesthetic_known_answers():
    grey = torch.full((1, 3, 8, 8), 0.5)
    red = torch.zeros(1, 3, 8, 8)
    red[:, 0] = 1.0
    assert colorfulness(grey).item() == pytest.approx(0.0, abs=1e-3)
    # pure red: rg = 255, yb = 127.5, no spread -> M = 0.3 sqrt(255^2 + 127.5^2)
    assert colorfulness(red).item() == pytest.approx(0.3 * math.hypot(255, 127.5), rel=1e-4)
    assert saturation(grey).item() == pytest.approx(0.0, abs=1e-6)
    assert saturation(red).item() == pytest.approx(1.0, abs=1e-5)
    assert brightness(red).item() == pytest.approx(0.299)
    assert exposure_error(grey).item() == pytest.approx(0.0)
    half = torch.zeros(1, 3, 8, 8)
    half[..., 4:] = 1.0
    assert rms_contrast(half).item() == pytest.approx(0.5, abs=1e-5)
    assert rms_contrast(grey).item() == pytest.approx(0.0, abs=1e-5)
    frac = clipped_fraction(half)
    assert frac.shape == (1, 2) and frac[0].tolist() == [0.5, 0.5]
    soft = clipped_fraction(half, soft=True)
    assert torch.allclose(soft, frac, atol=0.02)


def test_colorfulness_on_photos_is_in_the_papers_range(astronaut):
    from stylelab.assets import load_bundled

    camera = load_bundled("photo:camera", size=64)  # greyscale photo
    assert colorfulness(camera[None]).item() < 1.0
    assert 20 < colorfulness(astronaut[None]).item() < 120


def test_aesthetic_losses_raise_the_measure():
    x = torch.full((1, 3, 16, 16), 0.5) + 0.05 * torch.rand(1, 3, 16, 16)
    for loss_fn, measure in [(colorfulness_loss, colorfulness), (contrast_loss, rms_contrast), (saturation_loss, saturation)]:
        y = x.clone().requires_grad_(True)
        before = measure(y).item()
        opt = torch.optim.SGD([y], lr=0.05)
        for _ in range(5):
            opt.zero_grad()
            loss_fn(y).backward()
            opt.step()
        assert measure(y).item() > before, loss_fn.__name__
    assert contrast_loss(x, target=0.0).item() == 0.0  # hinge: already above the target
    assert exposure_loss(torch.zeros(1, 3, 4, 4), target=0.5).item() == pytest.approx(0.25)


@pytest.mark.parametrize("fn", [colorfulness, rms_contrast, saturation, brightness, exposure_error])
def test_aesthetic_gradcheck(fn):
    x = torch.rand(2, 3, 5, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0), requires_grad=True)
    assert gradcheck(fn, (x,))


def test_aesthetic_bad_inputs():
    with pytest.raises(ShapeError, match="3 channels"):
        colorfulness(torch.rand(1, 1, 4, 4))
    with pytest.raises(ConfigError):
        exposure_error(torch.rand(1, 3, 4, 4), target=2.0)

# ---------------------------------------------------------------- weighted total


def test_weighted_sum_keeps_every_term():
    terms = {"content": torch.tensor(2.0, requires_grad=True), "tv": torch.tensor(10.0), "off": torch.tensor(5.0)}
    total, values = weighted_sum(terms, {"content": 1.5, "tv": 0.1, "off": 0.0})
    assert total.item() == pytest.approx(4.0)
    assert values == {"content": 3.0, "content_raw": 2.0, "tv": 1.0, "tv_raw": 10.0, "off": 0.0, "off_raw": 5.0, "total": 4.0}
    total.backward()
    assert terms["content"].grad.item() == 1.5


def test_weighted_loss_history_and_errors():
    wl = WeightedLoss({"a": 2.0})
    wl({"a": torch.tensor(1.0)})
    wl.set_weight("a", 0.0)
    wl({"a": torch.tensor(3.0)})
    assert [h["a"] for h in wl.history] == [2.0, 0.0] and wl.history[1]["a_raw"] == 3.0
    with pytest.raises(ConfigError, match="No weight"):
        weighted_sum({"a": torch.tensor(1.0)}, {})
    with pytest.raises(ConfigError, match="unknown term"):
        weighted_sum({"a": torch.tensor(1.0)}, {"a": 1.0, "b": 1.0})
    with pytest.raises(NonFiniteError):
        weighted_sum({"a": torch.tensor(float("nan"))}, {"a": 1.0})
    with pytest.raises(ShapeError):
        weighted_sum({"a": torch.ones(3)}, {"a": 1.0})
    with pytest.raises(ConfigError):
        weighted_sum({}, {})
