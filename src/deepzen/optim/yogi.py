"""Yogi: Adam with an additive, sign-controlled second moment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from deepzen.optim import _checks as C
from deepzen.optim import _inplace as O
from deepzen.optim._base import Optimizer
from deepzen.optim._decay import coupled, decay_scalars, decoupled_
from deepzen.optim._rule import Rule


def yogi_math(p: Tensor, g: Tensor, m: Tensor, v: Tensor, s: Any) -> None:
    """One Yogi step of a flat slice in place (see :class:`Yogi`); ``s``: :func:`yogi_scalars`."""
    lam, keep, a1, a2, bc2, step, eps = s
    g = coupled(g, p, lam)                                   # g + λθ (coupled L2)
    decoupled_(p, keep)                                      # θ ← θ(1 − ηλ)
    m.lerp_(g, a1)                                           # m ← β1 m + (1 − β1) g
    g2 = O.product(g, g, "g2")
    sign = O.fresh(v).sub_(g2).sign_()                       # sign(v − g²)
    O.addcmul_(v, -a2, sign, g2)                             # v ← v − (1 − β2) sign(v − g²) g²   (Alg. 2)
    O.addcdiv_(p, -step, m, O.sqrt_denominator(v, bc2, eps))  # θ −= η m̂ / (√v̂ + ε)


def yogi_scalars(group: Mapping[str, Any], t: float) -> tuple[float, ...]:
    """(λ coupled, 1 − ηλ, 1 − β1, 1 − β2, 1/√(1 − β2ᵗ), η/(1 − β1ᵗ), ε); without bias correction
    the two corrections are 1 and η."""
    lr, (beta1, beta2) = group["lr"], group["betas"]
    corrected = group["bias_correction"]
    return (*decay_scalars(group), 1 - beta1, 1 - beta2, (1 - beta2**t) ** -0.5 if corrected else 1.0,
            lr / (1 - beta1**t) if corrected else lr, group["eps"])


def _yogi_buffers(group: Mapping[str, Any]) -> dict[str, float]:
    start = group["initial_accumulator_value"]
    return {"exp_avg": start, "exp_avg_sq": start}


YOGI = Rule(("exp_avg", "exp_avg_sq"), yogi_math, yogi_scalars, initial=_yogi_buffers)


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
            parameters move into one flat buffer, each a view of it; see ``deepzen.optim._flat_pack``).

    State: ``exp_avg`` (m), ``exp_avg_sq`` (v), ``step``.
    """

    rule = YOGI

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
