"""Learning-rate range test (Smith, "Cyclical Learning Rates for Training Neural Networks", 2017).

Train for up to ``num_steps`` batches while the lr grows exponentially,
``lr_i = start_lr * (end_lr / start_lr) ** (i / (num_steps - 1))``, and record the loss smoothed by an
exponential moving average with bias correction, ``s_i = avg_i / (1 - beta ** (i + 1))`` where
``avg_i = beta avg_{i-1} + (1 - beta) loss_i``. The sweep stops early once ``s_i`` exceeds
``diverge_factor`` times its minimum (or turns non-finite).

Suggestion: the lr of steepest descent, ``argmin_i d log(s_i) / d log10(lr_i)`` over the points from
``skip_start`` up to the minimum of ``s`` -- where the loss falls fastest (relative to its size, so a
fall from 20 to 2 and one from 0.2 to 0.02 count the same), well before it blows up. With a
non-positive loss the slope of ``s`` itself is used. When fewer than 3 points lie before the minimum,
the fallback is (lr at the minimum) / 10.

Model, optimizer, scaler and RNG states are restored afterwards, so a later ``fit`` is unaffected.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np
import torch

from deepzen.train.callbacks.base import Hooks
from deepzen.train.checkpoint import capture_rng_state, restore_rng_state
from deepzen.train.loop import train_batches
from deepzen.train.seeding import epoch_generator

if TYPE_CHECKING:
    from deepzen.train.trainer import Trainer


@dataclass
class LRFinderResult:
    """The sweep: ``lrs``, raw and smoothed ``losses``, ``suggestion`` and how it was chosen."""

    lrs: list[float]
    raw_losses: list[float]
    losses: list[float]
    suggestion: float
    method: str  # "steepest" or "min/10"
    min_loss_lr: float

    def plot(self, path: str | Path) -> Path:
        """Save loss vs lr (log axis) with the suggestion marked."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        figure = Figure(figsize=(6, 4))
        FigureCanvasAgg(figure)
        axes = figure.add_subplot(1, 1, 1)
        axes.plot(self.lrs, self.raw_losses, alpha=0.3, label="loss")
        axes.plot(self.lrs, self.losses, label="smoothed loss")
        axes.axvline(self.suggestion, color="red", linestyle="--", label=f"suggested {self.suggestion:.2g} ({self.method})")
        axes.set_xscale("log")
        # The last points diverge by design; keep the axis on the useful range (up to 2x the start).
        finite = [v for v in self.losses if np.isfinite(v)]
        if finite:
            low = min(min(finite), min(v for v in self.raw_losses if np.isfinite(v)))
            axes.set_ylim(bottom=min(0.0, low), top=2.0 * max(finite[0], low) + 1e-12)
        axes.set_xlabel("learning rate")
        axes.set_ylabel("loss")
        axes.grid(alpha=0.3)
        axes.legend()
        figure.tight_layout()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=100)
        return path


def suggest_lr(lrs: list[float], losses: list[float], skip_start: int = 5) -> tuple[float, str]:
    """Steepest descent of (log) ``losses`` against ``log10(lrs)`` before their minimum, else min/10."""
    best = int(np.nanargmin(losses))
    lo = min(skip_start, max(best - 2, 0))
    if best - lo + 1 >= 3:
        curve = np.asarray(losses[lo : best + 1], dtype=np.float64)
        if (curve > 0).all():
            curve = np.log(curve)
        slope = np.gradient(curve, np.log10(lrs[lo : best + 1]))
        return float(lrs[lo + int(np.argmin(slope))]), "steepest"
    return float(lrs[best]) / 10, "min/10"


def _set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def _endless(trainer: Trainer, data: Any, batch_size: int, seed: int) -> Iterator[tuple[Any, Any]]:
    """Shuffled batches of ``data``, epoch after epoch (epoch ``e`` ordered by ``(seed, e)``)."""
    source = trainer._source(data)
    epoch = 0
    while True:
        generator = epoch_generator(seed, epoch)
        order = torch.randperm(len(source), generator=generator)
        yield from source.batches(order, batch_size, 0, False, generator)
        epoch += 1


def find_lr(trainer: Trainer, data: Any, *, start_lr: float = 1e-7, end_lr: float = 10.0, num_steps: int = 100,
            batch_size: int = 32, beta: float = 0.9, diverge_factor: float = 4.0, skip_start: int = 5,
            seed: int = 0) -> LRFinderResult:
    """Run the range test with ``trainer``'s model, optimizer, loss and precision (see module doc).

    Steps go through the training loop (:func:`deepzen.train.loop.train_batches`): gradient clipping,
    accumulation (one point per optimizer step, its loss the mean over the accumulated batches), AMP
    and closure optimizers work as in ``fit``; schedules, checkpoints and other callbacks do not run.
    """
    if not 0 < start_lr < end_lr:
        raise ValueError(f"need 0 < start_lr < end_lr, got start_lr={start_lr!r}, end_lr={end_lr!r}")
    if not isinstance(num_steps, int) or num_steps < 3:
        raise ValueError(f"num_steps must be an int >= 3, got {num_steps!r}")
    if not 0 <= beta < 1:
        raise ValueError(f"beta must be in [0, 1), got {beta!r}")
    if len(trainer._source(data)) == 0:
        raise ValueError("find_lr needs data: got 0 samples")
    model, optimizer = trainer.model, trainer.optimizer
    saved = (copy.deepcopy(model.state_dict()), copy.deepcopy(optimizer.state_dict()), capture_rng_state(),
             copy.deepcopy(trainer.scaler.state_dict()) if trainer.scaler is not None else None,
             model.training, trainer.hooks, trainer.state.global_step, trainer.last_lr)
    lrs: list[float] = []
    raw: list[float] = []
    smooth: list[float] = []
    avg, best = 0.0, math.inf
    trainer.hooks = Hooks.of(trainer.callbacks, gradient_only=True)  # clipping yes; schedules, checkpoints no
    model.train()
    pending: list[float] = []  # losses of the batches accumulated into the next step
    _set_lr(optimizer, start_lr)
    try:
        for _, _, loss, _, stepped in train_batches(trainer, _endless(trainer, data, batch_size, seed)):
            pending.append(float(loss))
            if not stepped:
                continue
            i = len(lrs)
            value = sum(pending) / len(pending)
            pending.clear()
            avg = beta * avg + (1 - beta) * value
            smoothed = avg / (1 - beta ** (i + 1))
            lrs.append(float(optimizer.param_groups[0]["lr"]))
            raw.append(value)
            smooth.append(smoothed)
            if not math.isfinite(smoothed) or smoothed > diverge_factor * best or i + 1 >= num_steps:
                break
            best = min(best, smoothed)
            _set_lr(optimizer, start_lr * (end_lr / start_lr) ** ((i + 1) / (num_steps - 1)))
    finally:
        model.load_state_dict(saved[0])
        optimizer.load_state_dict(saved[1])
        restore_rng_state(saved[2])
        if trainer.scaler is not None and saved[3] is not None:
            trainer.scaler.load_state_dict(saved[3])
        model.train(saved[4])
        trainer.hooks, trainer.state.global_step, trainer._last_lr = saved[5], saved[6], saved[7]
    finite = [s if math.isfinite(s) else math.inf for s in smooth]
    suggestion, method = suggest_lr(lrs, finite, skip_start)
    min_lr = float(lrs[int(np.argmin(finite))])
    return LRFinderResult(lrs, raw, smooth, suggestion, method, min_lr)
