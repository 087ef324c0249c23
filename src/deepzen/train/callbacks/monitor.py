"""Tracking the best value of a logged quantity (shared by early stopping and the best checkpoint)."""

from __future__ import annotations

import re

HIGHER_IS_BETTER = {"accuracy", "f1", "r2"}


def infer_mode(monitor: str) -> str:
    """``"max"`` for accuracy-like quantities, ``"min"`` for losses and errors."""
    base = monitor.removeprefix("val_")
    return "max" if base in HIGHER_IS_BETTER or re.fullmatch(r"top\d+", base) else "min"


class Monitor:
    """The best value so far of ``monitor`` (default ``val_loss`` when logged, else ``loss``)."""

    def __init__(self, monitor: str | None, mode: str, min_delta: float) -> None:
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        if min_delta < 0:
            raise ValueError(f"min_delta must be >= 0, got {min_delta!r}")
        self.monitor, self.mode, self.min_delta = monitor, mode, min_delta
        self.best: float | None = None

    def resolve(self, logs: dict[str, float]) -> str:
        if self.monitor is None:
            self.monitor = "val_loss" if "val_loss" in logs else "loss"
        if self.monitor not in logs:
            raise ValueError(f"cannot monitor {self.monitor!r}: not logged; logged: {', '.join(logs)}")
        if self.mode == "auto":
            self.mode = infer_mode(self.monitor)
        return self.monitor

    def improved(self, value: float) -> bool:
        """``value`` beats the best by more than ``min_delta`` (nan never improves)."""
        if value != value:
            return False
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta
