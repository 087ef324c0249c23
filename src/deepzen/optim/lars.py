"""LARS: momentum SGD whose learning rate is scaled per layer by a trust ratio; also the shared trust
ratio helper used by LAMB."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from deepzen.optim import _checks as C
from deepzen.optim import _inplace as O
from deepzen.optim._base import Optimizer
from deepzen.optim._rule import Rule


def _ndim(p: Tensor) -> int:
    """Dimensions of the parameter behind ``p`` (a complex one is updated as its real view)."""
    return p.dim() - 1 if p._base is not None and p._base.is_complex() else p.dim()


def lars_math(p: Tensor, g: Tensor, velocity: Tensor | None, s: Any) -> None:
    """One LARS step in place over 2-D tensors whose rows are layers of one size (see :class:`LARS`);
    ``velocity`` with momentum; ``s``: :func:`lars_scalars`."""
    lr, wd, tc, eps, mu, adapt = s
    w_norm = torch.linalg.vector_norm(p, dim=1, keepdim=True)              # ‖w‖ per layer  (rows, 1)
    g_norm = torch.linalg.vector_norm(g, dim=1, keepdim=True)              # ‖g‖ per layer  (rows, 1)
    local_lr = torch.where((w_norm > 0) & (g_norm > 0), tc * w_norm / (g_norm + wd * w_norm + eps), 1.0)  # λ_l (eq. 6)
    scale = lr * (local_lr * adapt + (1 - adapt))                          # γ·λ_l (γ for an excluded layer)
    # γλ_l·g + γλ_l·β·w, not γλ_l·(g + β·w): torch 2.13's inductor fails to generate the latter for CPU
    step = O.product(g, scale).addcmul_(scale * wd, p)
    if velocity is not None:
        velocity.mul_(mu).add_(step)                                       # v ← m·v + γλ_l(g + βw)  (Alg. 1)
        step = velocity
    p.sub_(step)                                                           # w ← w − v


def lars_scalars(group: Mapping[str, Any], t: float, layer: Tensor) -> tuple[float, ...]:
    """(γ, β, η_tc, ε, m, 1 to adapt the layer); a layer excluded by ``exclude_1d`` gets β = 0 and 0."""
    skip = group["exclude_1d"] and _ndim(layer) <= 1
    return (group["lr"], 0.0 if skip else group["weight_decay"], group["trust_coefficient"], group["eps"],
            group["momentum"], 0.0 if skip else 1.0)


LARS_RULE = Rule(("momentum_buffer",), lars_math, lars_scalars,  # type: ignore[arg-type]
                 initial=lambda group: {"momentum_buffer": 0.0} if group["momentum"] else {},
                 rows=True, per_layer=True)


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
            parameters move into one flat buffer, each a view of it; see ``deepzen.optim._flat_pack``).

    State: ``momentum_buffer`` (when m > 0).
    """

    rule = LARS_RULE


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
