"""AdEMAMix: Adam with a second, slow momentum mixed into the numerator."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from deepzen.optim import _checks as C
from deepzen.optim import _inplace as O
from deepzen.optim._base import Optimizer
from deepzen.optim._decay import decoupled_
from deepzen.optim._rule import Rule


def ademamix_kernel(p: Tensor, g: Tensor, m1: Tensor, m2: Tensor, nu: Tensor, s: Any) -> None:
    """One AdEMAMix step of a flat slice in place (see :class:`AdEMAMix`); ``s``: :func:`ademamix_scalars`."""
    a1, a3, b2, a2, bc1, alpha, bc2, eps, lr, keep = s
    m1.lerp_(g, a1)                                          # m1 ← β1 m1 + (1 − β1) g   (fast EMA)
    m2.lerp_(g, a3)                                          # m2 ← β3_t m2 + (1 − β3_t) g   (slow EMA)
    O.addcmul_(nu.mul_(b2), a2, g, g)                        # ν ← β2 ν + (1 − β2) g²
    u = O.axpy_(O.product(m1, bc1, "numer"), alpha, m2)      # m̂1 + α_t m2
    decoupled_(p, keep)                                      # θ ← θ(1 − ηλ)
    O.addcdiv_(p, -lr, u, O.sqrt_denominator(nu, bc2, eps))  # θ ← θ − η (m̂1 + α_t m2) / (√ν̂ + ε)


def alpha_at(t: float, alpha: float, warmup: int | None) -> float:
    """α_t: linear from 0 to α over ``warmup`` steps (the paper's α scheduler)."""
    return alpha if warmup is None or t >= warmup else alpha * t / warmup


def beta3_at(t: float, beta1: float, beta3: float, warmup: int | None) -> float:
    """β3_t: the half-life 1/(1 − β) grows linearly from β1's to β3's over ``warmup`` steps."""
    if warmup is None or t >= warmup:
        return beta3

    def half_life(b: float) -> float:
        return math.log(0.5) / math.log(b + 1e-8) - 1

    a = t / warmup
    return 0.5 ** (1 / ((1 - a) * half_life(beta1) + a * half_life(beta3) + 1))

def ademamix_scalars(group: Mapping[str, Any], t: float) -> tuple[float, ...]:
    """(1 − β1, 1 − β3_t, β2, 1 − β2, 1/(1 − β1ᵗ), α_t, 1/√(1 − β2ᵗ), ε, η, 1 − ηλ); α_t and β3_t from
    the warm-up schedules."""
    lr = group["lr"]
    beta1, beta2, beta3 = group["betas"]
    alpha = alpha_at(t, group["alpha"], group["alpha_warmup"])
    beta3_t = beta3_at(t, beta1, beta3, group["beta3_warmup"])
    return (1 - beta1, 1 - beta3_t, beta2, 1 - beta2, 1 / (1 - beta1**t), alpha, (1 - beta2**t) ** -0.5,
            group["eps"], lr, 1 - lr * group["weight_decay"])

ADEMAMIX = Rule(("exp_avg_fast", "exp_avg_slow", "exp_avg_sq"), ademamix_kernel, ademamix_scalars)


class AdEMAMix(Optimizer):
    r"""AdEMAMix (Pagliardini, Ablin, Grangier, "The AdEMAMix Optimizer: Better, Faster, Older",
    arXiv:2409.03137, 2024).

    Algorithm (Alg. 1; t counted per parameter)::

        α_t  = α·t/T_α for t < T_α, else α                         (alpha_warmup = T_α; None: α)
        β3_t = f⁻¹((1 − t/T_β3)·f(β1) + (t/T_β3)·f(β3)) for t < T_β3, else β3
               f(β) = ln ½ / ln(β + 1e-8) − 1 (the half-life), f⁻¹(h) = ½^{1/(h+1)}
        m1 ← β1·m1 + (1 − β1)·g                                   (fast EMA)
        m2 ← β3_t·m2 + (1 − β3_t)·g                               (slow EMA, no bias correction)
        ν  ← β2·ν + (1 − β2)·g²
        θ  ← θ − η·[(m1/(1 − β1ᵗ) + α_t·m2) / (√(ν/(1 − β2ᵗ)) + ε) + λθ]

    Defaults: η = 1e-3, β = (0.9, 0.999, 0.9999), α = 2, no warm-ups, ε = 1e-8, λ = 0 (the official code's,
    apple/ml-ademamix). The paper writes the β3 schedule as exp(ln β1·ln β3 / ((1 − a) ln β3 + a ln β1)),
    which is the same half-life interpolation without the official code's 1e-8 inside the logarithm
    (a difference of about 1e-8 in β3_t); we follow the code. The paper recommends warm-ups as long as
    the run (T_α = T_β3 = total steps) for large β3.

    Arguments:
        params: parameters or parameter groups.
        lr: learning rate η.
        betas: (β1, β2, β3).
        alpha: α, the weight of the slow EMA.
        beta3_warmup: T_β3 in steps, or None.
        alpha_warmup: T_α in steps, or None.
        eps: ε added to the denominator.
        weight_decay: λ, decoupled (θ ← θ − ηλθ).
        maximize: ascend instead of descend.
        fused: run each step as one kernel compiled by ``torch.compile`` (see ``deepzen.optim._flat_pack``).

    State: ``exp_avg_fast`` (m1), ``exp_avg_slow`` (m2), ``exp_avg_sq`` (ν), ``step``.
    """

    rule = ADEMAMIX

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float, float] = (0.9, 0.999, 0.9999),
        alpha: float = 2.0,
        beta3_warmup: int | None = None,
        alpha_warmup: int | None = None,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
        fused: bool = False,
    ) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, alpha=alpha, beta3_warmup=beta3_warmup,
                                      alpha_warmup=alpha_warmup, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, fused=fused))

    def _check_group(self, group: dict[str, Any]) -> None:
        C.check_lr(group["lr"])
        C.check_betas(group["betas"], 3)
        C.check_range("alpha", group["alpha"], 0.0)
        for name in ("beta3_warmup", "alpha_warmup"):
            if group[name] is not None:
                C.check_range(name, group[name], 1.0)
        C.check_eps(group["eps"])
        C.check_weight_decay(group["weight_decay"])
        C.check_flags(group, "maximize", "fused")
