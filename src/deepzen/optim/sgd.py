"""SGD, heavy-ball momentum and Nesterov momentum: one algorithm, three named forms."""

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


def sgd_math(p: Tensor, g: Tensor, buf: Tensor | None, s: Any) -> None:
    """One SGD step of a flat slice in place (see :class:`SGD`); ``buf`` with momentum;
    ``s``: :func:`sgd_scalars`."""
    lam, mu, into_buf, on_grad, on_buf = s
    g = coupled(g, p, lam)                                   # g + λθ (coupled L2)
    if buf is None:
        O.axpy_(p, on_grad, g)                               # θ ← θ − ηg
        return
    O.axpy_(buf.mul_(mu), into_buf, g)                       # b ← μb + (1 − τ)g   (b = g at t = 1)
    if not O.is_zero(on_grad):
        O.axpy_(p, on_grad, g)                               # Nesterov: θ ← θ − ηg ...
    O.axpy_(p, on_buf, buf)                                  # ... θ ← θ − ημb; heavy ball: θ ← θ − ηb


def sgd_scalars(group: Mapping[str, Any], t: float) -> tuple[float, ...]:
    """(λ, μ, g's weight into b, g's weight on θ, b's weight on θ). torch's form keeps b in units of g
    and applies −η; with ``lr_in_buffer`` the buffer holds v = −η·b and is applied with weight 1."""
    lr, mu, tau = group["lr"], group["momentum"], group["dampening"]
    if not mu:
        return (group["weight_decay"], 0.0, 0.0, -lr, 0.0)
    scale, apply = (-lr, 1.0) if group["lr_in_buffer"] else (1.0, -lr)
    into_buf = scale if t == 1 else scale * (1 - tau)
    if group["nesterov"]:
        return (group["weight_decay"], mu, into_buf, apply * scale, apply * mu)
    return (group["weight_decay"], mu, into_buf, 0.0, apply)


SGD_RULE = Rule(("momentum_buffer",), sgd_math, sgd_scalars,
                initial=lambda group: {"momentum_buffer": 0.0} if group["momentum"] else {})


class SGD(Optimizer):
    r"""Stochastic gradient descent (Robbins & Monro 1951) with optional momentum (Polyak 1964) and
    Nesterov momentum (Nesterov 1983; Sutskever, Martens, Dahl, Hinton, ICML 2013).

    Algorithm (torch's form, the default; t counted per parameter)::

        g  = ∇f(θ) + λθ                       (coupled L2 weight decay)
        b  ← g                     if t = 1   (a new buffer starts at the gradient)
        b  ← μ·b + (1 − τ)·g       otherwise  (heavy ball, dampening τ)
        d  = g + μ·b               if nesterov, else d = b   (d = g when μ = 0)
        θ  ← θ − η·d

    With ``lr_in_buffer=True`` the buffer holds the step itself (the form of Sutskever et al. 2013,
    Keras and the LARS paper)::

        v  ← −η·g                  if t = 1
        v  ← μ·v − η(1 − τ)·g      otherwise
        θ  ← θ + v                 (nesterov: θ ← θ − η·g + μ·v)

    The two forms are the same sequence of iterates (v = −η·b) while η is constant. They differ when η
    changes (a schedule): torch's form applies the new η to the whole buffer at once, the other lets a
    change of η enter the velocity gradually. Do not switch ``lr_in_buffer`` during training.

    Defaults: η = 1e-2 (Keras's; the papers give none, torch uses 1e-3), μ = 0, τ = 0, λ = 0.

    Arguments:
        params: parameters or parameter groups.
        lr: learning rate η.
        momentum: μ in [0, 1); 0 is plain SGD.
        dampening: τ in [0, 1], scales the gradient's share of the buffer by 1 − τ.
        weight_decay: λ, coupled L2 (added to the gradient).
        nesterov: Nesterov momentum; needs μ > 0 and τ = 0.
        lr_in_buffer: keep η inside the buffer (see above).
        maximize: ascend instead of descend.
        fused: use torch's fused kernel (same math; torch's form only); ``None`` = wherever supported.

    Sparse gradients (``nn.Embedding(sparse=True)``) are taken, as torch's SGD takes them (with
    weight decay the gradient is made dense first: the decay touches every element).

    State: ``momentum_buffer`` (only when μ > 0).
    """

    rule = SGD_RULE

    sparse_gradients = True

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        lr_in_buffer: bool = False,
        maximize: bool = False,
        fused: bool | None = None,
    ) -> None:
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, lr_in_buffer=lr_in_buffer, maximize=maximize, fused=fused)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        C.check_lr(group["lr"])
        C.check_range("momentum", group["momentum"], 0.0, 1.0, high_open=True)
        C.check_range("dampening", group["dampening"], 0.0, 1.0)
        C.check_weight_decay(group["weight_decay"])
        C.check_flags(group, "nesterov", "lr_in_buffer", "maximize")
        if group["fused"] is not None:
            C.check_flag("fused", group["fused"])
        if group["nesterov"] and group["momentum"] == 0:
            raise ValueError("invalid momentum: 0; Nesterov momentum (nesterov=True) needs momentum in (0, 1)")
        if group["nesterov"] and group["dampening"] != 0:
            raise ValueError(f"invalid dampening: {group['dampening']!r}; Nesterov momentum (nesterov=True) "
                             "requires dampening 0")
        if group["fused"] and group["lr_in_buffer"]:
            raise ValueError("invalid fused: True; torch's fused kernel keeps lr outside the buffer, so it "
                             "needs lr_in_buffer=False (use fused=None or False)")

    def _use_fused(self, group: dict[str, Any], device: torch.device, dtype: torch.dtype) -> bool:
        if _plain(group):
            return True             # θ −= ηg: torch's one multi-tensor op (see _fused_update)
        return not group["lr_in_buffer"] and super()._use_fused(group, device, dtype)

    def _fused_update(self, group: dict[str, Any], batch: Batch) -> None:
        if _plain(group):
            # One pass over each tensor, no packing: the rule would first copy the gradients into its
            # flat pack, which costs as much as the step (measured 2.3x torch's time on 296 tensors).
            T.add_scaled_(batch.params, batch.grads, -group["lr"])
            return
        momentum = group["momentum"]
        # The kernel's is_first_step (b = g) covers a whole call: split new buffers from old ones.
        first = [i for i, t in enumerate(batch.steps) if t == 1] if momentum else []
        rest = [i for i, t in enumerate(batch.steps) if not momentum or t != 1]
        for positions, is_first in [(first, True), (rest, False)]:
            if not positions:
                continue
            part = batch if len(positions) == len(batch) else batch.select(positions)
            # The kernel applies maximize itself; batch.grads were already negated, so pass False.
            T.fused_sgd_(
                part.params, part.grads, part["momentum_buffer"] if momentum else [],
                lr=group["lr"], weight_decay=group["weight_decay"], momentum=momentum,
                dampening=group["dampening"], nesterov=group["nesterov"], maximize=False,
                is_first_step=is_first,
            )


def _plain(group: dict[str, Any]) -> bool:
    """Plain SGD without weight decay and no kernel asked for: θ −= ηg as torch's multi-tensor add."""
    return group["fused"] is None and not group["momentum"] and not group["weight_decay"]


class Momentum(SGD):
    r"""SGD with heavy-ball momentum (Polyak 1964; Sutskever et al., ICML 2013).

    ``b ← μ·b + (1 − τ)·g`` (``b = g`` on a parameter's first step), ``θ ← θ − η·b``, with
    g = ∇f(θ) + λθ. Defaults: η = 1e-2, μ = 0.9 (Sutskever et al.'s common value), τ = 0, λ = 0.
    ``lr_in_buffer=True`` gives the form ``v ← μv − ηg; θ ← θ + v``; see :class:`SGD` for the
    difference (only under a changing η).
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        momentum: float = 0.9,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        *,
        lr_in_buffer: bool = False,
        maximize: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, lr, momentum, dampening, weight_decay, nesterov=False,
                         lr_in_buffer=lr_in_buffer, maximize=maximize, fused=fused)


class NAG(SGD):
    r"""SGD with Nesterov accelerated gradient (Nesterov 1983; Sutskever et al., ICML 2013).

    In the gradient-at-current-point form (Bengio, Boulanger-Lewandowski, Pascanu 2013; torch)::

        b ← μ·b + g          (b = g on a parameter's first step)
        θ ← θ − η·(g + μ·b)

    with g = ∇f(θ) + λθ. Dampening must be 0 (any other value is a ``ValueError``). Defaults: η = 1e-2,
    μ = 0.9, λ = 0. ``lr_in_buffer=True`` gives ``v ← μv − ηg; θ ← θ − ηg + μv``; see :class:`SGD`.
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        *,
        dampening: float = 0.0,
        lr_in_buffer: bool = False,
        maximize: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, lr, momentum, dampening, weight_decay, nesterov=True,
                         lr_in_buffer=lr_in_buffer, maximize=maximize, fused=fused)
