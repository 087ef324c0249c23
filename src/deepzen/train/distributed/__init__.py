"""Training on several processes under ``torchrun`` (DistributedDataParallel: gloo on CPU, NCCL on
CUDA), as separate pieces around the single-process Trainer:

- :mod:`.env`: the launcher's environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``) and the process group;
- :mod:`.sampler`: each epoch's deterministic ``(seed, epoch)`` order shared out by rank, and each
  rank's shard of an evaluation split;
- :mod:`.reduce`: evaluation sums added over the ranks (the numbers of one process's evaluation);
- :mod:`.rank_states`: every rank's RNG states gathered into rank 0's checkpoints (exact resume);
- :mod:`.trainer`: :class:`DistributedTrainer` (DDP forward, loss weight, sharded evaluation,
  SyncBatchNorm on request, rank 0 writes the run folder);
- :mod:`.rank0`: the rank-0 rule (one folder chosen, written and printed by rank 0);
- :mod:`.launcher`: ``deepzen train CONFIG --nproc N`` starts torchrun's elastic launcher.
"""

from deepzen.train.distributed.env import DistEnv, device_for, from_environ, start, stop
from deepzen.train.distributed.rank0 import agree, barrier, current, is_main, join
from deepzen.train.distributed.sampler import ShardedSource, rank_slice
from deepzen.train.distributed.trainer import DistributedTrainer

__all__ = ["DistEnv", "DistributedTrainer", "ShardedSource", "agree", "barrier", "current", "device_for", "from_environ",
           "is_main", "join", "rank_slice", "start", "stop"]
