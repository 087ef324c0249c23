"""A run folder's files as the CLI, inference and deploy read them back: naming a new run, the saved
config, the data description and the weights (:func:`deepzen.train.experiment.run` writes them)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

from torch import nn

from deepzen.config import ExperimentConfig, load_config
from deepzen.info import DataInfo
from deepzen.train.checkpoint import load_checkpoint
from deepzen.train.run_dir import RunDir

DATA_INFO = "data_info.json"
#: Files a run writes; ``output.overwrite`` removes exactly these.
RUN_FILES = ("config.toml", DATA_INFO, "metrics.csv", "summary.json", "curves.png", "checkpoints", "tensorboard",
             "export")


def new_run_dir(config: ExperimentConfig) -> Path:
    """``<output.dir>/<name>``; an existing run is kept (``-2``, ``-3``, ... appended) unless
    ``output.overwrite``, which removes that run's files."""
    base = Path(config.output.dir) / config.run_name()
    if config.output.overwrite:
        for name in RUN_FILES:
            target = base / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
        return base
    path, n = base, 1
    while path.exists() and any(path.iterdir()):
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def read_run_config(run_dir: str | Path, overrides: Sequence[str] = (), unset: Sequence[str] = (),
                    notes: list[str] | None = None) -> ExperimentConfig:
    """The resolved config a run saved (``<run_dir>/config.toml``), with ``overrides`` and ``unset``
    applied as :func:`deepzen.config.load_config` does (``notes`` collects its notes)."""
    path = Path(run_dir)
    if not path.is_dir():
        raise ValueError(f"no run folder at {path}")
    if not (path / "config.toml").is_file():
        raise ValueError(f"{path} is not a deepzen run folder (no config.toml)")
    return load_config(path / "config.toml", overrides, unset=unset, notes=notes)


def read_data_info(run_dir: str | Path) -> DataInfo | None:
    path = Path(run_dir) / DATA_INFO
    return DataInfo.from_dict(json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else None


def load_weights(model: nn.Module, rd: RunDir, which: str = "best") -> Path:
    """Load ``checkpoints/<which>.pt`` (``best`` falls back to ``last``) into ``model``."""
    if which not in ("best", "last"):
        raise ValueError(f"checkpoint {which!r}: allowed: 'best', 'last'")
    path = rd.best_checkpoint if which == "best" else rd.last_checkpoint
    if not path.is_file() and which == "best":
        path = rd.last_checkpoint
    if not path.is_file():
        raise ValueError(f"{rd.path} has no checkpoint yet (checkpoints/{which}.pt); train it first")
    model.load_state_dict(load_checkpoint(path, map_location="cpu")["model"])
    return path


def saved_processes(run_dir: str | Path) -> int:
    """How many data-parallel processes wrote the run's ``checkpoints/last.pt`` (1 when it has none)."""
    path = RunDir(run_dir).last_checkpoint
    return int(load_checkpoint(path, map_location="cpu").get("processes", 1)) if path.is_file() else 1
