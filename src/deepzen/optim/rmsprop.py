"""RMSProp: the learning rate divided by a running root mean square of the gradients."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from deepzen import _tensors as T
from deepzen.optim import _checks as C
from deepzen.optim._base import Batch, Optimizer, zeros_like


class RMSProp(Optimizer):
    r"""RMSProp (Tieleman & Hinton 2012, Coursera "Neural Networks for Machine Learning", lecture 6e),
    with the centered variant of Graves 2013 (arXiv:1308.0850, eqs. 38-41) and optional momentum.

    Algorithm::

        g  = ∇f(θ) + λθ                         (coupled L2 weight decay)
        v  ← α·v + (1 − α)·g²                   (running mean square; the lecture's decay 0.9)
        m  ← α·m + (1 − α)·g                    (centered only: running mean of g)
        s  = v − m²  if centered, else v
        d  = √(s + ε)                            (eps_inside_sqrt=True, the default: Keras/TF; the lecture has no ε)
        d  = √s + ε                              (eps_inside_sqrt=False: torch)
        b  ← μ·b + g / d;  θ ← θ − η·b           if μ > 0 (torch's momentum buffer, starts at 0)
        θ  ← θ − η·g / d                         otherwise

    Defaults: α = 0.9 (the lecture's), η = 1e-3 (Keras's; the lecture fixes none, and torch's 1e-2 goes
    with its slower α = 0.99), ε = 1e-7 inside the square root (Keras's; TF1 used 1e-10), μ = 0, λ = 0.
    torch's RMSprop is α = 0.99, η = 1e-2, ε = 1e-8 outside the root: pass ``alpha=0.99, lr=1e-2,
    eps=1e-8, eps_inside_sqrt=False`` to reproduce it. Graves 2013 keeps η inside the momentum buffer
    (Δ ← μΔ − ηg/d); we follow torch and keep it outside (the same iterates while η is constant).
    The decay keeps torch's name ``alpha``.

    Arguments:
        params: parameters or parameter groups.
        lr: learning rate η.
        alpha: α in [0, 1), decay of the running averages.
        eps: ε (see ``eps_inside_sqrt``).
        weight_decay: λ, coupled L2 (added to the gradient).
        momentum: μ in [0, 1).
        centered: normalize by an estimate of the variance v − m² instead of v (Graves 2013).
        eps_inside_sqrt: add ε under the square root (True) or to the root (False, torch's).
        maximize: ascend instead of descend.

    State: ``square_avg`` (v), ``grad_avg`` (m, centered only), ``momentum_buffer`` (b, μ > 0 only).
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        alpha: float = 0.9,
        eps: float = 1e-7,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        eps_inside_sqrt: bool = True,
        maximize: bool = False,
    ) -> None:
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, eps_inside_sqrt=eps_inside_sqrt, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        C.check_lr(group["lr"])
        C.check_beta(group["alpha"], "alpha")
        C.check_eps(group["eps"])
        C.check_weight_decay(group["weight_decay"])
        C.check_range("momentum", group["momentum"], 0.0, 1.0, high_open=True)
        C.check_flags(group, "centered", "eps_inside_sqrt", "maximize")

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {key: zeros_like(p) for key in _buffer_keys(group)}

    def _gather(self, group: dict[str, Any]) -> Batch | None:
        # A parameter whose state predates turning on ``centered`` or momentum gets zero buffers here.
        keys = _buffer_keys(group)
        if len(keys) > 1:
            for p in group["params"]:
                state = self.state.get(p) if p.grad is not None else None
                for key in keys if state else ():
                    if key not in state:
                        state[key] = zeros_like(torch.view_as_real(p) if p.is_complex() else p)
        return super()._gather(group)

    def _update(self, group: dict[str, Any], batch: Batch, loss: float | None) -> None:
        lr, alpha, eps, wd = group["lr"], group["alpha"], group["eps"], group["weight_decay"]
        mu = group["momentum"]
        params, grads = batch.params, batch.grads
        square_avg = batch["square_avg"]
        if wd:
            grads = T.add(grads, params, alpha=wd)                       # g + λθ
        T.mul_(square_avg, alpha)                                        # v ← αv + (1 − α)g²
        T.addcmul_(square_avg, grads, grads, 1 - alpha)
        if group["centered"]:
            T.lerp_(batch["grad_avg"], grads, 1 - alpha)                 # m ← αm + (1 − α)g
            denom = T.clone(square_avg)                                  # s = v − m²
            T.addcmul_(denom, batch["grad_avg"], batch["grad_avg"], -1)
            if group["eps_inside_sqrt"]:
                T.add_(denom, eps)                                       # d = √(s + ε)
                T.sqrt_(denom)
            else:
                T.sqrt_(denom)                                           # d = √s + ε
                T.add_(denom, eps)
        elif group["eps_inside_sqrt"]:
            denom = T.add(square_avg, eps)                               # d = √(s + ε)
            T.sqrt_(denom)
        else:
            denom = T.sqrt(square_avg)                                   # d = √s + ε
            T.add_(denom, eps)
        if mu:
            buf = batch["momentum_buffer"]
            T.mul_(buf, mu)                                              # b ← μb + g/d
            T.addcdiv_(buf, grads, denom)
            T.add_(params, buf, alpha=-lr)                               # θ ← θ − ηb
        else:
            T.addcdiv_(params, grads, denom, -lr)                        # θ ← θ − ηg/d


def _buffer_keys(group: dict[str, Any]) -> list[str]:
    """The state buffers the group's options need."""
    keys = ["square_avg"]
    if group["centered"]:
        keys.append("grad_avg")
    if group["momentum"]:
        keys.append("momentum_buffer")
    return keys
