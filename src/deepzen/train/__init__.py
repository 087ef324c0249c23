"""deepzen.train: the Trainer and everything around the training loop.

``Trainer(model, optimizer, loss, metrics=..., callbacks=..., run_dir=..., seed=...)`` with
``fit`` / ``evaluate`` / ``predict``; callbacks, metrics, LR schedules, the LR finder, checkpoints
and run directories.
"""

from __future__ import annotations

from deepzen.train.callbacks import (
    Callback, EarlyStopping, GradientClipping, LRSchedule, ModelCheckpoint, NaNGuard, RunOutputs, TrainerView,
)
from deepzen.train.checkpoint import atomic_save, load_checkpoint
from deepzen.train.device import resolve_device, resolve_precision
from deepzen.train.lr_finder import LRFinderResult, find_lr, suggest_lr
from deepzen.train.metrics import (
    Accuracy, F1Macro, MeanAbsoluteError, MeanSquaredError, Metric, Perplexity, R2Score, TopKAccuracy, get_metric,
)
from deepzen.train.progress import make_progress
from deepzen.train.run_dir import RunDir
from deepzen.train.schedules import make_scheduler, schedule_interval
from deepzen.train.seeding import seed_everything, set_deterministic
from deepzen.train.trainer import History, Trainer

__all__ = [
    "Accuracy", "Callback", "EarlyStopping", "F1Macro", "GradientClipping", "History",
    "LRFinderResult", "LRSchedule", "MeanAbsoluteError", "MeanSquaredError", "Metric", "ModelCheckpoint",
    "NaNGuard", "Perplexity", "R2Score", "RunDir", "RunOutputs", "TopKAccuracy", "Trainer", "TrainerView", "atomic_save", "find_lr",
    "get_metric", "load_checkpoint", "make_progress", "make_scheduler", "resolve_device", "resolve_precision",
    "schedule_interval", "seed_everything", "set_deterministic", "suggest_lr",
]
