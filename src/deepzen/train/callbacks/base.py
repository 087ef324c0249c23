"""The callback base class (every hook a no-op) and the read-only view of the trainer hooks receive.

Order of calls in ``Trainer.fit``::

    setup                                   (every fit, before a checkpoint is restored)
    on_train_begin
      on_epoch_begin(epoch)                 (also on resume mid-epoch; see trainer.batch_in_epoch)
        on_batch_begin(batch) -> train_step -> [on_before_optimizer_step -> step -> on_optimizer_step]
        -> on_batch_end(batch, loss)
      on_epoch_end(epoch, logs)             (logs: loss, metrics, val_*, lr, time)
    on_train_end

``can_checkpoint`` lets a callback veto writing a checkpoint (the NaN guard does). ``state_dict`` /
``load_state_dict`` carry a callback's state through checkpoints: tensors and plain containers only.
``run_summary`` adds entries to the run's ``summary.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Sequence

import torch
from torch import Tensor, nn

if TYPE_CHECKING:
    from deepzen.train.device import Precision
    from deepzen.train.run_dir import RunDir


class TrainerView(Protocol):
    """What a callback may read from the trainer (and the two things it may ask: stop, checkpoint).

    Loop position: ``epoch`` (epochs finished), ``batch_in_epoch`` (batches finished in the current
    epoch), ``global_step`` (optimizer steps); ``epochs`` and ``batches_per_epoch`` of the current
    ``fit``; ``steps_per_epoch`` = optimizer steps per epoch (``ceil(batches / accumulate_steps)``).
    """

    @property
    def model(self) -> nn.Module: ...
    @property
    def optimizer(self) -> torch.optim.Optimizer: ...
    @property
    def device(self) -> torch.device: ...
    @property
    def precision(self) -> Precision: ...
    @property
    def seed(self) -> int | None: ...
    @property
    def epoch(self) -> int: ...
    @property
    def batch_in_epoch(self) -> int: ...
    @property
    def global_step(self) -> int: ...
    @property
    def epochs(self) -> int: ...
    @property
    def batches_per_epoch(self) -> int: ...
    @property
    def steps_per_epoch(self) -> int: ...
    @property
    def history(self) -> dict[str, list[float]]: ...
    @property
    def elapsed(self) -> float: ...
    @property
    def last_lr(self) -> float: ...
    @property
    def batch_inputs(self) -> Any: ...
    @property
    def run_dir(self) -> RunDir | None: ...
    @property
    def resumed_from(self) -> Path | None: ...
    @property
    def last_checkpoint(self) -> tuple[str, int] | None: ...
    @property
    def callbacks(self) -> Sequence[Callback]: ...
    @property
    def stop_training(self) -> bool: ...
    @property
    def stop_reason(self) -> str | None: ...
    @property
    def failed(self) -> bool: ...

    def stop(self, reason: str, failed: bool = False) -> None: ...
    def save_checkpoint(self, path: str | Path) -> bool: ...


class Callback:
    """Base class: every hook does nothing. Subclass and override the hooks you need."""

    def setup(self, trainer: TrainerView) -> None: ...
    def on_train_begin(self, trainer: TrainerView) -> None: ...
    def on_train_end(self, trainer: TrainerView) -> None: ...
    def on_epoch_begin(self, trainer: TrainerView, epoch: int) -> None: ...
    def on_epoch_end(self, trainer: TrainerView, epoch: int, logs: dict[str, float]) -> None: ...
    def on_batch_begin(self, trainer: TrainerView, batch: int) -> None: ...
    def on_batch_end(self, trainer: TrainerView, batch: int, loss: Tensor) -> None: ...
    def on_before_optimizer_step(self, trainer: TrainerView) -> None: ...
    def on_optimizer_step(self, trainer: TrainerView) -> None: ...

    def can_checkpoint(self, trainer: TrainerView) -> bool:
        """Return False to veto the checkpoint about to be written."""
        return True

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None: ...

    def run_summary(self) -> dict[str, Any]:
        """Entries this callback adds to ``summary.json`` (none by default)."""
        return {}


def overrides(callback: Callback, hook: str) -> bool:
    """True if ``callback`` defines ``hook`` itself (lets the loop skip no-op hooks per batch)."""
    return getattr(type(callback), hook) is not getattr(Callback, hook)


@dataclass
class Hooks:
    """The callbacks that override each per-batch hook (no-op hooks are skipped per batch)."""

    batch_begin: list[Callback] = field(default_factory=list)
    batch_end: list[Callback] = field(default_factory=list)
    before_optimizer_step: list[Callback] = field(default_factory=list)
    optimizer_step: list[Callback] = field(default_factory=list)

    @classmethod
    def of(cls, callbacks: Sequence[Callback], gradient_only: bool = False) -> Hooks:
        """All per-batch hooks of ``callbacks``; ``gradient_only``: just ``on_before_optimizer_step``
        (clipping), as in the LR finder, where schedules and checkpoints must not run."""
        def pick(hook: str) -> list[Callback]:
            return [cb for cb in callbacks if overrides(cb, hook)]
        if gradient_only:
            return cls(before_optimizer_step=pick("on_before_optimizer_step"))
        return cls(pick("on_batch_begin"), pick("on_batch_end"), pick("on_before_optimizer_step"),
                   pick("on_optimizer_step"))
