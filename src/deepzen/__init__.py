"""deepzen: build, train, compare and tune the classic deep networks on PyTorch.

Subpackages load on first use (``import deepzen as dz; dz.optim.create(...)``), so ``import deepzen``
stays cheap: ``optim``, ``nn``, ``losses``, ``regularizers``, ``data``, ``train``, ``tune``,
``config``, ``deploy``; ``dz.Trainer`` is ``deepzen.train.Trainer``, ``dz.load`` is ``deepzen.deploy.load`` (a
trained run, ready to predict) and ``dz.export`` is ``deepzen.deploy.export``.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_SUBPACKAGES = ("optim", "nn", "losses", "regularizers", "data", "train", "tune", "config", "info", "structures",
                "deploy")
_DEPLOY = ("load", "export")


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"deepzen.{name}")
    if name == "Trainer":
        return importlib.import_module("deepzen.train").Trainer
    if name in _DEPLOY:
        return getattr(importlib.import_module("deepzen.deploy"), name)
    raise AttributeError(f"module 'deepzen' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_SUBPACKAGES, *_DEPLOY, "Trainer"])
