"""NAdam: Adam with Nesterov momentum and a momentum schedule."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from deepzen import _tensors as T
from deepzen.optim import _checks as C
from deepzen.optim._decay import weight_decay_
from deepzen.optim._base import Batch, Optimizer, zeros_like


def momentum_at(step: float, beta1: float, momentum_decay: float) -> float:
    """The scheduled momentum μ_t = β1·(1 − ½·0.96^(t·ψ)) (Dozat 2016)."""
    return beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))


class NAdam(Optimizer):
    r"""NAdam (Dozat, "Incorporating Nesterov Momentum into Adam", ICLR 2016 workshop).

    Algorithm (Dozat's Alg. 2 with the momentum schedule; t counted per parameter)::

        g   = ∇f(θ) + λθ                     (coupled L2; with decoupled=True: θ ← θ(1 − ηλ) instead)
        μ_t = β1·(1 − ½·0.96^(tψ))           (momentum schedule; ψ = momentum_decay)
        Π_t = μ_1·μ_2···μ_t                   (state "mu_product")
        m   ← β1·m + (1 − β1)·g
        v   ← β2·v + (1 − β2)·g²
        ĝ   = g / (1 − Π_t)
        m̂   = m / (1 − Π_t·μ_{t+1})
        m̄   = (1 − μ_t)·ĝ + μ_{t+1}·m̂          (Nesterov: the next step's momentum applied now)
        θ   ← θ − η·m̄ / (√(v / (1 − β2ᵗ)) + ε)

    Defaults: η = 2e-3, (β1, β2) = (0.9, 0.999), ε = 1e-8, ψ = 4e-3, λ = 0.

    Where libraries differ: torch and Dozat's Keras implementation (followed here, so this matches
    ``torch.optim.NAdam``) decay m with the constant β1 and use the schedule only in the Nesterov
    combination; Keras 3 uses 0.96ᵗ (no ψ); optax has no schedule (μ_t = β1). The decoupled form
    (torch's ``decoupled_weight_decay``, "NAdamW") multiplies the decay by η.

    Arguments:
        params: parameters or parameter groups.
        lr: learning rate η.
        betas: (β1, β2) decay rates of the moment estimates.
        eps: ε added to the denominator.
        weight_decay: λ; coupled L2 (added to the gradient) unless ``decoupled``.
        momentum_decay: ψ of the momentum schedule (>= 0; 0 gives the constant μ_t = β1/2).
        decoupled: decay the weights directly by ηλ.
        maximize: ascend instead of descend.

    State: ``exp_avg`` (m), ``exp_avg_sq`` (v), ``mu_product`` (Π_t, a float), ``step``.
    """

    def __init__(
        self,
        params: Any,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum_decay: float = 4e-3,
        *,
        decoupled: bool = False,
        maximize: bool = False,
    ) -> None:
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay, decoupled=decoupled, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        C.check_moment_group(group)
        C.check_range("momentum_decay", group["momentum_decay"], 0.0)
        C.check_flags(group, "decoupled", "maximize")

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        # mu_product is a plain float (exact in float64, saved by state_dict like the buffers).
        return {"exp_avg": zeros_like(p), "exp_avg_sq": zeros_like(p), "mu_product": 1.0}

    def _dispatch(self, group: dict[str, Any], batch: Batch, loss: float | None) -> None:
        # Π_t advances once per parameter and step, here: _update may run once per chunk of a big tensor.
        beta1, psi = group["betas"][0], group["momentum_decay"]
        for state, t in zip(batch.states, batch.steps):
            state["mu_product"] *= momentum_at(t, beta1, psi)
        super()._dispatch(group, batch, loss)

    def _update(self, group: dict[str, Any], batch: Batch, loss: float | None) -> None:
        lr, eps, psi = group["lr"], group["eps"], group["momentum_decay"]
        beta1, beta2 = group["betas"]
        params, grads = batch.params, batch.grads
        grads = weight_decay_(group, params, grads)                      # θ(1 − ηλ) or g + λθ
        T.lerp_(batch["exp_avg"], grads, 1 - beta1)                      # m ← β1 m + (1 − β1) g
        T.mul_(batch["exp_avg_sq"], beta2)                               # v ← β2 v + (1 − β2) g²
        T.addcmul_(batch["exp_avg_sq"], grads, grads, 1 - beta2)
        grad_scales, momentum_scales = [], []
        for state, t in zip(batch.states, batch.steps):
            mu, mu_next = momentum_at(t, beta1, psi), momentum_at(t + 1, beta1, psi)
            product = state["mu_product"]                                # Π_t (already includes μ_t)
            grad_scales.append(-lr * (1 - mu) / (1 - product))           # η (1 − μ_t) ĝ / g
            momentum_scales.append(-lr * mu_next / (1 - product * mu_next))  # η μ_{t+1} m̂ / m
        denom = T.sqrt(batch["exp_avg_sq"])                              # √v / √(1 − β2ᵗ) + ε
        T.div_(denom, [(1 - beta2**t) ** 0.5 for t in batch.steps])
        T.add_(denom, eps)
        T.addcdiv_(params, grads, denom, grad_scales)                    # θ −= η m̄ / denom
        T.addcdiv_(params, batch["exp_avg"], denom, momentum_scales)
