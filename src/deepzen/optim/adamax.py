"""AdaMax: Adam with an infinity-norm second moment."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from deepzen import _tensors as T
from deepzen.optim import _checks as C
from deepzen.optim._decay import weight_decay_
from deepzen.optim._base import Batch, Optimizer, zeros_like

#: Where ε goes: "max" = inside the running maximum (torch), "denominator" = added to u (Keras).
EPS_PLACEMENTS = ("max", "denominator")


class AdaMax(Optimizer):
    r"""AdaMax (Kingma & Ba, ICLR 2015, arXiv:1412.6980, §7.1, Algorithm 2).

    Algorithm (t counted per parameter)::

        g  = ∇f(θ) + λθ                      (coupled L2; with decoupled=True: θ ← θ(1 − ηλ) instead)
        m  ← β1·m + (1 − β1)·g
        u  ← max(β2·u, |g| + ε)              (eps_placement="max", the default; torch's form)
        u  ← max(β2·u, |g|)                  (eps_placement="denominator"; Keras's form ...)
        θ  ← θ − (η / (1 − β1ᵗ))·m / u       (... which divides by u + ε here)

    Defaults: η = 2e-3, (β1, β2) = (0.9, 0.999) (the paper's), ε = 1e-8, λ = 0.

    Where libraries differ: the paper has no ε; where a coordinate has seen only zero gradients,
    u = 0 and its step is 0/0. The default puts ε inside the maximum as torch does, so u >= ε always
    and this matches ``torch.optim.Adamax``; ``eps_placement="denominator"`` divides by u + ε instead
    (Keras). ``eps=0`` with either placement is the paper's exact update.

    Arguments:
        params: parameters or parameter groups.
        lr: learning rate η.
        betas: (β1, β2) decay rates of m and of the infinity norm u.
        eps: ε (see above).
        weight_decay: λ; coupled L2 (added to the gradient) unless ``decoupled``.
        eps_placement: "max" or "denominator" (see above).
        decoupled: decay the weights directly by ηλ.
        maximize: ascend instead of descend.

    State: ``exp_avg`` (m), ``exp_inf`` (u), ``step``.
    """

    def __init__(
        self,
        params: Any,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        eps_placement: str = "max",
        decoupled: bool = False,
        maximize: bool = False,
    ) -> None:
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, eps_placement=eps_placement,
                        decoupled=decoupled, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        C.check_moment_group(group)
        C.check_choice("eps_placement", group["eps_placement"], EPS_PLACEMENTS)
        C.check_flags(group, "decoupled", "maximize")

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {"exp_avg": zeros_like(p), "exp_inf": zeros_like(p)}

    def _update(self, group: dict[str, Any], batch: Batch, loss: float | None) -> None:
        lr, eps = group["lr"], group["eps"]
        beta1, beta2 = group["betas"]
        params, grads = batch.params, batch.grads
        grads = weight_decay_(group, params, grads)                      # θ(1 − ηλ) or g + λθ
        T.lerp_(batch["exp_avg"], grads, 1 - beta1)                      # m ← β1 m + (1 − β1) g
        exp_inf = batch["exp_inf"]
        T.mul_(exp_inf, beta2)                                           # u ← max(β2 u, |g| (+ ε))
        abs_grad = T.abs(grads)
        in_max = group["eps_placement"] == "max"
        if in_max and eps:
            T.add_(abs_grad, eps)
        T.maximum_(exp_inf, abs_grad)
        denom = exp_inf
        if not in_max and eps:
            denom = abs_grad                                             # reuse the scratch: u + ε
            T.copy_(denom, exp_inf)
            T.add_(denom, eps)
        T.addcdiv_(params, batch["exp_avg"], denom, [-lr / (1 - beta1**t) for t in batch.steps])
