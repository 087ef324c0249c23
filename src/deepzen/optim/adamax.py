"""AdaMax: Adam with an infinity-norm second moment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from deepzen.optim import _checks as C
from deepzen.optim import _inplace as O
from deepzen.optim._base import Optimizer
from deepzen.optim._decay import coupled, decay_scalars, decoupled_
from deepzen.optim._rule import Rule

#: Where ε goes: "max" = inside the running maximum (torch), "denominator" = added to u (Keras).
EPS_PLACEMENTS = ("max", "denominator")


def adamax_math(p: Tensor, g: Tensor, m: Tensor, u: Tensor, s: Any) -> None:
    """One AdaMax step of a flat slice in place (see :class:`AdaMax`); ``s``: :func:`adamax_scalars`."""
    lam, keep, a1, b2, eps_max, eps_denom, step = s
    g = coupled(g, p, lam)                                   # g + λθ (coupled L2)
    decoupled_(p, keep)                                      # θ ← θ(1 − ηλ)
    m.lerp_(g, a1)                                           # m ← β1 m + (1 − β1) g       (Alg. 2)
    O.maximum_(u.mul_(b2), O.fresh(g).abs_().add_(eps_max))  # u ← max(β2 u, |g| (+ ε))    (Alg. 2)
    O.addcdiv_(p, -step, m, O.fresh(u).add_(eps_denom) if not O.is_zero(eps_denom) else u)  # θ −= η/(1 − β1ᵗ) · m / u


def adamax_scalars(group: Mapping[str, Any], t: float) -> tuple[float, ...]:
    """(λ coupled, 1 − ηλ, 1 − β1, β2, ε inside the max, ε added to u, η/(1 − β1ᵗ))."""
    beta1, beta2 = group["betas"]
    eps, in_max = group["eps"], group["eps_placement"] == "max"
    return (*decay_scalars(group), 1 - beta1, beta2, eps if in_max else 0.0, 0.0 if in_max else eps,
            group["lr"] / (1 - beta1**t))


ADAMAX = Rule(("exp_avg", "exp_inf"), adamax_math, adamax_scalars)


class AdaMax(Optimizer):
    r"""AdaMax (Kingma & Ba, ICLR 2015, arXiv:1412.6980, §7.1, Algorithm 2).

    Algorithm (t counted per parameter)::

        g  = ∇f(θ) + λθ                      (coupled L2; with decoupled=True: θ ← θ(1 − ηλ) instead)
        m  ← β1·m + (1 − β1)·g
        u  ← max(β2·u, |g| + ε)              (eps_placement="max", the default; torch's form)
        u  ← max(β2·u, |g|)                  (eps_placement="denominator"; Keras's form ...)
        θ  ← θ − (η / (1 − β1ᵗ))·m / u       (... which divides by u + ε here)

    Defaults: η = 2e-3, (β1, β2) = (0.9, 0.999) (the paper's), ε = 1e-8, λ = 0.

    Where libraries differ: the paper has no ε; where a coordinate has seen only zero gradients,
    u = 0 and its step is 0/0. The default puts ε inside the maximum as torch does, so u >= ε always
    and this matches ``torch.optim.Adamax``; ``eps_placement="denominator"`` divides by u + ε instead
    (Keras). ``eps=0`` with either placement is the paper's exact update.

    Arguments:
        params: parameters or parameter groups.
        lr: learning rate η.
        betas: (β1, β2) decay rates of m and of the infinity norm u.
        eps: ε (see above).
        weight_decay: λ; coupled L2 (added to the gradient) unless ``decoupled``.
        eps_placement: "max" or "denominator" (see above).
        decoupled: decay the weights directly by ηλ.
        maximize: ascend instead of descend.
        fused: run each step as one kernel compiled by ``torch.compile`` (see ``deepzen.optim._rule``).

    State: ``exp_avg`` (m), ``exp_inf`` (u), ``step``.
    """

    rule = ADAMAX

    def __init__(
        self,
        params: Any,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        eps_placement: str = "max",
        decoupled: bool = False,
        maximize: bool = False,
        fused: bool = False,
    ) -> None:
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, eps_placement=eps_placement,
                        decoupled=decoupled, maximize=maximize, fused=fused)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        C.check_moment_group(group)
        C.check_choice("eps_placement", group["eps_placement"], EPS_PLACEMENTS)
        C.check_flags(group, "decoupled", "maximize", "fused")
