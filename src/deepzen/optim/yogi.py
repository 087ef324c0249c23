"""Yogi: Adam with an additive, sign-controlled second moment."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from deepzen import _tensors as T
from deepzen.optim import _checks as C
from deepzen.optim._base import Batch, Optimizer
from deepzen.optim._compiled import FlatPack, run_kernel, scalars
from deepzen.optim._decay import decay_scalars, weight_decay_


def yogi_kernel(p: Tensor, g: Tensor, m: Tensor, v: Tensor, s: Tensor) -> None:
    """One Yogi step over flat tensors, in place (``fused=True``).

    s = (λ coupled, 1 − ηλ decoupled, 1 − β1, 1 − β2, 1/√(1 − β2ᵗ), η/(1 − β1ᵗ), ε).
    """
    g = g + s[0] * p
    m_new = m + s[2] * (g - m)
    g2 = g * g
    v_new = v - s[3] * torch.sign(v - g2) * g2
    p.copy_(p * s[1] - s[5] * m_new / (torch.sqrt(v_new) * s[4] + s[6]))
    m.copy_(m_new)
    v.copy_(v_new)


class Yogi(Optimizer):
    r"""Yogi (Zaheer, Reddi, Sachan, Kale, Kumar, "Adaptive Methods for Nonconvex Optimization",
    NeurIPS 2018).

    Algorithm (t counted per parameter)::

        m₀ = v₀ = initial_accumulator_value
        g  = ∇f(θ) + λθ                      (coupled L2; with decoupled=True: θ ← θ(1 − ηλ) instead)
        m  ← β1·m + (1 − β1)·g
        v  ← v − (1 − β2)·sign(v − g²)·g²    (Alg. 2: v moves towards g² by at most (1 − β2)g²)
        m̂  = m / (1 − β1ᵗ),  v̂ = v / (1 − β2ᵗ)   (bias_correction=True; else m̂ = m, v̂ = v)
        θ  ← θ − η·m̂ / (√v̂ + ε)

    sign(0) = 0. Defaults: η = 1e-2, (β1, β2) = (0.9, 0.999), ε = 1e-3 (the paper's), λ = 0,
    initial_accumulator_value = 1e-6, bias_correction = True.

    Where libraries differ: the paper's Algorithm 2 starts m and v at 0 and has no bias correction
    (``initial_accumulator_value=0, bias_correction=False`` is that box). The implementations that
    accompany and follow it (TF Addons, optax, torch-optimizer) start both accumulators at 1e-6 and
    bias-correct like Adam, and we default to that. optax and torch-optimizer add ε to √v̂ (as here);
    TF Addons adds it to √v before the correction.

    Arguments:
        params: parameters or parameter groups.
        lr: learning rate η.
        betas: (β1, β2) decay rates of the moment estimates.
        eps: ε added to the denominator.
        weight_decay: λ; coupled L2 (added to the gradient) unless ``decoupled``.
        initial_accumulator_value: starting value of m and v (>= 0; the name of torch's Adagrad option).
        bias_correction: divide m and v by (1 − β1ᵗ) and (1 − β2ᵗ).
        decoupled: decay the weights directly by ηλ.
        maximize: ascend instead of descend.
        fused: run each step as one kernel compiled by ``torch.compile`` (the first step compiles; small
            parameters move into one flat buffer, each a view of it; see ``deepzen.optim._compiled``).

    State: ``exp_avg`` (m), ``exp_avg_sq`` (v), ``step``.
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-3,
        weight_decay: float = 0.0,
        *,
        initial_accumulator_value: float = 1e-6,
        bias_correction: bool = True,
        decoupled: bool = False,
        maximize: bool = False,
        fused: bool = False,
    ) -> None:
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, bias_correction=bias_correction,
                        decoupled=decoupled, maximize=maximize, fused=fused)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        C.check_moment_group(group)
        C.check_range("initial_accumulator_value", group["initial_accumulator_value"], 0.0)
        C.check_flags(group, "bias_correction", "decoupled", "maximize", "fused")

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        start = group["initial_accumulator_value"]
        return {name: torch.full_like(p, start, memory_format=torch.contiguous_format)
                for name in ("exp_avg", "exp_avg_sq")}

    def _update(self, group: dict[str, Any], batch: Batch, loss: float | None) -> None:
        lr, eps = group["lr"], group["eps"]
        beta1, beta2 = group["betas"]
        params, grads = batch.params, batch.grads
        grads = weight_decay_(group, params, grads)                      # θ(1 − ηλ) or g + λθ
        exp_avg, exp_avg_sq = batch["exp_avg"], batch["exp_avg_sq"]
        T.lerp_(exp_avg, grads, 1 - beta1)                               # m ← β1 m + (1 − β1) g
        grad_sq = T.mul(grads, grads)                                    # g²
        direction = T.add(exp_avg_sq, grad_sq, alpha=-1)                 # sign(v − g²)
        T.sign_(direction)
        T.addcmul_(exp_avg_sq, direction, grad_sq, -(1 - beta2))         # v ← v − (1 − β2) sign(·) g²
        denom = direction                                                # reuse the scratch: √v̂ + ε
        T.copy_(denom, exp_avg_sq)
        T.sqrt_(denom)
        if group["bias_correction"]:
            T.div_(denom, [(1 - beta2**t) ** 0.5 for t in batch.steps])
            step_scales: Any = [-lr / (1 - beta1**t) for t in batch.steps]
        else:
            step_scales = -lr
        T.add_(denom, eps)
        T.addcdiv_(params, exp_avg, denom, step_scales)                  # θ −= η m̂ / (√v̂ + ε)

    def _fused_step(self, group: dict[str, Any], pack: FlatPack, grad: Tensor, t: float) -> None:
        lr = group["lr"]
        beta1, beta2 = group["betas"]
        corrected = group["bias_correction"]
        s = [*decay_scalars(group), 1 - beta1, 1 - beta2, (1 - beta2**t) ** -0.5 if corrected else 1.0,
             lr / (1 - beta1**t) if corrected else lr, group["eps"]]
        run_kernel(yogi_kernel, pack.p, grad, pack.state["exp_avg"], pack.state["exp_avg_sq"],
                   scalars(s, pack.p))
