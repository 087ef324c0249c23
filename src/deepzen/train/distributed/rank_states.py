"""Every rank's random-number generators in rank 0's checkpoint, for exact resume with dropout.

The replicas share weights, optimizer state and data position, but not their generators: each rank
draws its own dropout masks (and any other random numbers) for its shard of the batch. Rank 0 writes
the checkpoints, so the other ranks' states must reach it at the moment of each write.

:class:`RankStates` is a callback on every rank that gathers them (torch CPU, CUDA where present,
Python's ``random`` and NumPy: :func:`~deepzen.train.checkpoint.capture_rng_state`) exactly where a
checkpoint may follow: after each batch that ``last.pt``'s step schedule writes after, and at every
epoch end (``last.pt``, ``best.pt``). Those moments depend only on the step count, which all ranks
share, so the collective is never left waiting; nothing draws random numbers between the gather and
the write (it runs before the callbacks that write).
"""

from __future__ import annotations

from typing import Any

import torch.distributed as dist
from torch import Tensor

from deepzen.train.callbacks.base import Callback, TrainerView
from deepzen.train.callbacks.run_outputs import StepCheckpoints
from deepzen.train.checkpoint import capture_rng_state


class RankStates(Callback):
    """Gathers every rank's RNG states on rank 0 (``states[r]`` is rank r's; ``None`` elsewhere)."""

    def __init__(self, checkpoint_every: int | None) -> None:
        self.schedule = StepCheckpoints(checkpoint_every)
        self.states: list[dict[str, Any]] | None = None

    def on_optimizer_step(self, trainer: TrainerView) -> None:
        self.schedule.on_optimizer_step()

    def on_batch_end(self, trainer: TrainerView, batch: int, loss: Tensor) -> None:
        if self.schedule.due(trainer, batch):
            self.gather()

    def on_epoch_end(self, trainer: TrainerView, epoch: int, logs: dict[str, float]) -> None:
        self.gather()

    def gather(self) -> None:
        """Collective: every rank must call it at the same point."""
        main = dist.get_rank() == 0
        states: list[Any] | None = [None] * dist.get_world_size() if main else None
        dist.gather_object(capture_rng_state(), states, dst=0)
        self.states = states


__all__ = ["RankStates"]
