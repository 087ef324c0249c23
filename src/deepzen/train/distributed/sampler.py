"""Each epoch's batches shared out across ranks, in the single-process order.

The Trainer draws epoch ``e``'s permutation from ``(seed, e)`` and cuts it into global batches of
``batch_size``; rank ``r`` of ``N`` takes the contiguous slice ``[r·n/N, (r+1)·n/N)`` of each global
batch of ``n`` samples. ``training.batch_size`` therefore stays the global batch of one optimizer step,
as in a single-process run (the choice of Hugging Face's ``total_train_batch_size``; Lightning's
``batch_size`` is per device instead): the same config gives the same steps on any N.

Loss weight. DDP averages the ranks' gradients; with ``n_r`` samples on rank r, scaling rank r's mean
loss by ``w_r = N·n_r/n`` makes that average the gradient of the mean over the whole global batch,
``(1/N) Σ_r w_r·mean_r = (1/n) Σ_i loss_i``, also for a last batch that does not divide by N.

Evaluation (:func:`evaluation_shard`): rank r takes the contiguous ``[r·S/N, (r+1)·S/N)`` of a split of
``S`` samples, so the shards are disjoint and cover the split (no sample twice, none dropped; sizes
differ by at most one, and some are empty when ``S < N``).
"""

from __future__ import annotations

from typing import Any, Iterator

import torch
from torch import Tensor
from torch.utils.data import DataLoader, Subset

from deepzen.train.batches import BatchSource, _default_collate_for, _split


def rank_slice(n: int, rank: int, world_size: int) -> tuple[int, int]:
    """``[lo, hi)``: rank's contiguous share of a global batch of ``n`` (sizes differ by at most one)."""
    return rank * n // world_size, (rank + 1) * n // world_size


def evaluation_shard(source: BatchSource, rank: int, world_size: int) -> BatchSource:
    """The rank's contiguous share of the split ``source`` (tensors sliced as views, datasets as a ``Subset``)."""
    lo, hi = rank_slice(len(source), rank, world_size)
    data = tuple(t[lo:hi] for t in source.tensors) if source.tensors is not None else Subset(source.data, range(lo, hi))
    return BatchSource(data, source.collate_fn, source.num_workers, source.pin_memory)


class ShardedSource(BatchSource):
    """``source``'s global batches, of which this rank yields its slice; ``weight`` is the loss weight
    ``N·n_r/n`` of the batch yielded last."""

    def __init__(self, source: BatchSource, rank: int, world_size: int) -> None:
        super().__init__(source.tensors if source.tensors is not None else source.data, source.collate_fn,
                         source.num_workers, source.pin_memory)
        self.rank, self.world_size = rank, world_size
        self.weight = 1.0

    def batches(self, order: Tensor | None, batch_size: int, start: int = 0, drop_last: bool = False,
                generator: torch.Generator | None = None) -> Iterator[tuple[Any, Any]]:
        total = self.num_batches(batch_size, drop_last)
        indices = order if order is not None else torch.arange(len(self))
        chunks = []
        for batch in indices.split(batch_size)[start:total]:  # (n,) global batch
            lo, hi = rank_slice(len(batch), self.rank, self.world_size)
            chunks.append((batch[lo:hi], self.world_size * (hi - lo) / len(batch)))  # (n_r,), w_r
        if self.tensors is not None:
            x, y = self.tensors[0], (self.tensors[1] if len(self.tensors) > 1 else None)
            for idx, weight in chunks:
                idx = idx.to(x.device)
                self.weight = weight
                yield x[idx], (y[idx] if y is not None else None)
            return
        collate = self.collate_fn or _default_collate_for(self.data)
        loader = DataLoader(self.data, batch_sampler=[idx.tolist() for idx, _ in chunks], collate_fn=collate,
                            num_workers=self.num_workers, pin_memory=self.pin_memory,
                            generator=generator or torch.Generator().manual_seed(0))
        for (_, weight), batch in zip(chunks, loader):
            self.weight = weight
            yield _split(batch)


__all__ = ["ShardedSource", "evaluation_shard", "rank_slice"]
