"""The ``[tune]`` section: what a hyperparameter study searches and how.

    [tune]
    metric = "val_accuracy"          # unset: training.monitor, else val_loss
    n_trials = 20
    sampler = "tpe"                  # tpe | random | grid | cmaes
    pruner = "median"                # median | hyperband | none

    [tune.space]
    optimizer.lr = {log_uniform = [1e-5, 1e-1]}
    optimizer.name = {choice = ["adam", "yogi", "adabound"]}
    optimizer.final_lr = {log_uniform = [1e-3, 1.0], when = {"optimizer.name" = "adabound"}}
    model.channels = {choice = [[16, 32], [32, 64]]}

A key of ``[tune.space]`` is any dotted config key; its value is one distribution:
``uniform = [a, b]`` (``step`` optional), ``log_uniform = [a, b]`` (``0 < a``), ``int = [a, b]``
(``step`` optional), ``int_log = [a, b]`` (``1 <= a``), ``choice = [v1, v2, ...]`` (values may be
lists). ``when = {"key" = value}`` makes it conditional: sampled only when the ``choice`` parameter
``key`` took ``value`` (or one of a list of values). This module only checks the shape of the space;
:mod:`deepzen.tune.space` checks that every key exists in the experiment config.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from deepzen._suggest import did_you_mean
from deepzen.config.errors import folder_name, show

DISTRIBUTIONS = ("uniform", "log_uniform", "int", "int_log", "choice")
SPEC_KEYS = (*DISTRIBUTIONS, "step", "when")
#: Sections a study may not search (the study's own settings and where runs are written).
UNSEARCHABLE = ("tune", "output")
_KEY_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class SearchParam:
    """One searched key. ``when``: ``(parent key, allowed parent values)`` pairs, all of which must hold."""

    key: str
    kind: str
    low: float | None = None
    high: float | None = None
    step: float | None = None
    choices: tuple[Any, ...] = ()
    when: tuple[tuple[str, tuple[Any, ...]], ...] = ()

    @property
    def log(self) -> bool:
        return self.kind in ("log_uniform", "int_log")

    def describe(self) -> str:
        """``log_uniform [1e-05, 0.1]``, ``choice ['adam', 'yogi']``."""
        if self.kind == "choice":
            return f"choice {list(self.choices)}"
        step = f" step {self.step:g}" if self.step is not None else ""
        return f"{self.kind} [{self.low:g}, {self.high:g}]{step}"


class TuneConfig(BaseModel):
    """``[tune]``: the study. ``space`` holds the searched keys (see the module doc)."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    metric: Optional[str] = Field(None, description="validation quantity to optimize; unset: training.monitor or val_loss")
    direction: Optional[Literal["minimize", "maximize"]] = Field(None, description="unset: from the metric")
    n_trials: Optional[int] = Field(20, ge=1, description="finished trials the study ends with (all runs together)")
    timeout: Optional[float] = Field(None, gt=0, description="stop starting trials after this many seconds")
    sampler: Literal["tpe", "random", "grid", "cmaes"] = "tpe"
    pruner: Literal["median", "hyperband", "none"] = "median"
    warmup_epochs: int = Field(1, ge=0, description="epochs a trial runs before it can be pruned")
    startup_trials: int = Field(5, ge=0, description="trials before the sampler and pruner use the history")
    seed: Optional[int] = Field(None, description="sampler seed; unset: the experiment seed")
    name: Optional[str] = Field(None, description="study folder <output.dir>/<name>; unset: '<run name>-tune'")
    storage: Optional[str] = Field(None, description="database URL; unset: a journal file in the study folder")
    workers: int = Field(1, ge=1, description="processes running trials at once on this host")
    space: dict[str, Any] = Field(..., description="the searched keys")

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: Optional[str]) -> Optional[str]:
        return folder_name(value, "study")

    @field_validator("space", mode="before")
    @classmethod
    def _flat_space(cls, value: Any) -> Any:
        """Dotted keys written unquoted (``optimizer.lr = {...}``) arrive as nested tables: flatten."""
        if not isinstance(value, dict):
            return value
        flat = flatten_space(value)
        params = parse_space(flat)  # shape errors now, with the key named
        for p in params:  # conditions too are stored with flat keys
            if p.when:
                flat[p.key] = {**flat[p.key], "when": {k: v[0] if len(v) == 1 else list(v) for k, v in p.when}}
        return flat

    def params(self) -> list[SearchParam]:
        """The searched parameters, parents before the parameters conditioned on them."""
        return parse_space(self.space)


def flatten_space(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"optimizer": {"lr": {"log_uniform": [..]}}}`` -> ``{"optimizer.lr": {"log_uniform": [..]}}``."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()) \
                and not any(k in SPEC_KEYS for k in value):
            flat.update(flatten_space(value, f"{path}."))
        else:
            flat[path] = value
    return flat


def parse_space(space: dict[str, Any]) -> list[SearchParam]:
    """Checked :class:`SearchParam` objects in sampling order; a ``ValueError`` names the bad key."""
    if not space:
        raise ValueError("the search space is empty; add keys such as optimizer.lr = {log_uniform = [1e-5, 1e-1]}")
    params = {key: _parse_one(key, spec) for key, spec in space.items()}
    resolved = {key: _resolve_conditions(p, params) for key, p in params.items()}
    return _sampling_order(resolved)


def _parse_one(key: str, spec: Any) -> SearchParam:
    parts = key.split(".")
    if not all(_KEY_PART.fullmatch(p) for p in parts):
        raise ValueError(f"{key!r}: expected a dotted config key such as 'optimizer.lr'")
    if parts[0] in UNSEARCHABLE:
        raise ValueError(f"{key!r}: the [{parts[0]}] section cannot be searched")
    if not isinstance(spec, dict):
        raise ValueError(f"{key} = {show(spec)}: expected a table with one of "
                         f"{', '.join(DISTRIBUTIONS)}, e.g. {{log_uniform = [1e-5, 1e-1]}}")
    unknown = [k for k in spec if k not in SPEC_KEYS]
    if unknown:
        raise ValueError(f"{key}: unknown key {unknown[0]!r}{did_you_mean(unknown[0], SPEC_KEYS, cutoff=0.6)} "
                         f"Allowed: {', '.join(SPEC_KEYS)}")
    kinds = [k for k in spec if k in DISTRIBUTIONS]
    if len(kinds) != 1:
        raise ValueError(f"{key}: give exactly one of {', '.join(DISTRIBUTIONS)} (got {kinds or 'none'})")
    kind = kinds[0]
    when = _parse_when(key, spec.get("when"))
    if kind == "choice":
        return SearchParam(key, kind, choices=_parse_choices(key, spec["choice"], spec), when=when)
    low, high = _parse_range(key, kind, spec[kind])
    step = spec.get("step")
    if step is not None:
        if kind not in ("uniform", "int") or isinstance(step, bool) or not isinstance(step, (int, float)) or step <= 0:
            raise ValueError(f"{key}: step = {show(step)}: a positive number, allowed with uniform and int only")
        if kind == "int" and not isinstance(step, int):
            raise ValueError(f"{key}: step = {show(step)}: an int range needs an integer step")
    return SearchParam(key, kind, low, high, step, when=when)


def _parse_range(key: str, kind: str, value: Any) -> tuple[float, float]:
    where = f"{key}: {kind} = {show(value)}"
    if not (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
        raise ValueError(f"{where}: expected [low, high], two numbers")
    low, high = value
    if kind.startswith("int") and not all(isinstance(v, int) for v in value):
        raise ValueError(f"{where}: an int range needs integer bounds")
    if not low < high:
        raise ValueError(f"{where}: empty range; low must be < high")
    if kind == "log_uniform" and low <= 0:
        raise ValueError(f"{where}: a log range needs bounds > 0")
    if kind == "int_log" and low < 1:
        raise ValueError(f"{where}: an int_log range needs bounds >= 1")
    return low, high


def _parse_choices(key: str, value: Any, spec: dict[str, Any]) -> tuple[Any, ...]:
    if "step" in spec:
        raise ValueError(f"{key}: step is not allowed with choice")
    if not isinstance(value, list) or not value:
        raise ValueError(f"{key}: choice = {show(value)}: expected a non-empty list of values")
    for item in value:
        if isinstance(item, dict) or (isinstance(item, list) and any(isinstance(v, (dict, list)) for v in item)):
            raise ValueError(f"{key}: choice {show(item)}: values must be numbers, strings, booleans or "
                             "flat lists of them")
    frozen = [tuple(v) if isinstance(v, list) else v for v in value]
    if len(set(map(repr, frozen))) != len(frozen):
        raise ValueError(f"{key}: choice {show(value)} lists a value twice")
    return tuple(value)


def _parse_when(key: str, value: Any) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    if value is None:
        return ()
    if not isinstance(value, dict) or not value:
        raise ValueError(f"{key}: when = {show(value)}: expected a table such as "
                         "{\"optimizer.name\" = \"adabound\"}")
    flat = {}
    for parent, wanted in value.items():  # nested when the dotted key was written unquoted
        if isinstance(wanted, dict):
            flat.update({f"{parent}.{k}": v for k, v in flatten_space(wanted).items()})
        else:
            flat[parent] = wanted
    return tuple((parent, (wanted,)) for parent, wanted in flat.items())


def _resolve_conditions(param: SearchParam, params: dict[str, SearchParam]) -> SearchParam:
    """Check each condition's parent and read its value as one choice or a list of choices."""
    resolved = []
    for parent_key, (wanted,) in param.when:
        parent = params.get(parent_key)
        if parent_key == param.key:
            raise ValueError(f"{param.key}: its condition refers to itself")
        if parent is None:
            raise ValueError(f"{param.key}: when refers to {parent_key!r}, which is not searched"
                             f"{did_you_mean(parent_key, list(params), cutoff=0.6)} A condition needs a choice parameter.")
        if parent.kind != "choice":
            raise ValueError(f"{param.key}: when refers to {parent_key!r}, a {parent.kind} parameter; "
                             "conditions need a choice parameter")
        if wanted in parent.choices:
            values: tuple[Any, ...] = (wanted,)
        elif isinstance(wanted, list) and wanted and all(w in parent.choices for w in wanted):
            values = tuple(wanted)
        else:
            names = [str(c) for c in parent.choices]
            raise ValueError(f"{param.key}: when {parent_key} = {show(wanted)}: not one of its choices "
                             f"{list(parent.choices)}{did_you_mean(str(wanted), names, cutoff=0.6)}")
        resolved.append((parent_key, values))
    return SearchParam(param.key, param.kind, param.low, param.high, param.step, param.choices, tuple(resolved))


def _sampling_order(params: dict[str, SearchParam]) -> list[SearchParam]:
    """Parents first (file order otherwise); a cycle of conditions is an error."""
    order: list[SearchParam] = []
    state: dict[str, str] = {}

    def visit(key: str, chain: list[str]) -> None:
        if state.get(key) == "done":
            return
        if state.get(key) == "visiting":
            raise ValueError(f"conditions form a cycle: {' -> '.join([*chain, key])}")
        state[key] = "visiting"
        for parent, _ in params[key].when:
            visit(parent, [*chain, key])
        state[key] = "done"
        order.append(params[key])

    for key in params:
        visit(key, [])
    return order


__all__ = ["DISTRIBUTIONS", "SearchParam", "TuneConfig", "flatten_space", "parse_space"]
