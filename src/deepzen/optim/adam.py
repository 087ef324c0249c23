"""Adam, AdamW and AMSGrad: one algorithm, three named forms."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from deepzen import _tensors as T
from deepzen.optim import _checks as C
from deepzen.optim import _inplace as O
from deepzen.optim._base import Batch, Optimizer
from deepzen.optim._decay import coupled, decay_scalars, decoupled_
from deepzen.optim._rule import Rule


def adam_math(p: Tensor, g: Tensor, m: Tensor, v: Tensor, vmax: Tensor | None, s: Any) -> None:
    """One Adam step of a flat slice in place (see :class:`Adam`); ``s``: :func:`adam_scalars`."""
    lam, keep, a1, b2, a2, step, bc2, eps = s
    g = coupled(g, p, lam)                                   # g + λθ (coupled L2)
    decoupled_(p, keep)                                      # θ ← θ(1 − ηλ) (AdamW)
    m.lerp_(g, a1)                                           # m ← β1 m + (1 − β1) g        (Alg. 1)
    O.addcmul_(v.mul_(b2), a2, g, g)                         # v ← β2 v + (1 − β2) g²       (Alg. 1)
    if vmax is not None:
        O.maximum_(vmax, v)                                  # v̂max ← max(v̂max, v)         (AMSGrad)
        v = vmax
    # RAdam before its rectification starts passes scale 0 and ε = 1: the denominator is 1 (an eager
    # rule then touches no tensor for it)
    d = eps if O.is_zero(bc2) else O.sqrt_denominator(v, bc2, eps)
    O.addcdiv_(p, -step, m, d)                               # θ −= η m̂ / (√v̂ + ε)        (Alg. 1)


def adam_scalars(group: Mapping[str, Any], t: float) -> tuple[float, ...]:
    """(λ coupled, 1 − ηλ decoupled, 1 − β1, β2, 1 − β2, η/(1 − β1ᵗ), 1/√(1 − β2ᵗ), ε)."""
    beta1, beta2 = group["betas"]
    return (*decay_scalars(group), 1 - beta1, beta2, 1 - beta2, group["lr"] / (1 - beta1**t),
            (1 - beta2**t) ** -0.5, group["eps"])


def _adam_buffers(group: Mapping[str, Any]) -> dict[str, float]:
    return {"exp_avg": 0.0, "exp_avg_sq": 0.0, **({"max_exp_avg_sq": 0.0} if group["amsgrad"] else {})}


ADAM = Rule(("exp_avg", "exp_avg_sq", "max_exp_avg_sq"), adam_math, adam_scalars, initial=_adam_buffers)


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, ICLR 2015, arXiv:1412.6980), with optional AMSGrad and decoupled decay.

    Algorithm (t counted per parameter)::

        g  = ∇f(θ) + λθ                      (coupled L2; with decoupled=True: θ ← θ(1 − ηλ) instead)
        m  ← β1·m + (1 − β1)·g               (Alg. 1, first moment)
        v  ← β2·v + (1 − β2)·g²              (Alg. 1, second moment)
        v̂max ← max(v̂max, v)                  (amsgrad=True only: Reddi et al. 2018)
        θ  ← θ − η·(m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε)

    Defaults: η = 1e-3, (β1, β2) = (0.9, 0.999), ε = 1e-8, λ = 0 (the paper's).

    Where libraries differ: ε is added after the square root of the bias-corrected v (the paper's
    Algorithm 1; torch and Keras agree, optax's ``eps_root`` puts one inside). With ``amsgrad`` the
    maximum is taken of the raw v and then bias-corrected (torch's form); see :class:`AMSGrad`.

    Arguments:
        params: parameters or parameter groups.
        lr: learning rate η.
        betas: (β1, β2) decay rates of the moment estimates.
        eps: ε added to the denominator.
        weight_decay: λ; coupled L2 (added to the gradient) unless ``decoupled``.
        amsgrad: keep the running maximum of v (state ``max_exp_avg_sq``).
        decoupled: decay the weights directly by ηλ (AdamW) instead of adding λθ to the gradient.
        maximize: ascend instead of descend.
        fused: use torch's fused kernel (same math, one memory pass); ``None`` = wherever supported.
    """

    rule = ADAM

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        amsgrad: bool = False,
        decoupled: bool = False,
        maximize: bool = False,
        fused: bool | None = None,
    ) -> None:
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        decoupled=decoupled, maximize=maximize, fused=fused)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        C.check_moment_group(group)
        C.check_flags(group, "amsgrad", "decoupled", "maximize")
        if group["fused"] is not None:
            C.check_flag("fused", group["fused"])

    def _fused_update(self, group: dict[str, Any], batch: Batch) -> None:
        beta1, beta2 = group["betas"]
        # The kernel applies maximize itself; batch.grads were already negated, so pass False.
        T.fused_adam_(
            batch.params, batch.grads, batch["exp_avg"], batch["exp_avg_sq"],
            batch["max_exp_avg_sq"] if group["amsgrad"] else [], batch.step_tensors,
            lr=group["lr"], beta1=beta1, beta2=beta2, weight_decay=group["weight_decay"],
            eps=group["eps"], amsgrad=group["amsgrad"], maximize=False, decoupled=group["decoupled"],
        )


class AdamW(Adam):
    r"""AdamW (Loshchilov & Hutter, ICLR 2019, arXiv:1711.05101): Adam with decoupled weight decay.

    ``θ ← θ(1 − ηλ)`` before the Adam step, instead of adding λθ to the gradient. The paper writes the
    decay as ``η_t λ θ`` with η_t the schedule multiplier; like torch and Keras we multiply by the
    learning rate, so λ is relative to η. Defaults: η = 1e-3, (0.9, 0.999), ε = 1e-8, λ = 1e-2.
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        *,
        amsgrad: bool = False,
        maximize: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad=amsgrad, decoupled=True,
                         maximize=maximize, fused=fused)


class AMSGrad(Adam):
    r"""AMSGrad (Reddi, Kale, Kumar, ICLR 2018): Adam whose second moment never decreases.

    ``v̂max ← max(v̂max, v)`` and the step uses v̂max in place of v. Reddi et al.'s Algorithm 2 has no
    bias correction; like torch and Keras we keep Adam's (maximum of the raw v, then divided by
    1 − β2ᵗ), which changes only the first steps and matches the fused kernel. Defaults as Adam.
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        decoupled: bool = False,
        maximize: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad=True, decoupled=decoupled,
                         maximize=maximize, fused=fused)

