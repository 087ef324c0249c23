"""Eve: Adam whose step is scaled by the relative change of the loss."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from deepzen.optim import _checks as C
from deepzen.optim._base import Optimizer
from deepzen.optim._decay import decay_scalars
from deepzen.optim._rule import Rule
from deepzen.optim.adam import ADAM, adam_math


def eve_scalars(group: Mapping[str, Any], t: float) -> tuple[float, ...]:
    """Eve's step as scalars of :func:`deepzen.optim.adam.adam_math`: Adam's, with the denominator
    d̃ √v̂ (d̃: the group's loss-change ratio, advanced once per step by ``_before_step``)."""
    beta1, beta2 = group["betas"]
    return (*decay_scalars(group), 1 - beta1, beta2, 1 - beta2, group["lr"] / (1 - beta1**t),
            group["d_tilde"] / (1 - beta2**t) ** 0.5, group["eps"])


EVE = Rule(ADAM.buffers, adam_math, eve_scalars, initial=lambda group: {"exp_avg": 0.0, "exp_avg_sq": 0.0})


class Eve(Optimizer):
    r"""Eve (Hayashi, Koushik, Neubig, "Eve: A Gradient Based Optimization Method with Locally and
    Globally Adaptive Learning Rates", arXiv:1611.01505 v3).

    Algorithm (Alg. 1; f_t is the loss at the current θ, from the closure; t counts optimizer steps
    for d̃ and each parameter's own steps for the bias corrections)::

        m  ← β1·m + (1 − β1)·g,   m̂ = m / (1 − β1ᵗ)
        v  ← β2·v + (1 − β2)·g²,  v̂ = v / (1 − β2ᵗ)
        d̃  = 1                                            on the first step
        d  = |f_t − f_{t−1}| / (min(f_t, f_{t−1}) − f*)    afterwards: relative change of the loss
        d̃  ← β3·d̃ + (1 − β3)·clip(d, 1/c, c)
        θ  ← θ − α·m̂ / (d̃·√v̂ + ε)

    Defaults: α = 1e-3, (β1, β2) = (0.9, 0.999), β3 = 0.999, c = 10, f* = 0, ε = 1e-8 (the paper's);
    λ = 0 (the paper has no weight decay; coupled and decoupled forms are offered as in Adam).

    The loss is needed every step: call ``step(closure)`` with a closure returning it. It must be
    finite and above f* (f* is a lower bound of the loss: 0 for the usual non-negative losses). With
    ``maximize=True`` the closure returns the objective being maximized, f* is an upper bound of it,
    and d = |f_t − f_{t−1}| / (f* − max(f_t, f_{t−1})) (the formula above applied to −f).

    Where d̃ lives: d̃ is one value for the whole optimizer (not per parameter). It and the previous
    loss are kept in every parameter group (keys ``d_tilde`` and ``prev_loss``), so ``state_dict``
    saves them and a resumed run continues exactly. Each group updates its copy from the same loss
    with its own β3, c, f* (identical copies when those are shared); a group added later starts
    from the first group's d̃ and previous loss.

    Arguments:
        params: parameters or parameter groups.
        lr: learning rate α.
        betas: (β1, β2) decay rates of the moment estimates.
        beta3: decay rate of d̃.
        c: clipping bound of d, >= 1 (d is kept in [1/c, c]).
        f_star: f*, a lower bound of the loss.
        eps: ε added to the denominator.
        weight_decay: λ; coupled L2 (added to the gradient) unless ``decoupled``.
        decoupled: decay the weights directly by αλ.
        maximize: ascend instead of descend (f* is then an upper bound of the closure's value).
        fused: run each step as one kernel compiled by ``torch.compile`` (the first step compiles; small
            parameters move into one flat buffer, each a view of it; see ``deepzen.optim._flat_pack``).

    State: ``exp_avg`` (m), ``exp_avg_sq`` (v), ``step``; per group: ``d_tilde``, ``prev_loss``.
    """

    rule = EVE

    needs_loss = True

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        beta3: float = 0.999,
        c: float = 10.0,
        f_star: float = 0.0,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        decoupled: bool = False,
        maximize: bool = False,
        fused: bool = False,
    ) -> None:
        defaults = dict(lr=lr, betas=betas, beta3=beta3, c=c, f_star=f_star, eps=eps,
                        weight_decay=weight_decay, decoupled=decoupled, maximize=maximize, fused=fused)
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group; it takes the optimizer's current d̃ and previous loss (from the first group)."""
        first = self.param_groups[0] if self.param_groups else {"d_tilde": 1.0, "prev_loss": None}
        param_group.setdefault("d_tilde", first["d_tilde"])
        param_group.setdefault("prev_loss", first["prev_loss"])
        super().add_param_group(param_group)

    def _check_group(self, group: dict[str, Any]) -> None:
        C.check_lr(group["lr"])
        C.check_betas(group["betas"])
        C.check_beta(group["beta3"], "beta3")
        C.check_range("c", group["c"], 1.0)
        C.check_range("f_star", group["f_star"], -math.inf, math.inf, low_open=True, high_open=True)
        C.check_eps(group["eps"])
        C.check_weight_decay(group["weight_decay"])
        C.check_range("d_tilde", group["d_tilde"], 0.0, math.inf, low_open=True, high_open=True)
        if group["prev_loss"] is not None:
            C.check_range("prev_loss", group["prev_loss"], -math.inf, math.inf, low_open=True, high_open=True)
        C.check_flags(group, "decoupled", "maximize", "fused")

    def _before_step(self, loss: float | None) -> None:
        if loss is None:
            raise ValueError("Eve needs the loss every step, but the closure returned None")
        if not math.isfinite(loss):
            raise ValueError(f"Eve got a non-finite loss ({loss!r}); it needs a finite loss every step")
        for group in self.param_groups:         # check everything before changing anything
            f, prev, f_star = _as_minimized(group, loss)
            if not min(f, f if prev is None else prev) > f_star:
                bound = "below f_star (an upper bound when maximize=True)" if group["maximize"] else "above f_star"
                raise ValueError(
                    f"Eve needs the loss to stay {bound}: loss {loss!r}, previous loss {group['prev_loss']!r}, "
                    f"f_star {group['f_star']!r}; set f_star to a bound of the loss (0 for non-negative losses)"
                )
        for group in self.param_groups:
            f, prev, f_star = _as_minimized(group, loss)
            if prev is not None:
                c = group["c"]
                d = abs(f - prev) / (min(f, prev) - f_star)                  # relative change of f
                d = min(max(d, 1.0 / c), c)                                   # clip to [1/c, c]
                group["d_tilde"] = group["beta3"] * group["d_tilde"] + (1 - group["beta3"]) * d
            group["prev_loss"] = loss


def _as_minimized(group: dict[str, Any], loss: float) -> tuple[float, float | None, float]:
    """(f_t, f_{t−1}, f*) of the minimized objective: negated when the group maximizes."""
    prev, f_star = group["prev_loss"], group["f_star"]
    if not group["maximize"]:
        return loss, prev, f_star
    return -loss, None if prev is None else -prev, -f_star
