"""AdaBound and AMSBound: Adam / AMSGrad whose per-coordinate step sizes are clipped to bounds that
close in on a final SGD learning rate."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from deepzen.optim import _checks as C
from deepzen.optim import _inplace as O
from deepzen.optim._base import Optimizer
from deepzen.optim._decay import coupled
from deepzen.optim._rule import Rule


def adabound_math(p: Tensor, g: Tensor, m: Tensor, v: Tensor, vmax: Tensor | None, s: Any) -> None:
    """One AdaBound step of a flat slice in place (see :class:`AdaBound`); ``vmax`` for AMSBound;
    ``s``: :func:`adabound_scalars`."""
    lam, a1, b2, a2, step, eps, low, high = s
    g = coupled(g, p, lam)                                   # g + λθ (coupled L2)
    m.lerp_(g, a1)                                           # m ← β1 m + (1 − β1) g
    O.addcmul_(v.mul_(b2), a2, g, g)                         # v ← β2 v + (1 − β2) g²
    if vmax is not None:
        O.maximum_(vmax, v)                                  # v̂max ← max(v̂max, v)      (AMSBound, Alg. 3)
        v = vmax
    size = O.sqrt_denominator(v, 1.0, eps).reciprocal_().mul_(step)  # η√(1−β2ᵗ)/((1−β1ᵗ)(√v+ε))
    p.sub_(size.clamp_(low, high).mul_(m))                   # θ ← θ − clip(size, η_l, η_u) · m   (Alg. 2)


def adabound_scalars(group: Mapping[str, Any], t: float) -> tuple[float, ...]:
    """(λ, 1 − β1, β2, 1 − β2, η√(1 − β2ᵗ)/(1 − β1ᵗ), ε, η_l(t), η_u(t)) with the final lr
    f = final_lr · η / η₀ following a schedule of η."""
    lr, gamma = group["lr"], group["gamma"]
    beta1, beta2 = group["betas"]
    final_lr = group["final_lr"] * lr / group["base_lr"]
    return (group["weight_decay"], 1 - beta1, beta2, 1 - beta2, lr * math.sqrt(1 - beta2**t) / (1 - beta1**t),
            group["eps"], final_lr * (1 - 1 / (gamma * t + 1)),
            final_lr * (1 + 1 / (gamma * t)) if gamma else math.inf)


def _adabound_buffers(group: Mapping[str, Any]) -> dict[str, float]:
    return {"exp_avg": 0.0, "exp_avg_sq": 0.0, **({"max_exp_avg_sq": 0.0} if group["amsbound"] else {})}


ADABOUND = Rule(("exp_avg", "exp_avg_sq", "max_exp_avg_sq"), adabound_math, adabound_scalars,
                initial=_adabound_buffers)


class AdaBound(Optimizer):
    r"""AdaBound (Luo, Xiong, Liu, Sun, ICLR 2019, arXiv:1902.09843), in the form of the authors' code.

    Algorithm (t counted per parameter)::

        g  = ∇f(θ) + λθ                                  (coupled L2, as the official code)
        m  ← β1·m + (1 − β1)·g                           (Alg. 2, first moment)
        v  ← β2·v + (1 − β2)·g²                          (Alg. 2, second moment)
        v  ← max(v̂max, v)                                (amsbound=True only: AMSBound, Alg. 3)
        s  = η·√(1 − β2ᵗ) / (1 − β1ᵗ)                     (Adam's bias corrections folded into η)
        f  = final_lr · η / η₀                           (final lr follows any lr schedule)
        lo = f·(1 − 1/(γt + 1)),  hi = f·(1 + 1/(γt))    (the dynamic bounds η_l(t), η_u(t))
        θ  ← θ − clip(s / (√v + ε), lo, hi) · m

    Defaults: η = 1e-3, (β1, β2) = (0.9, 0.999), final_lr = 0.1, γ = 1e-3, ε = 1e-8, λ = 0.

    Where forms differ: the paper's Algorithm 2 divides the clipped step by √t (η_t = η̂_t/√t); the
    authors' code, and every library we know, drops that factor. We follow the code. ε is added to
    √v before the bias correction (the code's placement). η₀ is the group's initial learning rate,
    kept in the param group as ``base_lr`` (set to ``lr`` when a group is added without one), so LR
    schedulers, which change ``lr`` only, scale the final lr too, and ``add_param_group`` and
    ``state_dict`` round trips keep it. γ = 0 gives the bounds [0, ∞), i.e. Adam with ε on the raw √v.

    Arguments:
        params: parameters or parameter groups (a group may set ``base_lr``, η₀, itself).
        lr: learning rate η (Adam's step size).
        betas: (β1, β2) decay rates of the moment estimates.
        final_lr: the SGD learning rate the bounds converge to (relative to η₀, see f above).
        gamma: γ, the convergence speed of the bounds.
        eps: ε added to √v.
        weight_decay: λ, coupled L2 (added to the gradient).
        amsbound: keep the running maximum of v (state ``max_exp_avg_sq``): AMSBound.
        maximize: ascend instead of descend.
        fused: run each step as one kernel compiled by ``torch.compile`` (the first step compiles; small
            parameters move into one flat buffer, each a view of it; see ``deepzen.optim._flat_pack``).

    State: ``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq`` (amsbound only).
    """

    rule = ADABOUND

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        final_lr: float = 0.1,
        gamma: float = 1e-3,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsbound: bool = False,
        *,
        maximize: bool = False,
        fused: bool = False,
    ) -> None:
        defaults = dict(lr=lr, betas=betas, final_lr=final_lr, gamma=gamma, eps=eps,
                        weight_decay=weight_decay, amsbound=amsbound, maximize=maximize, fused=fused)
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group; its ``base_lr`` (η₀) defaults to its own ``lr``."""
        if "base_lr" not in param_group:
            param_group = {**param_group, "base_lr": C.number(param_group.get("lr", self.defaults["lr"]))}
        super().add_param_group(param_group)

    def _check_group(self, group: dict[str, Any]) -> None:
        C.check_lr(group["lr"])
        C.check_range("base_lr", group["base_lr"], 0.0, low_open=True)
        C.check_betas(group["betas"])
        C.check_range("final_lr", group["final_lr"], 0.0)
        C.check_range("gamma", group["gamma"], 0.0, 1.0, high_open=True)
        C.check_eps(group["eps"])
        C.check_weight_decay(group["weight_decay"])
        C.check_flags(group, "amsbound", "maximize", "fused")

class AMSBound(AdaBound):
    r"""AMSBound (Luo, Xiong, Liu, Sun, ICLR 2019, arXiv:1902.09843, Algorithm 3): AdaBound on
    AMSGrad's non-decreasing second moment, ``v̂max ← max(v̂max, v)`` in place of v.

    As the authors' code, the maximum is taken of the raw v (ε and the bias correction are applied
    afterwards, as in :class:`AdaBound`). Defaults as :class:`AdaBound`.
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        final_lr: float = 0.1,
        gamma: float = 1e-3,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
        fused: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, final_lr, gamma, eps, weight_decay, amsbound=True,
                         maximize=maximize, fused=fused)
