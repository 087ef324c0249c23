"""Schedule-Free's two points in a training run: train mode (y) while training, eval mode (x) after."""

from __future__ import annotations

from deepzen.train.callbacks.base import Callback, TrainerView
from deepzen.train.optimizer_modes import has_modes


class OptimizerModes(Callback):
    """Put an optimizer that has modes (Schedule-Free) in train mode at each epoch's start (also after
    a resume, whose checkpoint holds the evaluation point) and in eval mode when training ends, so the
    model the user gets back holds the averaged weights x. Evaluation, prediction and checkpoints in
    between switch around themselves (``deepzen.train.optimizer_modes.evaluation_point``)."""

    def on_epoch_begin(self, trainer: TrainerView, epoch: int) -> None:
        if has_modes(trainer.optimizer):
            trainer.optimizer.train()  # type: ignore[attr-defined]

    def on_train_end(self, trainer: TrainerView) -> None:
        if has_modes(trainer.optimizer):
            trainer.optimizer.eval()  # type: ignore[attr-defined]
