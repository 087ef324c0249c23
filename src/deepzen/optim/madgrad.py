"""MADGRAD: momentumized, adaptive dual averaging with a cube-root denominator."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from deepzen import _tensors as T
from deepzen.optim import _checks as C
from deepzen.optim._base import Batch, Optimizer
from deepzen.optim._compiled import FlatPack, run_kernel, scalars


def madgrad_kernel(p: Tensor, g: Tensor, s_sum: Tensor, nu: Tensor, x0: Tensor, s: Tensor) -> None:
    """One MADGRAD step over flat tensors, in place (``fused=True``).

    s = (λ coupled, λ_t = η√t, ε, c = 1 − momentum, ηλ decoupled).
    """
    g = g + s[0] * p
    s_new = s_sum + s[1] * g
    nu_new = nu + s[1] * g * g
    z = x0 - s_new / (torch.pow(nu_new, 1 / 3) + s[2])
    p.copy_(p + s[3] * (z - p) - s[4] * p)
    s_sum.copy_(s_new)
    nu.copy_(nu_new)


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
        fused: run each step as one kernel compiled by ``torch.compile`` (see ``deepzen.optim._compiled``).

    State: ``grad_sum`` (s), ``grad_sum_sq`` (ν), ``initial`` (x₀), ``step``.
    """

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

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {"grad_sum": torch.zeros_like(p, memory_format=torch.contiguous_format),
                "grad_sum_sq": torch.zeros_like(p, memory_format=torch.contiguous_format),
                "initial": p.detach().clone(memory_format=torch.contiguous_format)}

    def _update(self, group: dict[str, Any], batch: Batch, loss: float | None) -> None:
        lr, wd, eps = group["lr"], group["weight_decay"], group["eps"]
        c = 1 - group["momentum"]
        params, grads = batch.params, batch.grads
        decoupled = group["decoupled"] and wd
        if wd and not group["decoupled"]:
            grads = T.add(grads, params, alpha=wd)                       # g + λθ
        weights = [lr * t**0.5 for t in batch.steps]                     # λ_t = η√t
        T.add_(batch["grad_sum"], T.mul(grads, weights))                 # s ← s + λ_t g
        T.addcmul_(batch["grad_sum_sq"], grads, T.mul(grads, weights))   # ν ← ν + λ_t g²
        denom = [x.pow(1 / 3) for x in batch["grad_sum_sq"]]
        T.add_(denom, eps)                                               # ∛ν + ε
        z = T.clone(batch["initial"])
        T.addcdiv_(z, batch["grad_sum"], denom, -1)                      # z = x₀ − s/(∛ν + ε)
        old = T.clone(params) if decoupled else params
        T.lerp_(params, z, c)                                            # θ ← (1 − c)θ + c z
        if decoupled:
            T.add_(params, old, alpha=-lr * wd)                          # θ − ηλ θ_old

    def _fused_step(self, group: dict[str, Any], pack: FlatPack, grad: Tensor, t: float) -> None:
        lr, wd = group["lr"], group["weight_decay"]
        decoupled = group["decoupled"]
        s = [0.0 if decoupled else wd, lr * t**0.5, group["eps"], 1 - group["momentum"],
             lr * wd if decoupled else 0.0]
        run_kernel(madgrad_kernel, pack.p, grad, pack.state["grad_sum"], pack.state["grad_sum_sq"],
                   pack.state["initial"], scalars(s, pack.p))
