"""TensorBoard logging (``pip install 'deepzen[tensorboard]'``; ``torch.utils.tensorboard`` needs only
the ``tensorboard`` package, not TensorFlow).

Into ``<run_dir>/tensorboard/`` (or ``log_dir``):

- ``step/loss``, ``step/lr``: the training loss of every ``log_every``-th optimizer step and the
  learning rate that step used, at x = global step (1 = the first step);
- every epoch's row of ``metrics.csv`` (``loss``, ``accuracy``, ``val_loss``, ``lr``, ...), at x = epoch;
- the hyperparameters (HParams tab), with the final values of the epoch quantities as its metrics;
- the model's layer table as text (a graph would need ``torch.jit`` tracing, which PyTorch deprecates).

On resume, events after the checkpoint's step are purged, so the curves do not fold back.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from torch import Tensor

from deepzen.train.callbacks import Callback

if TYPE_CHECKING:
    from deepzen.train.callbacks.base import TrainerView

INSTALL_HINT = "pip install 'deepzen[tensorboard]'"


def tensorboard_installed() -> bool:
    """True when ``torch.utils.tensorboard`` can be imported (the ``tensorboard`` package is there)."""
    try:
        from torch.utils.tensorboard import SummaryWriter  # noqa: F401
    except ImportError:
        return False
    return True


class TensorBoardLogger(Callback):
    """Write training curves, hyperparameters and the model summary as TensorBoard events.

    Arguments:
        log_dir: event folder; default ``<trainer.run_dir>/tensorboard`` (required without a run_dir).
        hparams: flat ``{name: int | float | str | bool}`` shown in the HParams tab.
        log_every: write the per-step loss and lr every this many optimizer steps (1: every step; each
            entry costs ~0.1-0.4 ms of protobuf and queueing, a few % of a small model's step).
        summary: text shown under "model" (e.g. ``deepzen.nn.summary``); default ``repr(model)``.
    """

    def __init__(self, log_dir: str | Path | None = None, hparams: Mapping[str, Any] | None = None,
                 log_every: int = 10, summary: str | None = None) -> None:
        if not isinstance(log_every, int) or log_every < 1:
            raise ValueError(f"log_every must be an int >= 1, got {log_every!r}")
        self.log_dir, self.hparams, self.log_every, self.summary = log_dir, dict(hparams or {}), log_every, summary
        self.writer: Any = None
        self._last: dict[str, float] = {}
        self._logged_step = -1

    def on_train_begin(self, trainer: TrainerView) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ImportError(f"TensorBoard logging needs the tensorboard package: {INSTALL_HINT}") from None
        folder = self.log_dir or (trainer.run_dir.path / "tensorboard" if trainer.run_dir is not None else None)
        if folder is None:
            raise ValueError("TensorBoardLogger needs log_dir when the Trainer has no run_dir")
        resumed = trainer.global_step > 0
        self.writer = SummaryWriter(log_dir=str(folder), purge_step=trainer.global_step + 1 if resumed else None)
        if not resumed:
            self.writer.add_text("model", f"```\n{self.summary or repr(trainer.model)}\n```", 0)

    def on_batch_end(self, trainer: TrainerView, batch: int, loss: Tensor) -> None:
        step = trainer.global_step
        if self.writer is None or step == self._logged_step or step % self.log_every:
            return  # no optimizer step since the last entry (gradient accumulation), or not this one's turn
        self._logged_step = step
        self.writer.add_scalar("step/loss", float(loss), step)
        self.writer.add_scalar("step/lr", trainer.last_lr, step)

    def on_epoch_end(self, trainer: TrainerView, epoch: int, logs: dict[str, float]) -> None:
        if self.writer is None:
            return
        for key, value in logs.items():
            if key != "epoch":
                self.writer.add_scalar(key, float(value), epoch + 1)
        self._last = {k: float(v) for k, v in logs.items() if k not in ("epoch", "time")}
        self.writer.flush()

    def on_train_end(self, trainer: TrainerView) -> None:
        if self.writer is None:
            return
        if self.hparams and self._last:
            self.write_hparams(self._last)
        self.writer.close()
        self.writer = None

    def write_hparams(self, metrics: Mapping[str, float]) -> None:
        """The HParams tab: the hyperparameters and the final ``metrics`` (as ``hparam/<name>`` scalars)."""
        from torch.utils.tensorboard.summary import hparams

        shown = {f"hparam/{k}": v for k, v in metrics.items()}
        experiment, start, end = hparams(self.hparams, shown)
        for summary in (experiment, start, end):
            self.writer.file_writer.add_summary(summary)
        for key, value in shown.items():
            self.writer.add_scalar(key, value)
