"""The callbacks every Trainer gets on top of the user's: schedule, NaN guard, best checkpoint, run outputs.

The one place that knows concrete callback classes for the Trainer: the Trainer calls
:func:`standard_callbacks` once and from then on sees only :class:`Callback`.
"""

from __future__ import annotations

from typing import Any, Iterable

import torch

from deepzen.train.callbacks.base import Callback
from deepzen.train.callbacks.hessian_refresh import HessianRefresh
from deepzen.train.callbacks.lr_schedule import LRSchedule
from deepzen.train.callbacks.model_checkpoint import ModelCheckpoint
from deepzen.train.callbacks.nan_guard import NaNGuard
from deepzen.train.callbacks.optimizer_modes import OptimizerModes
from deepzen.train.callbacks.run_outputs import RunOutputs


def standard_callbacks(callbacks: Iterable[Callback], *, scheduler: Any = None,
                       scheduler_options: dict[str, Any] | None = None, scheduler_interval: str | None = None,
                       nan_guard: bool = True, run_dir: bool = False,
                       checkpoint_every: int | None = 500) -> list[Callback]:
    """``callbacks`` plus the defaults, in calling order.

    A schedule by name goes first (built at ``fit``), a scheduler object after the user's callbacks;
    then a :class:`NaNGuard` unless ``nan_guard=False`` or one is given; with ``run_dir`` a
    :class:`ModelCheckpoint` (``best.pt``) unless one is given, and :class:`RunOutputs` last.
    :class:`OptimizerModes` goes first (Schedule-Free's train/eval points: at the end its x is in place
    before a callback restores best weights) and :class:`HessianRefresh` after the user's callbacks
    (Sophia); both do nothing for optimizers without modes or a Hessian estimate.
    """
    result = [OptimizerModes(), *callbacks]
    if isinstance(scheduler, str):
        result.insert(0, LRSchedule.by_name(scheduler, scheduler_options, scheduler_interval))
    elif scheduler is not None:
        interval = scheduler_interval or (
            "step" if isinstance(scheduler, torch.optim.lr_scheduler.OneCycleLR) else "epoch")
        result.append(LRSchedule(scheduler, interval))
    result.append(HessianRefresh())
    if nan_guard and not any(isinstance(c, NaNGuard) for c in result):
        result.append(NaNGuard())
    if run_dir:
        if not any(isinstance(c, ModelCheckpoint) for c in result):
            result.append(ModelCheckpoint())
        if not any(isinstance(c, RunOutputs) for c in result):
            result.append(RunOutputs(checkpoint_every))
    return result
