"""QHAdam: quasi-hyperbolic Adam, averages of plain and momentum steps."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from deepzen import _tensors as T
from deepzen.optim import _checks as C
from deepzen.optim._base import Batch, Optimizer, zeros_like
from deepzen.optim._compiled import FlatPack, run_kernel, scalars
from deepzen.optim._decay import decay_scalars, weight_decay_


def qhadam_kernel(p: Tensor, g: Tensor, m: Tensor, v: Tensor, s: Tensor) -> None:
    """One QHAdam step over flat tensors, in place (``fused=True``).

    s = (λ coupled, 1 − ηλ decoupled, 1 − β1, β2, 1 − β2, ν1/(1 − β1ᵗ), 1 − ν1, ν2/(1 − β2ᵗ), 1 − ν2, ε, η).
    """
    g = g + s[0] * p
    m_new = m + s[2] * (g - m)
    g2 = g * g
    v_new = v * s[3] + s[4] * g2
    numer = m_new * s[5] + g * s[6]                                     # (1 − ν1) g + ν1 m̂
    denom = torch.sqrt(v_new * s[7] + g2 * s[8]) + s[9]                 # √((1 − ν2) g² + ν2 v̂) + ε
    p.copy_(p * s[1] - s[10] * numer / denom)
    m.copy_(m_new)
    v.copy_(v_new)


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
            parameters move into one flat buffer, each a view of it; see ``deepzen.optim._compiled``).

    State: ``exp_avg`` (m), ``exp_avg_sq`` (v), ``step``.
    """

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

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {"exp_avg": zeros_like(p), "exp_avg_sq": zeros_like(p)}

    def _update(self, group: dict[str, Any], batch: Batch, loss: float | None) -> None:
        lr, eps = group["lr"], group["eps"]
        beta1, beta2 = group["betas"]
        nu1, nu2 = group["nus"]
        params, grads = batch.params, batch.grads
        grads = weight_decay_(group, params, grads)                      # θ(1 − ηλ) or g + λθ
        exp_avg, exp_avg_sq = batch["exp_avg"], batch["exp_avg_sq"]
        T.lerp_(exp_avg, grads, 1 - beta1)                               # m ← β1 m + (1 − β1) g
        T.mul_(exp_avg_sq, beta2)                                        # v ← β2 v + (1 − β2) g²
        T.addcmul_(exp_avg_sq, grads, grads, 1 - beta2)
        numer = T.mul(exp_avg, [nu1 / (1 - beta1**t) for t in batch.steps])      # ν1 m̂
        if nu1 != 1:
            T.add_(numer, grads, alpha=1 - nu1)                          # + (1 − ν1) g
        denom = T.mul(exp_avg_sq, [nu2 / (1 - beta2**t) for t in batch.steps])   # ν2 v̂
        if nu2 != 1:
            T.addcmul_(denom, grads, grads, 1 - nu2)                     # + (1 − ν2) g²
        T.sqrt_(denom)
        T.add_(denom, eps)
        T.addcdiv_(params, numer, denom, -lr)                            # θ −= η numer / denom

    def _fused_step(self, group: dict[str, Any], pack: FlatPack, grad: Tensor, t: float) -> None:
        beta1, beta2 = group["betas"]
        nu1, nu2 = group["nus"]
        s = [*decay_scalars(group), 1 - beta1, beta2, 1 - beta2, nu1 / (1 - beta1**t), 1 - nu1,
             nu2 / (1 - beta2**t), 1 - nu2, group["eps"], group["lr"]]
        run_kernel(qhadam_kernel, pack.p, grad, pack.state["exp_avg"], pack.state["exp_avg_sq"], scalars(s, pack.p))
