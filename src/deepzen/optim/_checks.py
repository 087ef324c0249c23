"""Validation of hyperparameters: each failure is a ``ValueError`` naming the argument, its value and
the allowed range."""

from __future__ import annotations

import math
from typing import Any

from torch import Tensor

from deepzen._suggest import did_you_mean


def check_range(
    name: str,
    value: Any,
    low: float = -math.inf,
    high: float = math.inf,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    """Require ``low <= value <= high`` (``<`` where the bound is open) and a real, finite-or-inf number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ValueError(f"invalid {name}: {value!r}; expected a number in {_interval(low, high, low_open, high_open)}")
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if too_low or too_high:
        raise ValueError(f"invalid {name}: {value!r}; allowed range is {_interval(low, high, low_open, high_open)}")


def _interval(low: float, high: float, low_open: bool, high_open: bool) -> str:
    return f"{'(' if low_open else '['}{_fmt(low)}, {_fmt(high)}{')' if high_open else ']'}"


def _fmt(x: float) -> str:
    return {math.inf: "inf", -math.inf: "-inf"}.get(x, repr(x))


def check_lr(value: Any) -> None:
    """Learning rate: a number >= 0, or a 1-element tensor holding one (as torch's optimizers take)."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError(f"invalid lr: a tensor of shape {tuple(value.shape)}; Tensor lr must be 1-element")
        value = value.item()
    check_range("lr", value, 0.0)


def number(value: Any) -> Any:
    """``value``, or the number a 1-element tensor holds."""
    return value.item() if isinstance(value, Tensor) and value.numel() == 1 else value


def check_eps(value: Any, name: str = "eps") -> None:
    """Numerical-stability constant: >= 0."""
    check_range(name, value, 0.0)


def check_weight_decay(value: Any) -> None:
    """Weight decay: >= 0."""
    check_range("weight_decay", value, 0.0)


def check_beta(value: Any, name: str) -> None:
    """A decay rate in [0, 1)."""
    check_range(name, value, 0.0, 1.0, high_open=True)


def check_betas(betas: Any, count: int = 2, name: str = "betas") -> None:
    """A tuple of ``count`` decay rates, each in [0, 1)."""
    if not isinstance(betas, (tuple, list)) or len(betas) != count:
        raise ValueError(f"invalid {name}: {betas!r}; expected a tuple of {count} numbers in [0, 1)")
    for i, b in enumerate(betas):
        check_beta(b, f"{name}[{i}]")


def check_choice(name: str, value: Any, allowed: tuple[Any, ...]) -> None:
    """A value from a fixed set; a near miss of a string gets a "did you mean"."""
    if value not in allowed:
        hint = did_you_mean(str(value), [str(a) for a in allowed], n=1, cutoff=0.6)
        raise ValueError(f"invalid {name}: {value!r}{hint} Allowed values are {', '.join(map(repr, allowed))}")


def check_flag(name: str, value: Any) -> None:
    """A boolean option."""
    if not isinstance(value, bool):
        raise ValueError(f"invalid {name}: {value!r}; expected True or False")


def check_flags(group: dict[str, Any], *names: str) -> None:
    """Each named group option is a boolean."""
    for name in names:
        check_flag(name, group[name])


def check_not_fused(group: dict[str, Any], optimizer: str, why: str, alternatives: str) -> None:
    """``fused`` of an optimizer without a compiled path: a boolean, and False (True names why not and
    what to use instead)."""
    check_flag("fused", group["fused"])
    if group["fused"]:
        raise ValueError(f"invalid fused: True; {optimizer} has no fused=True path ({why}). Use fused=False, "
                         f"or {alternatives}")


def check_moment_group(group: dict[str, Any]) -> None:
    """The hyperparameters of the Adam family: lr, betas (two decay rates), eps, weight_decay."""
    check_lr(group["lr"])
    check_betas(group["betas"])
    check_eps(group["eps"])
    check_weight_decay(group["weight_decay"])
