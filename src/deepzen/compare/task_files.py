"""Where a comparison task keeps its files, and the small helpers the task runners share.

``<root>/<problem>/<optimizer>/`` holds ``choice.json`` (the lr search's outcome) and ``seed-<k>/`` run
folders, each finished by ``compare.json`` (see :mod:`deepzen.compare.runner`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CHOICE = "choice.json"
RECORD = "compare.json"


def task_dir(root: Path, problem: str, optimizer: str) -> Path:
    return Path(root) / problem / optimizer


def seed_dir(root: Path, problem: str, optimizer: str, seed: int) -> Path:
    return task_dir(root, problem, optimizer) / f"seed-{seed}"


def say(verbose: bool, text: str) -> None:
    if verbose:
        print(text, flush=True)


def fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def default_lr(optimizer: str) -> float | None:
    import inspect

    from deepzen import optim

    default = inspect.signature(optim.get_class(optimizer)).parameters.get("lr")
    return None if default is None else float(default.default)
