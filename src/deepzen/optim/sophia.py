"""Sophia (SophiaG): momentum divided by a diagonal Gauss-Newton estimate, clipped per coordinate."""

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


def sophia_kernel(p: Tensor, g: Tensor, m: Tensor, h: Tensor, s: Any) -> None:
    """One Sophia step of a flat slice in place (see :class:`Sophia`); ``s``: :func:`sophia_scalars`."""
    keep, a1, gamma, eps, lr = s
    m.lerp_(g, a1)                                           # m ← β1 m + (1 − β1) g
    ratio = O.over_(m, O.product(h, gamma).add_(eps))        # m / (γh + ε)
    decoupled_(p, keep)                                      # θ ← θ(1 − ηλ)
    O.axpy_(p, -lr, ratio.clamp_(-1.0, 1.0))                 # θ ← θ − η clip(m / (γh + ε), 1)

def sophia_scalars(group: Mapping[str, Any], t: float) -> tuple[float, ...]:
    """(1 − ηλ, 1 − β1, γ, ε, η)."""
    lr = group["lr"]
    return (1 - lr * group["weight_decay"], 1 - group["betas"][0], group["gamma"], group["eps"], lr)

SOPHIA = Rule(("exp_avg", "hessian"), sophia_kernel, sophia_scalars)


class Sophia(Optimizer):
    r"""Sophia, SophiaG with the Gauss-Newton-Bartlett estimator (Liu, Li, Hall, Liang, Ma, "Sophia: A
    Scalable Stochastic Second-order Optimizer for Language Model Pre-training", ICLR 2024,
    arXiv:2305.14342).

    Algorithm (Alg. 3; t counted per parameter)::

        every k steps (update_hessian):  ĥ = B·ĝ⊙ĝ,  h ← β2·h + (1 − β2)·ĥ
            ĝ: the gradient of the mean loss on labels *sampled from the model's own output* over a
            batch of B examples (Gauss-Newton-Bartlett: E[B·ĝ⊙ĝ] is the Gauss-Newton diagonal)
        every step:
            θ ← θ(1 − ηλ)                               (decoupled decay)
            m ← β1·m + (1 − β1)·g
            θ ← θ − η·clip(m / (γ·h + ε), 1)            (clip(x, 1) = max(−1, min(1, x)) per coordinate)

    Defaults: η = 1e-4, (β1, β2) = (0.965, 0.99), γ = 0.04, λ = 0.1, ε = 1e-15, k = 10 (the official code's
    and the paper's GPT-2 settings). Until the first estimate h = 0 and the step is η·sign(m).

    We chose SophiaG (GNB) over SophiaH (Hutchinson): it needs one extra backward pass of the sampled
    loss instead of a Hessian-vector product, works with any model whose loss is a negative
    log-likelihood (cross-entropy), and is the variant the authors ship. How to drive it: every
    ``hessian_interval`` steps, compute the loss on sampled labels, ``backward()`` it, and call
    ``update_hessian(batch_size)``; deepzen's Trainer does this for classification losses.

    Where the code and the paper differ: the official code (Liuhong99/Sophia) calls γ ``rho``, keeps
    h = EMA(ĝ⊙ĝ) and multiplies it by the batch size inside the step (``step(bs=...)``); we keep the
    paper's name γ and its h = EMA(B·ĝ⊙ĝ): the same ratio. The paper's denominator is max(γh, ε); the
    code's (followed here) is γh + ε.

    Arguments:
        params: parameters or parameter groups.
        lr: learning rate η.
        betas: (β1 for the momentum, β2 for the Hessian estimate).
        gamma: γ (the official code's ``rho``), the scale of h in the denominator (larger: smaller steps).
        weight_decay: λ, decoupled.
        eps: ε added to the denominator.
        hessian_interval: k, how often the driver refreshes h (read by deepzen's Trainer).
        maximize: ascend instead of descend.
        fused: run each step as one kernel compiled by ``torch.compile`` (see ``deepzen.optim._flat_pack``).

    State: ``exp_avg`` (m), ``hessian`` (h), ``step``.
    """

    rule = SOPHIA

    def __init__(
        self,
        params: Any,
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.965, 0.99),
        gamma: float = 0.04,
        weight_decay: float = 0.1,
        eps: float = 1e-15,
        *,
        hessian_interval: int = 10,
        maximize: bool = False,
        fused: bool = False,
    ) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, gamma=gamma, weight_decay=weight_decay, eps=eps,
                                      hessian_interval=hessian_interval, maximize=maximize, fused=fused))

    def _check_group(self, group: dict[str, Any]) -> None:
        C.check_lr(group["lr"])
        C.check_betas(group["betas"])
        C.check_range("gamma", group["gamma"], 0.0, low_open=True)
        C.check_weight_decay(group["weight_decay"])
        C.check_eps(group["eps"])
        C.check_range("hessian_interval", group["hessian_interval"], 1.0)
        C.check_flags(group, "maximize", "fused")


    @torch.no_grad()
    def update_hessian(self, batch_size: int) -> None:
        """h ← β2·h + (1 − β2)·B·ĝ⊙ĝ from each parameter's ``.grad``, which must hold ĝ: the gradient of
        the mean loss on labels sampled from the model (``batch_size`` = B examples). Parameters without
        a gradient keep their h."""
        C.check_range("batch_size", batch_size, 1.0)
        for group in self.param_groups:
            beta2 = group["betas"][1]
            hs, gs = [], []
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                value, grad = (torch.view_as_real(p), torch.view_as_real(p.grad)) if p.is_complex() else (p, p.grad)
                if not state:
                    state["step"] = torch.zeros((), dtype=torch.float32, device=p.device)
                    state.update(self._init_state(value, group))
                hs.append(state["hessian"])
                gs.append(grad)
            for h, g in zip(hs, gs):
                h.mul_(beta2).addcmul_(g, g, value=(1 - beta2) * batch_size)   # h ← β2 h + (1 − β2) B ĝ²
