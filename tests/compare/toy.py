"""Tiny real problems for the comparison tests: an MLP on iris, two epochs, each run well under a second."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deepzen.config import validate


def iris_raw(out: Path, **compare: Any) -> dict[str, Any]:
    raw = {"seed": 0, "data": {"name": "iris", "val": 0.2, "test": 0.2},
           "model": {"kind": "mlp", "hidden": [8]}, "optimizer": {"name": "adam", "lr": 0.01},
           "training": {"epochs": 2, "batch_size": 16, "threads": 1, "checkpoint_every": 2},
           "output": {"dir": str(out), "name": "iris", "progress": "none"}}
    if compare:
        raw["compare"] = compare
    return raw


def iris(out: Path, **compare: Any) -> Any:
    return validate(iris_raw(out, **compare))
