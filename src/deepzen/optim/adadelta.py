"""Adadelta: running averages of squared gradients and squared updates, no global learning rate."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor

from deepzen.optim import _checks as C
from deepzen.optim import _inplace as O
from deepzen.optim._base import Optimizer
from deepzen.optim._decay import coupled
from deepzen.optim._rule import Rule


def adadelta_math(p: Tensor, g: Tensor, sq: Tensor, acc: Tensor, s: Any) -> None:
    """One Adadelta step of a flat slice in place (see :class:`Adadelta`); ``s``: :func:`adadelta_scalars`."""
    lam, rho, a, eps, lr = s
    g = coupled(g, p, lam)                                   # g + λθ (coupled L2)
    O.addcmul_(sq.mul_(rho), a, g, g)                        # E[g²] ← ρE[g²] + (1 − ρ)g²        (Alg. 1)
    rms_g = O.fresh(sq, "rms").add_(eps).sqrt_()             # RMS[g]_t
    delta = O.fresh(acc).add_(eps).sqrt_().div_(rms_g).mul_(g)  # −Δ = RMS[Δ]_{t−1} / RMS[g]_t · g  (Alg. 1)
    O.addcmul_(acc.mul_(rho), a, delta, delta)               # E[Δ²] ← ρE[Δ²] + (1 − ρ)Δ²        (Alg. 1)
    O.axpy_(p, -lr, delta)                                   # θ ← θ + ηΔ


def adadelta_scalars(group: Mapping[str, Any], t: float) -> tuple[float, ...]:
    """(λ, ρ, 1 − ρ, ε, η)."""
    return (group["weight_decay"], group["rho"], 1 - group["rho"], group["eps"], group["lr"])


ADADELTA = Rule(("square_avg", "acc_delta"), adadelta_math, adadelta_scalars)


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
        fused: run each step as one kernel compiled by ``torch.compile`` (see ``deepzen.optim._rule``).

    State: ``square_avg`` (E[g²]), ``acc_delta`` (E[Δ²]).
    """

    rule = ADADELTA

    def __init__(
        self,
        params: Any,
        lr: float = 1.0,
        rho: float = 0.95,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
        fused: bool = False,
    ) -> None:
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize, fused=fused)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        C.check_lr(group["lr"])
        C.check_beta(group["rho"], "rho")
        C.check_eps(group["eps"])
        C.check_weight_decay(group["weight_decay"])
        C.check_flags(group, "maximize", "fused")
