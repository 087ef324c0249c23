"""RAdam: Adam with a rectified variance warm-up, and its update as a reusable function (Ranger)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from deepzen.optim import _checks as C
from deepzen.optim._base import Optimizer
from deepzen.optim._decay import decay_scalars
from deepzen.optim._rule import Rule
from deepzen.optim.adam import ADAM, adam_math

#: The paper's bound: the variance of the adaptive rate is defined only for ρ_t > 4.
PAPER_THRESHOLD = 4.0


def check_radam_group(group: Mapping[str, Any]) -> None:
    """Validate the RAdam hyperparameters of ``group``: lr, betas, eps, weight_decay, threshold, decoupled."""
    C.check_moment_group(group)
    C.check_range("threshold", group["threshold"], PAPER_THRESHOLD)
    C.check_flag("decoupled", group["decoupled"])


def rectification(step: float, beta2: float, threshold: float = 5.0) -> float | None:
    """The rectification term r_t of step ``step`` (t >= 1), or ``None`` where ρ_t <= threshold.

    With ``threshold >= 4`` a returned r_t is always a finite number in (0, 1].
    """
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    beta2_t = beta2**step
    rho_t = rho_inf - 2.0 * step * beta2_t / (1.0 - beta2_t)
    if not rho_t > threshold:
        return None
    return math.sqrt((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))


def radam_scalars(group: Mapping[str, Any], t: float) -> tuple[float, ...]:
    """RAdam's step as scalars of :func:`deepzen.optim.adam.adam_math`: where ρ_t > threshold the
    rectified step θ −= η r_t √(1 − β2ᵗ)/(1 − β1ᵗ) · m / (√v + ε), else the momentum step θ −= η m̂
    (the denominator's scale 0 and shift 1)."""
    lr, (beta1, beta2) = group["lr"], group["betas"]
    r_t = rectification(t, beta2, group["threshold"])
    if r_t is None:
        step, scale, shift = lr / (1 - beta1**t), 0.0, 1.0
    else:
        step, scale, shift = lr * r_t * math.sqrt(1 - beta2**t) / (1 - beta1**t), 1.0, group["eps"]
    return (*decay_scalars(group), 1 - beta1, beta2, 1 - beta2, step, scale, shift)


RADAM = Rule(ADAM.buffers, adam_math, radam_scalars, initial=lambda group: {"exp_avg": 0.0, "exp_avg_sq": 0.0})


class RAdam(Optimizer):
    r"""RAdam (Liu, Jiang, He, Chen, Liu, Gao, Han, ICLR 2020, arXiv:1908.03265).

    Algorithm (Alg. 2; t counted per parameter)::

        g   = ∇f(θ) + λθ                     (coupled L2; with decoupled=True: θ ← θ(1 − ηλ) instead)
        m   ← β1·m + (1 − β1)·g
        v   ← β2·v + (1 − β2)·g²
        m̂   = m / (1 − β1ᵗ)
        ρ∞  = 2 / (1 − β2) − 1
        ρ_t = ρ∞ − 2t·β2ᵗ / (1 − β2ᵗ)        (length of the approximated simple moving average)
        if ρ_t > threshold:                    (variance of the adaptive rate is tractable)
            l_t = √(1 − β2ᵗ) / (√v + ε)
            r_t = √((ρ_t − 4)(ρ_t − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρ_t))
            θ  ← θ − η·r_t·m̂·l_t
        else:
            θ  ← θ − η·m̂                       (un-adapted momentum step)

    Defaults: η = 1e-3, (β1, β2) = (0.9, 0.999), ε = 1e-8, λ = 0, threshold = 5.

    Where libraries differ:

    - threshold: the paper's Algorithm 2 rectifies when ρ_t > 4; the authors' released code, torch
      and Ranger use 5 (ρ_t > 5). We default to 5 so RAdam is a drop-in for ``torch.optim.RAdam``;
      ``threshold=4`` gives the paper's box. Values below 4 are refused: they would apply a negative
      or NaN r_t.
    - ε: the paper's l_t = √((1 − β2ᵗ)/v_t) has no ε; like the authors' code and torch we add ε to √v
      (not to √v̂ as Adam does), i.e. θ −= η r_t m̂ / (√v̂ + ε/√(1 − β2ᵗ)).

    Arguments:
        params: parameters or parameter groups.
        lr: learning rate η.
        betas: (β1, β2) decay rates of the moment estimates.
        eps: ε added to √v.
        weight_decay: λ; coupled L2 (added to the gradient) unless ``decoupled``.
        threshold: rectify when ρ_t > threshold (>= 4; see above).
        decoupled: decay the weights directly by ηλ (torch's ``decoupled_weight_decay``).
        maximize: ascend instead of descend.
        fused: run each step as one kernel compiled by ``torch.compile`` (the first step compiles; small
            parameters move into one flat buffer, each a view of it; see ``deepzen.optim._flat_pack``).

    State: ``exp_avg`` (m), ``exp_avg_sq`` (v), ``step``.
    """

    rule = RADAM

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        threshold: float = 5.0,
        decoupled: bool = False,
        maximize: bool = False,
        fused: bool = False,
    ) -> None:
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, threshold=threshold,
                        decoupled=decoupled, maximize=maximize, fused=fused)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        check_radam_group(group)
        C.check_flags(group, "maximize", "fused")
