"""LAMB: Adam's step with decoupled decay, rescaled per layer by a trust ratio."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from deepzen.optim import _checks as C
from deepzen.optim import _inplace as O
from deepzen.optim._base import Optimizer
from deepzen.optim._rule import Rule


def lamb_math(p: Tensor, g: Tensor, m: Tensor, v: Tensor, s: Any) -> None:
    """One LAMB step in place over 2-D tensors whose rows are layers of one size (see :class:`LAMB`);
    ``s``: :func:`lamb_scalars`."""
    a1, b2, a2, bc1, bc2, eps, wd, lr, clamp = s
    m.lerp_(g, a1)                                                         # m ← β1 m + (1 − β1) g   (Alg. 2)
    O.addcmul_(v.mul_(b2), a2, g, g)                                       # v ← β2 v + (1 − β2) g²  (Alg. 2)
    u = O.over_(m, O.sqrt_denominator(v, bc2, eps)).mul_(bc1)             # m̂ / (√v̂ + ε)
    O.axpy_(u, wd, p)                                                      # u = m̂ / (√v̂ + ε) + λθ   (Alg. 2)
    w_norm = torch.linalg.vector_norm(p, dim=1, keepdim=True)              # ‖θ‖ per layer  (rows, 1)
    u_norm = torch.linalg.vector_norm(u, dim=1, keepdim=True)              # ‖u‖ per layer  (rows, 1)
    ratio = torch.where((w_norm > 0) & (u_norm > 0), torch.clamp(w_norm, max=clamp) / u_norm, 1.0)  # φ(‖θ‖)/‖u‖
    O.addcmul_(p, -lr, ratio, u)                                           # θ ← θ − η·ratio·u       (Alg. 2)


def lamb_scalars(group: Mapping[str, Any], t: float) -> tuple[float, ...]:
    """(1 − β1, β2, 1 − β2, 1/(1 − β1ᵗ), 1/√(1 − β2ᵗ), ε, λ, η, clamp of φ (∞: none)); without bias
    correction both corrections are 1."""
    beta1, beta2 = group["betas"]
    corrected, clamp = group["bias_correction"], group["clamp_value"]
    return (1 - beta1, beta2, 1 - beta2, 1 / (1 - beta1**t) if corrected else 1.0,
            (1 - beta2**t) ** -0.5 if corrected else 1.0, group["eps"], group["weight_decay"], group["lr"],
            math.inf if clamp is None else clamp)


LAMB_RULE = Rule(("exp_avg", "exp_avg_sq"), lamb_math, lamb_scalars, rows=True)


class LAMB(Optimizer):
    r"""LAMB, layer-wise adaptive moments for batch training (You, Li, Reddi et al., ICLR 2020,
    arXiv:1904.00962, Algorithm 2).

    Algorithm, for each parameter tensor ("layer") θ (t counted per parameter)::

        m  ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²
        m̂  = m / (1 − β1ᵗ),       v̂ = v / (1 − β2ᵗ)             (bias_correction=False: m̂ = m, v̂ = v)
        r  = m̂ / (√v̂ + ε)                                        (Adam's direction)
        u  = r + λ·θ                                             (decoupled decay, inside the ratio)
        θ  ← θ − η · φ(‖θ‖) / ‖u‖ · u                            (1 in place of the ratio where
                                                                  ‖θ‖ = 0 or ‖u‖ = 0)

    φ is the identity, or ``min(‖θ‖, clamp_value)`` when ``clamp_value`` is set (the paper leaves the
    bounds of φ open; several libraries clamp at 10).

    Defaults: η = 1e-3, (β1, β2) = (0.9, 0.999), ε = 1e-6, λ = 0.01 (the paper's BERT setting).

    Where versions differ: the final paper (ICLR 2020, arXiv v5) bias-corrects m and v as above; arXiv
    v3 and several libraries do not (``bias_correction=False``). λθ is added to r before the norm
    (the paper's form), not to the gradient.

    Arguments:
        params: parameters or parameter groups.
        lr: learning rate η.
        betas: (β1, β2) decay rates of the moment estimates.
        eps: ε added to √v̂.
        weight_decay: λ, decoupled, inside the trust ratio.
        clamp_value: upper bound of φ(‖θ‖); ``None`` for the identity.
        bias_correction: divide m and v by (1 − βᵗ) (the final paper's form).
        maximize: ascend instead of descend.
        fused: run each step as one kernel compiled by ``torch.compile`` (the first step compiles; small
            parameters move into one flat buffer, each a view of it; see ``deepzen.optim._flat_pack``).

    State: ``exp_avg``, ``exp_avg_sq``.
    """

    rule = LAMB_RULE


    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-6,
        weight_decay: float = 0.01,
        *,
        clamp_value: float | None = None,
        bias_correction: bool = True,
        maximize: bool = False,
        fused: bool = False,
    ) -> None:
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, clamp_value=clamp_value,
                        bias_correction=bias_correction, maximize=maximize, fused=fused)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        C.check_moment_group(group)
        if group["clamp_value"] is not None:
            C.check_range("clamp_value", group["clamp_value"], 0.0, low_open=True)
        C.check_flags(group, "bias_correction", "maximize", "fused")
