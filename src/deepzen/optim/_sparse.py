"""Sparse gradients (``nn.Embedding(..., sparse=True)``): taken by the algorithms that declare
``sparse_gradients = True`` (SGD, Adagrad), refused clearly by the others.

A step splits the batch: the sparse part goes to the optimizer's ``_update_sparse`` (by default the
rule over the gradients made dense, the same result; Adagrad overrides it with its lazy form), the
rest to the usual dispatch.
"""

from __future__ import annotations

import torch
from torch import Tensor

from deepzen.optim._gather import Batch


def check(optimizer: torch.optim.Optimizer, p: Tensor) -> None:
    """Refuse a sparse gradient of ``p`` where the algorithm takes none (its ``sparse_gradients``
    is false) or ``p`` is complex."""
    name = type(optimizer).__name__
    if not getattr(optimizer, "sparse_gradients", False):
        raise RuntimeError(
            f"{name} does not support sparse gradients (a parameter of shape {tuple(p.shape)} has one): "
            "use dense gradients (e.g. nn.Embedding(..., sparse=False)), or SGD or Adagrad, which take them")
    if p.is_complex():
        raise RuntimeError(f"{name} does not support sparse gradients of complex parameters")


def split(batch: Batch) -> tuple[Batch, Batch | None]:
    """(the entries with sparse gradients, the others or ``None`` if there are none)."""
    sparse = set(batch.sparse)
    dense = [i for i in range(len(batch)) if i not in sparse]
    return batch.select(batch.sparse), batch.select(dense) if dense else None


def densified(batch: Batch) -> Batch:
    """``batch`` with its sparse gradients made dense (a new list; the gradients are not modified)."""
    batch.grads = [g.to_dense() for g in batch.grads]
    return batch
