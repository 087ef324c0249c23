"""Loss functions: pure functions ``fn(pred, target, **options) -> Tensor`` and :func:`get` by name.

Conventions: classification scores have the classes on the LAST dim (``(B, C)``, ``(B, T, C)``,
``(N, C)``) with int64 targets of the leading shape, where ``IGNORE_INDEX`` (-100) is skipped;
regression predictions ``(B, K)`` against targets of the same shape (shape mismatches are errors,
never broadcast). Every loss takes ``reduction="mean" | "sum" | "none"``.

    >>> loss_fn = deepzen.losses.get("cross_entropy", label_smoothing=0.1)
    >>> loss = loss_fn(logits, labels)
"""

from __future__ import annotations

from deepzen.losses.classification import binary_cross_entropy, cross_entropy, nll
from deepzen.losses.divergence import kl_div
from deepzen.losses.registry import LOSSES, REGISTRY, Loss, available, explain, get, resolve
from deepzen.losses.regression import huber, mae, mse
from deepzen.structures import IGNORE_INDEX

__all__ = [
    "IGNORE_INDEX", "LOSSES", "REGISTRY", "Loss", "available", "binary_cross_entropy", "cross_entropy", "explain",
    "get", "huber", "kl_div", "mae", "mse", "nll", "resolve",
]
