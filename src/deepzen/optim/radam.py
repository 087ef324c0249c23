"""RAdam: Adam with a rectified variance warm-up, and its update as a reusable function (Ranger)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from torch import Tensor

from deepzen import _tensors as T
from deepzen.optim import _checks as C
from deepzen.optim._adam_kernel import adam_kernel
from deepzen.optim._base import Batch, Optimizer, zeros_like
from deepzen.optim._compiled import FlatPack, run_kernel, scalars
from deepzen.optim._decay import decay_scalars, weight_decay_

#: The paper's bound: the variance of the adaptive rate is defined only for ρ_t > 4.
PAPER_THRESHOLD = 4.0


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
            parameters move into one flat buffer, each a view of it; see ``deepzen.optim._compiled``).

    State: ``exp_avg`` (m), ``exp_avg_sq`` (v), ``step``.
    """

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

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return radam_init_state(p)

    def _update(self, group: dict[str, Any], batch: Batch, loss: float | None) -> None:
        radam_update(group, batch)

    def _fused_step(self, group: dict[str, Any], pack: FlatPack, grad: Tensor, t: float) -> None:
        radam_fused_step(group, pack, grad, t)


# ---------------------------------------------------------------------------- reusable pieces (Ranger)
def check_radam_group(group: Mapping[str, Any]) -> None:
    """Validate the RAdam hyperparameters of ``group``: lr, betas, eps, weight_decay, threshold, decoupled."""
    C.check_moment_group(group)
    C.check_range("threshold", group["threshold"], PAPER_THRESHOLD)
    C.check_flag("decoupled", group["decoupled"])


def radam_init_state(p: Tensor) -> dict[str, Tensor]:
    """RAdam's buffers for a new parameter: ``exp_avg`` and ``exp_avg_sq``, zeros shaped like ``p``."""
    return {"exp_avg": zeros_like(p), "exp_avg_sq": zeros_like(p)}


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


def radam_update(group: Mapping[str, Any], batch: Batch) -> None:
    """One RAdam step of ``batch`` in place (the math of :class:`RAdam`, written once).

    Reads ``group["lr"]``, ``["betas"]``, ``["eps"]``, ``["weight_decay"]``, ``["decoupled"]`` and
    ``["threshold"]``; updates ``batch.params`` and the buffers ``batch["exp_avg"]``,
    ``batch["exp_avg_sq"]`` (see :func:`radam_init_state`) using each parameter's own step count
    ``batch.steps``. ``batch.grads`` are read, never written (pass already-transformed gradients,
    e.g. centralized ones, in a new :class:`Batch` or by replacing ``batch.grads``).
    """
    lr, eps, threshold = group["lr"], group["eps"], group["threshold"]
    beta1, beta2 = group["betas"]
    params, grads = batch.params, batch.grads
    grads = weight_decay_(group, params, grads)                          # θ(1 − ηλ) or g + λθ
    exp_avg, exp_avg_sq = batch["exp_avg"], batch["exp_avg_sq"]
    T.lerp_(exp_avg, grads, 1 - beta1)                                   # m ← β1 m + (1 − β1) g
    T.mul_(exp_avg_sq, beta2)                                            # v ← β2 v + (1 − β2) g²
    T.addcmul_(exp_avg_sq, grads, grads, 1 - beta2)

    rectified: list[int] = []
    scales: list[float] = []          # η r_t √(1 − β2ᵗ) / (1 − β1ᵗ) for the rectified ones
    plain: list[int] = []
    plain_scales: list[float] = []    # η / (1 − β1ᵗ) for the others
    per_step: dict[float, tuple[float | None, float]] = {}     # step count -> (r_t, 1 − β1ᵗ)
    for i, t in enumerate(batch.steps):
        if t not in per_step:
            per_step[t] = (rectification(t, beta2, threshold), 1 - beta1**t)
        r_t, bc1 = per_step[t]
        if r_t is None:
            plain.append(i)
            plain_scales.append(-lr / bc1)
        else:
            rectified.append(i)
            scales.append(-lr * r_t * math.sqrt(1 - beta2**t) / bc1)
    if rectified:
        denom = T.sqrt([exp_avg_sq[i] for i in rectified])              # √v + ε
        T.add_(denom, eps)
        T.addcdiv_([params[i] for i in rectified], [exp_avg[i] for i in rectified], denom, scales)
    if plain:                                                            # θ −= η m̂
        step = T.mul([exp_avg[i] for i in plain], plain_scales)
        T.add_([params[i] for i in plain], step)


def radam_fused_step(group: Mapping[str, Any], pack: FlatPack, grad: Tensor, t: float) -> None:
    """One RAdam step of a flat pack whose parameters have step count ``t`` (``fused=True``): Adam's
    kernel with the rectified step size, or without the denominator before rectification starts."""
    lr, beta1, beta2 = group["lr"], *group["betas"]
    r_t = rectification(t, beta2, group["threshold"])
    if r_t is None:                                                      # θ −= η m̂
        step, denom_scale, denom_shift = lr / (1 - beta1**t), 0.0, 1.0
    else:                                                                # θ −= η r_t m̂ / (√v̂ + ε)
        step, denom_scale, denom_shift = lr * r_t * math.sqrt(1 - beta2**t) / (1 - beta1**t), 1.0, group["eps"]
    s = [*decay_scalars(group), 1 - beta1, beta2, 1 - beta2, step, denom_scale, denom_shift]
    run_kernel(adam_kernel, pack.p, grad, pack.state["exp_avg"], pack.state["exp_avg_sq"], scalars(s, pack.p))
