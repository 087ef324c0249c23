"""The Trainer under a launcher: the same loop, with pieces put in at its seams.

- the forward pass goes through ``DistributedDataParallel`` (``trainer._forward``): gradients are
  averaged across ranks during the backward, so every optimizer, per-tensor ones such as LAMB
  included, steps on the all-reduced gradient and the replicas stay equal; with ``sync_batch_norm``
  BatchNorm layers become ``SyncBatchNorm`` (statistics over the global batch);
- the training data is a :class:`~deepzen.train.distributed.sampler.ShardedSource` (each rank its
  slice of every global batch, in the single-process order) and :meth:`compute_loss` applies its
  loss weight, so a step equals the single-process step on the same global batch;
- validation and test: each rank evaluates its contiguous shard of the split with rank 0's weights
  and buffers, and the sums are added over the ranks (:mod:`~deepzen.train.distributed.reduce`): the
  numbers of a single-process evaluation, every sample counted once;
- rank 0 alone keeps the run folder and prints progress; its checkpoints also hold every rank's RNG
  states (:class:`~deepzen.train.distributed.rank_states.RankStates`), so a resume with the same number
  of processes draws the same dropout masks as an uninterrupted run.

Logged training loss and metrics are rank 0's share of each batch (weighted loss), not reduced.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from deepzen.train import evaluation
from deepzen.train.callbacks import ModelCheckpoint
from deepzen.train.checkpoint import callback_keys, restore_rng_state
from deepzen.train.device import resolve_device
from deepzen.train.distributed.env import DistEnv
from deepzen.train.distributed.rank_states import RankStates
from deepzen.train.distributed.reduce import broadcast_buffers, sum_over_ranks
from deepzen.train.distributed.sampler import ShardedSource, evaluation_shard
from deepzen.train.loop_state import History
from deepzen.train.seeding import process_seed, seed_everything
from deepzen.train.threads import available_cores, cores_per_process
from deepzen.train.trainer import Trainer


def check_sync_batch_norm(model: nn.Module, device: Any) -> None:
    """A ValueError for BatchNorm layers to synchronise on the CPU: torch's ``SyncBatchNorm`` runs on
    GPUs only (CUDA; DDP refuses it on CPU modules)."""
    has_batch_norm = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
    if has_batch_norm and resolve_device(device).type != "cuda":
        raise ValueError(f"training.sync_batch_norm = true on device {str(device)!r}: torch's SyncBatchNorm runs on "
                         "GPUs only (CUDA, NCCL); on the CPU each process normalizes with its own share of the batch: "
                         "set training.sync_batch_norm = false")


class DistributedTrainer(Trainer):
    """A :class:`Trainer` for one rank of ``env`` (the process group already started, see
    :func:`~deepzen.train.distributed.env.start`). Arguments as for :class:`Trainer`, plus
    ``sync_batch_norm`` (BatchNorm -> ``SyncBatchNorm``; off by default, as in torch); on ranks other
    than 0, ``run_dir`` and progress are dropped (rank 0 writes). ``threads="auto"`` counts only this
    rank's share of the machine's cores (:func:`~deepzen.train.threads.cores_per_process`)."""

    def __init__(self, model: nn.Module, optimizer: Any, loss: Any, *, env: DistEnv, sync_batch_norm: bool = False,
                 **options: Any) -> None:
        if sync_batch_norm:
            check_sync_batch_norm(model, options.get("device", "auto"))
        if not env.is_main:  # rank 0 writes: no run folder, no progress, no checkpoint callback here
            options["run_dir"], options["progress"] = None, "none"
            options["callbacks"] = [cb for cb in options.get("callbacks", ()) if not isinstance(cb, ModelCheckpoint)]
        self.rank_states = RankStates(options.get("checkpoint_every", 500))
        options["callbacks"] = [self.rank_states, *options.get("callbacks", ())]  # first: before any write
        if sync_batch_norm:  # the same Parameter objects: the optimizer keeps them
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        super().__init__(model, optimizer, loss, **options)
        self.env = env
        self.processes = env.world_size
        self.cores = cores_per_process(available_cores(), env.local_world_size)
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

    def _seed(self) -> None:
        """Rank 0's data-order seed on every rank (drawn there when not given); each rank's generators
        seeded apart (:func:`~deepzen.train.seeding.process_seed`), so the ranks draw different dropout
        masks, as the samples of one batch do in one process."""
        if self.state.seed is None:
            box = [int(torch.randint(0, 2**62, ()).item())]
            dist.broadcast_object_list(box, src=0)
            self.state.seed = box[0]
        seed_everything(process_seed(self.state.seed, self.env.rank))

    def evaluate(self, data: Any, batch_size: int | None = None) -> dict[str, float]:
        """:meth:`Trainer.evaluate` over the whole of ``data``, shared out: this rank's contiguous shard,
        sums added over the ranks (collective: every rank calls it)."""
        broadcast_buffers(self.model)
        shard = evaluation_shard(self._source(data), self.env.rank, self.env.world_size)
        forward, self._forward = self._forward, self.model  # no DDP: ranks may run different batch counts
        try:
            return evaluation.evaluate(self, shard, batch_size or self.batch_size or 64, self._new_metrics(),
                                       reduce=sum_over_ranks)
        finally:
            self._forward = forward

    def compute_loss(self, pred: Any, target: Any) -> Tensor:
        """The rank's mean loss times its weight ``N·n_r/n`` (training batches; 1 in evaluation)."""
        loss = super().compute_loss(pred, target)
        source = self._train_source
        return loss * source.weight if source is not None and self.model.training else loss

    def state_dict(self) -> dict[str, Any]:
        """:meth:`Trainer.state_dict` plus ``rank_rng``: every rank's RNG states, by rank (rank 0)."""
        state = super().state_dict()
        if self.rank_states.states is not None:
            state["rank_rng"] = self.rank_states.states
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Rank 0's checkpoint, then this rank's own RNG states; other ranks skip the state of rank 0's
        writer callbacks (ModelCheckpoint)."""
        if not self.env.is_main:
            mine = set(callback_keys(self.callbacks))
            state = {**state, "callbacks": {k: v for k, v in state.get("callbacks", {}).items() if k in mine}}
        super().load_state_dict(state)
        if state.get("rank_rng"):
            restore_rng_state(state["rank_rng"][self.env.rank])

    def save_checkpoint(self, path: Any) -> bool:
        """Rank 0 writes; the others' state is the same (replicated weights, one data order) but for
        their RNG states, which :class:`RankStates` has gathered."""
        return super().save_checkpoint(path) if self.env.is_main else False


__all__ = ["DistributedTrainer"]
