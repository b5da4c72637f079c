r"""Deep Image Prior (Ulyanov, Vedaldi, Lempitsky 2018): inpainting with an *untrained* U-Net.

A randomly initialised U-Net :math:`f_\theta` maps a fixed noise image :math:`z` to a picture.
We fit its weights to the one damaged image, on the known pixels only,

.. math::
    \theta^* = \arg\min_\theta \frac{1}{C|\bar\Omega|} \sum_{c,\ p \notin \Omega}
        \big(f_\theta(z + \sigma\varepsilon_t)_{cp} - x_{cp}\big)^2,
    \qquad \hat x = f_{\theta^*}(z),

(:math:`\varepsilon_t \sim \mathcal N(0, I)` fresh at every step, :math:`\sigma` =
``DIPConfig.input_jitter``, the paper's ``reg_noise_std``) and read the hole off :math:`\hat x`.
No data set, no training: the architecture itself is the prior. Convolutions with shared weights
produce natural, locally repeating structure far more easily than noise, so the network fills
the hole with texture that continues its surroundings long before it could memorise anything else.

:class:`DeepImagePrior` is a :class:`~stylelab.run.Run` (kind ``"dip"``): one Adam step per
:meth:`~stylelab.run.Run.step`, the composite so far as :meth:`~DeepImagePrior.preview`. The
noise :math:`z`, the per-step jitter and the initial weights all come from the run's own
generators (seeded from ``DIPConfig.seed``), never from torch's global RNG.
:func:`deep_image_prior` runs a whole fit with a progress callback and a stop signal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import torch

from ..device import autocast
from ..errors import ConfigError
from ..run import Run, StopSignal, make_generator, run_to_end
from .losses import masked_mse
from .masks import as_batch, composite, hole
from .unet import UNet, build_seeded

__all__ = ["DIPConfig", "DeepImagePrior", "deep_image_prior", "small_run"]


@dataclass
class DIPConfig:
    """Settings of a Deep Image Prior fit (default 500 iterations: 17 s at 128 px on 2 quiet-ish cores)."""

    iterations: int = 500
    lr: float = 0.01
    base: int = 16
    depth: int = 4
    noise_channels: int = 16
    input_jitter: float = 0.03  # noise added to z at every step (the paper's reg_noise_std)
    seed: int = 0
    bf16: bool = True

    def validate(self) -> None:
        if self.iterations < 1:
            raise ConfigError(f"DIP needs at least 1 iteration, got {self.iterations}.")
        if not 0 < self.lr < 1:
            raise ConfigError(f"DIP learning rate must be in (0, 1), got {self.lr}.")
        if self.base < 1 or self.depth < 1 or self.noise_channels < 1:
            raise ConfigError("DIP base, depth and noise_channels must be >= 1.")
        if self.input_jitter < 0:
            raise ConfigError("DIP input_jitter must be >= 0.")
        if not 0 <= self.seed < 2**63:
            raise ConfigError(f"DIP seed must be an integer in [0, 2**63), got {self.seed}.")


class DeepImagePrior(Run):
    """A DIP fit of one image, advanced one Adam step at a time (a :class:`~stylelab.run.Run`).

    Args:
        image: ``(3, H, W)`` or ``(1, 3, H, W)`` in [0, 1] (the damaged picture: its hole is never used).
        mask: ``(1, H, W)`` or ``(1, 1, H, W)``, 1 = hole.
        config: :class:`DIPConfig`.
        seed: the run's seed (default ``config.seed``; a different one replaces it in the config).
        device: where to run (None: :func:`~stylelab.device.get_device`).

    Rows: ``{"step", "loss"}``, the masked MSE on the known pixels at that step.
    """

    kind: ClassVar[str] = "dip"
    lab: ClassVar[str] = "inpaint"
    config_class: ClassVar[type] = DIPConfig

    def __init__(self, image: torch.Tensor, mask: torch.Tensor, config: DIPConfig | None = None, *,
                 seed: int | None = None, device: Any = None) -> None:
        cfg = config or DIPConfig()
        if seed is not None and seed != cfg.seed:
            cfg = replace(cfg, seed=seed)
        cfg.validate()
        super().__init__(cfg, seed=cfg.seed, device=device)
        x, m, _ = as_batch(image, mask)
        if x.shape[0] != 1:
            raise ConfigError("Deep Image Prior fits one image at a time (batch of 1).")
        dev = self.device
        self.image = x.to(dev)  # (1, 3, H, W)
        self.mask = m.to(dev)  # (1, 1, H, W), possibly feathered
        self.known = 1.0 - hole(self.mask)  # (1, 1, H, W), 1 = known pixel
        h, w = x.shape[-2:]
        # Three independent streams: the fixed input z, the per-step jitter, the initial weights.
        self._noise_gen = make_generator(cfg.seed, dev, stream=0)
        self._jitter_gen = make_generator(cfg.seed, dev, stream=1)
        init_gen = make_generator(cfg.seed, "cpu", stream=2)
        self.z = torch.rand(1, cfg.noise_channels, h, w, generator=self._noise_gen, device=dev) * 0.1  # (1, Cz, H, W)
        self.net = build_seeded(lambda: UNet(cfg.noise_channels, 3, base=cfg.base, depth=cfg.depth), init_gen, dev)
        self.net = self.net.to(memory_format=torch.channels_last)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=cfg.lr)
        self._last: torch.Tensor | None = None

    @property
    def total_steps(self) -> int:  # type: ignore[override]
        return self.config.iterations

    def _step(self) -> dict[str, Any]:
        """One Adam step on the known pixels: ``L = MSE_known(f(z + sigma eps), x)``."""
        self.net.train()
        z = self.z
        if self.config.input_jitter > 0:
            eps = torch.randn(z.shape, generator=self._jitter_gen, device=z.device, dtype=z.dtype)  # (1, Cz, H, W)
            z = z + self.config.input_jitter * eps
        with autocast(self.device, enabled=self.config.bf16):
            out = self.net(z.contiguous(memory_format=torch.channels_last))  # (1, 3, H, W)
        out = out.float()
        # L = MSE over the known pixels only: the hole never enters the loss.
        loss = masked_mse(out, self.image, self.known)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self._last = out.detach()
        return {"loss": float(loss.detach())}

    @torch.no_grad()
    def prediction(self) -> torch.Tensor:
        """The network's current output ``(1, 3, H, W)`` (the last step's; before any step, ``f(z)``)."""
        if self._last is None:
            self.net.eval()
            with autocast(self.device, enabled=self.config.bf16):
                self._last = self.net(self.z.contiguous(memory_format=torch.channels_last)).float()
        return self._last

    def current(self) -> torch.Tensor:
        """The composite so far: ``mask * prediction + (1 - mask) * image``, ``(1, 3, H, W)`` on the run's device."""
        return composite(self.prediction(), self.image, self.mask)

    def preview(self) -> torch.Tensor:
        """The composite so far, ``(3, H, W)`` float32 on the CPU in [0, 1]."""
        return self.current()[0].detach().float().cpu().clamp(0.0, 1.0)

    def inputs(self) -> dict[str, Any]:
        """The damaged picture and the mask (a record does not carry pictures)."""
        return {"image": self.image[0].cpu(), "mask": self.mask[0].cpu()}

    def summary(self) -> dict[str, Any]:
        out = super().summary()
        if self.history:
            out["best_loss"] = min(r["loss"] for r in self.history)
        return out

    def _state(self) -> dict[str, Any]:
        return {
            "net": self.net.state_dict(),
            "opt": self.opt.state_dict(),
            "jitter_gen": self._jitter_gen.get_state(),
            "noise_gen": self._noise_gen.get_state(),
            "last": None if self._last is None else self._last.detach().cpu(),
        }

    def _load_state(self, state: dict[str, Any]) -> None:
        self.net.load_state_dict(state["net"])
        self.opt.load_state_dict(state["opt"])
        self._jitter_gen.set_state(state["jitter_gen"])
        self._noise_gen.set_state(state["noise_gen"])
        last = state.get("last")
        self._last = None if last is None else last.to(self.device)


def deep_image_prior(
    image: torch.Tensor,
    mask: torch.Tensor,
    config: DIPConfig | None = None,
    callback: Callable[[int, float, DeepImagePrior], None] | None = None,
    stop: StopSignal = None,
    device: Any = None,
) -> torch.Tensor:
    """Fit a DIP to ``image`` and return the network's prediction ``(1, 3, H, W)``.

    Args:
        image, mask: see :class:`DeepImagePrior`.
        config: iterations, learning rate, network size, seed.
        callback: called after every step as ``callback(step, loss, fit)``.
        stop: a callable or ``threading.Event``, checked before every step; it ends the fit early
            (the result so far is returned, not an error).
        device: where to run (None: :func:`~stylelab.device.get_device`).

    Returns:
        The raw prediction (compose it with the mask: :func:`stylelab.inpaint.inpaint` does).
    """
    fit = DeepImagePrior(image, mask, config, device=device)

    def on_step(run: Run, row: dict[str, Any]) -> None:
        if callback is not None:
            callback(row["step"], row["loss"], fit)

    run_to_end(fit, on_step, stop=stop)
    return fit.prediction()


def small_run(seed: int = 0, device: Any = None) -> DeepImagePrior:
    """The catalogue's small DIP: the astronaut at 32 px, a centre hole, a 4-8 channel U-Net."""
    from ..assets import load_bundled
    from .masks import center_mask, damage

    image = load_bundled("photo:astronaut", size=32)  # (3, 32, 32)
    mask = center_mask(*image.shape[-2:], 0.2)
    config = DIPConfig(iterations=20, base=4, depth=2, noise_channels=4, seed=seed)
    return DeepImagePrior(damage(image, mask), mask, config, device=device)
