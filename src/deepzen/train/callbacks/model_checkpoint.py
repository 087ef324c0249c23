"""Keep the checkpoint of the best epoch (``best.pt``)."""

from __future__ import annotations

from typing import Any

from deepzen.train.callbacks.base import Callback, TrainerView
from deepzen.train.callbacks.monitor import Monitor


class ModelCheckpoint(Callback):
    """Write a full checkpoint to ``path`` (default ``<run_dir>/checkpoints/best.pt``) each epoch the
    monitored value improves (or every epoch with ``save_best_only=False``)."""

    def __init__(self, path: str | None = None, monitor: str | None = None, mode: str = "auto",
                 save_best_only: bool = True) -> None:
        self.path = path
        self._tracker = Monitor(monitor, mode, 0.0)
        self.save_best_only = save_best_only

    def on_train_begin(self, trainer: TrainerView) -> None:
        if self.path is None:
            if trainer.run_dir is None:
                raise ValueError("ModelCheckpoint needs a path, or a Trainer with run_dir")
            self.path = str(trainer.run_dir.best_checkpoint)

    def on_epoch_end(self, trainer: TrainerView, epoch: int, logs: dict[str, float]) -> None:
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

    def run_summary(self) -> dict[str, Any]:
        return {"best": {"monitor": self._tracker.monitor, "value": self._tracker.best}}
