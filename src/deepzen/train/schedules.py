"""Learning-rate schedules by name, built on ``torch.optim.lr_scheduler``.

The names, formulas, options and intervals are the entries of :data:`SCHEDULES` (a
:class:`deepzen.registry.Registry`; ``deepzen list schedules`` and ``deepzen explain cosine`` print
them). "interval" says whether the Trainer steps the scheduler after every optimizer step or every epoch.
"""

from __future__ import annotations

import inspect
import math
from typing import Any, Callable

from torch.optim import Optimizer
from torch.optim import lr_scheduler as torch_schedulers

from deepzen._suggest import did_you_mean
from deepzen.registry import Entry, Registry

_TORCH = "torch.optim.lr_scheduler"

#: The schedules: formula (base lr ``b``, step or epoch ``t``), options and interval as data.
SCHEDULES = Registry("schedule", [
    Entry("step", f"{_TORCH}:StepLR", "multiply the lr by gamma every step_size epochs",
          formula="b * gamma ** (t // step_size)",
          options={"step_size": "epochs between decays (required)", "gamma": "decay factor, default 0.1"},
          aliases=("steplr",), extra={"interval": "epoch"}),
    Entry("cosine", f"{_TORCH}:LambdaLR", "linear warmup, then cosine decay to min_lr "
          "(Loshchilov & Hutter 2017, SGDR without restarts; warmup of Goyal et al. 2017)",
          formula="b * t / W for t < W, then min_lr + (b - min_lr) (1 + cos(pi (t - W) / (T - W))) / 2, "
                  "min_lr after T",
          options={"warmup_steps": "W, default 0", "total_steps": "T, default epochs x steps per epoch",
                   "min_lr": "default 0"},
          aliases=("cosine_warmup",), extra={"interval": "step"}),
    Entry("one_cycle", f"{_TORCH}:OneCycleLR", "one cycle: warm up to max_lr, anneal far below the start "
          "(Smith & Topin 2018)",
          formula="warm up to max_lr over pct_start of the steps, anneal (cosine) to "
                  "max_lr / (div_factor * final_div_factor)",
          options={"max_lr": "default: each group's lr", "total_steps": "default epochs x steps per epoch",
                   "pct_start": "default 0.3", "div_factor": "default 25", "final_div_factor": "default 1e4",
                   "anneal_strategy": 'default "cos"', "three_phase": "default false"},
          aliases=("onecycle",), extra={"interval": "step"}),
    Entry("plateau", f"{_TORCH}:ReduceLROnPlateau", "multiply the lr by factor when the monitored value stalls",
          formula="multiply by factor after patience epochs without improvement of the monitored value",
          options={"mode": 'default "min"', "factor": "default 0.1", "patience": "default 10",
                   "threshold": "default 1e-4", "cooldown": "default 0", "min_lr": "default 0"},
          aliases=("reduce_on_plateau",), extra={"interval": "epoch"}),
], columns=(("name", "name"), ("stepped per", "interval"), ("lr at step/epoch t", "formula")), docs=False)

INTERVALS = {name: SCHEDULES[name].extra["interval"] for name in SCHEDULES}


def schedule_interval(name: str) -> str:
    """``"step"`` or ``"epoch"``: how often the named schedule is stepped."""
    return INTERVALS[SCHEDULES.key(name)]


def _total_steps(name: str, opts: dict[str, Any], epochs: int | None, steps_per_epoch: int | None) -> int:
    total = opts.pop("total_steps", None)
    if total is None:
        if epochs is None or steps_per_epoch is None:
            raise ValueError(f"schedule {name!r} needs total_steps, or epochs and steps_per_epoch")
        total = epochs * steps_per_epoch
    if not isinstance(total, int) or total < 1:
        raise ValueError(f"schedule {name!r}: total_steps must be an int >= 1, got {total!r}")
    return total


def _check_options(name: str, opts: dict[str, Any], allowed: list[str]) -> None:
    for key in opts:
        if key not in allowed:
            raise ValueError(
                f"schedule {name!r} has no option {key!r}; allowed: {', '.join(sorted(allowed))}{did_you_mean(key, allowed)}"
            )


def cosine_factor(step: int, warmup_steps: int, total_steps: int, min_ratio: float) -> float:
    """Multiplier of the base lr at ``step`` for cosine decay with linear warmup (see module doc)."""
    if step < warmup_steps:
        return step / warmup_steps
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def make_scheduler(
    name: str,
    optimizer: Optimizer,
    *,
    epochs: int | None = None,
    steps_per_epoch: int | None = None,
    **opts: Any,
) -> Any:
    """Build a torch LR scheduler by name (see the module table for names and formulas).

    Arguments:
        name: ``step`` | ``cosine`` | ``one_cycle`` | ``plateau``.
        optimizer: any ``torch.optim.Optimizer``.
        epochs, steps_per_epoch: give ``total_steps`` for the per-step schedules when it is not passed.
        opts: ``step``: step_size (epochs, required), gamma=0.1. ``cosine``: warmup_steps=0, total_steps,
            min_lr=0. ``one_cycle``: max_lr (default: each group's lr), total_steps, pct_start=0.3,
            div_factor=25, final_div_factor=1e4, anneal_strategy="cos", three_phase=False.
            ``plateau``: mode="min", factor=0.1, patience=10, threshold=1e-4, cooldown=0, min_lr=0.
    Returns:
        a ``torch.optim.lr_scheduler`` object (``ReduceLROnPlateau.step`` takes the monitored value).
    """
    key = SCHEDULES.key(name)
    opts = dict(opts)
    if key == "step":
        _check_options(key, opts, ["step_size", "gamma"])
        step_size, gamma = opts.get("step_size"), opts.get("gamma", 0.1)
        if not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"schedule 'step' needs step_size (int >= 1 epochs), got {step_size!r}")
        if not 0 < gamma <= 1:
            raise ValueError(f"schedule 'step': gamma must be in (0, 1], got {gamma!r}")
        return torch_schedulers.StepLR(optimizer, step_size=step_size, gamma=gamma)
    if key == "cosine":
        total = _total_steps(key, opts, epochs, steps_per_epoch)
        _check_options(key, opts, ["warmup_steps", "min_lr", "total_steps"])
        warmup, min_lr = opts.get("warmup_steps", 0), opts.get("min_lr", 0.0)
        if not isinstance(warmup, int) or not 0 <= warmup < total:
            raise ValueError(f"schedule 'cosine': warmup_steps must be an int in [0, {total}), got {warmup!r}")
        if min_lr < 0:
            raise ValueError(f"schedule 'cosine': min_lr must be >= 0, got {min_lr!r}")
        lambdas: list[Callable[[int], float]] = []
        for group in optimizer.param_groups:
            base = group.get("initial_lr", group["lr"])
            ratio = min_lr / base if base > 0 else 0.0
            lambdas.append(lambda t, r=ratio: cosine_factor(t, warmup, total, r))
        return torch_schedulers.LambdaLR(optimizer, lambdas)
    if key == "one_cycle":
        total = _total_steps(key, opts, epochs, steps_per_epoch)
        allowed = ["max_lr", "pct_start", "div_factor", "final_div_factor", "anneal_strategy", "three_phase", "total_steps"]
        _check_options(key, opts, allowed)
        max_lr = opts.pop("max_lr", [g["lr"] for g in optimizer.param_groups])
        pct = opts.get("pct_start", 0.3)
        if not 0 < pct < 1:
            raise ValueError(f"schedule 'one_cycle': pct_start must be in (0, 1), got {pct!r}")
        return torch_schedulers.OneCycleLR(optimizer, max_lr=max_lr, total_steps=total, **opts)
    # plateau
    allowed = [p for p in inspect.signature(torch_schedulers.ReduceLROnPlateau).parameters if p != "optimizer"]
    _check_options(key, opts, allowed)
    if opts.get("mode", "min") not in ("min", "max"):
        raise ValueError(f"schedule 'plateau': mode must be 'min' or 'max', got {opts['mode']!r}")
    if not 0 < opts.get("factor", 0.1) < 1:
        raise ValueError(f"schedule 'plateau': factor must be in (0, 1), got {opts['factor']!r}")
    return torch_schedulers.ReduceLROnPlateau(optimizer, **opts)
