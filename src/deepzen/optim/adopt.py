"""ADOPT: Adam with the gradient normalized by the second moment of the *previous* steps."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from deepzen import _tensors as T
from deepzen.optim import _checks as C
from deepzen.optim._base import Batch, Optimizer, zeros_like
from deepzen.optim._compiled import FlatPack, run_kernel, scalars
from deepzen.optim._decay import decay_scalars


def adopt_kernel(p: Tensor, g: Tensor, m: Tensor, v: Tensor, s: Tensor) -> None:
    """One ADOPT step (after the first) over flat tensors, in place (``fused=True``).

    s = (λ coupled, 1 − ηλ decoupled, ε, c_t (∞ without clipping), 1 − β1, η, β2, 1 − β2).
    """
    g = g + s[0] * p
    normed = torch.clamp(g / torch.clamp(torch.sqrt(v), min=s[2]), min=-s[3], max=s[3])
    m_new = m + s[4] * (normed - m)
    p.copy_(p * s[1] - s[5] * m_new)
    m.copy_(m_new)
    v.copy_(v * s[6] + s[7] * g * g)


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
            parameters move into one flat buffer, each a view of it; see ``deepzen.optim._compiled``).

    State: ``exp_avg`` (m), ``exp_avg_sq`` (v).
    """

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

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {"exp_avg": zeros_like(p), "exp_avg_sq": zeros_like(p)}

    def _update(self, group: dict[str, Any], batch: Batch, loss: float | None) -> None:
        first = [i for i, t in enumerate(batch.steps) if t == 1]
        if first:
            self._initialize(group, batch.select(first))
        if len(first) < len(batch):
            later = [i for i, t in enumerate(batch.steps) if t > 1]
            self._adopt_step(group, batch.select(later) if first else batch)

    @staticmethod
    def _coupled_grads(group: dict[str, Any], batch: Batch) -> list[Tensor]:
        wd = group["weight_decay"]
        if wd and not group["decoupled"]:
            return T.add(batch.grads, batch.params, alpha=wd)             # g + λθ
        return batch.grads

    def _initialize(self, group: dict[str, Any], batch: Batch) -> None:
        grads = self._coupled_grads(group, batch)
        T.addcmul_(batch["exp_avg_sq"], grads, grads)                     # v₀ = g₀² (v was 0)

    def _adopt_step(self, group: dict[str, Any], batch: Batch) -> None:
        lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        params, v = batch.params, batch["exp_avg_sq"]
        grads = self._coupled_grads(group, batch)
        normed = T.sqrt(v)                                               # ĝ = g / max(√v, ε)
        T.clamp_min_(normed, eps)
        T.reciprocal_(normed)
        T.mul_(normed, grads)
        if group["clip_exponent"] is not None:                           # clip to [−c_t, c_t]
            clip = [(t - 1) ** group["clip_exponent"] for t in batch.steps]
            T.clamp_min_(normed, [-c for c in clip])
            T.clamp_max_(normed, clip)
        T.lerp_(batch["exp_avg"], normed, 1 - beta1)                     # m ← β1 m + (1 − β1) ĝ
        if wd and group["decoupled"]:
            T.mul_(params, 1 - lr * wd)                                  # θ ← θ(1 − ηλ)
        T.add_(params, batch["exp_avg"], alpha=-lr)                      # θ ← θ − η m
        T.mul_(v, beta2)                                                 # v ← β2 v + (1 − β2) g²
        T.addcmul_(v, grads, grads, 1 - beta2)

    def _fused_update(self, group: dict[str, Any], batch: Batch) -> None:
        first = [i for i, t in enumerate(batch.steps) if t == 1]         # their first step: v₀ = g₀² only
        if first:
            self._initialize(group, batch.select(first))
            if len(first) == len(batch):
                return
            batch = batch.select([i for i, t in enumerate(batch.steps) if t > 1])
        super()._fused_update(group, batch)

    def _fused_step(self, group: dict[str, Any], pack: FlatPack, grad: Tensor, t: float) -> None:
        beta1, beta2 = group["betas"]
        p = group["clip_exponent"]
        s = [*decay_scalars(group), group["eps"], math.inf if p is None else (t - 1) ** p, 1 - beta1,
             group["lr"], beta2, 1 - beta2]
        run_kernel(adopt_kernel, pack.p, grad, pack.state["exp_avg"], pack.state["exp_avg_sq"], scalars(s, pack.p))
