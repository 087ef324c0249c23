"""What ``--set`` and ``--unset`` do to a config file's tables beyond the keys they name.

Four tables take free-form options that belong to a name: ``[model]`` (options of ``kind``),
``[optimizer]`` (hyperparameters of ``name``), ``[loss]`` and ``[data]`` (options of ``name``). When an
override changes that name (``--set model.kind=mlp`` on the CNN default), the file's options the new
name does not take (``model.channels``) are left out, each with a note; options both names take
(``model.dropout``) and options the overrides set themselves are kept, so a mistyped override is still
an error. (``--unset KEY`` removes a key: :func:`deepzen.config.loader.remove_keys`.)

    >>> raw, notes = drop_options_of_old_names(file_raw, overridden_raw, ["model.kind=mlp"])
    >>> notes
    ["model.kind is now 'mlp': left out the file's model.channels (options of 'cnn', not of 'mlp')"]
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

from deepzen.config.references import dataset_options, optimizer_arguments
from deepzen.config.sections import DataConfig, LossConfig, ModelConfig, OptimizerConfig


def _model_options(kind: str) -> list[str] | None:
    from deepzen import nn

    return list(nn.options(kind))


def _loss_options(name: str) -> list[str] | None:
    from deepzen import losses

    params = inspect.signature(losses.REGISTRY[losses.resolve(name)][0]).parameters
    return [p for p, v in params.items() if v.kind is v.KEYWORD_ONLY]


#: table -> (its naming key, the default name, the options a name takes or None when any may be)
NAMED_TABLES: dict[str, tuple[str, Any, Callable[[str], list[str] | None]]] = {
    "model": ("kind", ModelConfig.model_fields["kind"].default, _model_options),
    "optimizer": ("name", OptimizerConfig.model_fields["name"].default, optimizer_arguments),
    "loss": ("name", LossConfig.model_fields["name"].default, _loss_options),
    "data": ("name", DataConfig.model_fields["name"].default, dataset_options),
}


def overridden_keys(overrides: Iterable[str]) -> set[str]:
    """The dotted keys ``KEY=VALUE`` overrides set (``{"model.kind", "training.epochs"}``)."""
    return {item.partition("=")[0].strip() for item in overrides}


def drop_options_of_old_names(file_raw: dict[str, Any], raw: dict[str, Any],
                              overrides: Iterable[str]) -> tuple[dict[str, Any], list[str]]:
    """``raw`` (the file with the overrides applied) without the file's options of a replaced name.

    Arguments:
        file_raw: the config as the file (or the bundled default) wrote it.
        raw: ``file_raw`` with ``overrides`` applied; not modified.
        overrides: the ``KEY=VALUE`` strings that were applied.

    Returns:
        The new dict and one note per table where options were left out.
    """
    set_keys = overridden_keys(overrides)
    result = dict(raw)
    notes: list[str] = []
    for table, (name_key, default, options_of) in NAMED_TABLES.items():
        old_table, new_table = file_raw.get(table), raw.get(table)
        if not isinstance(old_table, dict) or not isinstance(new_table, dict):
            continue
        old_name, new_name = old_table.get(name_key, default), new_table.get(name_key, default)
        if old_name == new_name or not isinstance(new_name, str):
            continue
        try:
            allowed = options_of(new_name)
        except (ValueError, KeyError, ImportError):  # an unknown name: validation reports it
            continue
        if allowed is None:
            continue
        stale = [key for key in new_table if key != name_key and key in old_table
                 and f"{table}.{key}" not in set_keys and key not in allowed]
        if stale:
            result[table] = {k: v for k, v in new_table.items() if k not in stale}
            listed = ", ".join(f"{table}.{key}" for key in stale)
            notes.append(f"{table}.{name_key} is now {new_name!r}: left out the file's {listed} "
                         f"(options of {old_name!r}, not of {new_name!r})")
    return result, notes
