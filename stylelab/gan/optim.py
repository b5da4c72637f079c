"""Adam for very small models: the same update as ``torch.optim.Adam(fused=True)``, less Python per step.

A 2-D GAN's networks hold ~4,500 weights each, so one Adam update is ~17 us of arithmetic but
``torch.optim.Adam.step`` spends ~100 us around it (grouping the tensors by device and dtype,
checks, hooks). :class:`LeanAdam` keeps torch's state layout (``state_dict`` round-trips with
``torch.optim.Adam``) and calls the same fused kernel directly, so both give bit-identical weights
(``tests/test_gan.py`` checks this). Anything unusual (a closure, AMSGrad, weight decay, a
tensor learning rate, a device without the fused kernel, the first step that creates the state)
goes through ``torch.optim.Adam.step`` unchanged.

``torch._fused_adam_`` is a private op: if a torch build lacks it, the optimizer is plain
``torch.optim.Adam(fused=False)``; if its signature changed, the first call that fails (before any
weight moves) switches this optimizer to ``torch.optim.Adam.step`` for good, with a warning. Both
fall-backs are tested by simulating them.

The Adam update (Kingma & Ba 2015), per parameter :math:`\\theta` with gradient :math:`g`, step :math:`t`::

    m <- beta1 m + (1 - beta1) g
    v <- beta2 v + (1 - beta2) g^2
    theta <- theta - lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import Tensor


class LeanAdam(torch.optim.Adam):
    """``torch.optim.Adam`` with ``fused=True`` and a short path for :meth:`fast_step`.

    Args: as ``torch.optim.Adam`` (``fused`` is forced on; CPU and CUDA only).
    """

    def __init__(self, params: Any, **kwargs: Any) -> None:
        self._lean_ok = _fused_op() is not None
        kwargs["fused"] = self._lean_ok  # no private op -> torch's own (unfused) Adam, nothing private called
        super().__init__(params, **kwargs)

    def __getstate__(self) -> dict[str, Any]:
        # torch's Optimizer pickles only defaults, state and param_groups; keep our flag too
        # (a run shipped to a worker process, :mod:`stylelab.serve.courier`)
        return {**super().__getstate__(), "_lean_ok": self._lean_ok}

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        lean = state.pop("_lean_ok", _fused_op() is not None)
        super().__setstate__(state)
        self._lean_ok = lean

    def _lean_group(self, group: dict[str, Any]) -> tuple[list[Tensor], ...] | None:
        if (group["amsgrad"] or group["weight_decay"] or group["differentiable"] or group["capturable"]
                or torch.is_tensor(group["lr"]) or torch.is_tensor(group["betas"][0])):
            return None
        params, grads, avgs, sqs, steps = [], [], [], [], []
        device = None
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if not state or p.grad.is_sparse or p.device.type not in ("cpu", "cuda") or p.grad.dtype != p.dtype:
                return None
            if device is None:
                device = (p.device, p.dtype)
            elif device != (p.device, p.dtype):
                return None  # mixed devices/dtypes: torch groups them
            params.append(p)
            grads.append(p.grad)
            avgs.append(state["exp_avg"])
            sqs.append(state["exp_avg_sq"])
            steps.append(state["step"])
        return params, grads, avgs, sqs, steps

    @torch.no_grad()
    def fast_step(self) -> None:
        """One Adam update of every parameter that has a gradient (same result as :meth:`step`)."""
        op = _fused_op()
        if op is None or not self._lean_ok:
            self._lean_ok = False
            for group in self.param_groups:
                group["fused"] = group["fused"] and op is not None
            self.step()
            return
        lean = [self._lean_group(g) for g in self.param_groups]
        if any(parts is None for parts in lean):
            self.step()
            return
        for group, (params, grads, avgs, sqs, steps) in zip(self.param_groups, lean):
            if not params:
                continue
            beta1, beta2 = group["betas"]
            torch._foreach_add_(steps, 1)
            try:
                op(params, grads, avgs, sqs, [], steps, amsgrad=False, lr=group["lr"], beta1=beta1,
                   beta2=beta2, weight_decay=0.0, eps=group["eps"], maximize=group["maximize"])
            except TypeError as exc:  # the private op's signature changed: it rejects the call before computing
                if group is not self.param_groups[0]:
                    raise  # an earlier group was already updated: never apply a half step silently
                torch._foreach_sub_(steps, 1)
                self._lean_ok = False
                warnings.warn(f"LeanAdam: torch._fused_adam_ no longer takes this call ({exc}); "
                              "using torch.optim.Adam.step from now on", RuntimeWarning, stacklevel=2)
                self.step()
                return


def _fused_op() -> Any:
    """torch's private fused Adam kernel, or None where this torch build has none."""
    op = getattr(torch, "_fused_adam_", None)
    return op if callable(op) else None


__all__ = ["LeanAdam"]
