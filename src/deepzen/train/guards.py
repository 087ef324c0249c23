"""Callbacks that act on gradients and losses: NaN/inf guard, gradient clipping, accumulation."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from deepzen.train.callbacks import Callback

if TYPE_CHECKING:
    from deepzen.train.trainer import Trainer


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

    def on_train_begin(self, trainer: Trainer) -> None:
        if self.check_every is None:
            self.check_every = 1 if trainer.device.type == "cpu" else 32
        self._losses, self._where, self.failure = [], [], None

    def on_batch_end(self, trainer: Trainer, batch: int, loss: Tensor) -> None:
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

    def _check(self, trainer: Trainer) -> bool:
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

    def _fail(self, trainer: Trainer, value: float, where: tuple[int, int, int], what: str = "loss") -> None:
        epoch, batch, step = where
        kept = trainer.last_checkpoint
        kept_text = f"last good checkpoint kept: {kept[0]} (step {kept[1]})" if kept else "no checkpoint was written"
        self.failure = (
            f"{what} became {value} at epoch {epoch + 1}, batch {batch + 1} (global step {step}); "
            f"training stopped; {kept_text}"
        )
        trainer.stop(self.failure, failed=True)

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        self._check(trainer)

    def can_checkpoint(self, trainer: Trainer) -> bool:
        if not self._check(trainer):
            return False
        finite = torch.stack([torch.isfinite(p).all() for p in trainer.model.parameters()]).all()
        if not bool(finite):
            self._fail(trainer, float("nan"), (trainer.epoch, trainer.batch_in_epoch - 1, trainer.global_step),
                       what="a parameter")
            return False
        return True


class GradientClipping(Callback):
    """Clip gradients before each optimizer step (after AMP unscaling).

    ``max_norm``: rescale all gradients by ``min(1, max_norm / ||g||)``, ``||g||`` the ``norm_type``
    norm of all gradients together (Pascanu et al., 2013). ``max_value``: clamp each element to
    ``[-max_value, max_value]``. Give one or both.
    """

    def __init__(self, max_norm: float | None = None, max_value: float | None = None, norm_type: float = 2.0) -> None:
        if max_norm is None and max_value is None:
            raise ValueError("GradientClipping needs max_norm or max_value")
        for name, value in (("max_norm", max_norm), ("max_value", max_value)):
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be > 0, got {value!r}")
        self.max_norm, self.max_value, self.norm_type = max_norm, max_value, norm_type
        self.last_norm: Tensor | None = None  # total norm before clipping (device tensor, no sync)

    def on_before_optimizer_step(self, trainer: Trainer) -> None:
        params = [p for p in trainer.model.parameters() if p.grad is not None]
        if self.max_value is not None:
            torch.nn.utils.clip_grad_value_(params, self.max_value)
        if self.max_norm is not None:
            self.last_norm = torch.nn.utils.clip_grad_norm_(params, self.max_norm, norm_type=self.norm_type)


class GradientAccumulation(Callback):
    """Sum gradients of ``steps`` consecutive batches before each optimizer step.

    Each batch's loss is divided by ``steps``, so with a mean loss and equal batch sizes the update
    equals one step on a batch ``steps`` times larger. An epoch's leftover batches (fewer than
    ``steps``) still make one final step. The Trainer reads ``steps`` when it is built.
    """

    def __init__(self, steps: int) -> None:
        if not isinstance(steps, int) or steps < 1:
            raise ValueError(f"accumulation steps must be an int >= 1, got {steps!r}")
        self.steps = steps

    def state_dict(self) -> dict[str, Any]:
        return {"steps": self.steps}
