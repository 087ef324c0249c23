"""Optimizers with an evaluation point (Schedule-Free): the weights to evaluate, save and predict with.

Schedule-Free optimizers (deepzen's and the authors' ``schedulefree`` package alike) take gradients at
a point y but average a sequence x; ``optimizer.eval()`` puts the parameters at x and
``optimizer.train()`` back at y. Every parameter group records the mode as ``train_mode``. The
Trainer evaluates, predicts and writes checkpoints inside :func:`evaluation_point`, and the
:class:`~deepzen.train.callbacks.optimizer_modes.OptimizerModes` callback puts the optimizer in train
mode for each epoch and in eval mode when training ends.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


def has_modes(optimizer: torch.optim.Optimizer) -> bool:
    """Whether ``optimizer`` switches its parameters between a training and an evaluation point."""
    return (callable(getattr(optimizer, "eval", None)) and callable(getattr(optimizer, "train", None))
            and all("train_mode" in group for group in optimizer.param_groups))


def in_train_mode(optimizer: torch.optim.Optimizer) -> bool:
    return any(group["train_mode"] for group in optimizer.param_groups)


@contextlib.contextmanager
def evaluation_point(optimizer: torch.optim.Optimizer) -> Iterator[bool]:
    """The parameters at the optimizer's evaluation point inside the block (x for Schedule-Free), and
    back where they were after it; a no-op for every other optimizer. Yields whether it switched (then
    tensors read from the parameters inside the block must be copied before it ends)."""
    switch = has_modes(optimizer) and in_train_mode(optimizer)
    if switch:
        optimizer.eval()  # type: ignore[attr-defined]
    try:
        yield switch
    finally:
        if switch:
            optimizer.train()  # type: ignore[attr-defined]
