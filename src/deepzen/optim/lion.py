"""Lion: the sign of an interpolated momentum, with decoupled weight decay."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from deepzen.optim import _checks as C
from deepzen.optim import _inplace as O
from deepzen.optim._base import Optimizer
from deepzen.optim._decay import decoupled_
from deepzen.optim._rule import Rule


def lion_kernel(p: Tensor, g: Tensor, m: Tensor, s: Any) -> None:
    """One Lion step of a flat slice in place (see :class:`Lion`); ``s``: :func:`lion_scalars`."""
    keep, lr, a1, a2 = s
    c = O.lerp(m, g, a1)                                     # c = β1 m + (1 − β1) g
    decoupled_(p, keep)                                      # θ ← θ(1 − ηλ)
    O.axpy_(p, -lr, c.sign_())                               # θ ← θ − η sign(c)
    m.lerp_(g, a2)                                           # m ← β2 m + (1 − β2) g

def lion_scalars(group: Mapping[str, Any], t: float) -> tuple[float, ...]:
    """(1 − ηλ, η, 1 − β1, 1 − β2)."""
    beta1, beta2 = group["betas"]
    return (1 - group["lr"] * group["weight_decay"], group["lr"], 1 - beta1, 1 - beta2)

LION = Rule(("exp_avg",), lion_kernel, lion_scalars)


class Lion(Optimizer):
    r"""Lion, EvoLved Sign Momentum (Chen et al., "Symbolic Discovery of Optimization Algorithms",
    NeurIPS 2023, arXiv:2302.06675).

    Algorithm (Alg. 2 of the paper)::

        c = β1·m + (1 − β1)·g                 (the interpolation the update takes the sign of)
        θ ← θ − η·(sign(c) + λθ)              (decoupled decay, on the weights before the step)
        m ← β2·m + (1 − β2)·g                 (the momentum tracks g with the slower β2)

    sign(0) = 0. Defaults: η = 1e-4, (β1, β2) = (0.9, 0.99), λ = 0 (the paper's and lion-pytorch's).

    Scale against AdamW: every coordinate of sign(c) is ±1, so the update's norm is larger than Adam's;
    the paper uses an η 3-10x smaller than AdamW's and a λ 3-10x larger, keeping ηλ (the strength of
    the decay) about the same. Where the code and the paper differ: they do not; the authors' package
    (lion-pytorch) steps exactly this rule (the tests compare them step by step). The state is one
    momentum buffer (half of Adam's memory).

    Arguments:
        params: parameters or parameter groups.
        lr: learning rate η.
        betas: (β1, β2): the interpolation for the update and the momentum's decay.
        weight_decay: λ, decoupled (θ ← θ(1 − ηλ)).
        maximize: ascend instead of descend.
        fused: run each step as one kernel compiled by ``torch.compile`` (see ``deepzen.optim._flat_pack``).

    State: ``exp_avg`` (m), ``step``.
    """

    rule = LION

    def __init__(
        self,
        params: Any,
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.9, 0.99),
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
        fused: bool = False,
    ) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay, maximize=maximize,
                                      fused=fused))

    def _check_group(self, group: dict[str, Any]) -> None:
        C.check_lr(group["lr"])
        C.check_betas(group["betas"])
        C.check_weight_decay(group["weight_decay"])
        C.check_flags(group, "maximize", "fused")

