"""Typed, documented model options: each family declares a table ``OPTIONS: dict[str, Option]``;
:func:`validate` checks user values against it (unknown names get a "did you mean", bad values are
named with what is allowed) and fills in the defaults.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from deepzen._suggest import did_you_mean


@dataclass(frozen=True)
class Option:
    """One option of a model family.

    Attributes:
        default: value used when the option is not given.
        allowed: what values are allowed, in words (shown in errors and in ``deepzen list models``).
        help: one line on what the option does.
        parse: turns a user value into the stored value or raises ``ValueError(allowed)``.
    """

    default: Any
    allowed: str
    help: str
    parse: Callable[[Any], Any]


def _bad(name: str, value: Any, allowed: str) -> ValueError:
    return ValueError(f"bad value {value!r} for option {name!r}; allowed: {allowed}")


def integer(default: int, help: str, low: int = 0, high: int | None = None) -> Option:
    """An ``int`` in ``[low, high]``."""
    allowed = f"an integer >= {low}" if high is None else f"an integer in [{low}, {high}]"

    def parse(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or v < low or (high is not None and v > high):
            raise ValueError(allowed)
        return int(v)

    return Option(default, allowed, help, parse)


def real(default: float, help: str, low: float = 0.0, high: float | None = None,
         high_open: bool = False) -> Option:
    """A ``float`` in ``[low, high]`` (``[low, high)`` with ``high_open``)."""
    close = ")" if high_open else "]"
    allowed = f"a number >= {low}" if high is None else f"a number in [{low}, {high}{close}"

    def parse(v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ValueError(allowed)
        ok = v >= low and (high is None or (v < high if high_open else v <= high))
        if not ok:
            raise ValueError(allowed)
        return float(v)

    return Option(default, allowed, help, parse)


def boolean(default: bool, help: str) -> Option:
    """``True`` or ``False``."""

    def parse(v: Any) -> bool:
        if not isinstance(v, bool):
            raise ValueError("true or false")
        return v

    return Option(default, "true or false", help, parse)


def choice(default: str, choices: Sequence[str], help: str) -> Option:
    """One of ``choices`` (case-insensitive)."""
    allowed = ", ".join(repr(c) for c in choices)

    def parse(v: Any) -> str:
        key = v.lower() if isinstance(v, str) else v
        if key not in choices:
            hint = did_you_mean(str(v), choices)
            raise ValueError(f"one of {allowed}{hint}")
        return key

    return Option(default, f"one of {allowed}", help, parse)


def int_tuple(default: tuple[int, ...], help: str, low: int = 1, allow_empty: bool = True) -> Option:
    """A sequence of ints >= ``low`` (a single int is a one-element tuple)."""
    allowed = f"a list of integers >= {low}" + ("" if allow_empty else " (at least one)")

    def parse(v: Any) -> tuple[int, ...]:
        items = (v,) if isinstance(v, int) and not isinstance(v, bool) else v
        if not isinstance(items, (list, tuple)) or (not items and not allow_empty):
            raise ValueError(allowed)
        if any(isinstance(i, bool) or not isinstance(i, int) or i < low for i in items):
            raise ValueError(allowed)
        return tuple(int(i) for i in items)

    return Option(tuple(default), allowed, help, parse)


def validate(kind: str, table: dict[str, Option], given: dict[str, Any]) -> dict[str, Any]:
    """``given`` checked against ``table`` and completed with defaults.

    Raises:
        ValueError: an unknown option (with "did you mean" and the allowed names) or a bad value
            (naming the option, the value and what is allowed).
    """
    values = {name: opt.default for name, opt in table.items()}
    for name, value in given.items():
        if name not in table:
            hint = did_you_mean(name, table)
            raise ValueError(f"unknown option {name!r} for model {kind!r}{hint} "
                             f"Allowed options: {', '.join(table)}")
        try:
            values[name] = table[name].parse(value)
        except ValueError as err:
            raise _bad(name, value, str(err)) from None
    return values
