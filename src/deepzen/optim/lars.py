"""LARS: momentum SGD whose learning rate is scaled per layer by a trust ratio; also the shared trust
ratio helper used by LAMB."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from deepzen import _tensors as T
from deepzen.optim import _checks as C
from deepzen.optim._base import Batch, Optimizer, zeros_like
from deepzen.optim._compiled import FlatPack, run_kernel, scalars


def layer_norms(xs: list[Tensor]) -> Tensor:
    """The Euclidean norm of each tensor, stacked into one 1-d tensor (no host sync)."""  # (N,)
    return torch.stack(T.norm(xs))


def trust_ratios(ratio: Tensor, *norms: Tensor) -> Tensor:
    """Per-layer trust ratios: ``ratio`` where all ``norms`` are positive, else 1 (all shaped (N,)).

    The 1 is the convention of LARS and LAMB implementations for a layer whose weights (e.g. a
    zero-initialized bias) or update are all zero, where the ratio would be 0 or undefined.
    """
    positive = norms[0] > 0                                              # (N,)
    for n in norms[1:]:
        positive &= n > 0
    return torch.where(positive, ratio, torch.ones_like(ratio))


def lars_kernel(p: Tensor, g: Tensor, velocity: Tensor | None, s: Tensor) -> None:
    """One LARS step in place (``fused=True``) over 2-D tensors whose rows are layers of one size::

        λ_l = η_tc·‖w‖ / (‖g‖ + β‖w‖ + ε)   (per row; 1 where a norm is 0, or for an excluded layer)
        v ← m·v + γ·λ_l·(g + β·w);  w ← w − v      (no buffer: w ← w − γ·λ_l·(g + β·w))

    s = (γ, β, η_tc, ε, m, 1 to adapt the rows or 0 for excluded ones (then also β = 0)).
    """
    w_norm = torch.linalg.vector_norm(p, dim=1, keepdim=True)
    g_norm = torch.linalg.vector_norm(g, dim=1, keepdim=True)
    local_lr = torch.where((w_norm > 0) & (g_norm > 0), s[2] * w_norm / (g_norm + s[1] * w_norm + s[3]), 1.0)
    scale = s[0] * (local_lr * s[5] + (1 - s[5]))                      # γ·λ_l (rows)
    # γλ_l·g + γλ_l·β·w, not γλ_l·(g + β·w): torch 2.13's inductor fails to generate the latter for CPU
    step = scale * g + (scale * s[1]) * p
    if velocity is not None:
        step = velocity * s[4] + step
        velocity.copy_(step)
    p.copy_(p - step)


def _ndim(p: Tensor) -> int:
    """Dimensions of the parameter behind ``p`` (a complex one is updated as its real view)."""
    return p.dim() - 1 if p._base is not None and p._base.is_complex() else p.dim()


class LARS(Optimizer):
    r"""LARS, layer-wise adaptive rate scaling (You, Gitman, Ginsburg 2017, arXiv:1708.03888, Alg. 1).

    Algorithm, for each parameter tensor ("layer") w with gradient g::

        λ_l = η_tc · ‖w‖ / (‖g‖ + β·‖w‖)          (local lr; 1 where ‖w‖ = 0 or ‖g‖ = 0)
        v   ← m·v + γ·λ_l·(g + β·w)               (momentum, global lr γ inside the buffer)
        w   ← w − v

    with η_tc the trust coefficient, β the weight decay and γ the global learning rate (``lr``; the
    paper decays it polynomially, which any torch LR scheduler can do here). With ``exclude_1d=True``
    tensors with at most one dimension (biases, normalization weights, scalars) get neither the trust
    ratio nor weight decay: v ← m·v + γ·g, the common practice of large-batch recipes (SimCLR, BYOL,
    ...). The paper applies LARS to every layer, so the default is False.

    Defaults: η_tc = 0.001, m = 0.9 (the paper's); β = 5e-4 (the weight decay of the paper's
    experiments); γ = 1.0: the paper tunes the base lr per model and batch size and gives no single
    value; with γ = 1 each step moves a layer by about η_tc·‖w‖.

    Where libraries differ: the learning rate sits inside the momentum buffer (the paper's form), so a
    change of γ enters the velocity gradually; some ports (e.g. NVIDIA's LARC) scale torch's SGD
    instead, with γ outside the buffer and the decay outside the ratio.

    Arguments:
        params: parameters or parameter groups.
        lr: global learning rate γ.
        momentum: m in [0, 1).
        weight_decay: β, coupled (added to the gradient and to the ratio's denominator).
        trust_coefficient: η_tc, how far a layer may move relative to its norm.
        eps: added to the denominator of λ_l (0 in the paper).
        exclude_1d: no trust ratio and no decay for tensors with ``ndim <= 1``.
        maximize: ascend instead of descend.
        fused: run each step as one kernel compiled by ``torch.compile`` (the first step compiles; small
            parameters move into one flat buffer, each a view of it; see ``deepzen.optim._compiled``).

    State: ``momentum_buffer`` (when m > 0).
    """

    elementwise = False

    def __init__(
        self,
        params: Any,
        lr: float = 1.0,
        momentum: float = 0.9,
        weight_decay: float = 5e-4,
        trust_coefficient: float = 1e-3,
        eps: float = 0.0,
        *,
        exclude_1d: bool = False,
        maximize: bool = False,
        fused: bool = False,
    ) -> None:
        defaults = dict(lr=lr, momentum=momentum, weight_decay=weight_decay,
                        trust_coefficient=trust_coefficient, eps=eps, exclude_1d=exclude_1d,
                        maximize=maximize, fused=fused)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        C.check_lr(group["lr"])
        C.check_range("momentum", group["momentum"], 0.0, 1.0, high_open=True)
        C.check_weight_decay(group["weight_decay"])
        C.check_range("trust_coefficient", group["trust_coefficient"], 0.0, low_open=True)
        C.check_eps(group["eps"])
        C.check_flags(group, "exclude_1d", "maximize", "fused")

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {"momentum_buffer": zeros_like(p)} if group["momentum"] else {}

    def _update(self, group: dict[str, Any], batch: Batch, loss: float | None) -> None:
        excluded = [i for i, p in enumerate(batch.params) if group["exclude_1d"] and _ndim(p) <= 1]
        adapted = [i for i in range(len(batch)) if i not in set(excluded)]
        if adapted:
            self._step(group, batch.select(adapted), adapt=True)
        if excluded:
            self._step(group, batch.select(excluded), adapt=False)

    def _step(self, group: dict[str, Any], batch: Batch, *, adapt: bool) -> None:
        lr, wd, momentum = group["lr"], group["weight_decay"], group["momentum"]
        params, grads = batch.params, batch.grads
        if adapt:
            w_norm, g_norm = layer_norms(params), layer_norms(grads)      # ‖w‖, ‖g‖   (N,)
            local_lr = group["trust_coefficient"] * w_norm / (g_norm + wd * w_norm + group["eps"])
            scale = (trust_ratios(local_lr, w_norm, g_norm) * lr).unbind()  # γ·λ_l
            step = T.add(grads, params, alpha=wd) if wd else T.clone(grads)   # g + β·w
            T.mul_(step, scale)                                             # γ·λ_l·(g + β·w)
        else:
            step = T.mul(grads, lr)                                         # γ·g
        if momentum:
            T.mul_(batch["momentum_buffer"], momentum)                      # v ← m·v + step
            T.add_(batch["momentum_buffer"], step)
            step = batch["momentum_buffer"]
        T.sub_(params, step)                                                # w ← w − v

    def _fused_step(self, group: dict[str, Any], pack: FlatPack, grad: Tensor, t: float) -> None:
        values = [group["lr"], group["weight_decay"], group["trust_coefficient"], group["eps"], group["momentum"]]
        adapted, excluded = scalars([*values, 1.0], pack.p), scalars([values[0], 0.0, *values[2:], 0.0], pack.p)
        bufs = pack.rows(pack.state["momentum_buffer"]) if "momentum_buffer" in pack.state else [None] * len(pack.runs)
        for (_, _, _, first), p, g, buf in zip(pack.runs, pack.rows(pack.p), pack.rows(grad), bufs):
            skip = group["exclude_1d"] and _ndim(pack.params[first]) <= 1
            run_kernel(lars_kernel, p, g, buf, excluded if skip else adapted)
