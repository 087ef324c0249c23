"""L1, L2 and L1L2 penalties added to the loss: ``loss = loss_fn(pred, y) + penalty(model)``.

Conventions: L1 = λ · Σ |θ|;  L2 = (λ/2) · Σ θ²  (gradient λ·θ, so ``L2(λ)`` with SGD equals SGD's
coupled ``weight_decay=λ`` on the same parameters);  L1L2 = λ₁ · Σ |θ| + (λ₂/2) · Σ θ².
Sums run over the parameters that the filter selects, by default the weights (≥ 2 dims) outside
normalization layers (see :func:`deepzen.regularizers.groups.decays`); frozen parameters
(``requires_grad=False``) are skipped.
"""

from __future__ import annotations

import math
from typing import Optional, Union

import torch
from torch import Tensor, nn

from deepzen.regularizers.groups import ParamRule, decays, every_parameter, named_parameters_with_modules

#: Named filters, for configs: ``filter = "all"``.
FILTERS: dict[str, ParamRule] = {"weights": decays, "all": every_parameter}

Filter = Optional[Union[str, ParamRule]]


def _strength(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


class Penalty:
    """Base class: a regularization term of the selected parameters, ``penalty(model) -> Tensor``.

    Arguments:
        filter: which parameters to penalize: ``"weights"`` (default: ≥ 2 dims, outside
            normalization layers), ``"all"``, or a rule ``(name, param, module) -> bool``.
    """

    formula = "0"

    def __init__(self, filter: Filter = None) -> None:  # noqa: A002 (the configs' word)
        if filter is None:
            filter = "weights"
        if isinstance(filter, str):
            if filter not in FILTERS:
                raise ValueError(f"unknown filter {filter!r}; allowed: {', '.join(FILTERS)} or a function "
                                 "(name, param, module) -> bool")
            filter = FILTERS[filter]
        if not callable(filter):
            raise ValueError(f"filter must be 'weights', 'all' or a function (name, param, module) -> bool, "
                             f"got {filter!r}")
        self.filter = filter

    def parameters(self, model: nn.Module) -> list[nn.Parameter]:
        """The trainable parameters this penalty applies to."""
        return [p for name, p, module in named_parameters_with_modules(model)
                if p.requires_grad and self.filter(name, p, module)]

    def __call__(self, model: nn.Module) -> Tensor:
        params = self.parameters(model)
        if not params:
            first = next(model.parameters(), None)
            return torch.zeros((), device=first.device if first is not None else None)
        return self.penalty(params)

    def penalty(self, params: list[nn.Parameter]) -> Tensor:
        """The term for a non-empty list of parameters."""
        return params[0].new_zeros(())


class L1(Penalty):
    """L1 (lasso) penalty: λ · Σ |θ|. Pushes weights to exactly zero (sparsity); its gradient is λ·sign(θ).

    Arguments:
        strength: λ ≥ 0.
        filter: as for :class:`Penalty`.
    """

    formula = "λ · Σ |θ|"

    def __init__(self, strength: float, filter: Filter = None) -> None:  # noqa: A002
        super().__init__(filter)
        self.strength = _strength(strength, "L1 strength")

    def penalty(self, params: list[nn.Parameter]) -> Tensor:
        return self.strength * sum(p.abs().sum() for p in params)  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"L1({self.strength:g})"


class L2(Penalty):
    """L2 (ridge, Tikhonov) penalty: (λ/2) · Σ θ². Its gradient λ·θ makes it SGD's coupled weight decay λ.

    Arguments:
        strength: λ ≥ 0.
        filter: as for :class:`Penalty`.
    """

    formula = "(λ/2) · Σ θ²"

    def __init__(self, strength: float, filter: Filter = None) -> None:  # noqa: A002
        super().__init__(filter)
        self.strength = _strength(strength, "L2 strength")

    def penalty(self, params: list[nn.Parameter]) -> Tensor:
        return (0.5 * self.strength) * sum(p.square().sum() for p in params)  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"L2({self.strength:g})"


class L1L2(Penalty):
    """Elastic-net penalty (Zou & Hastie 2005): λ₁ · Σ |θ| + (λ₂/2) · Σ θ².

    Arguments:
        l1: λ₁ ≥ 0.
        l2: λ₂ ≥ 0.
        filter: as for :class:`Penalty`.
    """

    formula = "λ₁ · Σ |θ| + (λ₂/2) · Σ θ²"

    def __init__(self, l1: float = 0.0, l2: float = 0.0, filter: Filter = None) -> None:  # noqa: A002
        super().__init__(filter)
        self.l1 = _strength(l1, "L1L2 l1")
        self.l2 = _strength(l2, "L1L2 l2")

    def penalty(self, params: list[nn.Parameter]) -> Tensor:
        return sum(self.l1 * p.abs().sum() + (0.5 * self.l2) * p.square().sum()  # type: ignore[return-value]
                   for p in params)

    def __repr__(self) -> str:
        return f"L1L2(l1={self.l1:g}, l2={self.l2:g})"


class NoPenalty(Penalty):
    """No regularization term (always 0); the ``"none"`` entry for configs."""

    def parameters(self, model: nn.Module) -> list[nn.Parameter]:
        return []

    def __repr__(self) -> str:
        return "NoPenalty()"
