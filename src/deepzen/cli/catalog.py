"""What ``deepzen list`` and ``deepzen explain`` show, read from the one registry of each kind
(:class:`deepzen.registry.Registry`): the entries' summaries, formulas, options and aliases, plus the
implementation's docstring, so the code and the help never differ.

Each kind adds only what its entries cannot hold as text: an optimizer's defaults (its signature), a
model family's option table (``OPTIONS`` in its module), a dataset's options (its loader's signature).
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Callable

from deepzen._suggest import did_you_mean

if TYPE_CHECKING:
    from deepzen.registry import Registry

CATEGORIES = ("optimizers", "models", "datasets", "losses", "schedules", "metrics", "regularizers")
SINGULAR = {"optimizers": "optimizer", "models": "model", "datasets": "dataset", "losses": "loss",
            "schedules": "schedule", "metrics": "metric", "regularizers": "regularizer"}

Table = tuple[list[str], list[list[str]]]


def registry(category: str) -> Registry:
    """The registry of ``category`` (plural, as in :data:`CATEGORIES`); imported on first use."""
    if category == "optimizers":
        from deepzen.optim._registry import OPTIMIZERS as found
    elif category == "models":
        from deepzen.nn.build import MODEL_KINDS as found
    elif category == "datasets":
        from deepzen.data.registry import DATASETS as found
    elif category == "losses":
        from deepzen.losses.registry import LOSSES as found
    elif category == "schedules":
        from deepzen.train.schedules import SCHEDULES as found
    elif category == "metrics":
        from deepzen.train.metrics import METRICS as found
    else:
        from deepzen.regularizers.registry import REGULARIZERS as found
    return found


def _category(category: str) -> str:
    key = category.lower()
    key = next((plural for plural, one in SINGULAR.items() if one == key), key)
    if key not in CATEGORIES:
        hint = did_you_mean(key, CATEGORIES, n=1)
        raise ValueError(f"cannot list {category!r}{hint} Allowed: {', '.join(CATEGORIES)}")
    return key


def table(category: str) -> Table:
    """Header and rows of ``category`` (plural or singular, case-insensitive)."""
    key = _category(category)
    header, rows = registry(key).rows()
    if key == "models":  # each family's option names, from its module's OPTIONS table
        from deepzen import nn

        header, rows = [*header, "options"], [[*row, ", ".join(nn.options(row[0]))] for row in rows]
    return header, rows


# ---------------------------------------------------------------------------------------------- explain
def explain(name: str, category: str | None = None) -> list[tuple[str, str]]:
    """``[(title, text), ...]`` for every category that knows ``name`` (or only ``category``).

    Raises:
        ValueError: ``name`` is nowhere, with the closest names of every category.
    """
    if category is not None:
        key = category.lower()
        if key not in SINGULAR and key not in SINGULAR.values():
            raise ValueError(f"unknown category {category!r}; allowed: {', '.join(SINGULAR.values())}")
        categories = [_category(key)]
    else:
        categories = list(CATEGORIES)
    found = []
    for plural in categories:
        reg = registry(plural)
        key = reg.find(name)
        if key is not None:
            found.append(_explain(plural, reg, key))
    if found:
        return found
    names = [n for plural in categories for n in registry(plural)]
    hint = did_you_mean(name.lower(), names)
    raise ValueError(f"nothing named {name!r}{hint} See `deepzen list optimizers|models|datasets|losses|schedules`")


def _explain(plural: str, reg: Registry, key: str) -> tuple[str, str]:
    entry = reg.entries[key]
    title = f"{SINGULAR[plural]} {key}"
    if plural in ("losses", "regularizers"):
        title += f"  {entry.summary}"
    elif plural == "optimizers":
        title += f" ({entry.target.rsplit(':', 1)[1]})"
    details = _DETAILS.get(plural)
    text = reg.explain(key)
    return title, f"{text}\n\n{details(key)}" if details else text


def _optimizer_defaults(name: str) -> str:
    from deepzen import optim

    params = inspect.signature(optim.get_class(name).__init__).parameters
    return "Defaults: " + ", ".join(f"{p}={v.default!r}" for p, v in list(params.items())[2:]
                                    if v.default is not v.empty)


def _model_options(name: str) -> str:
    from deepzen import nn

    return "Options ([model] keys):\n" + "\n".join(
        f"  {opt_name:<16} default {_show(opt.default):<12} {opt.help} ({opt.allowed})"
        for opt_name, opt in nn.options(name).items())


def _dataset_options(name: str) -> str:
    from deepzen.data.registry import DATASETS

    entry = DATASETS.entries[name]
    params = inspect.signature(entry.load()).parameters
    options = ", ".join(f"{p}={v.default!r}" for p, v in params.items()
                        if p not in ("val", "test", "seed", "path") and v.default is not v.empty)
    return (f"{entry.extra['size']} samples; {entry.extra['task']}\n"
            f"Options ([data] keys besides name, val, test, seed): {options or 'none'}")


_DETAILS: dict[str, Callable[[str], str]] = {
    "optimizers": _optimizer_defaults, "models": _model_options, "datasets": _dataset_options,
}


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return str(list(value))
    return repr(value) if isinstance(value, str) else str(value)
