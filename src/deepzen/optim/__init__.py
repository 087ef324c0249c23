"""deepzen.optim: every optimizer the spec names, each a drop-in ``torch.optim.Optimizer``.

``create(name, params, **hparams)`` builds one by registry name; ``available()`` lists the names.
"""

from __future__ import annotations

from typing import Any

from deepzen.optim._base import Batch, Optimizer, zeros_like
from deepzen.optim._registry import REGISTRY, available, create, get_class

__all__ = ["Batch", "Optimizer", "available", "create", "get_class"]


def __getattr__(name: str) -> Any:
    for module, cls, _ in REGISTRY.values():
        if cls == name:
            return get_class(next(k for k, v in REGISTRY.items() if v[1] == cls))
    if name == "Lookahead":
        from deepzen.optim.lookahead import Lookahead

        return Lookahead
    raise AttributeError(f"module 'deepzen.optim' has no attribute {name!r}")
