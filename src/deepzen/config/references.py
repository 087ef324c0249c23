"""Checks of the names a config refers to, against the registries of the packages below:
dataset names, model kinds and their options, optimizer names and hyperparameters, loss names and
options, regularization. Each problem is one message naming the key (``optimizer.lr``), the value and
what is allowed.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Callable

from deepzen._suggest import did_you_mean
from deepzen.config.errors import show
from deepzen.config.sections import ExperimentConfig


def check_references(config: ExperimentConfig) -> list[str]:
    """Every problem found in ``config``'s names and free-form options (empty when all is well)."""
    problems: list[str] = []
    problems += check_data(config)
    problems += check_model(config)
    problems += check_optimizer(config)
    problems += check_loss(config)
    return problems


def _unknown(key: str, value: str, what: str, names: list[str]) -> str:
    return f"{key} = {show(value)}: unknown {what}{did_you_mean(value, names, cutoff=0.6)} Available: {', '.join(names)}"


def dataset_options(name: str) -> list[str] | None:
    """Option names of the built-in dataset ``name`` (its loader's arguments), ``None`` for files."""
    from deepzen.data.registry import DATASETS

    key = DATASETS.find(name)
    if key is None:
        return None
    function = DATASETS.load(key)
    return [p for p in inspect.signature(function).parameters if p not in ("val", "test", "seed", "path")]


def looks_like_path(name: str) -> bool:
    """A file or folder name rather than a dataset name (has a suffix or a folder part)."""
    path = Path(name)
    return bool(path.suffix) or len(path.parts) > 1 or path.exists()


def check_data(config: ExperimentConfig) -> list[str]:
    from deepzen.data.registry import DATASETS

    names = list(DATASETS)
    name = config.data.name
    if name not in DATASETS:
        if not looks_like_path(name):
            return [_unknown("data.name", name, "dataset", names).replace(
                " Available:", " Give a .csv/.npz/.txt file or an image folder, or one of:")]
        if not Path(name).exists():
            return [f"data.name = {show(name)}: no file or folder at {Path(name).resolve()}"]
        return []
    allowed = dataset_options(name)
    if allowed is None:
        return []
    keys = ["name", "val", "test", "seed", *allowed]
    return [f"data.{key}: unknown option of dataset {name!r}{did_you_mean(key, keys, cutoff=0.6)} "
            f"Allowed: name, val, test, seed{', ' if allowed else ''}{', '.join(allowed)}"
            for key in config.data.options() if key not in allowed]


def check_model(config: ExperimentConfig) -> list[str]:
    from deepzen import nn as dznn
    from deepzen.nn.build import MODEL_KINDS

    kind = config.model.kind
    if kind not in MODEL_KINDS:
        return [_unknown("model.kind", kind, "model kind", list(MODEL_KINDS))]
    table = dznn.options(kind)
    problems = []
    for key, value in config.model.options().items():
        if key not in table:
            problems.append(f"model.{key}: unknown option of model {kind!r}{did_you_mean(key, ['kind', *table], cutoff=0.6)} "
                            f"Allowed: kind, {', '.join(table)}")
            continue
        try:
            table[key].parse(value)
        except ValueError:
            problems.append(f"model.{key} = {show(value)}: allowed: {table[key].allowed}")
    return problems


def optimizer_arguments(name: str) -> list[str]:
    """Hyperparameter names of optimizer ``name`` (its constructor's arguments after ``params``)."""
    from deepzen import optim

    params = inspect.signature(optim.get_class(name).__init__).parameters
    return [p for p in list(params)[2:] if params[p].kind not in (params[p].VAR_POSITIONAL, params[p].VAR_KEYWORD)]


def optimizer_hparams(config: ExperimentConfig) -> dict[str, Any]:
    """The ``[optimizer]`` hyperparameters as the constructor takes them (TOML arrays -> tuples)."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in config.optimizer.options().items()}


def check_optimizer(config: ExperimentConfig) -> list[str]:
    from deepzen import optim
    from deepzen.optim._registry import OPTIMIZERS

    name = config.optimizer.name
    if name not in OPTIMIZERS:
        return [_unknown("optimizer.name", name, "optimizer", list(OPTIMIZERS))]
    try:
        allowed = optimizer_arguments(name)
    except ImportError as err:  # a registered optimizer whose module is missing
        return [f"optimizer.name = {show(name)}: this optimizer cannot be loaded ({err})"]
    hparams = optimizer_hparams(config)
    problems = [f"optimizer.{key}: unknown hyperparameter of {name!r}{did_you_mean(key, ['name', *allowed], cutoff=0.6)} "
                f"Allowed: name, {', '.join(allowed)}" for key in hparams if key not in allowed]
    if config.regularization.weight_decay and "weight_decay" not in allowed:
        problems.append(f"regularization.weight_decay: optimizer {name!r} has no weight_decay; "
                        "use regularization.l2 (a penalty in the loss) instead")
    if problems:
        return problems
    import torch  # here, not at the top: reading a config does not load torch

    # An optimizer that routes a model's parameters itself (Muon: hidden weights vs the rest) is built
    # on a tiny model with 2-D weights, as the run builds it; any other on one vector.
    routes = getattr(optim.get_class(name), "routes_modules", False)
    probe: Any = (torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 1)) if routes
                  else [torch.nn.Parameter(torch.zeros(2))])
    return _constructed(lambda: optim.create(name, probe, **hparams), "optimizer", hparams)


def check_loss(config: ExperimentConfig) -> list[str]:
    from deepzen import losses

    name = config.loss.name
    if name is None:
        if config.loss.options():
            return ["loss: options given without loss.name; set name (e.g. \"cross_entropy\") too"]
        return []
    if name not in losses.LOSSES:
        return [_unknown("loss.name", name, "loss", list(losses.LOSSES))]
    return _constructed(lambda: losses.get(name, **config.loss.options()), "loss", config.loss.options())


def _constructed(build: Callable[[], Any], section: str, given: dict[str, Any]) -> list[str]:
    """Build the thing; its ``ValueError`` / ``TypeError`` becomes a message naming the key it mentions."""
    try:
        build()
    except (ValueError, TypeError) as err:
        text = str(err)
        named = [key for key in given if f"'{key}'" in text] or [key for key in given if key in text]
        where = f"{section}.{named[0]} = {show(given[named[0]])}" if named else section
        return [f"{where}: {text}"]
    return []
