"""AdEMAMix: Adam with a second, slow momentum mixed into the numerator."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from deepzen import _tensors as T
from deepzen.optim import _checks as C
from deepzen.optim._base import Batch, Optimizer
from deepzen.optim._compiled import FlatPack, run_kernel, scalars


def ademamix_kernel(p: Tensor, g: Tensor, m1: Tensor, m2: Tensor, nu: Tensor, s: Tensor) -> None:
    """One AdEMAMix step over flat tensors, in place (``fused=True``).

    s = (1 − β1, 1 − β3_t, 1 − β2, 1/(1 − β1ᵗ), α_t, 1/√(1 − β2ᵗ), ε, η, 1 − ηλ).
    """
    m1_new = m1 + s[0] * (g - m1)
    m2_new = m2 + s[1] * (g - m2)
    nu_new = nu + s[2] * (g * g - nu)
    u = (m1_new * s[3] + s[4] * m2_new) / (torch.sqrt(nu_new) * s[5] + s[6])
    p.copy_(p * s[8] - s[7] * u)
    m1.copy_(m1_new)
    m2.copy_(m2_new)
    nu.copy_(nu_new)


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
        fused: run each step as one kernel compiled by ``torch.compile`` (see ``deepzen.optim._compiled``).

    State: ``exp_avg_fast`` (m1), ``exp_avg_slow`` (m2), ``exp_avg_sq`` (ν), ``step``.
    """

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

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {name: torch.zeros_like(p, memory_format=torch.contiguous_format)
                for name in ("exp_avg_fast", "exp_avg_slow", "exp_avg_sq")}

    def _schedules(self, group: dict[str, Any], t: float) -> tuple[float, float]:
        beta1, _, beta3 = group["betas"]
        return (alpha_at(t, group["alpha"], group["alpha_warmup"]),
                beta3_at(t, beta1, beta3, group["beta3_warmup"]))

    def _update(self, group: dict[str, Any], batch: Batch, loss: float | None) -> None:
        for t in sorted(set(batch.steps)):          # the schedules are per step count: one pass per t
            same = [i for i, s in enumerate(batch.steps) if s == t]
            self._update_at(group, batch if len(same) == len(batch) else batch.select(same), t)

    def _update_at(self, group: dict[str, Any], batch: Batch, t: float) -> None:
        lr, wd = group["lr"], group["weight_decay"]
        beta1, beta2, _ = group["betas"]
        alpha, beta3 = self._schedules(group, t)
        params, grads = batch.params, batch.grads
        fast, slow, sq = batch["exp_avg_fast"], batch["exp_avg_slow"], batch["exp_avg_sq"]
        T.lerp_(fast, grads, 1 - beta1)                                  # m1 ← β1 m1 + (1 − β1) g
        T.lerp_(slow, grads, 1 - beta3)                                  # m2 ← β3_t m2 + (1 − β3_t) g
        T.mul_(sq, beta2)
        T.addcmul_(sq, grads, grads, 1 - beta2)                          # ν ← β2 ν + (1 − β2) g²
        denom = T.sqrt(sq)
        T.div_(denom, math.sqrt(1 - beta2**t))
        T.add_(denom, group["eps"])                                      # √ν̂ + ε
        numer = T.mul(fast, 1 / (1 - beta1**t))
        T.add_(numer, slow, alpha=alpha)                                 # m̂1 + α_t m2
        if wd:
            T.mul_(params, 1 - lr * wd)                                  # θ ← θ − ηλθ
        T.addcdiv_(params, numer, denom, -lr)

    def _fused_step(self, group: dict[str, Any], pack: FlatPack, grad: Tensor, t: float) -> None:
        lr = group["lr"]
        beta1, beta2, _ = group["betas"]
        alpha, beta3 = self._schedules(group, t)
        s = [1 - beta1, 1 - beta3, 1 - beta2, 1 / (1 - beta1**t), alpha, (1 - beta2**t) ** -0.5, group["eps"],
             lr, 1 - lr * group["weight_decay"]]
        run_kernel(ademamix_kernel, pack.p, grad, pack.state["exp_avg_fast"], pack.state["exp_avg_slow"],
                   pack.state["exp_avg_sq"], scalars(s, pack.p))
