"""Shared pieces of every loss: the reduction, name checks, and shape checks that refuse silent
broadcasting (a ``(B, 1)`` prediction against a ``(B,)`` target must never become ``(B, B)``).
"""

from __future__ import annotations

import torch
from torch import Tensor

from deepzen._suggest import did_you_mean

#: Allowed values of every loss's ``reduction`` option.
REDUCTIONS = ("mean", "sum", "none")


def check_reduction(reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"unknown reduction {reduction!r}{did_you_mean(reduction, REDUCTIONS)} Allowed: {', '.join(REDUCTIONS)}"
        )


def reduce(per_item: Tensor, reduction: str) -> Tensor:
    """Mean over all entries, sum, or the unreduced tensor."""
    check_reduction(reduction)
    if reduction == "mean":
        return per_item.mean()
    if reduction == "sum":
        return per_item.sum()
    return per_item


def weighted_mean(total: Tensor, count: Tensor) -> Tensor:
    """``total / count``, and 0 (with a zero gradient, not NaN) when nothing was counted."""
    # The safe divisor keeps 0/0 out of the graph: where() would still send NaN gradients back.
    safe = torch.where(count > 0, count, torch.ones_like(count))
    return total / safe


def match_elementwise(pred: Tensor, target: Tensor, loss: str) -> tuple[Tensor, Tensor]:
    """Pred and target of the same shape for an elementwise loss.

    Accepted: equal shapes; ``(B, 1)`` against ``(B,)`` in either order (the trailing 1 is dropped).
    Anything else is refused: broadcasting would silently compare every prediction with every target.
    An integer or bool target is cast to the prediction's dtype.
    """
    if pred.shape != target.shape:
        if pred.dim() == target.dim() + 1 and pred.shape[-1] == 1 and pred.shape[:-1] == target.shape:
            pred = pred.squeeze(-1)
        elif target.dim() == pred.dim() + 1 and target.shape[-1] == 1 and target.shape[:-1] == pred.shape:
            target = target.squeeze(-1)
        else:
            raise ValueError(
                f"{loss}: prediction shape {tuple(pred.shape)} does not match target shape "
                f"{tuple(target.shape)}; they must be equal (or differ only by a trailing 1, e.g. (B, 1) "
                "and (B,)). deepzen does not broadcast them, since that would compare every prediction "
                "with every target."
            )
    if not target.is_floating_point():
        target = target.to(pred.dtype)
    return pred, target
