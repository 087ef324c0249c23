"""The no-gradient passes of a trainer: ``evaluate`` (loss and metrics over data) and ``predict``.

The model is put in eval mode for the pass and back in its previous mode afterwards; batches go
through the trainer's ``eval_step`` / ``predict_step`` (autocast, compiled forward).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import torch
from torch import Tensor

from deepzen.structures import to_device
from deepzen.train.batches import BatchSource
from deepzen.train.loop import batch_len
from deepzen.train.metrics import Metric
from deepzen.train.optimizer_modes import evaluation_point

if TYPE_CHECKING:
    from deepzen.train.steps import Steps

#: ``reduce(loss_sum, count, metrics) -> (loss_sum, count)``: sums combined across processes.
Reduce = Callable[[Tensor, int, list[Metric]], tuple[Tensor, int]]


def evaluate(trainer: Steps, source: BatchSource, batch_size: int, metrics: list[Metric],
             reduce: Reduce | None = None) -> dict[str, float]:
    """``{"loss": sum_b n_b loss_b / sum_b n_b, <metric>: ...}`` over ``source``; ``metrics`` fresh. The
    weights are the optimizer's evaluation point (Schedule-Free's average x).

    ``reduce(loss_sum, count, metrics)``, when given, combines these sums with other processes' before
    the division (data-parallel evaluation: each process passes its shard of the split) and returns
    the combined ``(loss_sum, count)``, having merged the metrics' sums in place."""
    with evaluation_point(trainer.optimizer):
        loss_sum, count = _accumulate(trainer, source, batch_size, metrics)
    if reduce is not None:
        loss_sum, count = reduce(loss_sum, count, metrics)
    logs = {"loss": float(loss_sum) / max(count, 1)}
    logs.update({m.name: m.compute() for m in metrics})
    return logs


def _accumulate(trainer: Steps, source: BatchSource, batch_size: int, metrics: list[Metric]) -> tuple[Tensor, int]:
    """``(sum_b n_b loss_b, sum_b n_b)`` over ``source``; ``metrics`` updated with every batch."""
    loss_sum = torch.zeros((), device=trainer.device)
    count = 0
    model = trainer.model
    was_training = model.training
    model.eval()
    try:
        for x, y in source.batches(None, batch_size):
            if y is None:
                raise ValueError("evaluate needs targets: data must yield (x, y)")
            x, y = to_device(x, trainer.device), to_device(y, trainer.device)
            loss, pred = trainer.eval_step(x, y)
            n = batch_len(x, y)
            loss_sum += loss.float() * n
            count += n
            for m in metrics:
                m.update(pred, y)
    finally:
        model.train(was_training)
    return loss_sum, count


def predict(trainer: Steps, source: BatchSource, batch_size: int) -> Any:
    """Outputs for every sample in order, on the CPU: one tensor, or a list of batch outputs when
    their shapes differ. The weights are the optimizer's evaluation point (Schedule-Free's x)."""
    with evaluation_point(trainer.optimizer):
        return _predict(trainer, source, batch_size)


def _predict(trainer: Steps, source: BatchSource, batch_size: int) -> Any:
    outputs = []
    model = trainer.model
    was_training = model.training
    model.eval()
    try:
        for x, _ in source.batches(None, batch_size):
            outputs.append(to_device(trainer.predict_step(to_device(x, trainer.device)), "cpu"))
    finally:
        model.train(was_training)
    if all(isinstance(o, Tensor) for o in outputs) and len({o.shape[1:] for o in outputs}) <= 1:
        return torch.cat(outputs) if outputs else torch.empty(0)
    return outputs
