"""ADOPT: Adam with the gradient normalized by the second moment of the *previous* steps."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from deepzen.optim import _checks as C
from deepzen.optim import _inplace as O
from deepzen.optim._base import Optimizer
from deepzen.optim._decay import coupled, decay_scalars, decoupled_
from deepzen.optim._rule import Rule


def adopt_math(p: Tensor, g: Tensor, m: Tensor, v: Tensor, s: Any) -> None:
    """One ADOPT step of a flat slice in place (see :class:`ADOPT`); ``s``: :func:`adopt_scalars`
    (on the first step they make it ``v₀ = g₀²`` and nothing else)."""
    lam, keep, eps, clip, a1, lr, b2, a2 = s
    g = coupled(g, p, lam)                                   # g + λθ (coupled L2)
    normed = O.over_(g, O.sqrt(v).clamp_(min=eps)).clamp_(-clip, clip)  # ĝ = clip(g / max(√v, ε), c_t)
    m.lerp_(normed, a1)                                      # m ← β1 m + (1 − β1) ĝ        (Alg. 1)
    decoupled_(p, keep)                                      # θ ← θ(1 − ηλ)
    O.axpy_(p, -lr, m)                                       # θ ← θ − η m                  (Alg. 1)
    O.addcmul_(v.mul_(b2), a2, g, g)                         # v ← β2 v + (1 − β2) g²  (after the step)


def adopt_scalars(group: Mapping[str, Any], t: float) -> tuple[float, ...]:
    """(λ coupled, 1 − ηλ, ε, c_t, 1 − β1, η, β2, 1 − β2); c_t = (t − 1)^p (∞ without clipping).
    Step 1 only initializes v₀ = g₀²: c = 0, 1 − β1 = 0, η = 0, no decay, β2 = 0, 1 − β2 = 1."""
    beta1, beta2 = group["betas"]
    lam, keep = decay_scalars(group)
    if t == 1:
        return (lam, 1.0, group["eps"], 0.0, 0.0, 0.0, 0.0, 1.0)
    p = group["clip_exponent"]
    return (lam, keep, group["eps"], math.inf if p is None else (t - 1) ** p, 1 - beta1, group["lr"],
            beta2, 1 - beta2)


ADOPT_RULE = Rule(("exp_avg", "exp_avg_sq"), adopt_math, adopt_scalars)


class ADOPT(Optimizer):
    r"""ADOPT (Taniguchi, Harada, Minegishi et al., NeurIPS 2024, arXiv:2411.02853), with the clipping
    of the paper's updated version and the authors' code.

    Algorithm, per parameter; its first step only initializes v (no update), the following steps are
    counted t = 1, 2, ...::

        g  = ∇f(θ) + λθ                                    (coupled L2; decoupled=True: see below)
        v₀ = g₀²                                           (first step: nothing else happens)
        ĝ  = clip(g / max(√v_{t−1}, ε), c_t),  c_t = t^p    (elementwise clamp to [−c_t, c_t])
        m  ← β1·m + (1 − β1)·ĝ                             (m₀ = 0)
        θ  ← θ − η·m
        v_t ← β2·v_{t−1} + (1 − β2)·g²                      (after the update: v excludes g_t)

    With ``decoupled=True`` the weights decay as θ ← θ(1 − ηλ) before each update (AdamW's form)
    instead of adding λθ to the gradient. ``state["step"]`` counts the initialization step too
    (state step = t + 1), as in the authors' code.

    Defaults: η = 1e-3, (β1, β2) = (0.9, 0.9999), ε = 1e-6, λ = 0, clip exponent p = 1/4 (c_t = t^¼, the
    schedule under which the paper keeps its convergence guarantee).

    Where versions differ: the first arXiv version had no clipping (``clip_exponent=None``); the
    authors added it (Nov. 2024) because tiny first gradients made the normalized gradient explode.
    ε is a floor on √v (max), not added to it.

    Arguments:
        params: parameters or parameter groups.
        lr: learning rate η.
        betas: (β1, β2) decay rates of m and v.
        eps: ε, the floor on √v.
        weight_decay: λ; coupled L2 unless ``decoupled``.
        decoupled: decay the weights directly by ηλ instead of adding λθ to the gradient.
        clip_exponent: p in the clip value c_t = t^p; ``None`` disables clipping.
        maximize: ascend instead of descend.
        fused: run each step as one kernel compiled by ``torch.compile`` (the first step compiles; small
            parameters move into one flat buffer, each a view of it; see ``deepzen.optim._flat_pack``).

    State: ``exp_avg`` (m), ``exp_avg_sq`` (v).
    """

    rule = ADOPT_RULE

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.9999),
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        *,
        decoupled: bool = False,
        clip_exponent: float | None = 0.25,
        maximize: bool = False,
        fused: bool = False,
    ) -> None:
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, decoupled=decoupled,
                        clip_exponent=clip_exponent, maximize=maximize, fused=fused)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        C.check_moment_group(group)
        if group["clip_exponent"] is not None:
            C.check_range("clip_exponent", group["clip_exponent"], 0.0)
        C.check_flags(group, "decoupled", "maximize", "fused")
