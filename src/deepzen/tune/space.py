"""The search space on the Optuna side: sample a trial's values, write them into a config, and
check before any trial runs that every searched key exists and every value is allowed.

Optuna's categorical distribution holds scalars only, so a list-valued choice (``[16, 32]``) is
shown to Optuna as its JSON text ``"[16, 32]"`` and turned back into the list here.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from typing import Any

import optuna

from deepzen.config import ConfigError, ExperimentConfig, validate
from deepzen.config.tune import SearchParam


def choice_label(value: Any) -> Any:
    """How a choice is shown to Optuna: scalars as they are, lists as JSON text."""
    return json.dumps(value) if isinstance(value, list) else value


def choice_value(param: SearchParam, label: Any) -> Any:
    """The config value behind an Optuna label of ``param``."""
    for choice in param.choices:
        if choice_label(choice) == label and type(choice_label(choice)) is type(label):
            return copy.deepcopy(choice)
    raise ValueError(f"{param.key}: {label!r} is not one of the choices {list(param.choices)}")


def is_active(param: SearchParam, values: Mapping[str, Any]) -> bool:
    """True when every condition of ``param`` holds for the values sampled so far."""
    return all(parent in values and values[parent] in allowed for parent, allowed in param.when)


def suggest(trial: optuna.trial.BaseTrial, params: Sequence[SearchParam]) -> dict[str, Any]:
    """Sample the active parameters (parents first) with ``trial.suggest_*``: ``{key: config value}``."""
    values: dict[str, Any] = {}
    for p in params:
        if not is_active(p, values):
            continue
        if p.kind == "choice":
            label = trial.suggest_categorical(p.key, [choice_label(c) for c in p.choices])
            values[p.key] = choice_value(p, label)
        elif p.kind in ("int", "int_log"):
            values[p.key] = trial.suggest_int(p.key, int(p.low), int(p.high), step=int(p.step or 1), log=p.log)
        else:
            values[p.key] = trial.suggest_float(p.key, p.low, p.high, step=p.step, log=p.log)
    return values


def decode_params(params: Sequence[SearchParam], trial_params: Mapping[str, Any]) -> dict[str, Any]:
    """A finished trial's Optuna params as config values (list choices decoded)."""
    by_key = {p.key: p for p in params}
    return {key: choice_value(by_key[key], label) if key in by_key and by_key[key].kind == "choice" else label
            for key, label in trial_params.items()}


def with_values(raw: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the raw config dict with each dotted key set (tables created as needed)."""
    result = copy.deepcopy(dict(raw))
    for key, value in values.items():
        table = result
        parts = key.split(".")
        for depth, part in enumerate(parts[:-1]):
            inner = table.setdefault(part, {})
            if not isinstance(inner, dict):
                raise ConfigError(f"tune.space: {key}: {'.'.join(parts[:depth + 1])} is a value, not a table")
            table = inner
        table[parts[-1]] = copy.deepcopy(value)
    return result


def experiment_raw(config: ExperimentConfig) -> dict[str, Any]:
    """The config as a plain dict without its ``[tune]`` section: what a trial starts from."""
    raw = config.to_toml_dict()
    raw.pop("tune", None)
    return raw


def trial_config(base: Mapping[str, Any], values: Mapping[str, Any]) -> ExperimentConfig:
    """The experiment one trial trains: ``base`` with ``values`` set, validated."""
    return validate(with_values(base, values), "a trial's config")


def probe_values(params: Sequence[SearchParam]) -> list[tuple[str, dict[str, Any]]]:
    """Assignments that together touch every bound and every choice: all low, all high, and each
    choice's options with the rest low. Only active parameters are set. ``(description, values)``."""
    def assign(overrides: Mapping[str, Any], end: str) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for p in params:
            if not is_active(p, values):
                continue
            if p.key in overrides:
                values[p.key] = overrides[p.key]
            elif p.kind == "choice":
                values[p.key] = p.choices[0 if end == "low" else -1]
            else:
                values[p.key] = int(p.low if end == "low" else p.high) if p.kind.startswith("int") else \
                    float(p.low if end == "low" else p.high)
        return values

    def described(values: dict[str, Any], end: str) -> tuple[str, dict[str, Any]]:
        chosen = [f"{p.key} = {json.dumps(values[p.key])}" for p in params if p.kind == "choice" and p.key in values]
        ranges = any(p.kind != "choice" for p in params)
        what = ", ".join([*chosen, *([f"ranges at their {end} end"] if ranges else [])])
        return what, values

    probes = [described(assign({}, "low"), "low"), described(assign({}, "high"), "high")]
    for p in params:
        if p.kind == "choice":
            for choice in p.choices:
                probes.append(described(assign({p.key: choice}, "low"), "low"))
    return probes


def check_space(config: ExperimentConfig) -> list[SearchParam]:
    """The parameters of ``config.tune``, after checking that each probe assignment gives a valid
    experiment config; a :class:`ConfigError` lists every problem (before any trial runs)."""
    if config.tune is None:
        raise ConfigError("no [tune] section: add one with a search space, e.g.\n"
                          "[tune.space]\noptimizer.lr = {log_uniform = [1e-5, 1e-1]}")
    params = config.tune.params()
    base = experiment_raw(config)
    problems: list[str] = []
    for what, values in probe_values(params):
        try:
            trial_config(base, values)
        except ConfigError as err:
            for problem in err.problems:
                line = f"tune.space, with {what}: {problem}"
                if line not in problems and not any(problem in seen for seen in problems):
                    problems.append(line)
    if problems:
        raise ConfigError(problems)
    return params


__all__ = ["check_space", "choice_label", "choice_value", "decode_params", "experiment_raw", "is_active",
           "probe_values", "suggest", "trial_config", "with_values"]
