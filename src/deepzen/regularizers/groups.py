"""Which parameters get regularized or decayed, and parameter groups for decoupled weight decay.

Default rule (shared by the penalties and :func:`param_groups`): a parameter is decayed when it has
at least 2 dims and does not belong to a normalization layer. So biases, normalization scales and
shifts (also a LayerNorm over several dims, whose weight is 2-D) and other vectors are left alone, while
Linear/Conv/RNN weight matrices and embedding tables are decayed (embeddings as in GPT-2-style
training; exclude them with a rule of your own, e.g. ``no_decay=["*embed*"]``).
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Optional, Union

from torch import nn

#: ``rule(qualified_name, parameter, owning_module) -> bool``.
ParamRule = Callable[[str, nn.Parameter, nn.Module], bool]

#: PyTorch's normalization layers; classes of other libraries are recognized by their name (below).
NORM_TYPES: tuple[type[nn.Module], ...] = (
    nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm,
    nn.LazyBatchNorm1d, nn.LazyBatchNorm2d, nn.LazyBatchNorm3d,
    nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d,
    nn.LazyInstanceNorm1d, nn.LazyInstanceNorm2d, nn.LazyInstanceNorm3d,
    nn.LayerNorm, nn.GroupNorm, nn.LocalResponseNorm, nn.RMSNorm,
)
_NORM_NAME = re.compile(r"Norm(\d[dD])?$")  # RMSNorm, ScaleNorm, AdaLayerNorm, FooBatchNorm2d, ...


def is_normalization(module: nn.Module) -> bool:
    """Whether ``module`` is a normalization layer (by type, or by a class name ending in ``Norm``)."""
    return isinstance(module, NORM_TYPES) or bool(_NORM_NAME.search(type(module).__name__))


def decays(name: str, param: nn.Parameter, module: nn.Module) -> bool:
    """The default rule: True for weights (≥ 2 dims) outside normalization layers."""
    return param.ndim >= 2 and not is_normalization(module)


def every_parameter(name: str, param: nn.Parameter, module: nn.Module) -> bool:
    """The rule that decays every parameter (like an optimizer's plain ``weight_decay``)."""
    return True


def named_parameters_with_modules(model: nn.Module) -> Iterator[tuple[str, nn.Parameter, nn.Module]]:
    """``(qualified_name, parameter, owning_module)`` for each parameter once (tied weights once)."""
    seen: set[int] = set()
    for module_name, module in model.named_modules():
        for name, param in module.named_parameters(recurse=False):
            if id(param) not in seen:
                seen.add(id(param))
                yield (f"{module_name}.{name}" if module_name else name), param, module


def patterns_rule(patterns: Iterable[str]) -> ParamRule:
    """A rule that is True for parameters whose qualified name matches any glob pattern."""
    patterns = [patterns] if isinstance(patterns, str) else list(patterns)
    return lambda name, param, module: any(fnmatch.fnmatchcase(name, p) for p in patterns)


def param_groups(
    model: nn.Module,
    weight_decay: float,
    no_decay: Optional[Union[ParamRule, Iterable[str]]] = None,
) -> list[dict[str, Any]]:
    """Two parameter groups for a torch optimizer: decayed weights and the rest (decay 0).

    ``torch.optim.AdamW(param_groups(model, 0.01), lr=1e-3)`` decays only the weights; the same
    groups with SGD's (coupled) ``weight_decay`` equal an :class:`L2` penalty of the same strength.

    Arguments:
        model: the module whose parameters to split (every parameter lands in exactly one group).
        weight_decay: decay of the first group, ≥ 0.
        no_decay: which parameters NOT to decay: ``None`` for the default rule (biases, 1-D
            parameters, normalization layers; see :func:`decays`), a rule
            ``(name, param, module) -> bool``, or glob patterns on qualified names such as
            ``["*.bias", "*norm*"]`` (these replace the default rule).

    Returns:
        ``[{"params": decayed, "weight_decay": weight_decay}, {"params": others, "weight_decay": 0.0}]``.
    """
    if isinstance(weight_decay, bool) or not isinstance(weight_decay, (int, float)) \
            or not math.isfinite(weight_decay) or weight_decay < 0:
        raise ValueError(f"weight_decay must be a finite number >= 0, got {weight_decay!r}")
    if no_decay is None:
        excluded: ParamRule = lambda name, param, module: not decays(name, param, module)  # noqa: E731
    elif callable(no_decay):
        excluded = no_decay
    else:
        excluded = patterns_rule(no_decay)
    decayed: list[nn.Parameter] = []
    others: list[nn.Parameter] = []
    for name, param, module in named_parameters_with_modules(model):
        (others if excluded(name, param, module) else decayed).append(param)
    return [{"params": decayed, "weight_decay": float(weight_decay)}, {"params": others, "weight_decay": 0.0}]
