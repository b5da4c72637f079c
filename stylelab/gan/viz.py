r"""What GAN Lab draws, computed here (pages only plot): D's decision surface, G's gradient arrows,
and walks through latent space.

- :func:`decision_surface`: D evaluated on a grid of 2-D points (a heatmap).
- :func:`generator_gradients`: for generated points :math:`x = G(z)`, the direction
  :math:`-\nabla_x \mathcal{L}_G(D(x))` in which the generator's loss pushes each sample.
- :func:`lerp`, :func:`slerp`, :func:`interpolate`, :func:`latent_walk`: paths between codes z.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from ..errors import ConfigError, ShapeError
from ..losses.adversarial import generator_loss
from .objectives import loss_spec
from .train import GANTrainer, d_output


@dataclass
class Surface:
    """D on a grid: ``values[i, j]`` at ``(xs[j], ys[i])`` (probability or raw score, see ``kind``)."""

    xs: Tensor  # (W,)
    ys: Tensor  # (H,)
    values: Tensor  # (H, W)
    kind: str


def plot_bounds(trainer: GANTrainer, margin: float = 0.5) -> tuple[float, float, float, float]:
    """Square bounds (x0, x1, y0, y1) around the real points, for stable axes across steps."""
    real = trainer.real.float().cpu()
    lo = float(real.min()) - margin
    hi = float(real.max()) + margin
    return lo, hi, lo, hi


@torch.no_grad()
def decision_surface(trainer: GANTrainer, resolution: int = 60,
                     bounds: tuple[float, float, float, float] | None = None) -> Surface:
    """Evaluate the 2-D discriminator on a ``resolution x resolution`` grid."""
    if not trainer.config.is_toy:
        raise ConfigError("The decision surface is drawn for 2-D points only.")
    if not isinstance(resolution, int) or not 4 <= resolution <= 400:
        raise ConfigError(f"resolution must be an integer in [4, 400], got {resolution!r}.")
    x0, x1, y0, y1 = bounds or plot_bounds(trainer)
    xs = torch.linspace(x0, x1, resolution)
    ys = torch.linspace(y0, y1, resolution)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    pts = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1).to(trainer.device)  # (H*W, 2)
    logits = trainer.D(pts)  # (H*W,)
    values = d_output(logits, trainer.config.loss).reshape(resolution, resolution).cpu()
    return Surface(xs, ys, values, "probability" if loss_spec(trainer.config.loss).probabilistic else "score")


def generator_gradients(trainer: GANTrainer, n: int = 200, seed: int | None = None) -> tuple[Tensor, Tensor]:
    r"""Generated points and the direction the generator's loss moves each one.

    .. math::
        \Delta x_i = -\nabla_{x_i} \mathcal{L}_G\big(D(x_i)\big), \quad x_i = G(z_i)

    (the loss summed over samples, so each arrow is that sample's own gradient). With the
    saturating minimax loss these arrows almost vanish where D confidently rejects the fakes;
    with the non-saturating loss they stay long (see the notebook).

    Returns:
        ``points (n, 2)`` and ``arrows (n, 2)``, both on the CPU.
    """
    if not trainer.config.is_toy:
        raise ConfigError("Gradient arrows are drawn for 2-D points only.")
    points = trainer.sample(n, seed=seed).detach().requires_grad_(True)  # (n, 2)
    loss = generator_loss(trainer.D(points), trainer.config.loss, reduction="sum")
    (grad,) = torch.autograd.grad(loss, points)
    return points.detach().cpu(), (-grad).cpu()


def generator_gradient_norm(trainer: GANTrainer, n: int = 256, seed: int | None = None) -> float:
    r"""Mean per-sample norm :math:`\|\nabla_x \mathcal{L}_G(D(x))\|` at generated samples ``x = G(z)``.

    How hard the loss pushes the generator's outputs: near zero for the saturating minimax loss
    while D confidently rejects the fakes, which is why that run stalls early. D is evaluated in
    eval mode (batch-norm running statistics) so measuring does not change it.
    """
    labels = (torch.arange(n, device=trainer.device) % trainer.num_classes) if trainer.conditional else None
    x = trainer.sample(n, labels=labels, seed=seed).detach().requires_grad_(True)  # (n, ...)
    was = trainer.D.training
    trainer.D.eval()
    try:
        loss = generator_loss(trainer.D(x, labels).float(), trainer.config.loss, reduction="sum")
        (grad,) = torch.autograd.grad(loss, x)
    finally:
        trainer.D.train(was)
    return float(grad.flatten(1).norm(dim=1).mean())


def lerp(z0: Tensor, z1: Tensor, t: Tensor) -> Tensor:
    r"""Linear interpolation :math:`z(t) = (1 - t)\,z_0 + t\,z_1`; ``t`` ``(T,)`` -> ``(T, Z)``."""
    return (1 - t)[:, None] * z0[None] + t[:, None] * z1[None]


def slerp(z0: Tensor, z1: Tensor, t: Tensor) -> Tensor:
    r"""Spherical interpolation (White 2016), along the great circle between two Gaussian codes.

    .. math::
        z(t) = \frac{\sin((1 - t)\,\Omega)}{\sin\Omega}\,z_0 + \frac{\sin(t\,\Omega)}{\sin\Omega}\,z_1,
        \qquad \cos\Omega = \frac{z_0 \cdot z_1}{\|z_0\|\,\|z_1\|}

    In high dimension Gaussian codes live near a sphere of radius :math:`\sqrt{d}`; the straight
    line between two of them passes through the low-norm interior, which G never saw in training,
    and slerp stays on the shell. Falls back to :func:`lerp` when the codes are (anti)parallel.
    """
    cos = torch.dot(z0, z1) / (z0.norm() * z1.norm()).clamp_min(1e-12)
    omega = torch.arccos(cos.clamp(-1.0, 1.0))
    if float(omega.sin().abs()) < 1e-6:
        return lerp(z0, z1, t)
    so = omega.sin()
    return (torch.sin((1 - t) * omega) / so)[:, None] * z0[None] + (torch.sin(t * omega) / so)[:, None] * z1[None]


def interpolate(z0: Tensor, z1: Tensor, steps: int = 8, mode: Literal["linear", "spherical"] = "spherical") -> Tensor:
    """``steps`` codes from ``z0`` to ``z1`` (both ``(Z,)``), linear or spherical: ``(steps, Z)``."""
    if z0.ndim != 1 or z0.shape != z1.shape:
        raise ShapeError(f"z0 and z1 must be (Z,) vectors of the same size, got {tuple(z0.shape)} and {tuple(z1.shape)}.")
    if not isinstance(steps, int) or not 2 <= steps <= 256:
        raise ConfigError(f"steps must be an integer in [2, 256], got {steps!r}.")
    t = torch.linspace(0, 1, steps, dtype=z0.dtype, device=z0.device)
    if mode == "linear":
        return lerp(z0, z1, t)
    if mode == "spherical":
        return slerp(z0, z1, t)
    raise ConfigError(f"Interpolation must be 'linear' or 'spherical', not {mode!r}.")


def latent_walk(z: Tensor, dim: int, span: float = 3.0, steps: int = 8) -> Tensor:
    """Vary one coordinate of ``z`` ``(Z,)`` from ``-span`` to ``+span``: ``(steps, Z)``."""
    if z.ndim != 1 or not 0 <= dim < z.shape[0]:
        raise ShapeError(f"dim must index the code z of size {z.shape[0] if z.ndim == 1 else tuple(z.shape)}, got {dim!r}.")
    if not isinstance(steps, int) or not 2 <= steps <= 256 or not (0 < span <= 10) or not math.isfinite(span):
        raise ConfigError("latent_walk needs 2 <= steps <= 256 and 0 < span <= 10.")
    out = z[None].repeat(steps, 1)  # (steps, Z)
    out[:, dim] = torch.linspace(-span, span, steps, dtype=z.dtype, device=z.device)
    return out


def latent_strips(trainer: GANTrainer, seed_a: int, seed_b: int, mode: Literal["linear", "spherical"] = "spherical",
                  dim: int = 0, label: int | None = None, steps: int = 10) -> list[tuple[str, Tensor]]:
    """The latent-space pictures of the GAN Lab for an image run: ``[(caption, grid)]``.

    Row 1: ``steps`` samples along the path from ``z_A`` to ``z_B`` (codes of samples ``seed_a`` and
    ``seed_b``, :meth:`GANTrainer.latent`); row 2: a walk along ``z[dim]`` from -3 to +3 around ``z_A``.
    ``label`` fixes the class of a conditional G. Each grid is ``(1, H', W')`` in [0, 1].
    """
    from ..imageio import image_grid
    from .data import to_unit

    if trainer.config.is_toy:
        raise ConfigError("Latent-space pictures are for image runs; in 2-D the scatter is G's image of the noise.")
    if not 0 <= dim < trainer.config.z_dim:
        raise ConfigError(f"The latent direction must be in [0, {trainer.config.z_dim - 1}], got {dim}.")
    za, zb = trainer.latent(seed_a), trainer.latent(seed_b)  # (Z,)
    out = []
    for caption, z in ((f"{mode} interpolation A → B", interpolate(za, zb, steps, mode)),
                       (f"walk along z[{dim}] from −3 to +3", latent_walk(za, dim, span=3.0, steps=steps))):
        labels = None if label is None else torch.full((z.shape[0],), int(label), dtype=torch.long, device=trainer.device)
        pics = trainer.generate(z.to(trainer.device), labels).cpu()  # (steps, 1, H, W)
        out.append((caption, image_grid(to_unit(pics), nrow=steps)))
    return out


def class_rows(trainer: GANTrainer, seed: int, per_class: int = 10) -> Tensor:
    """A conditional G's samples, one row of ``per_class`` per class: ``(1, H', W')`` in [0, 1]."""
    from ..imageio import image_grid
    from .data import to_unit

    if not trainer.conditional:
        raise ConfigError("One row per class needs a class-conditional run.")
    k = trainer.num_classes
    z = torch.randn(per_class * k, trainer.config.z_dim, generator=torch.Generator().manual_seed(int(seed)))
    labels = torch.arange(k).repeat_interleave(per_class)
    return image_grid(to_unit(trainer.generate(z.to(trainer.device), labels.to(trainer.device)).cpu()), nrow=per_class)
