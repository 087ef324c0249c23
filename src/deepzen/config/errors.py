"""Config errors: one clear line per problem, naming the key, the bad value and what is allowed.

Pydantic's validation errors are turned into these lines by :func:`from_pydantic`; unknown keys get
a "did you mean" over the keys their section allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from deepzen._suggest import did_you_mean


class ConfigError(ValueError):
    """A config that cannot run. ``problems`` holds one message per bad key; ``source`` names the file.

    A ``ValueError`` subclass, so plain ``except ValueError`` catches it too.
    """

    def __init__(self, problems: str | Sequence[str], source: str | None = None) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.source = source
        super().__init__(self._message())

    def _message(self) -> str:
        where = f" in {self.source}" if self.source else ""
        if len(self.problems) == 1:
            return f"invalid config{where}: {self.problems[0]}"
        lines = "\n".join(f"  - {p}" for p in self.problems)
        return f"invalid config{where} ({len(self.problems)} problems):\n{lines}"


def folder_name(value: str | None, what: str) -> str | None:
    """``value`` unchanged when it can name one folder (non-empty, no '/', not '.' or '..'); else a
    ``ValueError`` naming ``what`` (a run, a study, a comparison)."""
    if value is not None and (not value or "/" in value or "\\" in value or value in (".", "..")):
        raise ValueError(f"a {what} name must be a non-empty folder name without '/'")
    return value


def show(value: Any) -> str:
    """A value as it would be written in TOML (short)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{...}" if value else "{}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def key_path(loc: Sequence[Any]) -> str:
    """``("training", "early_stopping", "patience")`` -> ``"training.early_stopping.patience"``."""
    return ".".join(str(part) for part in loc)


def from_pydantic(errors: list[dict[str, Any]], fields_at: Any) -> list[str]:
    """One message per pydantic error.

    Arguments:
        errors: ``ValidationError.errors()``.
        fields_at: ``fields_at(loc) -> list[str] | None``, the keys allowed in the table at ``loc``
            (for the "did you mean" of unknown keys).
    """
    problems: list[str] = []
    for err in errors:
        loc = tuple(p for p in err["loc"] if not isinstance(p, str) or not p.startswith("function-"))
        path = key_path(loc)
        kind, value = err["type"], err.get("input")
        if kind == "extra_forbidden":
            allowed = fields_at(loc[:-1]) or []
            table = f"[{key_path(loc[:-1])}]" if len(loc) > 1 else "the top level"
            problems.append(f"{path}: unknown key{did_you_mean(str(loc[-1]), allowed, cutoff=0.6)} "
                            f"Allowed keys in {table}: {', '.join(allowed)}")
            continue
        if kind == "missing":
            problems.append(f"{path}: required key is missing")
            continue
        message = str(err["msg"]).removeprefix("Value error, ")
        if kind == "literal_error":
            listed = str(err.get("ctx", {}).get("expected", "")).replace(" or ", ",")
            expected = [e.strip().strip("'") for e in listed.split(",")]
            message = f"allowed: {err['ctx']['expected']}{did_you_mean(str(value), expected, cutoff=0.6)}"
        elif kind.startswith(("int_", "float_", "bool_", "string_", "greater", "less", "model_type", "dict_", "list_")):
            message = message[0].lower() + message[1:]
        shown = f"{path}: " if isinstance(value, dict) else f"{path} = {show(value)}: "
        problems.append(f"{shown}{message}")
    return problems
