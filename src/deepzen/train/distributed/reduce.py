"""Data-parallel evaluation: each rank evaluates its shard of the split and the sums are combined.

Every quantity the evaluation reports is a ratio of sums over samples: the loss is
``Σ_i n_b·loss_b / Σ_b n_b`` and every :class:`~deepzen.train.metrics.Metric` keeps sums (correct and
total counts, per-class counts, Σ(p - y)², ...). With the split cut into disjoint shards that cover it,
``Σ_split = Σ_r Σ_shard r``, so summing each sum over the ranks before the division gives the
single-process numbers of the same weights (up to float summation order for float sums; counts exactly).

The per-rank sums travel with one ``all_gather_object`` and every rank adds them in rank order, so all
ranks end with the same numbers (the same best epoch, the same early-stopping decision). A rank with an
empty shard (a split smaller than the number of processes) contributes nothing.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn

from deepzen.train.metrics import Metric


def sum_over_ranks(loss_sum: Tensor, count: int, metrics: list[Metric]) -> tuple[Tensor, int]:
    """``(Σ_r loss_sum_r, Σ_r count_r)``; each metric's sums replaced by their sum over the ranks."""
    mine = (loss_sum.detach().double().cpu(), count, [m.state_dict() for m in metrics])
    every: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(every, mine)
    total_loss = sum((part[0] for part in every), torch.zeros((), dtype=torch.float64))
    total_count = sum(part[1] for part in every)
    for i, metric in enumerate(metrics):
        merged: dict[str, Tensor] = {}
        for part in every:  # rank order: the same float sums on every rank
            for key, value in part[2][i].items():
                merged[key] = value if key not in merged else merged[key] + value
        metric.load_state_dict(merged, device=loss_sum.device)
    return total_loss.to(loss_sum.device), total_count


def broadcast_buffers(model: nn.Module) -> None:
    """Rank 0's buffers (BatchNorm running statistics) on every rank.

    Under DDP each rank's last training forward updated its own running statistics from its shard of
    the batch (DDP sends rank 0's only at the start of the next training forward); the run's weights
    are rank 0's, which its checkpoints hold."""
    for buffer in model.buffers():
        dist.broadcast(buffer.data, src=0)


__all__ = ["broadcast_buffers", "sum_over_ranks"]
