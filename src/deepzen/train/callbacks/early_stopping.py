"""Stop training when a monitored quantity stops improving."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from deepzen.train.callbacks.base import Callback, TrainerView
from deepzen.train.callbacks.monitor import Monitor
from deepzen.train.optimizer_modes import evaluation_point


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
        self._tracker = Monitor(monitor, mode, min_delta)
        self.patience, self.restore_best_weights = patience, restore_best_weights
        self.wait = 0
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.best_weights: dict[str, Tensor] | None = None

    @property
    def best(self) -> float | None:
        return self._tracker.best

    def on_epoch_end(self, trainer: TrainerView, epoch: int, logs: dict[str, float]) -> None:
        monitor = self._tracker.resolve(logs)
        value = logs[monitor]
        if self._tracker.improved(value):
            self._tracker.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                with evaluation_point(trainer.optimizer):           # Schedule-Free: the averaged x
                    self.best_weights = {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            trainer.stop(
                f"early stopping: {monitor} did not improve for {self.patience} epochs "
                f"(best {self._tracker.best:.6g} at epoch {self.best_epoch + 1})"
            )

    def on_train_end(self, trainer: TrainerView) -> None:
        if self.restore_best_weights and self.best_weights is not None and self.best_epoch != trainer.epoch - 1:
            trainer.model.load_state_dict(self.best_weights)

    def state_dict(self) -> dict[str, Any]:
        t = self._tracker
        return {"monitor": t.monitor, "mode": t.mode, "best": t.best, "wait": self.wait,
                "best_epoch": self.best_epoch, "best_weights": self.best_weights}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._tracker.monitor, self._tracker.mode, self._tracker.best = state["monitor"], state["mode"], state["best"]
        self.wait, self.best_epoch, self.best_weights = state["wait"], state["best_epoch"], state["best_weights"]
