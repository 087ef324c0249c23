"""What ``deepzen list`` and ``deepzen explain`` show: every registry as rows, and the documentation of
one named thing (an optimizer's algorithm box, a loss's formula, a model's options, a schedule's
formula, a dataset's description), taken from the docstrings so the code and the help never differ.
"""

from __future__ import annotations

import inspect
import re
from typing import Callable

from deepzen._suggest import did_you_mean

CATEGORIES = ("optimizers", "models", "datasets", "losses", "schedules", "metrics", "regularizers")
SINGULAR = {"optimizers": "optimizer", "models": "model", "datasets": "dataset", "losses": "loss",
            "schedules": "schedule", "metrics": "metric", "regularizers": "regularizer"}

Table = tuple[list[str], list[list[str]]]


def optimizers() -> Table:
    from deepzen import optim

    return ["name", "description"], [[n, d] for n, d in optim.available().items()]


def models() -> Table:
    from deepzen import nn

    rows = [[kind, desc, ", ".join(nn.options(kind))] for kind, desc in nn.available().items()]
    return ["kind", "description", "options"], rows


def datasets() -> Table:
    from deepzen import data

    rows = [[n, d["task"], d["size"], d["description"]] for n, d in data.available().items()]
    return ["name", "task, input", "samples", "description"], rows


def losses() -> Table:
    from deepzen import losses as dzl

    return ["name", "formula"], [[n, f] for n, f in dzl.available().items()]


def schedules() -> Table:
    from deepzen.train import schedules as sch

    rows = [[name, sch.INTERVALS[name], _schedule_formula(name)] for name in sch.SCHEDULES]
    return ["name", "stepped per", "lr at step/epoch t"], rows


def metrics() -> Table:
    from deepzen.train import metrics as met

    return ["name", "formula"], [[name, _metric_formula(name)] for name in met.METRICS]


def regularizers() -> Table:
    from deepzen import regularizers as reg

    return ["name", "formula"], [[n, f] for n, f in reg.available().items()]


TABLES: dict[str, Callable[[], Table]] = {
    "optimizers": optimizers, "models": models, "datasets": datasets, "losses": losses,
    "schedules": schedules, "metrics": metrics, "regularizers": regularizers,
}


def table(category: str) -> Table:
    """Header and rows of ``category`` (plural or singular, case-insensitive)."""
    key = category.lower()
    key = next((plural for plural, one in SINGULAR.items() if one == key), key)
    if key not in TABLES:
        hint = did_you_mean(key, CATEGORIES, n=1)
        raise ValueError(f"cannot list {category!r}{hint} Allowed: {', '.join(CATEGORIES)}")
    return TABLES[key]()


# ---------------------------------------------------------------------------------------------- explain
def explain(name: str, category: str | None = None) -> list[tuple[str, str]]:
    """``[(title, text), ...]`` for every category that knows ``name`` (or only ``category``).

    Raises:
        ValueError: ``name`` is nowhere, with the closest names of every category.
    """
    finders = {"optimizer": _explain_optimizer, "loss": _explain_loss, "model": _explain_model,
               "schedule": _explain_schedule, "dataset": _explain_dataset, "regularizer": _explain_regularizer,
               "metric": _explain_metric}
    if category is not None:
        key = SINGULAR.get(category.lower(), category.lower())
        if key not in finders:
            raise ValueError(f"unknown category {category!r}; allowed: {', '.join(finders)}")
        finders = {key: finders[key]}
    found = []
    for finder in finders.values():
        entry = finder(name)
        if entry is not None:
            found.append(entry)
    if found:
        return found
    names = [row[0] for cat in TABLES for row in table(cat)[1]] if category is None else \
        [row[0] for row in table(category)[1]]
    hint = did_you_mean(name.lower(), names)
    raise ValueError(f"nothing named {name!r}{hint} See `deepzen list optimizers|models|datasets|losses|schedules`")


def _explain_optimizer(name: str) -> tuple[str, str] | None:
    from deepzen import optim

    if name.lower() not in optim.available():
        return None
    cls = optim.get_class(name)
    params = inspect.signature(cls.__init__).parameters
    defaults = ", ".join(f"{p}={v.default!r}" for p, v in list(params.items())[2:] if v.default is not v.empty)
    text = f"{inspect.getdoc(cls) or ''}\n\nDefaults: {defaults}"
    return f"optimizer {name.lower()} ({cls.__name__})", text


def _explain_loss(name: str) -> tuple[str, str] | None:
    from deepzen import losses

    try:
        key = losses.resolve(name)
    except ValueError:
        return None
    return f"loss {key}  {losses.available()[key]}", losses.explain(key)


def _explain_model(name: str) -> tuple[str, str] | None:
    import importlib

    from deepzen import nn

    key = name.lower()
    if key not in nn.available():
        return None
    module = importlib.import_module(f"deepzen.nn.{nn.MODELS[key][0]}")
    options = "\n".join(f"  {opt_name:<16} default {_show(opt.default):<12} {opt.help} ({opt.allowed})"
                        for opt_name, opt in nn.options(key).items())
    return f"model {key}", f"{inspect.getdoc(module) or ''}\n\nOptions ([model] keys):\n{options}"


def _explain_schedule(name: str) -> tuple[str, str] | None:
    from deepzen.train import schedules as sch

    try:
        key = sch._canonical(name)
    except ValueError:
        return None
    options = inspect.getdoc(sch.make_scheduler) or ""
    opts = re.search(rf"``{key}``:([^`]*(?:``[^`]*``[^`]*)*?)(?=``\w+``:|Returns:|$)", options, re.S)
    text = f"lr at step/epoch t: {_schedule_formula(key)}\nstepped per {sch.INTERVALS[key]}"
    if opts:
        text += f"\noptions: {' '.join(opts.group(1).split())}".replace("``", "")
    return f"schedule {key}", text


def _explain_dataset(name: str) -> tuple[str, str] | None:
    import importlib

    from deepzen.data import registry

    key = name.lower()
    entry = registry.REGISTRY.get(key)
    if entry is None:
        return None
    function = getattr(importlib.import_module(f"deepzen.data.{entry.module}"), entry.function)
    params = inspect.signature(function).parameters
    options = ", ".join(f"{p}={v.default!r}" for p, v in params.items()
                        if p not in ("val", "test", "seed", "path") and v.default is not v.empty)
    doc = inspect.getdoc(function) or inspect.getdoc(importlib.import_module(f"deepzen.data.{entry.module}")) or ""
    text = (f"{entry.description}\n{entry.size} samples; {entry.task}\n\n{doc}\n\n"
            f"Options ([data] keys besides name, val, test, seed): {options or 'none'}")
    return f"dataset {key}", text


def _explain_regularizer(name: str) -> tuple[str, str] | None:
    from deepzen import regularizers as reg

    key = name.lower()
    if key not in reg.REGISTRY:
        return None
    return f"regularizer {key}  {reg.REGISTRY[key].formula}", inspect.getdoc(reg.REGISTRY[key]) or ""


def _explain_metric(name: str) -> tuple[str, str] | None:
    from deepzen.train import metrics as met

    key = met.ALIASES.get(name.lower(), name.lower())
    if key not in met.METRICS:
        return None
    own = met.METRICS[key].__dict__.get("__doc__")
    return f"metric {key}", "\n\n".join(t for t in (_metric_formula(key), inspect.cleandoc(own or "")) if t)


def _metric_formula(name: str) -> str:
    """The metric's line in ``deepzen.train.metrics``' docstring (``- accuracy = ...``)."""
    from deepzen.train import metrics as met

    label = {"top_k": "top-k", "mae": "mse"}.get(name, name)
    items: list[str] = []
    for line in (met.__doc__ or "").splitlines():
        if line.startswith("- "):
            items.append(line[2:].strip())
        elif items and line.startswith("  ") and line.strip():
            items[-1] += " " + line.strip()
    for text in items:
        if text.lower().startswith(label):
            if name in ("mse", "mae"):  # "MSE = ...,  MAE = ...  (over ...)": keep one of the two
                part = next(p for p in text.split(",  ") if p.lower().startswith(name))
                return part.split("  (")[0].strip()
            return text
    return ""


def _schedule_formula(name: str) -> str:
    """The schedule's row of the table in ``deepzen.train.schedules``' docstring, joined into one line."""
    from deepzen.train import schedules as sch

    lines = (sch.__doc__ or "").splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(f"``{name}``")), None)
    if start is None:
        return ""
    parts = [lines[start].split(None, 2)[2] if len(lines[start].split(None, 2)) > 2 else ""]
    for line in lines[start + 1:]:
        if not line.startswith(" ") or not line.strip() or line.startswith("="):
            break
        parts.append(line.strip())
    return " ".join(" ".join(parts).split()).replace("``", "")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text and text.strip() else ""


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return str(list(value))
    return repr(value) if isinstance(value, str) else str(value)
