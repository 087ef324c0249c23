"""The per-batch steps of a trainer, the methods to override for a custom step (Keras 3's ``train_step``).

``train_step`` (forward, loss, backward), ``optimizer_step`` (unscale, gradient hooks, step, zero),
``eval_step`` and ``predict_step`` (no gradients), ``compute_loss`` (the data loss of one batch).
The loop that calls them is :mod:`deepzen.train.loop`; :class:`~deepzen.train.trainer.Trainer`
builds everything they read.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable

import torch
from torch import Tensor, nn

if TYPE_CHECKING:
    from deepzen.train.callbacks.base import Callback, Hooks
    from deepzen.train.device import Precision
    from deepzen.train.loop_state import LoopState


def resolve_loss(loss: str | Callable[[Any, Any], Tensor], **options: Any) -> Callable[[Any, Any], Tensor]:
    """A loss callable; names are looked up with ``deepzen.losses.get``."""
    if callable(loss):
        return loss
    if not isinstance(loss, str):
        raise ValueError(f"loss must be a name or a callable(pred, target) -> scalar, got {type(loss).__name__}")
    try:
        from deepzen.losses import get
    except ImportError as err:
        raise ValueError(f"loss {loss!r} given by name but deepzen.losses is not available") from err
    return get(loss, **options)


class Steps:
    """What one batch does; :class:`~deepzen.train.trainer.Trainer` sets the attributes below."""

    model: nn.Module
    device: torch.device
    optimizer: torch.optim.Optimizer
    precision: Precision
    scaler: torch.amp.GradScaler | None
    loss_fn: Callable[[Any, Any], Tensor]
    regularizer: Callable[[nn.Module], Tensor] | None
    accumulate_steps: int
    callbacks: list[Callback]
    hooks: Hooks
    state: LoopState
    step_loss: Tensor | None  # the last batch's loss, for optimizers that need a closure
    processes: int = 1  # data-parallel processes training this model together (a checkpoint holds it)
    batch_inputs: Any = None  # the current batch's inputs (on the device), for HessianRefresh
    _forward: Callable[[Any], Any]
    _last_lr: float

    def compute_loss(self, pred: Any, target: Any) -> Tensor:
        """The data loss of one batch (mean over its samples)."""
        return self.loss_fn(pred, target)

    def train_step(self, x: Any, y: Any) -> tuple[Tensor, Any]:
        """Forward, loss and backward for one batch; returns the detached loss and predictions.

        The loss is divided by the accumulation steps and scaled by the GradScaler (fp16) for the
        backward pass; the optimizer step is :meth:`optimizer_step`.
        """
        with self.precision.autocast():
            pred = self._forward(x)
            loss = self.compute_loss(pred, y)
        total = loss + self.regularizer(self.model) if self.regularizer is not None else loss
        if self.accumulate_steps > 1:
            total = total / self.accumulate_steps
        (self.scaler.scale(total) if self.scaler is not None else total).backward()
        return loss.detach(), pred.detach()

    def optimizer_step(self) -> None:
        """Unscale (fp16), run ``on_before_optimizer_step`` (clipping), step, zero the gradients."""
        self._last_lr = self.optimizer.param_groups[0]["lr"]
        if self.scaler is not None:
            self.scaler.unscale_(self.optimizer)
        for cb in self.hooks.before_optimizer_step:
            cb.on_before_optimizer_step(self)
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        elif getattr(self.optimizer, "needs_loss", False):
            self._closure_step()
        else:
            self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.state.global_step += 1
        for cb in self.hooks.optimizer_step:
            cb.on_optimizer_step(self)

    def _closure_step(self) -> None:
        """``step(closure)`` for an optimizer that needs the loss every step (Eve). The closure returns
        the batch's data loss already computed at the current weights (no second forward pass); a
        non-finite loss skips the step and the NaN guard stops the run at the end of the batch."""
        loss = self.step_loss
        if loss is None or not math.isfinite(float(loss)):
            return
        self.optimizer.step(lambda: loss)

    @torch.no_grad()
    def eval_step(self, x: Any, y: Any) -> tuple[Tensor, Any]:
        with self.precision.autocast():
            pred = self._forward(x)
            loss = self.compute_loss(pred, y)
        return loss, pred

    @torch.no_grad()
    def predict_step(self, x: Any) -> Any:
        with self.precision.autocast():
            return self._forward(x)

    @property
    def last_lr(self) -> float:
        """The learning rate (first parameter group) the latest optimizer step used."""
        return float(self._last_lr)
