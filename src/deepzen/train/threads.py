"""One rule for CPU threads: ``threads="auto"`` (the default of the Trainer and of ``training.threads``).

``auto`` counts the floating-point operations ``F`` of one forward pass on the first training batch
(``torch.utils.flop_counter``; at least ``2 * parameters * batch size`` for layers it does not count,
such as the fused LSTM) and uses ``clamp(floor(F / FLOPS_PER_THREAD), 1, cores)`` threads: one thread
per 100 MFLOP of forward work, never more than the cores this process may run on.

Why: below ~100 MFLOP a training step is a chain of small kernels whose per-op overhead and thread
synchronisation eat the parallel gain (the examples gain at most ~20% from a second thread on a quiet
machine), while on a shared machine a second thread that has to wait for a busy core makes every step
slower by up to 100x (issue 15: README's CNN on digits took 26-39 s with 2 threads, 1.9-2.3 s with one, at load ~5).
Above it, matrix products are big enough that each extra thread pays (a 272 MFLOP MLP step: 1.85x
faster with 2 threads). The count depends only on the model, the batch and the number of cores, not on
the machine's load, so a config trains with the same thread count, hence the same floating-point
reduction order, every time on the same machine.

``threads=None`` leaves torch's setting alone; an int sets exactly that many.
"""

from __future__ import annotations

import os
from typing import Any, Callable

import torch
from torch import nn

from deepzen.train.checkpoint import capture_rng_state, restore_rng_state

FLOPS_PER_THREAD = 100e6  # forward FLOPs per batch that justify one more thread


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def forward_flops(model: nn.Module, x: Any, batch_size: int) -> float:
    """FLOPs of one forward pass on ``x`` (eval mode, no gradients; RNG states untouched), at least
    ``2 * parameters * batch_size``."""
    from torch.utils.flop_counter import FlopCounterMode

    rng, was_training = capture_rng_state(), model.training
    model.eval()
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(x)
    finally:
        model.train(was_training)
        restore_rng_state(rng)
    dense = 2.0 * sum(p.numel() for p in model.parameters()) * batch_size
    return max(float(counter.get_total_flops()), dense)


def auto_threads(flops: float, cores: int | None = None) -> int:
    """``clamp(floor(flops / FLOPS_PER_THREAD), 1, cores)``."""
    return max(1, min(int(flops // FLOPS_PER_THREAD), cores or available_cores()))


def cores_per_process(cores: int, local_processes: int) -> int:
    """``max(1, cores // local_processes)``: one data-parallel process's share of the machine's cores
    (``local_processes`` of them on this machine), so that ``auto`` in every process together does not
    ask for more threads than there are cores."""
    return max(1, cores // max(1, local_processes))


def check_threads(threads: int | str | None) -> int | str | None:
    """``threads`` if it is ``"auto"``, ``None`` or an int >= 1, else a ValueError naming what is allowed."""
    if threads is None or threads == "auto" or (isinstance(threads, int) and not isinstance(threads, bool)
                                                 and threads >= 1):
        return threads
    raise ValueError(f"threads must be 'auto', an int >= 1 or None (torch's default), got {threads!r}")


def set_threads(threads: int | str | None, model: nn.Module, batch_size: int,
                first_batch: Callable[[], Any], cores: int | None = None) -> int | None:
    """Apply the rule (``first_batch()``: the input ``x`` of a training batch, on the model's device,
    fetched only for ``"auto"``; ``cores``: the most ``"auto"`` may use, default all this process may
    run on); returns the thread count set, or ``None`` when torch's setting was left alone."""
    if threads is None:
        return None
    count = threads if isinstance(threads, int) else auto_threads(forward_flops(model, first_batch(), batch_size),
                                                                  cores)
    torch.set_num_threads(count)
    return count
