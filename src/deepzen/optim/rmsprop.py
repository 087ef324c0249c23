"""RMSProp: the learning rate divided by a running root mean square of the gradients."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor

from deepzen.optim import _checks as C
from deepzen.optim import _inplace as O
from deepzen.optim._base import Optimizer
from deepzen.optim._decay import coupled
from deepzen.optim._rule import Rule


def rmsprop_math(p: Tensor, g: Tensor, v: Tensor, mean: Tensor | None, buf: Tensor | None, s: Any) -> None:
    """One RMSProp step of a flat slice in place (see :class:`RMSProp`); ``mean`` with ``centered``,
    ``buf`` with momentum; ``s``: :func:`rmsprop_scalars`."""
    lam, alpha, a2, eps_in, eps_out, mu, lr = s
    g = coupled(g, p, lam)                                   # g + λθ (coupled L2)
    O.addcmul_(v.mul_(alpha), a2, g, g)                      # v ← αv + (1 − α)g²
    d = O.fresh(v)                                           # s = v
    if mean is not None:
        mean.lerp_(g, a2)                                    # m ← αm + (1 − α)g          (centered)
        d.addcmul_(mean, mean, value=-1.0)                   # s = v − m²
    d.add_(eps_in).sqrt_().add_(eps_out)                     # d = √(s + ε) or √s + ε
    if buf is None:
        O.addcdiv_(p, -lr, g, d)                             # θ ← θ − ηg/d
    else:
        buf.mul_(mu).addcdiv_(g, d)                          # b ← μb + g/d
        O.axpy_(p, -lr, buf)                                 # θ ← θ − ηb


def rmsprop_scalars(group: Mapping[str, Any], t: float) -> tuple[float, ...]:
    """(λ, α, 1 − α, ε inside the root, ε outside it, μ, η)."""
    eps, inside = group["eps"], group["eps_inside_sqrt"]
    return (group["weight_decay"], group["alpha"], 1 - group["alpha"], eps if inside else 0.0,
            0.0 if inside else eps, group["momentum"], group["lr"])


RMSPROP = Rule(("square_avg", "grad_avg", "momentum_buffer"), rmsprop_math, rmsprop_scalars,
               initial=lambda group: {k: 0.0 for k in _buffer_keys(group)})


class RMSProp(Optimizer):
    r"""RMSProp (Tieleman & Hinton 2012, Coursera "Neural Networks for Machine Learning", lecture 6e),
    with the centered variant of Graves 2013 (arXiv:1308.0850, eqs. 38-41) and optional momentum.

    Algorithm::

        g  = ∇f(θ) + λθ                         (coupled L2 weight decay)
        v  ← α·v + (1 − α)·g²                   (running mean square; the lecture's decay 0.9)
        m  ← α·m + (1 − α)·g                    (centered only: running mean of g)
        s  = v − m²  if centered, else v
        d  = √(s + ε)                            (eps_inside_sqrt=True, the default: Keras/TF; the lecture has no ε)
        d  = √s + ε                              (eps_inside_sqrt=False: torch)
        b  ← μ·b + g / d;  θ ← θ − η·b           if μ > 0 (torch's momentum buffer, starts at 0)
        θ  ← θ − η·g / d                         otherwise

    Defaults: α = 0.9 (the lecture's), η = 1e-3 (Keras's; the lecture fixes none, and torch's 1e-2 goes
    with its slower α = 0.99), ε = 1e-7 inside the square root (Keras's; TF1 used 1e-10), μ = 0, λ = 0.
    torch's RMSprop is α = 0.99, η = 1e-2, ε = 1e-8 outside the root: pass ``alpha=0.99, lr=1e-2,
    eps=1e-8, eps_inside_sqrt=False`` to reproduce it. Graves 2013 keeps η inside the momentum buffer
    (Δ ← μΔ − ηg/d); we follow torch and keep it outside (the same iterates while η is constant).
    The decay keeps torch's name ``alpha``.

    Arguments:
        params: parameters or parameter groups.
        lr: learning rate η.
        alpha: α in [0, 1), decay of the running averages.
        eps: ε (see ``eps_inside_sqrt``).
        weight_decay: λ, coupled L2 (added to the gradient).
        momentum: μ in [0, 1).
        centered: normalize by an estimate of the variance v − m² instead of v (Graves 2013).
        eps_inside_sqrt: add ε under the square root (True) or to the root (False, torch's).
        maximize: ascend instead of descend.
        fused: run each step as one kernel compiled by ``torch.compile`` (see ``deepzen.optim._rule``).

    State: ``square_avg`` (v), ``grad_avg`` (m, centered only), ``momentum_buffer`` (b, μ > 0 only).
    """

    rule = RMSPROP

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        alpha: float = 0.9,
        eps: float = 1e-7,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        eps_inside_sqrt: bool = True,
        maximize: bool = False,
        fused: bool = False,
    ) -> None:
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, eps_inside_sqrt=eps_inside_sqrt, maximize=maximize, fused=fused)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        C.check_lr(group["lr"])
        C.check_beta(group["alpha"], "alpha")
        C.check_eps(group["eps"])
        C.check_weight_decay(group["weight_decay"])
        C.check_range("momentum", group["momentum"], 0.0, 1.0, high_open=True)
        C.check_flags(group, "centered", "eps_inside_sqrt", "maximize", "fused")


def _buffer_keys(group: dict[str, Any]) -> list[str]:
    """The state buffers the group's options need."""
    keys = ["square_avg"]
    if group["centered"]:
        keys.append("grad_avg")
    if group["momentum"]:
        keys.append("momentum_buffer")
    return keys
