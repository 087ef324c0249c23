"""One seed for a repeatable run: Python's ``random``, NumPy, torch (CPU and CUDA) and data order.

The data order does not use these global generators: the Trainer draws each epoch's permutation from
its own ``torch.Generator`` seeded by :func:`epoch_seed` ``(seed, epoch)``, so restoring a run needs
only the seed and the epoch number, and dropout (global torch RNG) is restored from the checkpoint.
"""

from __future__ import annotations

import random

import numpy as np
import torch

_MASK_63 = (1 << 63) - 1


def seed_everything(seed: int) -> None:
    """Seed ``random``, ``numpy.random`` and torch (all devices) with ``seed``."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device


def set_deterministic(enabled: bool = True) -> None:
    """Ask torch for deterministic kernels (``torch.use_deterministic_algorithms``, cuDNN flags).

    Process-wide; on CPU most kernels are deterministic already. CUDA also needs the environment
    variable ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` set before start-up for deterministic matmuls.
    """
    torch.use_deterministic_algorithms(enabled, warn_only=True)
    torch.backends.cudnn.deterministic = enabled
    torch.backends.cudnn.benchmark = not enabled


def epoch_seed(seed: int, epoch: int) -> int:
    """Seed of epoch ``epoch``'s data permutation: a fixed mix of ``(seed, epoch)`` (SplitMix64 step)."""
    z = (seed * 0x9E3779B97F4A7C15 + epoch + 1) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return (z ^ (z >> 31)) & _MASK_63


def process_seed(seed: int, rank: int) -> int:
    """Seed of data-parallel rank ``rank``'s generators (dropout masks): ``seed`` itself on rank 0, else
    :func:`epoch_seed` ``(seed, -1 - rank)``: its mix's input ``seed·φ - rank`` differs from every epoch's
    data-order input ``seed·φ + epoch + 1`` and the mix is a bijection, so the seeds differ."""
    return seed if rank == 0 else epoch_seed(seed, -1 - rank)


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """A CPU ``torch.Generator`` for epoch ``epoch`` of a run seeded with ``seed``."""
    generator = torch.Generator()
    generator.manual_seed(epoch_seed(seed, epoch))
    return generator
