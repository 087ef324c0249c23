"""Everything a run writes into its run directory, as one callback.

``metrics.csv`` (one row per finished epoch; rewritten from the history on resume), ``checkpoints/last.pt``
(each epoch end and every ``checkpoint_every`` optimizer steps inside an epoch), ``curves.png`` and
``summary.json`` at the end. ``best.pt`` is :class:`ModelCheckpoint`'s. The Trainer adds this callback
when it has a ``run_dir``; a run without one writes nothing.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from deepzen.train.callbacks.base import Callback, TrainerView
from deepzen.train.run_dir import RunDir, versions


class StepCheckpoints:
    """When ``last.pt`` is written inside an epoch: after a batch that ended with an optimizer step
    whose number is a multiple of ``checkpoint_every``, except the epoch's last batch (the epoch end
    writes one) and a batch after which the run stops. Feed it :meth:`on_optimizer_step`."""

    def __init__(self, checkpoint_every: int | None) -> None:
        if checkpoint_every is not None and (not isinstance(checkpoint_every, int) or checkpoint_every < 1):
            raise ValueError(f"checkpoint_every must be an int >= 1 or None, got {checkpoint_every!r}")
        self.checkpoint_every = checkpoint_every
        self._stepped = False

    def on_optimizer_step(self) -> None:
        self._stepped = True

    def due(self, trainer: TrainerView, batch: int) -> bool:
        """Whether batch ``batch`` (just finished) is followed by a write; call once per batch."""
        stepped, self._stepped = self._stepped, False
        every = self.checkpoint_every
        return not (every is None or not stepped or trainer.stop_training or batch + 1 >= trainer.batches_per_epoch
                    or trainer.global_step % every)


class RunOutputs(Callback):
    """Write metrics, ``last.pt``, curves and summary into ``trainer.run_dir``.

    Arguments:
        checkpoint_every: also write ``last.pt`` every this many optimizer steps (``None``: epoch ends only).
    """

    def __init__(self, checkpoint_every: int | None = 500) -> None:
        self.schedule = StepCheckpoints(checkpoint_every)

    @staticmethod
    def _run_dir(trainer: TrainerView) -> RunDir:
        if trainer.run_dir is None:
            raise ValueError("RunOutputs needs a Trainer with run_dir")
        return trainer.run_dir

    def on_train_begin(self, trainer: TrainerView) -> None:
        run_dir = self._run_dir(trainer)
        if trainer.resumed_from is not None:
            run_dir.write_metrics(trainer.history)  # rows match the checkpoint
        run_dir.create()

    def on_optimizer_step(self, trainer: TrainerView) -> None:
        self.schedule.on_optimizer_step()

    def on_batch_end(self, trainer: TrainerView, batch: int, loss: Tensor) -> None:
        if self.schedule.due(trainer, batch):
            trainer.save_checkpoint(self._run_dir(trainer).last_checkpoint)

    def on_epoch_end(self, trainer: TrainerView, epoch: int, logs: dict[str, float]) -> None:
        if trainer.failed:
            return
        run_dir = self._run_dir(trainer)
        run_dir.append_metrics(logs)
        trainer.save_checkpoint(run_dir.last_checkpoint)

    def on_train_end(self, trainer: TrainerView) -> None:
        run_dir = self._run_dir(trainer)
        history = trainer.history
        run_dir.plot_curves(history)
        epochs_done = len(history.get("epoch", []))
        summary: dict[str, Any] = {
            "epochs_completed": epochs_done,
            "global_step": trainer.global_step,
            "final": {k: v[-1] for k, v in history.items()} if history else {},
            "best": None,
            "stop_reason": trainer.stop_reason,
            "failed": trainer.failed,
            "timings": {"fit_seconds": trainer.elapsed,
                        "seconds_per_epoch": trainer.elapsed / epochs_done if epochs_done else None},
            "device": str(trainer.device),
            "precision": trainer.precision.name,
            "seed": trainer.seed,
            "parameters": sum(p.numel() for p in trainer.model.parameters()),
            "last_checkpoint": trainer.last_checkpoint[0] if trainer.last_checkpoint else None,
            "versions": versions(),
        }
        for callback in trainer.callbacks:
            summary.update(callback.run_summary())
        run_dir.write_summary(summary)
