"""Adafactor: a factored second moment, a relative step size and update clipping."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from deepzen.optim import _checks as C
from deepzen.optim._base import Batch, Optimizer


def rms(x: Tensor) -> float:
    """Root mean square of the elements."""
    return float(x.norm()) / x.numel() ** 0.5


class Adafactor(Optimizer):
    r"""Adafactor (Shazeer & Stern, "Adafactor: Adaptive Learning Rates with Sublinear Memory Cost",
    ICML 2018, arXiv:1804.04235), without momentum (β1 = 0, the paper's recommended setting).

    Algorithm (Algs. 4 and 5; t counted per parameter)::

        β̂2_t = 1 − t^c                           (c = beta2_decay = −0.8; β̂2_1 = 0)
        ρ_t  = min(η, 1/√t)                       (relative step size; η caps it)
        α_t  = max(ε2, RMS(θ_{t−1}))·ρ_t          (the step scales with the parameter)
        matrix G (n × m, or the last two dimensions of a tensor of ≥ 2 dimensions):
            R ← β̂2_t·R + (1 − β̂2_t)·mean over columns of (G² + ε1)      (n values)
            C ← β̂2_t·C + (1 − β̂2_t)·mean over rows of (G² + ε1)         (m values)
            V̂ = R·Cᵀ / mean(R)                    (rank-1 estimate of the second moment)
        vector, scalar: V̂ ← β̂2_t·V̂ + (1 − β̂2_t)·(G² + ε1)
        U = G / √V̂;   Û = U / max(1, RMS(U)/d)     (update clipping)
        θ ← θ(1 − ηλ) − α_t·Û

    The paper writes R and C with sums over rows and columns, 1ᵀR in the denominator; dividing both by
    m·n gives these means (the same V̂), which is how torch.optim.Adafactor computes them.

    Defaults: η = 1e-2 (the paper's cap on ρ_t), c = −0.8, (ε1, ε2) = (1e-30, 1e-3), d = 1, λ = 0.

    Where torch.optim.Adafactor differs (the tests compare against it): it does not add ε1 to G²
    (its ε1, default the dtype's eps, instead clamps V̂ from below by ε1² and mean(R) by ε1); with
    ε1 = 0 the two are the same rule, and the tests check that they agree step by step. Its weight decay
    θ(1 − ηλ) (not in the paper) is the one here. Memory: R and C instead of a full second moment, so
    an n × m weight keeps n + m numbers.

    Arguments:
        params: parameters or parameter groups.
        lr: η, the cap on the relative step size ρ_t.
        beta2_decay: c in β̂2_t = 1 − t^c (≤ 0).
        eps: (ε1 added to G², ε2 the smallest parameter scale in α_t).
        d: the clipping threshold on RMS(U) (≥ 1).
        weight_decay: λ, decoupled (θ ← θ(1 − ηλ)).
        maximize: ascend instead of descend.
        fused: only False (Adafactor has no compiled step); True is a ValueError that names the
            alternatives: adamw with fused=True (torch's fused kernel).

    State: ``row_var`` (R, shape (..., n, 1)) and ``col_var`` (C, shape (..., 1, m)) for tensors of
    two or more dimensions, ``variance`` (V̂) for the others, ``step``.
    """


    per_tensor = True               # the step reads whole tensors (RMS, factored rows and columns)

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        beta2_decay: float = -0.8,
        eps: tuple[float, float] = (1e-30, 1e-3),
        d: float = 1.0,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
        fused: bool = False,
    ) -> None:
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay,
                                      maximize=maximize, fused=fused))

    def _check_group(self, group: dict[str, Any]) -> None:
        C.check_lr(group["lr"])
        C.check_range("beta2_decay", group["beta2_decay"], high=0.0)
        eps = group["eps"]
        if not isinstance(eps, (tuple, list)) or len(eps) != 2:
            raise ValueError(f"invalid eps: {eps!r}; expected a pair (eps1, eps2) of numbers >= 0")
        C.check_eps(eps[0], "eps[0]")
        C.check_eps(eps[1], "eps[1]")
        C.check_range("d", group["d"], 1.0)
        C.check_weight_decay(group["weight_decay"])
        C.check_flags(group, "maximize")
        C.check_not_fused(group, "Adafactor", "its second moment is factored per matrix: row and column means",
                          "adamw with fused=True (torch's fused kernel)")

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        if p.dim() >= 2:
            return {"row_var": p.new_zeros((*p.shape[:-1], 1)), "col_var": p.new_zeros((*p.shape[:-2], 1, p.shape[-1]))}
        return {"variance": torch.zeros_like(p, memory_format=torch.contiguous_format)}

    def _dispatch(self, group: dict[str, Any], batch: Batch, loss: float | None) -> None:
        """Per tensor (its matrices are not elementwise): no flat packs, no rule."""
        self._step_tensors(group, batch)

    def _step_tensors(self, group: dict[str, Any], batch: Batch) -> None:
        lr, wd, d = group["lr"], group["weight_decay"], group["d"]
        eps1, eps2 = group["eps"]
        for p, g, state, t in zip(batch.params, batch.grads, batch.states, batch.steps):
            weight = t ** group["beta2_decay"]                            # 1 − β̂2_t
            alpha = max(eps2, rms(p)) * min(lr, t**-0.5)                  # α_t = max(ε2, RMS(θ)) ρ_t
            if wd:
                p.mul_(1 - lr * wd)
            sq = g * g + eps1                                             # G² + ε1
            if p.dim() >= 2:
                row, col = state["row_var"], state["col_var"]
                row.lerp_(sq.mean(dim=-1, keepdim=True), weight)          # R (..., n, 1)
                col.lerp_(sq.mean(dim=-2, keepdim=True), weight)          # C (..., 1, m)
                v_hat = (row @ col).div_(row.mean(dim=-2, keepdim=True))  # V̂ = R Cᵀ / mean(R)
            else:
                state["variance"].lerp_(sq, weight)
                v_hat = state["variance"]
            u = g * v_hat.rsqrt()                                         # U = G / √V̂
            p.add_(u, alpha=-alpha / max(1.0, rms(u) / d))                # θ −= α_t U / max(1, RMS(U)/d)
