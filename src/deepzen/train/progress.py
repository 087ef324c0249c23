"""Training progress: a live rich bar per epoch on a terminal, one concise line per epoch otherwise.

On a non-TTY stream (CI logs, files) nothing is printed during an epoch, so logs never fill with
partial lines. The bar asks for live values (a host sync) at most every ``refresh_s`` seconds.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Callable, TextIO

MODES = ("auto", "bar", "line", "none")


def format_logs(logs: dict[str, float], skip: tuple[str, ...] = ("epoch",)) -> str:
    """``loss 0.1234  accuracy 0.9500  lr 1e-03  time 1.2s``."""
    parts = []
    for key, value in logs.items():
        if key in skip:
            continue
        if key == "time":
            parts.append(f"time {value:.1f}s")
        elif key == "lr":
            parts.append(f"lr {value:.3g}")
        else:
            parts.append(f"{key} {value:.4f}")
    return "  ".join(parts)


class Progress:
    """No output (``progress="none"``); the base of the other reporters."""

    def epoch_begin(self, epoch: int, epochs: int, total: int, done: int) -> None: ...
    def batch_end(self, done: int, live: Callable[[], dict[str, float]]) -> None: ...
    def epoch_end(self, epoch: int, epochs: int, logs: dict[str, float]) -> None: ...
    def message(self, text: str) -> None: ...
    def close(self) -> None: ...


class LineProgress(Progress):
    """One line per epoch: ``epoch 3/20  loss 0.41  accuracy 0.87  val_loss 0.45 ...``."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def epoch_end(self, epoch: int, epochs: int, logs: dict[str, float]) -> None:
        width = len(str(epochs))
        self.stream.write(f"epoch {epoch + 1:>{width}}/{epochs}  {format_logs(logs)}\n")
        self.stream.flush()

    def message(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


class BarProgress(Progress):
    """A rich progress bar per epoch with live loss/metrics and ETA; the epoch's line stays after it."""

    def __init__(self, stream: TextIO, refresh_s: float = 0.2) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
        from rich.progress import Progress as RichProgress

        self.console = Console(file=stream)
        self.refresh_s = refresh_s
        self._bar = RichProgress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            TextColumn("{task.fields[live]}"), console=self.console, transient=True,
        )
        self._task: int | None = None
        self._next_refresh = 0.0

    def epoch_begin(self, epoch: int, epochs: int, total: int, done: int) -> None:
        if not self.console.is_terminal:  # forced "bar" on a file: just the epoch lines
            return
        self._bar.start()
        self._task = self._bar.add_task(f"epoch {epoch + 1}/{epochs}", total=total, completed=done, live="")

    def batch_end(self, done: int, live: Callable[[], dict[str, float]]) -> None:
        now = time.monotonic()
        if self._task is None or now < self._next_refresh:
            return
        self._next_refresh = now + self.refresh_s
        self._bar.update(self._task, completed=done, live=format_logs(live()))

    def epoch_end(self, epoch: int, epochs: int, logs: dict[str, float]) -> None:
        if self._task is not None:
            self._bar.remove_task(self._task)
            self._task = None
            self._bar.stop()
        width = len(str(epochs))
        self.console.print(f"epoch {epoch + 1:>{width}}/{epochs}  {format_logs(logs)}", highlight=False)

    def message(self, text: str) -> None:
        self.console.print(text, highlight=False)

    def close(self) -> None:
        self._bar.stop()


def make_progress(mode: str = "auto", stream: TextIO | None = None) -> Progress:
    """``auto``: a bar when ``stream`` (default stdout) is a terminal, else one line per epoch."""
    if mode not in MODES:
        raise ValueError(f"invalid progress {mode!r}; allowed: {', '.join(MODES)}")
    stream = stream if stream is not None else sys.stdout
    if mode == "none":
        return Progress()
    if mode == "auto":
        is_tty = hasattr(stream, "isatty") and stream.isatty() and os.environ.get("TERM") != "dumb"
        mode = "bar" if is_tty else "line"
    return BarProgress(stream) if mode == "bar" else LineProgress(stream)
