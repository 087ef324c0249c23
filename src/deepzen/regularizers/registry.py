"""Penalties by name for configs: ``regularizers.get("l2", strength=1e-4)``."""

from __future__ import annotations

import inspect
from typing import Any, Optional, Union

from deepzen._suggest import did_you_mean
from deepzen.registry import Entry, Registry
from deepzen.regularizers.penalties import L1, L1L2, L2, NoPenalty, Penalty

REGISTRY: dict[str, type[Penalty]] = {"l1": L1, "l2": L2, "l1l2": L1L2, "none": NoPenalty}

REGULARIZERS = Registry(
    "regularizer", [Entry(name, f"{cls.__module__}:{cls.__name__}", cls.formula) for name, cls in REGISTRY.items()],
    normalize=lambda name: name.lower().replace("_", "").replace("-", ""),
    columns=(("name", "name"), ("formula", "summary")))


def available() -> dict[str, str]:
    """Registry names with their formulas."""
    return REGULARIZERS.available()


def get(name: Optional[Union[str, Penalty]], **options: Any) -> Penalty:
    """The penalty registered under ``name`` (``"l1"``, ``"l2"``, ``"l1l2"``, ``"none"``; case-insensitive)
    built with ``options``, e.g. ``get("l1l2", l1=1e-5, l2=1e-4)``. ``None`` means ``"none"``; a
    :class:`Penalty` is returned as it is. Unknown names or options are ``ValueError`` with "did you mean".
    """
    if isinstance(name, Penalty) and not options:
        return name
    key = REGULARIZERS.key("none" if name is None else str(name))
    cls = REGISTRY[key]
    allowed = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    for option in options:
        if option not in allowed:
            hint = did_you_mean(option, allowed)
            raise ValueError(f"regularizer {key!r} has no option {option!r}{hint} Allowed: {', '.join(allowed)}")
    try:
        return cls(**options)
    except TypeError as error:  # a required option is missing, e.g. get("l2")
        raise ValueError(f"regularizer {key!r}: {error}") from None


#: Same as :func:`get`, for symmetry with ``deepzen.optim.create``.
create = get
