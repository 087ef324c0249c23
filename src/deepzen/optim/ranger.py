"""Ranger: RAdam inside Lookahead, with optional gradient centralization."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from deepzen.optim import _checks as C
from deepzen.optim._base import Optimizer
from deepzen.optim.lookahead import check_lookahead_group, with_lookahead
from deepzen.optim.radam import RADAM, check_radam_group


def centralize_if_asked(group: Mapping[str, Any], params: list[Tensor], grads: list[Tensor]) -> list[Tensor]:
    """Ranger's ``before`` step: the gradients centralized where the group has ``use_gc``."""
    return centralized(grads, params) if group["use_gc"] else grads


def centralized(grads: list[Tensor], params: list[Tensor]) -> list[Tensor]:
    """Gradient centralization (Yong, Huang, Hua, Zhang, ECCV 2020, arXiv:2004.01461): for tensors
    with more than one dimension, g − mean(g) over all dimensions but the first (per output unit).

    Returns new tensors where centralized (``grads`` are not modified); others are passed through.
    A complex parameter (updated as its real view, last axis = real/imaginary) keeps that axis.
    """
    out = []
    for g, p in zip(grads, params):
        complex_view = p._base is not None and p._base.is_complex()
        ndim = g.dim() - 1 if complex_view else g.dim()
        if ndim > 1:
            g = g - g.mean(dim=tuple(range(1, ndim)), keepdim=True)       # (out, *rest) − (out, 1, ...)
        out.append(g)
    return out


RANGER = with_lookahead(RADAM).with_hooks(before=centralize_if_asked)


class Ranger(Optimizer):
    r"""Ranger (Wright 2019, no paper): RAdam (Liu et al., ICLR 2020, arXiv:1908.03265) inside
    Lookahead (Zhang et al., NeurIPS 2019, arXiv:1907.08610), optionally on centralized gradients
    (Yong et al., ECCV 2020).

    Algorithm, per parameter (t counted per parameter)::

        g   = g − mean of g over all dims but the first     (use_gc=True, tensors with ndim > 1)
        θ   ← θ(1 − ηλ)                                     (decoupled decay, as Ranger's code)
        m   ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²
        ρ∞  = 2/(1 − β2) − 1,      ρ_t = ρ∞ − 2t·β2ᵗ/(1 − β2ᵗ)
        if ρ_t > threshold:  r_t = √((ρ_t − 4)(ρ_t − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρ_t))
                             θ ← θ − η·r_t·√(1 − β2ᵗ)/(1 − β1ᵗ) · m/(√v + ε)
        else:                θ ← θ − η·m/(1 − β1ᵗ)          (never a negative or NaN r_t)
        every k steps:       φ ← φ + α(θ − φ);  θ ← φ        (φ₀ = θ before the first step)

    The rule is RAdam's (:data:`deepzen.optim.radam.RADAM`; see :class:`~deepzen.optim.radam.RAdam`
    for its conventions: ε added to √v, threshold >= 4 enforced) inside
    :func:`deepzen.optim.lookahead.with_lookahead`, with centralization as its ``before`` step.

    Defaults (Ranger's): η = 1e-3, (β1, β2) = (0.95, 0.999), ε = 1e-5, α = 0.5, k = 6, threshold 5,
    λ = 0, no gradient centralization (Ranger 2019; its 2020 version turns ``use_gc`` on).

    Where libraries differ: a known peer implementation applies a step size of −1 while ρ_t is below
    the threshold, ascending the loss during the first steps; here that phase is RAdam's plain
    momentum step. ``decoupled=False`` adds λθ to the gradient instead (L2).

    Arguments:
        params: parameters or parameter groups.
        lr: learning rate η.
        betas: (β1, β2) decay rates of the moment estimates.
        eps: ε added to √v.
        weight_decay: λ; decoupled unless ``decoupled=False``.
        alpha: α, Lookahead's step of the slow weights.
        k: steps between Lookahead synchronizations.
        threshold: rectify when ρ_t > threshold (>= 4).
        use_gc: centralize the gradients of tensors with more than one dimension.
        decoupled: decay the weights directly (Ranger's form) rather than adding λθ to the gradient.
        maximize: ascend instead of descend.
        fused: run each step as one kernel compiled by ``torch.compile`` (the first step compiles; small
            parameters move into one flat buffer, each a view of it; see ``deepzen.optim._flat_pack``).

    State: ``exp_avg``, ``exp_avg_sq``, ``slow_param``.
    """

    rule = RANGER

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.95, 0.999),
        eps: float = 1e-5,
        weight_decay: float = 0.0,
        *,
        alpha: float = 0.5,
        k: int = 6,
        threshold: float = 5.0,
        use_gc: bool = False,
        decoupled: bool = True,
        maximize: bool = False,
        fused: bool = False,
    ) -> None:
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, alpha=alpha, k=k,
                        threshold=threshold, use_gc=use_gc, decoupled=decoupled, maximize=maximize,
                        fused=fused)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        check_radam_group(group)
        check_lookahead_group(group)
        C.check_flags(group, "use_gc", "maximize", "fused")
