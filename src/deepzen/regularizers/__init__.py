"""Regularization added to the loss (L1, L2, L1L2 penalties) and parameter groups for decoupled weight
decay in the optimizer. Dropout and batch norm are model options (``deepzen.nn``), not penalties.

    >>> penalty = deepzen.regularizers.L2(1e-4)          # (λ/2) Σ θ² over weights, not biases/norms
    >>> loss = loss_fn(model(x), y) + penalty(model)
    >>> opt = torch.optim.AdamW(deepzen.regularizers.param_groups(model, weight_decay=0.01), lr=1e-3)
"""

from __future__ import annotations

from deepzen.regularizers.groups import (
    NORM_TYPES, decays, every_parameter, is_normalization, named_parameters_with_modules, param_groups,
)
from deepzen.regularizers.penalties import L1, L1L2, L2, NoPenalty, Penalty
from deepzen.regularizers.registry import REGISTRY, available, create, get

__all__ = [
    "L1", "L1L2", "L2", "NORM_TYPES", "NoPenalty", "Penalty", "REGISTRY", "available", "create", "decays",
    "every_parameter", "get", "is_normalization", "named_parameters_with_modules", "param_groups",
]
