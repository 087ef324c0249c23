"""AdaBound and AMSBound: Adam / AMSGrad whose per-coordinate step sizes are clipped to bounds that
close in on a final SGD learning rate."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from deepzen import _tensors as T
from deepzen.optim import _checks as C
from deepzen.optim._base import Batch, Optimizer, zeros_like
from deepzen.optim._compiled import FlatPack, run_kernel, scalars


def adabound_kernel(p: Tensor, g: Tensor, m: Tensor, v: Tensor, v_max: Tensor | None, s: Tensor) -> None:
    """One AdaBound step over flat tensors, in place (``fused=True``); ``v_max`` for AMSBound.

    s = (λ, 1 − β1, β2, 1 − β2, η√(1 − β2ᵗ)/(1 − β1ᵗ), ε, η_l(t), η_u(t)).
    """
    g = g + s[0] * p
    m_new = m + s[1] * (g - m)
    v_new = v * s[2] + s[3] * g * g
    v.copy_(v_new)
    if v_max is not None:
        v_new = torch.maximum(v_max, v_new)
        v_max.copy_(v_new)
    step_size = torch.clamp(s[4] / (torch.sqrt(v_new) + s[5]), min=s[6], max=s[7])
    p.copy_(p - step_size * m_new)
    m.copy_(m_new)


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
            parameters move into one flat buffer, each a view of it; see ``deepzen.optim._compiled``).

    State: ``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq`` (amsbound only).
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

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        state = {"exp_avg": zeros_like(p), "exp_avg_sq": zeros_like(p)}
        if group["amsbound"]:
            state["max_exp_avg_sq"] = zeros_like(p)
        return state

    def _update(self, group: dict[str, Any], batch: Batch, loss: float | None) -> None:
        lr, eps, wd, gamma = group["lr"], group["eps"], group["weight_decay"], group["gamma"]
        beta1, beta2 = group["betas"]
        params, grads, steps = batch.params, batch.grads, batch.steps
        if wd:
            grads = T.add(grads, params, alpha=wd)                       # g + λθ
        T.lerp_(batch["exp_avg"], grads, 1 - beta1)                      # m ← β1 m + (1 − β1) g
        T.mul_(batch["exp_avg_sq"], beta2)                               # v ← β2 v + (1 − β2) g²
        T.addcmul_(batch["exp_avg_sq"], grads, grads, 1 - beta2)
        v = batch["exp_avg_sq"]
        if group["amsbound"]:
            T.maximum_(batch["max_exp_avg_sq"], v)                       # v̂max ← max(v̂max, v)
            v = batch["max_exp_avg_sq"]
        final_lr = group["final_lr"] * lr / group["base_lr"]             # f = final_lr · η / η₀
        lower = [final_lr * (1 - 1 / (gamma * t + 1)) for t in steps]    # η_l(t)
        upper = [final_lr * (1 + 1 / (gamma * t)) if gamma else math.inf for t in steps]  # η_u(t)
        step_size = T.sqrt(v)                                            # s / (√v + ε)
        T.add_(step_size, eps)
        T.reciprocal_(step_size)
        T.mul_(step_size, [lr * math.sqrt(1 - beta2**t) / (1 - beta1**t) for t in steps])
        T.clamp_min_(step_size, lower)                                   # clip to [η_l(t), η_u(t)]
        T.clamp_max_(step_size, upper)
        T.mul_(step_size, batch["exp_avg"])                              # θ ← θ − clipped · m
        T.sub_(params, step_size)

    def _fused_step(self, group: dict[str, Any], pack: FlatPack, grad: Tensor, t: float) -> None:
        lr, gamma = group["lr"], group["gamma"]
        beta1, beta2 = group["betas"]
        final_lr = group["final_lr"] * lr / group["base_lr"]
        s = [group["weight_decay"], 1 - beta1, beta2, 1 - beta2, lr * math.sqrt(1 - beta2**t) / (1 - beta1**t),
             group["eps"], final_lr * (1 - 1 / (gamma * t + 1)), final_lr * (1 + 1 / (gamma * t)) if gamma else math.inf]
        run_kernel(adabound_kernel, pack.p, grad, pack.state["exp_avg"], pack.state["exp_avg_sq"],
                   pack.state.get("max_exp_avg_sq"), scalars(s, pack.p))


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
