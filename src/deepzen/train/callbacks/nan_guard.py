"""Stop on a non-finite loss or parameter and keep the last good checkpoint."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from deepzen.train.callbacks.base import Callback, TrainerView


class NaNGuard(Callback):
    """Stop training when the loss becomes nan/inf, name the step, and keep the last good checkpoint.

    The batch losses (device scalars, kept by reference: no kernel per batch) are inspected every
    ``check_every`` batches with one host sync (default 1 on CPU where a sync is free, 32 on
    accelerators), at every epoch end and before every checkpoint. A checkpoint is refused after a
    non-finite loss or with non-finite parameters, so the one on disk stays the last good one.
    """

    def __init__(self, check_every: int | None = None) -> None:
        if check_every is not None and (not isinstance(check_every, int) or check_every < 1):
            raise ValueError(f"check_every must be an int >= 1 or None, got {check_every!r}")
        self.check_every = check_every
        self.failure: str | None = None
        self._losses: list[Tensor] = []
        self._where: list[tuple[int, int, int]] = []

    def on_train_begin(self, trainer: TrainerView) -> None:
        if self.check_every is None:
            self.check_every = 1 if trainer.device.type == "cpu" else 32
        self._losses, self._where, self.failure = [], [], None

    def on_batch_end(self, trainer: TrainerView, batch: int, loss: Tensor) -> None:
        where = (trainer.epoch, batch, trainer.global_step)
        if self.check_every == 1:
            value = loss.item()
            if not math.isfinite(value):
                self._fail(trainer, value, where)
            return
        self._losses.append(loss)
        self._where.append(where)
        if len(self._where) >= self.check_every:
            self._check(trainer)

    def _check(self, trainer: TrainerView) -> bool:
        if self.failure is not None:
            return False
        losses, where = self._losses, self._where
        self._losses, self._where = [], []
        if losses:
            values = torch.stack(losses).float()
            bad = (~torch.isfinite(values)).nonzero()
            if bad.numel():
                first = int(bad[0, 0])
                self._fail(trainer, float(values[first]), where[first])
                return False
        return True

    def _fail(self, trainer: TrainerView, value: float, where: tuple[int, int, int], what: str = "loss") -> None:
        epoch, batch, step = where
        kept = trainer.last_checkpoint
        kept_text = f"last good checkpoint kept: {kept[0]} (step {kept[1]})" if kept else "no checkpoint was written"
        self.failure = (
            f"{what} became {value} at epoch {epoch + 1}, batch {batch + 1} (global step {step}); "
            f"training stopped; {kept_text}"
        )
        trainer.stop(self.failure, failed=True)

    def on_epoch_end(self, trainer: TrainerView, epoch: int, logs: dict[str, float]) -> None:
        self._check(trainer)

    def can_checkpoint(self, trainer: TrainerView) -> bool:
        if not self._check(trainer):
            return False
        finite = torch.stack([torch.isfinite(p).all() for p in trainer.model.parameters()]).all()
        if not bool(finite):
            self._fail(trainer, float("nan"), (trainer.epoch, trainer.batch_in_epoch - 1, trainer.global_step),
                       what="a parameter")
            return False
        return True
