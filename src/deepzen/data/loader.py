"""DataLoaders whose order is a deterministic function of ``(seed, epoch)``.

Resuming at epoch ``e`` with the same seed replays exactly the same batches, on any machine.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from deepzen.data.collate import collate_for


def epoch_permutation(n: int, seed: int, epoch: int) -> torch.Tensor:
    """A permutation of ``range(n)`` that depends only on ``(seed, epoch)``."""
    g = torch.Generator().manual_seed((int(seed) * 1_000_003 + int(epoch)) % (2**63))
    return torch.randperm(n, generator=g)


class EpochSampler(Sampler[int]):
    """Shuffled order from :func:`epoch_permutation`; call :meth:`set_epoch` before each epoch
    (or pass ``epoch``). Without ``shuffle`` the order is ``0..n-1``."""

    def __init__(self, n: int, shuffle: bool = True, seed: int = 0, epoch: int = 0) -> None:
        self.n, self.shuffle, self.seed, self.epoch = n, shuffle, seed, epoch

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        if not self.shuffle:
            return iter(range(self.n))
        return iter(epoch_permutation(self.n, self.seed, self.epoch).tolist())

    def __len__(self) -> int:
        return self.n


def make_loader(dataset: Dataset, batch_size: int, shuffle: bool = True, seed: int = 0, epoch: int = 0,
                drop_last: bool = False, num_workers: int = 0) -> DataLoader:
    """A ``DataLoader`` over ``dataset`` with the right collate and a deterministic order.

    The returned loader's ``sampler`` is an :class:`EpochSampler`; ``loader.sampler.set_epoch(e)``
    changes the order for epoch ``e``.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if len(dataset) == 0:  # type: ignore[arg-type]
        raise ValueError("cannot make a loader over an empty dataset; check the split fractions")
    sampler = EpochSampler(len(dataset), shuffle=shuffle, seed=seed, epoch=epoch)  # type: ignore[arg-type]
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, drop_last=drop_last,
                      collate_fn=collate_for(dataset), num_workers=num_workers)
