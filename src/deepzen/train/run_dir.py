"""A run directory ``runs/<name>/``: everything needed to inspect, repeat and resume one run.

::

    config.toml              resolved configuration (written by whoever has one, see write_config)
    metrics.csv              one row per finished epoch, appended and flushed at each epoch end
    checkpoints/last.pt      full training state for --resume (atomic writes)
    checkpoints/best.pt      full state at the best monitored epoch
    curves.png               train/val loss and metrics per epoch
    summary.json             final metrics, timings, versions
    tensorboard/             event files (output.tracking: deepzen.train.tracking)
"""

from __future__ import annotations

import csv
import json
import os
import platform
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch


def versions() -> dict[str, str]:
    """Versions of Python, torch, numpy and deepzen, for ``summary.json``."""
    import deepzen

    return {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
            "deepzen": deepzen.__version__, "platform": platform.platform()}


class RunDir:
    """Paths and writers of one run directory (created on first use)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def last_checkpoint(self) -> Path:
        return self.checkpoints / "last.pt"

    @property
    def best_checkpoint(self) -> Path:
        return self.checkpoints / "best.pt"

    @property
    def metrics_csv(self) -> Path:
        return self.path / "metrics.csv"

    @property
    def summary_json(self) -> Path:
        return self.path / "summary.json"

    @property
    def curves_png(self) -> Path:
        return self.path / "curves.png"

    @property
    def config_toml(self) -> Path:
        return self.path / "config.toml"

    def create(self) -> None:
        self.checkpoints.mkdir(parents=True, exist_ok=True)

    def write_config(self, config: Mapping[str, Any] | str) -> Path:
        """Write the resolved config (a TOML string, or a mapping serialized with tomli-w)."""
        import tomli_w

        self.create()
        text = config if isinstance(config, str) else tomli_w.dumps(dict(config))
        self.config_toml.write_text(text, encoding="utf-8")
        return self.config_toml

    def write_metrics(self, history: Mapping[str, list[float]]) -> None:
        """Rewrite ``metrics.csv`` from a history (used on resume, so rows match the checkpoint)."""
        self.create()
        keys = list(history)
        rows = len(history[keys[0]]) if keys else 0
        with self.metrics_csv.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            if keys:
                writer.writerow(keys)
            for i in range(rows):
                writer.writerow([history[k][i] for k in keys])
            handle.flush()
            os.fsync(handle.fileno())

    def append_metrics(self, row: Mapping[str, float]) -> None:
        """Append one epoch's row (header first if the file is new), flushed to disk."""
        self.create()
        new = not self.metrics_csv.exists() or self.metrics_csv.stat().st_size == 0
        with self.metrics_csv.open("a", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            if new:
                writer.writerow(list(row))
            writer.writerow(list(row.values()))
            handle.flush()
            os.fsync(handle.fileno())

    def write_summary(self, summary: Mapping[str, Any]) -> Path:
        self.create()
        tmp = self.summary_json.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(dict(summary), indent=2, default=str) + "\n", encoding="utf-8")
        os.replace(tmp, self.summary_json)
        return self.summary_json

    def plot_curves(self, history: Mapping[str, list[float]]) -> Path | None:
        """``curves.png``: one panel per quantity (loss first), train and val lines against epoch."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        epochs = history.get("epoch") or []
        names = [k for k in history if k not in ("epoch", "lr", "time") and not k.startswith("val_")]
        if not epochs or not names:
            return None
        figure = Figure(figsize=(4.5 * len(names), 3.5))
        FigureCanvasAgg(figure)
        for i, name in enumerate(names):
            axes = figure.add_subplot(1, len(names), i + 1)
            axes.plot(epochs, history[name], marker="o", label=f"train {name}")
            if f"val_{name}" in history:
                axes.plot(epochs, history[f"val_{name}"], marker="o", label=f"val {name}")
            axes.set_xlabel("epoch")
            axes.set_title(name)
            axes.grid(alpha=0.3)
            axes.legend()
        figure.tight_layout()
        self.create()
        figure.savefig(self.curves_png, dpi=100)
        return self.curves_png
