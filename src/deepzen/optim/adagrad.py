"""Adagrad: per-coordinate learning rates from the sum of squared gradients."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from deepzen import _tensors as T
from deepzen.optim import _checks as C
from deepzen.optim import _inplace as O
from deepzen.optim._base import Batch, Optimizer
from deepzen.optim._decay import coupled
from deepzen.optim._rule import Rule


def adagrad_math(p: Tensor, g: Tensor, total: Tensor, s: Any) -> None:
    """One Adagrad step of a flat slice in place (see :class:`Adagrad`); ``s``: :func:`adagrad_scalars`."""
    lam, eps, step = s
    g = coupled(g, p, lam)                                   # g + λθ (coupled L2)
    total.addcmul_(g, g)                                     # G ← G + g²
    O.addcdiv_(p, -step, g, O.sqrt_denominator(total, 1.0, eps))  # θ ← θ − η_t g / (√G + ε)


def adagrad_scalars(group: Mapping[str, Any], t: float) -> tuple[float, ...]:
    """(λ, ε, η_t = η / (1 + (t − 1)·lr_decay))."""
    return (group["weight_decay"], group["eps"], group["lr"] / (1 + (t - 1) * group["lr_decay"]))


ADAGRAD = Rule(("sum",), adagrad_math, adagrad_scalars,
               initial=lambda group: {"sum": group["initial_accumulator_value"]})


class Adagrad(Optimizer):
    r"""Adagrad (Duchi, Hazan, Singer, JMLR 2011), diagonal form.

    Algorithm (t counted per parameter)::

        g   = ∇f(θ) + λθ                    (coupled L2 weight decay)
        G   ← G + g²                        (sum of squared gradients, G₀ = initial_accumulator_value)
        η_t = η / (1 + (t − 1)·lr_decay)    (torch's optional decay; 0 = the paper's constant η)
        θ   ← θ − η_t · g / (√G + ε)        (the paper's δ is our ε, outside the square root)

    Defaults: η = 1e-2, G₀ = 0 (the paper's and torch's), ε = 1e-10 (torch's), λ = 0, lr_decay = 0.

    Where libraries differ: Keras and optax start the accumulator at 0.1 (``initial_accumulator_value
    =0.1``) and Keras uses ε = 1e-7; the ε placement (outside the square root) is the same in torch,
    Keras and the paper.

    Arguments:
        params: parameters or parameter groups.
        lr: learning rate η.
        lr_decay: η_t = η / (1 + (t − 1)·lr_decay), ≥ 0.
        weight_decay: λ, coupled L2 (added to the gradient).
        initial_accumulator_value: G₀ ≥ 0.
        eps: ε added to √G.
        maximize: ascend instead of descend.
        fused: use torch's fused kernel (same math, one memory pass); ``None`` = wherever supported.

    Sparse gradients (``nn.Embedding(sparse=True)``) are taken, as torch's Adagrad takes them: G and θ
    change only where the gradient has entries (elsewhere g = 0 leaves both as they are). With
    weight decay, which touches every element, the gradient is made dense first.

    State: ``sum`` (G).
    """

    rule = ADAGRAD

    sparse_gradients = True

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
        fused: bool | None = None,
    ) -> None:
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize,
                        fused=fused)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        C.check_lr(group["lr"])
        C.check_range("lr_decay", group["lr_decay"], 0.0)
        C.check_weight_decay(group["weight_decay"])
        C.check_range("initial_accumulator_value", group["initial_accumulator_value"], 0.0)
        C.check_eps(group["eps"])
        C.check_flag("maximize", group["maximize"])
        if group["fused"] is not None:
            C.check_flag("fused", group["fused"])

    def _fused_update(self, group: dict[str, Any], batch: Batch) -> None:
        # The kernel applies maximize itself; batch.grads were already negated, so pass False.
        T.fused_adagrad_(
            batch.params, batch.grads, batch["sum"], batch.step_tensors,
            lr=group["lr"], lr_decay=group["lr_decay"], weight_decay=group["weight_decay"],
            eps=group["eps"], maximize=False,
        )

    def _update_sparse(self, group: dict[str, Any], batch: Batch, loss: float | None) -> None:
        if group["weight_decay"]:
            super()._update_sparse(group, batch, loss)
            return
        lr, lr_decay, eps = group["lr"], group["lr_decay"], group["eps"]
        for p, grad, total, t in zip(batch.params, batch.grads, batch["sum"], batch.steps):
            grad = grad.coalesce()
            rows, values = grad.indices(), grad.values()             # (sparse dims, nnz), (nnz, *dense dims)

            def at_rows(v: Tensor) -> Tensor:
                return torch.sparse_coo_tensor(rows, v, grad.shape, check_invariants=False, is_coalesced=True)

            total.add_(at_rows(values * values))                         # G ← G + g²  (rows of g only)
            std = total.sparse_mask(grad).values().sqrt_().add_(eps)    # √G + ε      (rows of g only)
            p.add_(at_rows(values / std), alpha=-lr / (1 + (t - 1) * lr_decay))  # θ ← θ − η_t g / (√G + ε)
