"""Adadelta: running averages of squared gradients and squared updates, no global learning rate."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from deepzen import _tensors as T
from deepzen.optim import _checks as C
from deepzen.optim._base import Batch, Optimizer, zeros_like


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler 2012, arXiv:1212.5701), Algorithm 1.

    Algorithm::

        g     = ∇f(θ) + λθ                                  (coupled L2 weight decay)
        E[g²] ← ρ·E[g²] + (1 − ρ)·g²                        (eq. 8's running average)
        Δ     = −(√(E[Δ²] + ε) / √(E[g²] + ε)) · g          (eq. 14: RMS[Δ]_{t−1} / RMS[g]_t)
        E[Δ²] ← ρ·E[Δ²] + (1 − ρ)·Δ²
        θ     ← θ + η·Δ

    The paper has no learning rate (η = 1). Like torch, η only scales the applied update; E[Δ²]
    accumulates the unscaled Δ, so η = 1 is exactly the paper.

    Defaults: the paper's ρ = 0.95, ε = 1e-6, η = 1.0, λ = 0. torch uses ρ = 0.9; Keras uses ρ = 0.95,
    ε = 1e-7 and η = 1e-3.

    Arguments:
        params: parameters or parameter groups.
        lr: η, a multiplier of the update.
        rho: ρ in [0, 1), decay of both running averages.
        eps: ε inside both square roots.
        weight_decay: λ, coupled L2 (added to the gradient).
        maximize: ascend instead of descend.

    State: ``square_avg`` (E[g²]), ``acc_delta`` (E[Δ²]).
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1.0,
        rho: float = 0.95,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        C.check_lr(group["lr"])
        C.check_beta(group["rho"], "rho")
        C.check_eps(group["eps"])
        C.check_weight_decay(group["weight_decay"])
        C.check_flag("maximize", group["maximize"])

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {"square_avg": zeros_like(p), "acc_delta": zeros_like(p)}

    def _update(self, group: dict[str, Any], batch: Batch, loss: float | None) -> None:
        lr, rho, eps, wd = group["lr"], group["rho"], group["eps"], group["weight_decay"]
        params, grads = batch.params, batch.grads
        square_avg, acc_delta = batch["square_avg"], batch["acc_delta"]
        if wd:
            grads = T.add(grads, params, alpha=wd)                       # g + λθ
        T.mul_(square_avg, rho)                                          # E[g²] ← ρE[g²] + (1 − ρ)g²
        T.addcmul_(square_avg, grads, grads, 1 - rho)
        rms_grad = T.add(square_avg, eps)                                # RMS[g]_t = √(E[g²] + ε)
        T.sqrt_(rms_grad)
        delta = T.add(acc_delta, eps)                                    # RMS[Δ]_{t−1} = √(E[Δ²] + ε)
        T.sqrt_(delta)
        T.div_(delta, rms_grad)                                          # −Δ = RMS[Δ]/RMS[g] · g
        T.mul_(delta, grads)
        T.mul_(acc_delta, rho)                                           # E[Δ²] ← ρE[Δ²] + (1 − ρ)Δ²
        T.addcmul_(acc_delta, delta, delta, 1 - rho)
        T.add_(params, delta, alpha=-lr)                                 # θ ← θ + ηΔ
