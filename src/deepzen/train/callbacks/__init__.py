"""Callbacks: objects whose hooks the Trainer calls around training (Keras-style).

One file per callback; :mod:`~deepzen.train.callbacks.base` holds the no-op base class and the
read-only :class:`TrainerView` the hooks receive. To add a callback, subclass :class:`Callback` in a
new file and pass an instance in ``Trainer(callbacks=[...])``: the Trainer needs no change.
"""

from __future__ import annotations

from deepzen.train.callbacks.base import Callback, Hooks, TrainerView, overrides
from deepzen.train.callbacks.defaults import standard_callbacks
from deepzen.train.callbacks.early_stopping import EarlyStopping
from deepzen.train.callbacks.gradient_clipping import GradientClipping
from deepzen.train.callbacks.hessian_refresh import HessianRefresh
from deepzen.train.callbacks.lr_schedule import LRSchedule
from deepzen.train.callbacks.model_checkpoint import ModelCheckpoint
from deepzen.train.callbacks.monitor import HIGHER_IS_BETTER, Monitor, infer_mode
from deepzen.train.callbacks.nan_guard import NaNGuard
from deepzen.train.callbacks.optimizer_modes import OptimizerModes
from deepzen.train.callbacks.run_outputs import RunOutputs

__all__ = [
    "HIGHER_IS_BETTER", "Callback", "EarlyStopping", "GradientClipping", "HessianRefresh", "Hooks", "LRSchedule",
    "ModelCheckpoint", "Monitor", "NaNGuard", "OptimizerModes", "RunOutputs", "TrainerView", "infer_mode", "overrides",
    "standard_callbacks",
]
