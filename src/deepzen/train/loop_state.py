"""The loop state: everything about the position of training that a checkpoint saves (``"loop"``).

Epochs and batches done, optimizer steps, the data-order seed, the history, the time spent, and the
running epoch loss and train metrics (so a resume mid-epoch logs the same epoch loss as a run that
was never stopped). Tensors and plain containers only, for ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from deepzen.train.metrics import Metric

FOLD_EVERY = 256  # batch losses kept by reference before they are summed on the device


class History(dict):
    """``{"epoch": [...], "loss": [...], "val_loss": [...], ...}`` one entry per finished epoch, plus
    ``stop_reason`` (``None`` when all epochs ran) and ``failed`` (True after a non-finite loss)."""

    stop_reason: str | None = None
    failed: bool = False


@dataclass
class LoopState:
    """Position of training plus the running epoch loss ``sum_b n_b loss_b / sum_b n_b``.

    Batch losses stay on the device by reference and are summed every :data:`FOLD_EVERY` batches
    (``losses @ counts``): no kernel and no host sync per batch.
    """

    metrics: list[Metric] = field(default_factory=list)  # train metrics of the current epoch
    epoch: int = 0  # epochs finished
    batch_in_epoch: int = 0  # batches finished in the current epoch
    global_step: int = 0  # optimizer steps
    seed: int | None = None
    history: History = field(default_factory=History)
    elapsed: float = 0.0  # seconds spent in fit
    loss_sum: Tensor | None = None
    sample_count: int = 0
    pending_losses: list[Tensor] = field(default_factory=list)
    pending_counts: list[int] = field(default_factory=list)

    def begin_epoch(self, device: torch.device) -> None:
        """Reset the running loss and metrics, unless resuming inside an epoch."""
        if self.batch_in_epoch == 0 or self.loss_sum is None:
            self.loss_sum, self.sample_count = torch.zeros((), device=device), 0
            self.pending_losses.clear()
            self.pending_counts.clear()
            for m in self.metrics:
                m.reset()

    def add_batch(self, loss: Tensor, n: int) -> None:
        """Count one batch's mean ``loss`` over ``n`` samples (folded every FOLD_EVERY batches)."""
        self.pending_losses.append(loss)
        self.pending_counts.append(n)
        self.sample_count += n
        if len(self.pending_losses) == FOLD_EVERY:
            self.fold()

    def fold(self) -> None:
        """Add the pending batch losses, weighted by batch sizes, to the epoch's loss sum."""
        if self.pending_losses:
            losses = torch.stack(self.pending_losses).float()  # (P,)
            counts = torch.tensor(self.pending_counts, dtype=losses.dtype).to(losses.device, non_blocking=True)
            self.loss_sum += losses @ counts  # type: ignore[operator]
            self.pending_losses.clear()
            self.pending_counts.clear()

    def live_logs(self) -> dict[str, float]:
        """The epoch so far: mean loss and train metrics (one host sync)."""
        self.fold()
        logs = {"loss": float(self.loss_sum) / max(self.sample_count, 1)}  # type: ignore[arg-type]
        logs.update({m.name: m.compute() for m in self.metrics})
        return logs

    def end_epoch(self, logs: dict[str, float]) -> None:
        self.epoch, self.batch_in_epoch = self.epoch + 1, 0
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def state_dict(self) -> dict[str, Any]:
        self.fold()
        return {
            "epoch": self.epoch, "batch_in_epoch": self.batch_in_epoch, "global_step": self.global_step,
            "seed": self.seed, "history": dict(self.history), "elapsed": self.elapsed,
            "loss_sum": self.loss_sum.detach().cpu() if self.loss_sum is not None else None,
            "sample_count": self.sample_count,
            "train_metrics": [m.state_dict() for m in self.metrics],
        }

    def load_state_dict(self, state: dict[str, Any], device: torch.device) -> None:
        self.epoch, self.batch_in_epoch, self.global_step = state["epoch"], state["batch_in_epoch"], state["global_step"]
        self.seed, self.elapsed = state["seed"], state["elapsed"]
        self.history = History(state["history"])
        self.loss_sum = state["loss_sum"].to(device) if state["loss_sum"] is not None else None
        self.pending_losses.clear()
        self.pending_counts.clear()
        self.sample_count = state["sample_count"]
        for metric, metric_state in zip(self.metrics, state["train_metrics"]):
            metric.load_state_dict(metric_state, device)
