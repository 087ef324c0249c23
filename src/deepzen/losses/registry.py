"""Losses by name: the table behind configs (``loss = "cross_entropy"``), ``deepzen list`` and
``deepzen explain``, and the thin :class:`Loss` class that binds a function to its options.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Union

from torch import Tensor

from deepzen._suggest import did_you_mean
from deepzen.registry import Entry, Registry
from deepzen.losses.classification import binary_cross_entropy, cross_entropy, nll
from deepzen.losses.divergence import kl_div
from deepzen.losses.regression import huber, mae, mse

LossFn = Callable[..., Tensor]

#: name -> (function, one-line formula)
REGISTRY: dict[str, tuple[LossFn, str]] = {
    "mse": (mse, "MSE = (1/N) Σ (ŷ − y)²"),
    "mae": (mae, "MAE = (1/N) Σ |ŷ − y|"),
    "huber": (huber, "Huber = (1/N) Σ h(ŷ − y), h(d) = ½d² if |d| ≤ δ else δ(|d| − ½δ)"),
    "cross_entropy": (cross_entropy, "CE = −(1/N) Σ_i Σ_c y_ic log softmax(z_i)_c"),
    "binary_cross_entropy": (binary_cross_entropy, "BCE = −(1/N) Σ [y log σ(z) + (1 − y) log(1 − σ(z))]"),
    "nll": (nll, "NLL = −(1/N) Σ_i log p_{i,y_i}  (from log-probabilities)"),
    "kl_div": (kl_div, "KL(q ‖ p) = (1/N) Σ_i Σ_c q_ic (log q_ic − log p_ic), p = softmax(pred), q = target"),
}

#: Other accepted spellings.
ALIASES: dict[str, str] = {
    "ce": "cross_entropy",
    "crossentropy": "cross_entropy",
    "bce": "binary_cross_entropy",
    "l2": "mse",
    "l1": "mae",
    "kl": "kl_div",
}


LOSSES = Registry(
    "loss", [Entry(name, f"{fn.__module__}:{fn.__name__}", formula,
                   aliases=tuple(a for a, target in ALIASES.items() if target == name))
             for name, (fn, formula) in REGISTRY.items()],
    normalize=lambda name: name.lower().replace("-", "_"), columns=(("name", "name"), ("formula", "summary")))


class Loss:
    """A loss function with its options bound: ``Loss(cross_entropy, label_smoothing=0.1)(logits, y)``.

    Attributes:
        name: registry name (or the function's name).
        fn: the pure function ``fn(pred, target, **options) -> Tensor``.
        options: the bound keyword options.
    """

    def __init__(self, fn: LossFn, name: str | None = None, **options: Any) -> None:
        _check_options(fn, name or fn.__name__, options)
        self.fn = fn
        self.name = name or fn.__name__
        self.options = options
        self.__doc__ = fn.__doc__

    def __call__(self, pred: Tensor, target: Tensor) -> Tensor:
        return self.fn(pred, target, **self.options)

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"Loss({self.name}{', ' if opts else ''}{opts})"


def available() -> dict[str, str]:
    """Registry names with their one-line formulas."""
    return LOSSES.available()


def resolve(name: str) -> str:
    """The registry name for ``name`` or one of its aliases (case-insensitive)."""
    return LOSSES.key(name)


def get(name: Union[str, LossFn], **options: Any) -> Callable[[Tensor, Tensor], Tensor]:
    """A callable ``(pred, target) -> loss`` for a registry name with ``options`` bound.

    A callable passed instead of a name is returned as it is (options then bind to it).
    Unknown names and unknown options are ``ValueError`` with a "did you mean".
    """
    if callable(name):
        return Loss(name, **options) if options else name
    key = resolve(name)
    return Loss(REGISTRY[key][0], key, **options)


def explain(name: str) -> str:
    """The full docstring of a loss (its formula, options and shapes), for ``deepzen explain``."""
    fn = REGISTRY[resolve(name)][0]
    return inspect.cleandoc(fn.__doc__ or "")


def _check_options(fn: LossFn, name: str, options: dict[str, Any]) -> None:
    params = inspect.signature(fn).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return
    allowed = [p for p, v in params.items() if v.kind is v.KEYWORD_ONLY]
    for key in options:
        if key not in allowed:
            raise ValueError(f"loss {name!r} has no option {key!r}{did_you_mean(key, allowed)} "
                             f"Allowed: {', '.join(allowed) or '(none)'}")
