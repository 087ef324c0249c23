"""Callbacks: objects whose hooks the Trainer calls around training (Keras-style, all no-ops here).

Order of calls in ``Trainer.fit``::

    on_train_begin
      on_epoch_begin(epoch)                 (also on resume mid-epoch; see trainer.batch_in_epoch)
        on_batch_begin(batch) -> train_step -> [on_before_optimizer_step -> step -> on_optimizer_step]
        -> on_batch_end(batch, loss)
      on_epoch_end(epoch, logs)             (logs: loss, metrics, val_*, lr, time)
    on_train_end

``can_checkpoint`` lets a callback veto writing a checkpoint (the NaN guard does). ``state_dict`` /
``load_state_dict`` carry a callback's state through checkpoints: tensors and plain containers only.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

if TYPE_CHECKING:
    from deepzen.train.trainer import Trainer

HIGHER_IS_BETTER = {"accuracy", "f1", "r2"}


class Callback:
    """Base class: every hook does nothing."""

    def on_train_begin(self, trainer: Trainer) -> None: ...
    def on_train_end(self, trainer: Trainer) -> None: ...
    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None: ...
    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None: ...
    def on_batch_begin(self, trainer: Trainer, batch: int) -> None: ...
    def on_batch_end(self, trainer: Trainer, batch: int, loss: Tensor) -> None: ...
    def on_before_optimizer_step(self, trainer: Trainer) -> None: ...
    def on_optimizer_step(self, trainer: Trainer) -> None: ...

    def can_checkpoint(self, trainer: Trainer) -> bool:
        """Return False to veto the checkpoint about to be written."""
        return True

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


def overrides(callback: Callback, hook: str) -> bool:
    """True if ``callback`` defines ``hook`` itself (lets the Trainer skip no-op hooks per batch)."""
    return getattr(type(callback), hook) is not getattr(Callback, hook)


def infer_mode(monitor: str) -> str:
    """``"max"`` for accuracy-like quantities, ``"min"`` for losses and errors."""
    base = monitor.removeprefix("val_")
    return "max" if base in HIGHER_IS_BETTER or re.fullmatch(r"top\d+", base) else "min"


class _Monitor:
    """Tracks the best value of a logged quantity."""

    def __init__(self, monitor: str | None, mode: str, min_delta: float) -> None:
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        if min_delta < 0:
            raise ValueError(f"min_delta must be >= 0, got {min_delta!r}")
        self.monitor, self.mode, self.min_delta = monitor, mode, min_delta
        self.best: float | None = None

    def resolve(self, logs: dict[str, float]) -> str:
        if self.monitor is None:
            self.monitor = "val_loss" if "val_loss" in logs else "loss"
        if self.monitor not in logs:
            raise ValueError(f"cannot monitor {self.monitor!r}: not logged; logged: {', '.join(logs)}")
        if self.mode == "auto":
            self.mode = infer_mode(self.monitor)
        return self.monitor

    def improved(self, value: float) -> bool:
        if value != value:  # nan never improves
            return False
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    Arguments:
        monitor: logged key; default ``val_loss`` when validation data is given, else ``loss``.
        patience: epochs without improvement tolerated; training stops at epoch best + patience.
        min_delta: smallest change that counts as an improvement.
        mode: ``min`` | ``max`` | ``auto`` (``max`` for accuracy, top-k, f1, r2).
        restore_best_weights: at the end of training, load the weights of the best epoch.
    """

    def __init__(
        self, monitor: str | None = None, patience: int = 5, min_delta: float = 0.0, mode: str = "auto",
        restore_best_weights: bool = True,
    ) -> None:
        if not isinstance(patience, int) or patience < 1:
            raise ValueError(f"patience must be an int >= 1, got {patience!r}")
        self._tracker = _Monitor(monitor, mode, min_delta)
        self.patience, self.restore_best_weights = patience, restore_best_weights
        self.wait = 0
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.best_weights: dict[str, Tensor] | None = None

    @property
    def best(self) -> float | None:
        return self._tracker.best

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        monitor = self._tracker.resolve(logs)
        value = logs[monitor]
        if self._tracker.improved(value):
            self._tracker.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            trainer.stop(
                f"early stopping: {monitor} did not improve for {self.patience} epochs "
                f"(best {self._tracker.best:.6g} at epoch {self.best_epoch + 1})"
            )

    def on_train_end(self, trainer: Trainer) -> None:
        if self.restore_best_weights and self.best_weights is not None and self.best_epoch != trainer.epoch - 1:
            trainer.model.load_state_dict(self.best_weights)

    def state_dict(self) -> dict[str, Any]:
        t = self._tracker
        return {"monitor": t.monitor, "mode": t.mode, "best": t.best, "wait": self.wait,
                "best_epoch": self.best_epoch, "best_weights": self.best_weights}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._tracker.monitor, self._tracker.mode, self._tracker.best = state["monitor"], state["mode"], state["best"]
        self.wait, self.best_epoch, self.best_weights = state["wait"], state["best_epoch"], state["best_weights"]


class ModelCheckpoint(Callback):
    """Write a full checkpoint to ``path`` (default ``<run_dir>/checkpoints/best.pt``) each epoch the
    monitored value improves (or every epoch with ``save_best_only=False``)."""

    def __init__(self, path: str | None = None, monitor: str | None = None, mode: str = "auto",
                 save_best_only: bool = True) -> None:
        self.path = path
        self._tracker = _Monitor(monitor, mode, 0.0)
        self.save_best_only = save_best_only

    def on_train_begin(self, trainer: Trainer) -> None:
        if self.path is None:
            if trainer.run_dir is None:
                raise ValueError("ModelCheckpoint needs a path, or a Trainer with run_dir")
            self.path = str(trainer.run_dir.best_checkpoint)

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        value = logs[self._tracker.resolve(logs)]
        better = self._tracker.improved(value)
        if better:
            self._tracker.best = value
        if better or not self.save_best_only:
            trainer.save_checkpoint(self.path)

    def state_dict(self) -> dict[str, Any]:
        return {"monitor": self._tracker.monitor, "mode": self._tracker.mode, "best": self._tracker.best}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._tracker.monitor, self._tracker.mode, self._tracker.best = state["monitor"], state["mode"], state["best"]


class LRSchedule(Callback):
    """Step a torch LR scheduler after every optimizer step (``interval="step"``) or every epoch.

    ``ReduceLROnPlateau`` is stepped per epoch with the monitored value (default ``val_loss``, else
    ``loss``).
    """

    def __init__(self, scheduler: Any, interval: str = "epoch", monitor: str | None = None) -> None:
        if interval not in ("step", "epoch"):
            raise ValueError(f"interval must be 'step' or 'epoch', got {interval!r}")
        self.scheduler, self.interval, self.monitor = scheduler, interval, monitor
        self.needs_value = isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
        if self.needs_value and interval != "epoch":
            raise ValueError("ReduceLROnPlateau is stepped per epoch (interval='epoch')")

    def on_optimizer_step(self, trainer: Trainer) -> None:
        if self.interval == "step":
            self.scheduler.step()

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        if self.interval != "epoch":
            return
        if self.needs_value:
            self.monitor = self.monitor or ("val_loss" if "val_loss" in logs else "loss")
            self.scheduler.step(logs[self.monitor])
        else:
            self.scheduler.step()

    def state_dict(self) -> dict[str, Any]:
        return {"scheduler": self.scheduler.state_dict(), "monitor": self.monitor}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.scheduler.load_state_dict(state["scheduler"])
        self.monitor = state["monitor"]
