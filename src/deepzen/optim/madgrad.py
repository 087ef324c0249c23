"""MADGRAD: momentumized, adaptive dual averaging with a cube-root denominator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from deepzen.optim import _checks as C
from deepzen.optim import _inplace as O
from deepzen.optim._base import Optimizer
from deepzen.optim._decay import coupled
from deepzen.optim._rule import COPY_OF_PARAM, Rule


def madgrad_kernel(p: Tensor, g: Tensor, s_sum: Tensor, nu: Tensor, x0: Tensor, s: Any) -> None:
    """One MADGRAD step of a flat slice in place (see :class:`MADGRAD`); ``s``: :func:`madgrad_rule_scalars`."""
    lam, lam_t, eps, c, decay = s
    g = coupled(g, p, lam)                                   # g + λθ (coupled L2)
    O.axpy_(s_sum, lam_t, g)                                 # s ← s + λ_t g
    O.addcmul_(nu, lam_t, g, g)                              # ν ← ν + λ_t g²
    z = O.over_(s_sum, O.fresh(nu).pow_(1 / 3).add_(eps))    # s / (∛ν + ε)
    z.neg_().add_(x0)                                        # z = x₀ − s / (∛ν + ε)
    if not O.is_zero(decay):
        O.axpy_(z, -decay / c, p)                            # decoupled decay −ηλθ, folded into z
    p.lerp_(z, c)                                            # θ ← (1 − c) θ + c z   (c = 1 − momentum)

def madgrad_rule_scalars(group: Mapping[str, Any], t: float) -> tuple[float, ...]:
    """(λ coupled, λ_t = η√t, ε, c = 1 − momentum, ηλ decoupled)."""
    lr, wd = group["lr"], group["weight_decay"]
    decoupled = group["decoupled"]
    return (0.0 if decoupled else wd, lr * t**0.5, group["eps"], 1 - group["momentum"], lr * wd if decoupled else 0.0)

MADGRAD_RULE = Rule(("grad_sum", "grad_sum_sq", "initial"), madgrad_kernel, madgrad_rule_scalars,
                    initial=lambda group: {"grad_sum": 0.0, "grad_sum_sq": 0.0, "initial": COPY_OF_PARAM})


class MADGRAD(Optimizer):
    r"""MADGRAD (Defazio & Jelassi, "Adaptivity without Compromise: A Momentumized, Adaptive, Dual
    Averaged Gradient Method for Stochastic Optimization", arXiv:2101.11075, JMLR 2022).

    Algorithm (Alg. 1; t counted per parameter, the paper's k = t − 1)::

        g  = ∇f(θ) + λθ                        (coupled L2; decoupled=True: see below)
        λ_t = η·√t                             (the dual-averaging weight)
        s  ← s + λ_t·g;   ν ← ν + λ_t·g²
        z  = x₀ − s / (∛ν + ε)                 (x₀ = the parameter at its first step)
        θ  ← (1 − c)·θ + c·z,   c = 1 − momentum
        decoupled: θ ← θ − ηλ·θ_old after the step (θ_old: before it)

    Defaults: η = 1e-2, momentum = 0.9, λ = 0, ε = 1e-6 (the official code's, facebookresearch/madgrad).

    Where the code and the paper differ: the official code adds ε to the learning rate
    (λ_t = (η + ε)√t, "for stability"); we follow the paper (``MADGRAD(lr=η + ε)`` reproduces the code,
    as the tests check). With momentum = 0 the code recovers x₀ from θ each step rather than storing it;
    the same values, except that its decoupled decay then also shrinks x₀ — we keep x₀ fixed. The code
    counts k per optimizer; we count t per parameter (same when every parameter steps from the start).

    Arguments:
        params: parameters or parameter groups.
        lr: learning rate η.
        momentum: momentum in [0, 1) (c = 1 − momentum).
        weight_decay: λ.
        eps: ε added to the cube root.
        decoupled: decay the weights directly (θ ← θ − ηλθ) instead of adding λθ to the gradient.
        maximize: ascend instead of descend.
        fused: run each step as one kernel compiled by ``torch.compile`` (see ``deepzen.optim._flat_pack``).

    State: ``grad_sum`` (s), ``grad_sum_sq`` (ν), ``initial`` (x₀), ``step``.
    """

    rule = MADGRAD_RULE

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        eps: float = 1e-6,
        *,
        decoupled: bool = False,
        maximize: bool = False,
        fused: bool = False,
    ) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, eps=eps,
                                      decoupled=decoupled, maximize=maximize, fused=fused))

    def _check_group(self, group: dict[str, Any]) -> None:
        C.check_lr(group["lr"])
        C.check_beta(group["momentum"], "momentum")
        C.check_weight_decay(group["weight_decay"])
        C.check_eps(group["eps"])
        C.check_flags(group, "decoupled", "maximize", "fused")

