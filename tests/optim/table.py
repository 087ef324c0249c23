"""The optimizer test table: one :class:`Entry` per registry name, which every generic test iterates
(implementations x configs, as torch's ``optim_db``).

An entry joins what the tests know about one algorithm:

- ``configs``: its reference configs (``harness.Case``: hyperparameters, the float64 reference of
  ``tests/optim/references/``), written next to the algorithm's own tests as the module's ``CASES``
  and collected here from every ``tests/optim/test_*.py`` (no list of modules to keep);
- ``spec``: the contract's learning rates and needs (``contract_cases.SPECS``);
- ``implementations``: the code paths that compute it (:data:`IMPLEMENTATIONS`): ``eager`` (the rule,
  ``fused=False``) always, ``fused`` (the rule compiled by torch.compile) or ``torch-fused`` (torch's
  own kernel), and ``default`` (as built) where the default is a path of its own (plain SGD);
- ``torch_twin``: torch.optim's class with the same math, if any, and the arguments that make the two
  agree (their kwargs, ours).

Adding an optimizer: its ``CASES`` in its test module, a ``Spec`` in ``contract_cases.SPECS``, and its
name in ``COMPILED_FUSED_NAMES`` (every rule algorithm has ``fused=True``); ``test_table.py`` fails
until all three exist.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch

import tests.optim
from tests.optim.contract_cases import COMPILED_FUSED_NAMES, SPECS, TORCH_KERNEL_NAMES, Spec
from tests.optim.harness import Case

#: Implementation -> the hyperparameters that select it.
IMPLEMENTATIONS: dict[str, dict[str, Any]] = {
    "eager": {"fused": False},        # the rule over flat slices, Python-float scalars
    "fused": {"fused": True},         # the same rule through torch.compile
    "torch-fused": {"fused": True},   # torch's fused kernel (Adam family, SGD family, Adagrad)
    "default": {},                    # as built (fused=None), where that is a path of its own
}

#: Names whose default path (fused=None) is none of the above: plain SGD's torch multi-tensor add.
OWN_DEFAULT_PATH = ("sgd",)

#: registry name -> (torch.optim class, its kwargs, our kwargs) computing the same steps.
TORCH_TWINS: dict[str, tuple[type, dict[str, Any], dict[str, Any]]] = {
    "sgd": (torch.optim.SGD, {"lr": 0.1}, {"lr": 0.1}),
    "momentum": (torch.optim.SGD, {"lr": 0.05, "momentum": 0.9}, {"lr": 0.05}),
    "nag": (torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True}, {"lr": 0.05}),
    "adagrad": (torch.optim.Adagrad, {"lr": 0.5}, {"lr": 0.5}),
    "adam": (torch.optim.Adam, {"lr": 0.05}, {"lr": 0.05}),
    "adamw": (torch.optim.AdamW, {"lr": 0.05}, {"lr": 0.05}),
    "amsgrad": (torch.optim.Adam, {"lr": 0.05, "amsgrad": True}, {"lr": 0.05}),
    "adamax": (torch.optim.Adamax, {"lr": 0.05}, {"lr": 0.05}),
    "adadelta": (torch.optim.Adadelta, {"rho": 0.9}, {"rho": 0.9}),
    "rmsprop": (torch.optim.RMSprop, {"lr": 0.01}, {"lr": 0.01, "alpha": 0.99, "eps": 1e-8, "eps_inside_sqrt": False}),
}


#: Names whose reference steps every parameter at once (a global quantity, as Prodigy's d), so their
#: module compares them with its own runner instead of ``harness.Case`` configs.
GLOBAL_REFERENCE = {"prodigy": "tests/optim/test_prodigy.py (run_global: d is shared by all parameters)"}


@dataclass(frozen=True)
class Entry:
    """Everything the generic tests need about one registry name."""

    name: str
    spec: Spec
    configs: tuple[Case, ...]
    implementations: tuple[str, ...]
    torch_twin: tuple[type, dict[str, Any], dict[str, Any]] | None = None

    def kwargs(self, implementation: str) -> dict[str, Any]:
        """The hyperparameters selecting ``implementation`` (none for an optimizer with one path: no
        ``fused`` argument)."""
        if implementation == "eager" and not self.spec.accepts("fused"):
            return {}
        return IMPLEMENTATIONS[implementation]


def _reference_configs() -> dict[str, list[Case]]:
    """Every test module's ``CASES``, by registry name (cases that build a planted optimizer excluded)."""
    found: dict[str, list[Case]] = {}
    folder = Path(tests.optim.__file__).parent
    for info in pkgutil.iter_modules([str(folder)]):
        # only the modules that define CASES (the generic ones import this table)
        if not info.name.startswith("test_") or "\nCASES = " not in (folder / f"{info.name}.py").read_text("utf-8"):
            continue
        cases = getattr(importlib.import_module(f"tests.optim.{info.name}"), "CASES", None)
        for case in cases or ():
            if isinstance(case, Case) and case.make is None:
                found.setdefault(case.name, []).append(case)
    return found


def _implementations(name: str) -> tuple[str, ...]:
    kinds = ["eager"]
    if name in COMPILED_FUSED_NAMES:
        kinds.append("fused")
    if name in TORCH_KERNEL_NAMES:
        kinds.append("torch-fused")
    if name in OWN_DEFAULT_PATH:
        kinds.append("default")
    return tuple(kinds)


def _build() -> dict[str, Entry]:
    configs = _reference_configs()
    return {name: Entry(name, spec, tuple(configs.get(name, ())), _implementations(name), TORCH_TWINS.get(name))
            for name, spec in SPECS.items()}


TABLE: dict[str, Entry] = _build()

def takes(entry: Entry, implementation: str, case: Case) -> bool:
    """Whether ``implementation`` takes ``case``'s hyperparameters; torch's kernels refuse, naming
    ``fused``, the options they lack (SGD's ``lr_in_buffer``), and such a config is not run there."""
    if implementation != "torch-fused":
        return True
    try:
        entry.spec.make([torch.zeros(2, requires_grad=True)], **{**case.kwargs, **entry.kwargs(implementation)})
    except ValueError as err:
        if "fused" not in str(err):
            raise
        return False
    return True


#: (entry, implementation, config) for every implementation x reference config it takes.
RUNS: list[tuple[Entry, str, Case]] = [
    (e, impl, case) for e in TABLE.values() for impl in e.implementations for case in e.configs
    if takes(e, impl, case)]


def each_run(runs: list[tuple[Entry, str, Case]]) -> Callable[..., Any]:
    """``pytest.mark.parametrize`` over ``(entry, implementation, case)`` with readable ids."""
    return pytest.mark.parametrize(("entry", "implementation", "case"), runs,
                                   ids=[f"{impl}-{case}" for _, impl, case in runs])
