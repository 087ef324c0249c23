"""LAMB: Adam's step with decoupled decay, rescaled per layer by a trust ratio."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from deepzen import _tensors as T
from deepzen.optim import _checks as C
from deepzen.optim._base import Batch, Optimizer, zeros_like
from deepzen.optim._compiled import FlatPack, run_kernel, scalars
from deepzen.optim.lars import layer_norms, trust_ratios


def lamb_kernel(p: Tensor, g: Tensor, m: Tensor, v: Tensor, s: Tensor) -> None:
    """One LAMB step in place (``fused=True``) over 2-D tensors whose rows are layers of one size::

        m ← m + (1 − β1)(g − m);  v ← β2·v + (1 − β2)·g²;  u = m̂ / (√v̂ + ε) + λθ
        θ ← θ − η·φ(‖θ‖)/‖u‖·u        (norms per row; 1 in place of the ratio where a norm is 0)

    s = (1 − β1, β2, 1 − β2, 1/(1 − β1ᵗ), 1/√(1 − β2ᵗ), ε, λ, η, clamp of φ (∞: none)).
    """
    m_new = m + s[0] * (g - m)
    v_new = v * s[1] + s[2] * g * g
    u = m_new * s[3] / (torch.sqrt(v_new) * s[4] + s[5]) + s[6] * p
    w_norm = torch.linalg.vector_norm(p, dim=1, keepdim=True)
    u_norm = torch.linalg.vector_norm(u, dim=1, keepdim=True)
    ratio = torch.where((w_norm > 0) & (u_norm > 0), torch.clamp(w_norm, max=s[8]) / u_norm, 1.0)
    p.copy_(p - s[7] * ratio * u)
    m.copy_(m_new)
    v.copy_(v_new)


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
            parameters move into one flat buffer, each a view of it; see ``deepzen.optim._compiled``).

    State: ``exp_avg``, ``exp_avg_sq``.
    """

    elementwise = False

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

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {"exp_avg": zeros_like(p), "exp_avg_sq": zeros_like(p)}

    def _update(self, group: dict[str, Any], batch: Batch, loss: float | None) -> None:
        lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        params, grads, steps = batch.params, batch.grads, batch.steps
        T.lerp_(batch["exp_avg"], grads, 1 - beta1)                      # m ← β1 m + (1 − β1) g
        T.mul_(batch["exp_avg_sq"], beta2)                               # v ← β2 v + (1 − β2) g²
        T.addcmul_(batch["exp_avg_sq"], grads, grads, 1 - beta2)
        update = T.sqrt(batch["exp_avg_sq"])                             # √v̂ + ε
        if group["bias_correction"]:
            T.div_(update, [(1 - beta2**t) ** 0.5 for t in steps])
        T.add_(update, eps)
        T.reciprocal_(update)                                            # r = m̂ / (√v̂ + ε)
        T.mul_(update, batch["exp_avg"])
        if group["bias_correction"]:
            T.div_(update, [1 - beta1**t for t in steps])
        if wd:
            T.add_(update, params, alpha=wd)                             # u = r + λθ
        w_norm, u_norm = layer_norms(params), layer_norms(update)        # ‖θ‖, ‖u‖   (N,)
        phi = w_norm if group["clamp_value"] is None else w_norm.clamp(max=group["clamp_value"])
        ratio = trust_ratios(phi / u_norm, w_norm, u_norm)               # φ(‖θ‖) / ‖u‖, or 1
        T.mul_(update, (ratio * -lr).unbind())                           # θ ← θ − η·ratio·u
        T.add_(params, update)

    def _fused_step(self, group: dict[str, Any], pack: FlatPack, grad: Tensor, t: float) -> None:
        beta1, beta2 = group["betas"]
        corrected = group["bias_correction"]
        clamp = group["clamp_value"]
        s = scalars([1 - beta1, beta2, 1 - beta2, 1 / (1 - beta1**t) if corrected else 1.0,
                     (1 - beta2**t) ** -0.5 if corrected else 1.0, group["eps"], group["weight_decay"],
                     group["lr"], math.inf if clamp is None else clamp], pack.p)
        for rows in zip(*(pack.rows(x) for x in (pack.p, grad, pack.state["exp_avg"], pack.state["exp_avg_sq"]))):
            run_kernel(lamb_kernel, *rows, s)
