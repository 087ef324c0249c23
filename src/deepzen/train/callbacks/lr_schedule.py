"""Step a learning-rate scheduler per optimizer step or per epoch."""

from __future__ import annotations

from typing import Any

import torch

from deepzen.train.callbacks.base import Callback, TrainerView
from deepzen.train.schedules import make_scheduler, schedule_interval


class LRSchedule(Callback):
    """Step a torch LR scheduler after every optimizer step (``interval="step"``) or every epoch.

    ``ReduceLROnPlateau`` is stepped per epoch with the monitored value (default ``val_loss``, else
    ``loss``). :meth:`by_name` builds a :func:`make_scheduler` schedule at the first ``fit`` (when
    the epochs and optimizer steps per epoch are known).
    """

    def __init__(self, scheduler: Any, interval: str = "epoch", monitor: str | None = None) -> None:
        if interval not in ("step", "epoch"):
            raise ValueError(f"interval must be 'step' or 'epoch', got {interval!r}")
        self.scheduler, self.interval, self.monitor = scheduler, interval, monitor
        self._spec: tuple[str, dict[str, Any]] | None = None
        self._check_plateau()

    def _check_plateau(self) -> None:
        self.needs_value = isinstance(self.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
        if self.needs_value and self.interval != "epoch":
            raise ValueError("ReduceLROnPlateau is stepped per epoch (interval='epoch')")

    @classmethod
    def by_name(cls, name: str, options: dict[str, Any] | None = None, interval: str | None = None) -> LRSchedule:
        """A schedule from :func:`make_scheduler` by name, built in :meth:`setup`."""
        schedule = cls(None, interval or schedule_interval(name))
        schedule._spec = (name, dict(options or {}))
        return schedule

    def setup(self, trainer: TrainerView) -> None:
        if self._spec is not None:
            name, options = self._spec
            self.scheduler = make_scheduler(name, trainer.optimizer, epochs=trainer.epochs,
                                            steps_per_epoch=trainer.steps_per_epoch, **options)
            self._spec = None
            self._check_plateau()

    def on_optimizer_step(self, trainer: TrainerView) -> None:
        if self.interval == "step":
            self.scheduler.step()

    def on_epoch_end(self, trainer: TrainerView, epoch: int, logs: dict[str, float]) -> None:
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
