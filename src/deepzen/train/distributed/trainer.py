"""The Trainer under a launcher: the same loop, with three pieces put in at its seams.

- the forward pass goes through ``DistributedDataParallel`` (``trainer._forward``): gradients are
  averaged across ranks during the backward, so every optimizer, per-tensor ones such as LAMB
  included, steps on the all-reduced gradient and the replicas stay equal;
- the training data is a :class:`~deepzen.train.distributed.sampler.ShardedSource` (each rank its
  slice of every global batch, in the single-process order) and :meth:`compute_loss` applies its
  loss weight, so a step equals the single-process step on the same global batch;
- rank 0 alone keeps the run folder and prints progress; the others train with no run folder.

Validation and test: every rank evaluates the whole split with its (identical) weights, so the
numbers equal a single-process evaluation of the same weights: no sample counted twice or dropped.
Logged training loss and metrics are rank 0's share of each batch (weighted loss), not reduced.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor
from torch.nn.parallel import DistributedDataParallel

from deepzen.train.callbacks import ModelCheckpoint
from deepzen.train.checkpoint import callback_keys
from deepzen.train.distributed.env import DistEnv
from deepzen.train.distributed.sampler import ShardedSource
from deepzen.train.loop_state import History
from deepzen.train.trainer import Trainer


class DistributedTrainer(Trainer):
    """A :class:`Trainer` for one rank of ``env`` (the process group already started, see
    :func:`~deepzen.train.distributed.env.start`). Arguments as for :class:`Trainer`; on ranks other
    than 0, ``run_dir`` and progress are dropped (rank 0 writes)."""

    def __init__(self, model: Any, optimizer: Any, loss: Any, *, env: DistEnv, **options: Any) -> None:
        if not env.is_main:  # rank 0 writes: no run folder, no progress, no checkpoint callback here
            options["run_dir"], options["progress"] = None, "none"
            options["callbacks"] = [cb for cb in options.get("callbacks", ()) if not isinstance(cb, ModelCheckpoint)]
        super().__init__(model, optimizer, loss, **options)
        self.env = env
        self.ddp = DistributedDataParallel(self.model, device_ids=[self.device] if self.device.type == "cuda" else None)
        if self._forward is not self.model:  # compiled: calls would bypass DDP, gradients would not be averaged
            raise ValueError("compile with several processes is not supported yet: set training.compile = false")
        self._forward = self.ddp
        self._train_source: ShardedSource | None = None

    def fit(self, train: Any, val: Any = None, *, epochs: int = 1, batch_size: int = 32, drop_last: bool = False,
            **options: Any) -> History:
        """:meth:`Trainer.fit` with ``train`` shared out by rank; ``batch_size`` is the global batch."""
        source = ShardedSource(self._source(train), self.env.rank, self.env.world_size)
        smallest = batch_size if drop_last or len(source) % batch_size == 0 else len(source) % batch_size
        if min(batch_size, smallest) < self.env.world_size:
            raise ValueError(f"batch_size {batch_size} over {len(source)} samples gives a batch of {smallest}: "
                             f"every global batch needs at least one sample per process ({self.env.world_size})")
        self._train_source = source
        return super().fit(source, val, epochs=epochs, batch_size=batch_size, drop_last=drop_last, **options)

    def compute_loss(self, pred: Any, target: Any) -> Tensor:
        """The rank's mean loss times its weight ``N·n_r/n`` (training batches; 1 in evaluation)."""
        loss = super().compute_loss(pred, target)
        source = self._train_source
        return loss * source.weight if source is not None and self.model.training else loss

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Rank 0's checkpoint; other ranks skip the state of rank 0's writer callbacks (ModelCheckpoint)."""
        if not self.env.is_main:
            mine = set(callback_keys(self.callbacks))
            state = {**state, "callbacks": {k: v for k, v in state.get("callbacks", {}).items() if k in mine}}
        super().load_state_dict(state)

    def save_checkpoint(self, path: Any) -> bool:
        """Rank 0 writes; the others' state is the same (replicated weights, one data order)."""
        return super().save_checkpoint(path) if self.env.is_main else False


__all__ = ["DistributedTrainer"]
