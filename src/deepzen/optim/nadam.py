"""NAdam: Adam with Nesterov momentum and a momentum schedule."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor

from deepzen.optim import _checks as C
from deepzen.optim import _inplace as O
from deepzen.optim._base import Optimizer
from deepzen.optim._decay import coupled, decay_scalars, decoupled_
from deepzen.optim._rule import Rule


def momentum_at(step: float, beta1: float, momentum_decay: float) -> float:
    """The scheduled momentum μ_t = β1·(1 − ½·0.96^(t·ψ)) (Dozat 2016)."""
    return beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))


def nadam_math(p: Tensor, g: Tensor, m: Tensor, v: Tensor, s: Any) -> None:
    """One NAdam step of a flat slice in place (see :class:`NAdam`); ``s``: :func:`nadam_scalars`."""
    lam, keep, a1, b2, a2, cg, cm, bc2, eps = s
    g = coupled(g, p, lam)                                   # g + λθ (coupled L2)
    decoupled_(p, keep)                                      # θ ← θ(1 − ηλ)
    m.lerp_(g, a1)                                           # m ← β1 m + (1 − β1) g
    O.addcmul_(v.mul_(b2), a2, g, g)                         # v ← β2 v + (1 − β2) g²
    d = O.sqrt_denominator(v, bc2, eps)                      # √v̂ + ε
    O.addcdiv_(p, -cg, g, d)                                 # θ −= η m̄ / (√v̂ + ε), m̄ = (1 − μ_t) ĝ ...
    O.addcdiv_(p, -cm, m, d)                                 # ... + μ_{t+1} m̂


def nadam_scalars(group: Mapping[str, Any], t: float) -> tuple[float, ...]:
    """(λ coupled, 1 − ηλ, 1 − β1, β2, 1 − β2, η(1 − μ_t)/(1 − Π_t), η μ_{t+1}/(1 − Π_t μ_{t+1}),
    1/√(1 − β2ᵗ), ε), with Π_t = μ_1 ⋯ μ_t."""
    lr, (beta1, beta2), psi = group["lr"], group["betas"], group["momentum_decay"]
    mu, mu_next, product = momentum_at(t, beta1, psi), momentum_at(t + 1, beta1, psi), mu_product(t, beta1, psi)
    return (*decay_scalars(group), 1 - beta1, beta2, 1 - beta2, lr * (1 - mu) / (1 - product),
            lr * mu_next / (1 - product * mu_next), (1 - beta2**t) ** -0.5, group["eps"])


_PRODUCTS: dict[tuple[float, float], list[float]] = {}


def mu_product(step: float, beta1: float, momentum_decay: float) -> float:
    """Π_t = μ_1·μ_2⋯μ_t, multiplied in order (as a running product would be), remembered per (β1, ψ)."""
    products = _PRODUCTS.setdefault((beta1, momentum_decay), [1.0])     # products[t] = Π_t
    while len(products) <= step:
        products.append(products[-1] * momentum_at(len(products), beta1, momentum_decay))
    return products[int(step)]


NADAM = Rule(("exp_avg", "exp_avg_sq"), nadam_math, nadam_scalars)


class NAdam(Optimizer):
    r"""NAdam (Dozat, "Incorporating Nesterov Momentum into Adam", ICLR 2016 workshop).

    Algorithm (Dozat's Alg. 2 with the momentum schedule; t counted per parameter)::

        g   = ∇f(θ) + λθ                     (coupled L2; with decoupled=True: θ ← θ(1 − ηλ) instead)
        μ_t = β1·(1 − ½·0.96^(tψ))           (momentum schedule; ψ = momentum_decay)
        Π_t = μ_1·μ_2···μ_t                   (from t: mu_product)
        m   ← β1·m + (1 − β1)·g
        v   ← β2·v + (1 − β2)·g²
        ĝ   = g / (1 − Π_t)
        m̂   = m / (1 − Π_t·μ_{t+1})
        m̄   = (1 − μ_t)·ĝ + μ_{t+1}·m̂          (Nesterov: the next step's momentum applied now)
        θ   ← θ − η·m̄ / (√(v / (1 − β2ᵗ)) + ε)

    Defaults: η = 2e-3, (β1, β2) = (0.9, 0.999), ε = 1e-8, ψ = 4e-3, λ = 0.

    Where libraries differ: torch and Dozat's Keras implementation (followed here, so this matches
    ``torch.optim.NAdam``) decay m with the constant β1 and use the schedule only in the Nesterov
    combination; Keras 3 uses 0.96ᵗ (no ψ); optax has no schedule (μ_t = β1). The decoupled form
    (torch's ``decoupled_weight_decay``, "NAdamW") multiplies the decay by η.

    Arguments:
        params: parameters or parameter groups.
        lr: learning rate η.
        betas: (β1, β2) decay rates of the moment estimates.
        eps: ε added to the denominator.
        weight_decay: λ; coupled L2 (added to the gradient) unless ``decoupled``.
        momentum_decay: ψ of the momentum schedule (>= 0; 0 gives the constant μ_t = β1/2).
        decoupled: decay the weights directly by ηλ.
        maximize: ascend instead of descend.
        fused: run each step as one kernel compiled by ``torch.compile`` (see ``deepzen.optim._rule``).

    State: ``exp_avg`` (m), ``exp_avg_sq`` (v), ``step`` (Π_t is a function of t; a ``mu_product`` saved by an older version or by torch is ignored).
    """

    rule = NADAM

    def __init__(
        self,
        params: Any,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum_decay: float = 4e-3,
        *,
        decoupled: bool = False,
        maximize: bool = False,
        fused: bool = False,
    ) -> None:
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay, decoupled=decoupled, maximize=maximize, fused=fused)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        C.check_moment_group(group)
        C.check_range("momentum_decay", group["momentum_decay"], 0.0)
        C.check_flags(group, "decoupled", "maximize", "fused")
