"""Read a TOML experiment config, apply ``--set key=value`` overrides, validate, write it back.

    >>> config = load_config("examples/mlp_iris.toml", ["optimizer.name=yogi", "training.epochs=5"])
    >>> write_config(config, "runs/x/config.toml")

An override's value is parsed as a TOML literal (``5``, ``1e-3``, ``true``, ``[32, 64]``,
``"text"``), and taken as a plain string when it is not one (``optimizer.name=yogi``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from deepzen._suggest import did_you_mean
from deepzen.config.errors import ConfigError
from deepzen.config.name_change import drop_options_of_old_names
from deepzen.config.references import check_references
from deepzen.config.sections import ExperimentConfig

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_NAME = "default.toml"


def default_text() -> str:
    """The bundled default config (a CNN on digits), with its comments."""
    return resources.files("deepzen.config").joinpath(DEFAULT_NAME).read_text(encoding="utf-8")


def parse_toml(text: str, source: str | None = None) -> dict[str, Any]:
    """TOML text -> dict; syntax errors become a :class:`ConfigError` with the line."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"not valid TOML: {err}", source) from None


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file; a missing file or bad syntax is a :class:`ConfigError`."""
    path = Path(path)
    if not path.is_file():
        hint = " (it is a folder; for a run folder use --resume)" if path.is_dir() else ""
        raise ConfigError(f"no config file at {path}{hint}")
    return parse_toml(path.read_text(encoding="utf-8"), str(path))


def parse_value(text: str) -> Any:
    """An override's value: a TOML literal if it is one, else the text itself."""
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(raw: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """``raw`` with each ``a.b.c=value`` set (tables created as needed); returns a new dict."""
    result = _deep_copy(raw)
    for item in overrides:
        key, sep, value = item.partition("=")
        key = key.strip()
        parts = key.split(".")
        if not sep or not key or any(not p for p in parts):
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE with a dotted key, e.g. optimizer.lr=0.01")
        table = result
        for depth, part in enumerate(parts[:-1]):
            inner = table.setdefault(part, {})
            if not isinstance(inner, dict):
                raise ConfigError(f"--set {item!r}: {'.'.join(parts[:depth + 1])} is a value, not a table")
            table = inner
        table[parts[-1]] = parse_value(value.strip())
    return result


def remove_keys(raw: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """``raw`` without each dotted key (``--unset model.channels``): a table's option is gone, a fixed
    key takes its default. A key that is not there is an error naming the keys that are."""
    result = _deep_copy(raw)
    for key in keys:
        parts = key.strip().split(".")
        table = result
        for depth, part in enumerate(parts):
            if not isinstance(table, dict) or part not in table:
                present = sorted(table) if isinstance(table, dict) else []
                inside = f"in [{'.'.join(parts[:depth])}]" if depth else "at the top level"
                raise ConfigError(f"--unset {key!r}: the config has no {'.'.join(parts[:depth + 1])}"
                                  f"{did_you_mean(part, present, cutoff=0.6)} Keys {inside}: "
                                  f"{', '.join(present) or '(none)'}")
            if depth == len(parts) - 1:
                del table[part]
            else:
                table = table[part]
    return result


def validate(raw: Mapping[str, Any], source: str | None = None, check_names: bool = True) -> ExperimentConfig:
    """A checked :class:`ExperimentConfig` from a plain dict, or a :class:`ConfigError` listing every problem."""
    try:
        config = ExperimentConfig.model_validate(dict(raw))
    except ValidationError as err:
        from deepzen.config.errors import from_pydantic

        raise ConfigError(from_pydantic(err.errors(), fields_at), source) from None
    if check_names:
        problems = check_references(config)
        if problems:
            raise ConfigError(problems, source)
    return config


def load_config(path: str | Path | None = None, overrides: Iterable[str] = (), check_names: bool = True,
                unset: Iterable[str] = (), notes: list[str] | None = None) -> ExperimentConfig:
    """Read ``path`` (``None``: the bundled default), remove the ``unset`` keys, apply ``overrides``,
    validate.

    An override that changes ``model.kind``, ``optimizer.name``, ``loss.name`` or ``data.name`` leaves out
    the file's options the new name does not take (:mod:`deepzen.config.name_change`); one line per
    table where that happened is appended to ``notes`` when given.
    """
    if path is None:
        raw, source = parse_toml(default_text(), "the bundled default config"), "the bundled default config"
    else:
        raw, source = read_toml(path), str(path)
    overrides, unset = list(overrides), list(unset)
    if unset:
        source = f"{source} with --unset {' '.join(unset)}"
        raw = remove_keys(raw, unset)
    if overrides:
        source = f"{source} with --set {' '.join(overrides)}"
    merged, dropped = drop_options_of_old_names(raw, apply_overrides(raw, overrides), overrides)
    if notes is not None:
        notes.extend(dropped)
    return validate(merged, source, check_names)


def to_toml(config: ExperimentConfig) -> str:
    """The resolved config as TOML text (every default written out)."""
    import tomli_w

    return tomli_w.dumps(config.to_toml_dict())


def write_config(config: ExperimentConfig, path: str | Path) -> Path:
    """Write the resolved config to ``path`` (created folders included)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_toml(config), encoding="utf-8")
    return path


def fields_at(loc: tuple[Any, ...]) -> list[str] | None:
    """Keys allowed in the table at ``loc`` (``()`` is the top level), for "did you mean"."""
    model: Any = ExperimentConfig
    for part in loc:
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return None
        model = _model_in(field.annotation)
        if model is None:
            return None
    return list(model.model_fields)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The BaseModel class in ``annotation`` (``X``, ``Optional[X]``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


__all__ = ["ConfigError", "apply_overrides", "default_text", "load_config", "parse_toml",
           "parse_value", "read_toml", "remove_keys", "to_toml", "validate", "write_config"]
