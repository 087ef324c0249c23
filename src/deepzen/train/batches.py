"""Batches in a given order, with a fast path for in-memory tensors.

The order is decided by the Trainer (a permutation per epoch from a seeded ``torch.Generator``), so
a resumed run asks for the same order and skips the batches already done. Tensor data (a
``TensorDataset`` or an ``(x, y)`` tuple) is indexed directly, as a hand-written loop would; any other
``Dataset`` goes through a ``DataLoader`` with that order as its batch sampler and the dataset's
collate function (``deepzen.data.collate_for`` when available).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterator

import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, TensorDataset, default_collate


def _default_collate_for(dataset: Any) -> Callable[[list[Any]], Any]:
    try:
        from deepzen.data import collate_for
    except ImportError:
        return default_collate
    return collate_for(dataset)


class BatchSource:
    """One dataset's batches.

    Arguments:
        data: a ``Dataset`` whose items are ``(x, y)`` (or ``x`` only), a ``TensorDataset``, a tensor
            ``x`` or a tuple ``(x, y)`` of tensors with the samples on dim 0.
        collate_fn: batch builder for general datasets (default: ``deepzen.data.collate_for``).
        num_workers, pin_memory: passed to the ``DataLoader`` (exact resume needs ``num_workers=0``).
    """

    def __init__(self, data: Any, collate_fn: Callable[[list[Any]], Any] | None = None,
                 num_workers: int = 0, pin_memory: bool = False) -> None:
        self.tensors: tuple[Tensor, ...] | None = None
        if isinstance(data, Tensor):
            self.tensors = (data,)
        elif isinstance(data, (tuple, list)) and data and all(isinstance(t, Tensor) for t in data):
            self.tensors = tuple(data)
        elif isinstance(data, TensorDataset) and collate_fn is None:
            self.tensors = tuple(data.tensors)
        elif not isinstance(data, Dataset) and not hasattr(data, "__getitem__"):
            raise ValueError(
                f"cannot read batches from {type(data).__name__}; pass a torch Dataset, a tensor or an (x, y) tuple"
            )
        if self.tensors is not None:
            sizes = {t.shape[0] for t in self.tensors}
            if len(sizes) != 1:
                raise ValueError(f"tensors differ in their number of samples (dim 0): {sorted(sizes)}")
        self.data = data
        self.collate_fn = collate_fn
        self.num_workers, self.pin_memory = num_workers, pin_memory

    def __len__(self) -> int:
        return self.tensors[0].shape[0] if self.tensors is not None else len(self.data)

    def num_batches(self, batch_size: int, drop_last: bool = False) -> int:
        return len(self) // batch_size if drop_last else math.ceil(len(self) / batch_size)

    def batches(self, order: Tensor | None, batch_size: int, start: int = 0, drop_last: bool = False,
                generator: torch.Generator | None = None) -> Iterator[tuple[Any, Any]]:
        """``(x, y)`` batches (``y`` is ``None`` for unlabelled data) from batch index ``start`` on.

        ``order``: sample indices (``None``: 0..n-1 in order)."""
        total = self.num_batches(batch_size, drop_last)
        if self.tensors is not None:
            yield from self._tensor_batches(order, batch_size, start, total)
            return
        n = len(self)
        indices = order if order is not None else torch.arange(n)
        chunks = [c.tolist() for c in indices.split(batch_size)[start:total]]
        collate = self.collate_fn or _default_collate_for(self.data)
        loader = DataLoader(self.data, batch_sampler=chunks, collate_fn=collate, num_workers=self.num_workers,
                            pin_memory=self.pin_memory, generator=generator or torch.Generator().manual_seed(0))
        for batch in loader:
            yield _split(batch)

    def _tensor_batches(self, order: Tensor | None, batch_size: int, start: int,
                        total: int) -> Iterator[tuple[Any, Any]]:
        x, y = self.tensors[0], (self.tensors[1] if len(self.tensors) > 1 else None)  # type: ignore[index]
        if order is None:  # contiguous slices: views, no copy
            for b in range(start, total):
                lo, hi = b * batch_size, (b + 1) * batch_size
                yield x[lo:hi], (y[lo:hi] if y is not None else None)
            return
        order = order.to(x.device)  # one copy per epoch when the data already lives on an accelerator
        for idx in order.split(batch_size)[start:total]:
            yield x[idx], (y[idx] if y is not None else None)


def _split(batch: Any) -> tuple[Any, Any]:
    if isinstance(batch, (tuple, list)):
        if len(batch) == 2:
            return batch[0], batch[1]
        if len(batch) == 1:
            return batch[0], None
        raise ValueError(f"a batch must be (x, y) or (x,); the collate function returned {len(batch)} items")
    return batch, None
