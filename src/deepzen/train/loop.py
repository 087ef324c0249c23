"""The batch loop shared by ``Trainer.fit`` and the LR finder: train step per batch, an optimizer step
every ``accumulate_steps`` batches (and at an epoch's last batch), gradient hooks around it.

So clipping, accumulation, AMP (fp16 unscaling) and closure optimizers behave the same in both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Iterator

from torch import Tensor

from deepzen.structures import to_device

if TYPE_CHECKING:
    from deepzen.train.steps import Steps


def batch_len(x: Any, y: Any) -> int:
    """Samples in a batch: ``len(y)`` for a tensor target, else ``len(x)``."""
    if isinstance(y, Tensor) and y.dim() > 0:
        return int(y.shape[0])
    return len(x)


def train_batches(trainer: Steps, batches: Iterable[tuple[Any, Any]], start: int = 0,
                  total: int | None = None) -> Iterator[tuple[int, tuple[Any, Any], Tensor, Any, bool]]:
    """Train on ``batches`` (numbered from ``start``); yields ``(b, (x, y), loss, pred, stepped)`` per
    batch, ``x`` and ``y`` on the device.

    ``stepped``: an optimizer step followed this batch, every ``trainer.accumulate_steps`` batches and
    at batch ``total - 1`` (an epoch's leftover batches still make one step; ``total=None``: no end).
    ``on_batch_begin`` runs before the batch; the caller runs ``on_batch_end``.
    """
    k, device, hooks = trainer.accumulate_steps, trainer.device, trainer.hooks
    for b, (x, y) in enumerate(batches, start):
        for cb in hooks.batch_begin:
            cb.on_batch_begin(trainer, b)
        stepped = (b + 1) % k == 0 or (total is not None and b + 1 == total)  # known before the backward
        x, y = to_device(x, device), to_device(y, device)
        trainer.batch_inputs = x                      # the Hessian refresh (Sophia) reuses the batch
        loss, pred = trainer.train_step(x, y)
        trainer.step_loss = loss
        if stepped:
            trainer.optimizer_step()
        yield b, (x, y), loss, pred, stepped
