"""QHAdam: quasi-hyperbolic Adam, averages of plain and momentum steps."""

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


def qhadam_math(p: Tensor, g: Tensor, m: Tensor, v: Tensor, s: Any) -> None:
    """One QHAdam step of a flat slice in place (see :class:`QHAdam`); ``s``: :func:`qhadam_scalars`."""
    lam, keep, a1, b2, a2, n1, c1, n2, c2, eps, lr = s
    g = coupled(g, p, lam)                                   # g + λθ (coupled L2)
    decoupled_(p, keep)                                      # θ ← θ(1 − ηλ)
    m.lerp_(g, a1)                                           # m ← β1 m + (1 − β1) g
    g2 = O.product(g, g, "g2")
    O.axpy_(v.mul_(b2), a2, g2)                              # v ← β2 v + (1 − β2) g²
    numer = O.axpy_(O.product(m, n1, "numer"), c1, g)        # (1 − ν1) g + ν1 m̂          (§4)
    denom = O.axpy_(O.product(v, n2), c2, g2).sqrt_().add_(eps)  # √((1 − ν2) g² + ν2 v̂) + ε  (§4)
    O.addcdiv_(p, -lr, numer, denom)                         # θ −= η numer / denom


def qhadam_scalars(group: Mapping[str, Any], t: float) -> tuple[float, ...]:
    """(λ coupled, 1 − ηλ, 1 − β1, β2, 1 − β2, ν1/(1 − β1ᵗ), 1 − ν1, ν2/(1 − β2ᵗ), 1 − ν2, ε, η)."""
    beta1, beta2 = group["betas"]
    nu1, nu2 = group["nus"]
    return (*decay_scalars(group), 1 - beta1, beta2, 1 - beta2, nu1 / (1 - beta1**t), 1 - nu1,
            nu2 / (1 - beta2**t), 1 - nu2, group["eps"], group["lr"])


QHADAM = Rule(("exp_avg", "exp_avg_sq"), qhadam_math, qhadam_scalars)


class QHAdam(Optimizer):
    r"""QHAdam (Ma & Yarats, "Quasi-hyperbolic momentum and Adam for deep learning", ICLR 2019,
    arXiv:1810.06801).

    Algorithm (§4, t counted per parameter)::

        g  = ∇f(θ) + λθ                      (coupled L2; with decoupled=True: θ ← θ(1 − ηλ) instead)
        m  ← β1·m + (1 − β1)·g,   m̂ = m / (1 − β1ᵗ)
        v  ← β2·v + (1 − β2)·g²,  v̂ = v / (1 − β2ᵗ)
        θ  ← θ − η·[(1 − ν1)·g + ν1·m̂] / (√((1 − ν2)·g² + ν2·v̂) + ε)

    Defaults: η = 1e-3, (β1, β2) = (0.995, 0.999), (ν1, ν2) = (0.7, 1.0) (the paper's recommendation),
    ε = 1e-8, λ = 0. ν = (1, 1) is Adam; ν1 = 0 drops momentum from the numerator.

    Weight decay: the authors' implementation (qhoptim) offers both forms, as here: L2 added to the
    gradient (so also to g² and the moments), or decoupled (``decoupled=True``, θ ← θ(1 − ηλ)).

    Arguments:
        params: parameters or parameter groups.
        lr: learning rate η.
        betas: (β1, β2) decay rates of the moment estimates.
        nus: (ν1, ν2) immediate-discount factors, each in [0, 1].
        eps: ε added to the denominator.
        weight_decay: λ; coupled L2 (added to the gradient) unless ``decoupled``.
        decoupled: decay the weights directly by ηλ.
        maximize: ascend instead of descend.
        fused: run each step as one kernel compiled by ``torch.compile`` (the first step compiles; small
            parameters move into one flat buffer, each a view of it; see ``deepzen.optim._flat_pack``).

    State: ``exp_avg`` (m), ``exp_avg_sq`` (v), ``step``.
    """

    rule = QHADAM

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.995, 0.999),
        nus: tuple[float, float] = (0.7, 1.0),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        decoupled: bool = False,
        maximize: bool = False,
        fused: bool = False,
    ) -> None:
        defaults = dict(lr=lr, betas=betas, nus=nus, eps=eps, weight_decay=weight_decay, decoupled=decoupled,
                        maximize=maximize, fused=fused)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        C.check_lr(group["lr"])
        C.check_betas(group["betas"])
        nus = group["nus"]
        if not isinstance(nus, (tuple, list)) or len(nus) != 2:
            raise ValueError(f"invalid nus: {nus!r}; expected a tuple of 2 numbers in [0, 1]")
        for i, nu in enumerate(nus):
            C.check_range(f"nus[{i}]", nu, 0.0, 1.0)
        C.check_eps(group["eps"])
        C.check_weight_decay(group["weight_decay"])
        C.check_flags(group, "decoupled", "maximize", "fused")
