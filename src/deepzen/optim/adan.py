"""Adan: adaptive Nesterov momentum through a moment of gradient differences."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from deepzen.optim import _checks as C
from deepzen.optim import _inplace as O
from deepzen.optim._base import Optimizer
from deepzen.optim._decay import decoupled_
from deepzen.optim._rule import Rule


def adan_kernel(p: Tensor, g: Tensor, m: Tensor, v: Tensor, n: Tensor, prev: Tensor, s: Any) -> None:
    """One Adan step of a flat slice in place (see :class:`Adan`); ``s``: :func:`adan_scalars`."""
    a1, a2, a3, b2, bc1, bc2, bc3, eps, lr, keep, shrink, first = s
    d = O.fresh(g, "diff").sub_(prev)                        # Δg = g_t − g_{t−1}
    if not O.is_zero(first):
        d.mul_(1 - first)                                    # ... 0 at the first step
    m.lerp_(g, a1)                                           # m ← β1 m + (1 − β1) g
    v.lerp_(d, a2)                                           # v ← β2 v + (1 − β2) Δg
    w = d.mul_(b2).add_(g)                                   # w = g + β2 Δg
    n.lerp_(w.square_(), a3)                                 # n ← β3 n + (1 − β3) w²
    u = O.axpy_(O.product(m, bc1, "diff"), bc2, v)           # m̂ + β2 v̂   (bias-corrected)
    decoupled_(p, keep)                                      # θ(1 − ηλ) without the proximal form
    O.addcdiv_(p, -lr, u, O.sqrt_denominator(n, bc3, eps))   # θ ← θ − η (m̂ + β2 v̂) / (√n̂ + ε)
    decoupled_(p, shrink)                                    # proximal decay: θ ← θ / (1 + ηλ)
    prev.copy_(g)

def adan_scalars(group: Mapping[str, Any], t: float) -> tuple[float, ...]:
    """(1 − β1, 1 − β2, 1 − β3, β2, 1/(1 − β1ᵗ), β2/(1 − β2ᵗ), 1/√(1 − β3ᵗ), ε, η, 1 − ηλ (without
    the proximal form), 1/(1 + ηλ) (with it), 1 at the first step else 0)."""
    lr, wd = group["lr"], group["weight_decay"]
    beta1, beta2, beta3 = group["betas"]
    prox = not group["no_prox"]
    return (1 - beta1, 1 - beta2, 1 - beta3, beta2, 1 / (1 - beta1**t), beta2 / (1 - beta2**t),
            (1 - beta3**t) ** -0.5, group["eps"], lr, 1.0 if prox else 1 - lr * wd,
            1 / (1 + lr * wd) if prox else 1.0, 1.0 if t == 1 else 0.0)

ADAN = Rule(("exp_avg", "exp_avg_diff", "exp_avg_sq", "prev_grad"), adan_kernel, adan_scalars)


class Adan(Optimizer):
    r"""Adan (Xie, Zhou, Li, Lin, Yan, "Adan: Adaptive Nesterov Momentum Algorithm for Faster Optimizing
    Deep Models", arXiv:2208.06677; IEEE TPAMI 2024).

    Algorithm (t counted per parameter; β here is the official code's, 1 − β of the paper's Alg. 1)::

        d = g − g_prev                         (0 at a parameter's first step)
        m ← β1·m + (1 − β1)·g                  (gradient moment)
        v ← β2·v + (1 − β2)·d                  (moment of the gradient difference)
        n ← β3·n + (1 − β3)·(g + β2·d)²        (second moment of the Nesterov gradient)
        u = (m/(1 − β1ᵗ) + β2·v/(1 − β2ᵗ)) / (√(n/(1 − β3ᵗ)) + ε)
        θ ← (θ − η·u) / (1 + ηλ)               (proximal decay; no_prox=True: θ ← θ(1 − ηλ) − η·u)

    Defaults: η = 1e-3, β = (0.98, 0.92, 0.99), ε = 1e-8, λ = 0 (the official code's; the paper's
    experiments use λ = 0.02). The paper's Algorithm 1 has no bias correction; the official code
    (sail-sg/Adan) divides each moment by its correction, and we follow the code. The official code's
    optional global gradient-norm clipping (``max_grad_norm``) is left to the user (e.g.
    ``torch.nn.utils.clip_grad_norm_`` before ``step``).

    Arguments:
        params: parameters or parameter groups.
        lr: learning rate η.
        betas: (β1, β2, β3).
        eps: ε added to the denominator.
        weight_decay: λ.
        no_prox: decay by θ(1 − ηλ) before the step instead of dividing by (1 + ηλ) after it.
        maximize: ascend instead of descend.
        fused: run each step as one kernel compiled by ``torch.compile`` (see ``deepzen.optim._flat_pack``).

    State: ``exp_avg`` (m), ``exp_avg_diff`` (v), ``exp_avg_sq`` (n), ``prev_grad``, ``step``.
    """

    rule = ADAN

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float, float] = (0.98, 0.92, 0.99),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        no_prox: bool = False,
        maximize: bool = False,
        fused: bool = False,
    ) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, no_prox=no_prox,
                                      maximize=maximize, fused=fused))

    def _check_group(self, group: dict[str, Any]) -> None:
        C.check_lr(group["lr"])
        C.check_betas(group["betas"], 3)
        C.check_eps(group["eps"])
        C.check_weight_decay(group["weight_decay"])
        C.check_flags(group, "no_prox", "maximize", "fused")

