"""Weight decay, the step many algorithms share in its two forms: the scalars of a rule and the two
operations its math applies."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from deepzen.optim import _inplace as O



def decay_scalars(group: dict[str, Any]) -> tuple[float, float]:
    """The group's weight decay as the two scalars of a fused kernel: (λ added to the gradient,
    factor 1 − ηλ on the weights); one of them is neutral (0 or 1)."""
    wd = group["weight_decay"]
    if group.get("decoupled"):
        return 0.0, 1 - group["lr"] * wd
    return wd, 1.0


def coupled(g: Tensor, p: Tensor, lam: float | Tensor) -> Tensor:
    """``g + λθ`` as a new value (eagerly in the scratch slot ``"grad"``), or ``g`` itself where λ is
    the Python number 0 (an eager rule's scalars; compiled, λ is a tensor and the sum is always taken,
    fused into the same loop)."""
    if O.is_zero(lam):
        return g
    if not O.is_number(lam):
        return g + lam * p
    return torch.add(g, p, alpha=lam, out=O.scratch(g, "grad"))


def decoupled_(p: Tensor, keep: float | Tensor) -> None:
    """``θ ← θ·(1 − ηλ)`` in place (``keep`` = 1 − ηλ; nothing to do where it is the Python number 1)."""
    if O.is_number(keep) and keep == 1:
        return
    p.mul_(keep)
