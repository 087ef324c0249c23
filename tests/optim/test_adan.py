"""Adan against the independent reference and against pytorch_optimizer's Adan (the official code,
sail-sg/Adan, is not packaged: its rule is the reference's)."""

from __future__ import annotations

import dataclasses
import importlib

import pytest

from deepzen.optim.adan import ADAN, Adan, adan_scalars
from tests.optim.harness import Case, cases_params, run_against_torch, run_case
from tests.optim.references.adan import RefAdan

CASES = [
    Case("adan", RefAdan, {}, id="adan-defaults"),
    Case("adan", RefAdan, {"lr": 0.01, "weight_decay": 0.05}, group2={"lr": 0.02, "betas": (0.9, 0.8, 0.95)},
         id="adan-prox-two-groups"),
    Case("adan", RefAdan, {"lr": 0.01, "weight_decay": 0.05, "no_prox": True, "maximize": True},
         id="adan-no-prox-maximize"),
    Case("adan", RefAdan, {"lr": 0.02, "eps": 1e-3, "betas": (0.5, 0.6, 0.7)}, id="adan-short-memory"),
]


@cases_params(CASES)
def test_matches_reference(case: Case) -> None:
    run_case(case)


def test_matches_pytorch_optimizer() -> None:
    po = importlib.import_module("pytorch_optimizer")  # the test extra pins it: missing is a failure, not a skip
    run_against_torch(lambda ps: Adan(ps, lr=0.01, weight_decay=0.02),
                      lambda ps: po.Adan(ps, lr=0.01, weight_decay=0.02), rtol=1e-7)


def test_planted_bug_is_caught() -> None:
    """Forgetting the previous gradient (d = 0 at every step, as at the first) fails the reference."""
    class NoDifference(Adan):
        rule = dataclasses.replace(ADAN, scalars=lambda group, t: (*adan_scalars(group, t)[:-1], 1.0))

    case = CASES[1]
    with pytest.raises(AssertionError):
        run_case(Case(case.name, case.ref, case.kwargs, group2=case.group2, make=NoDifference))
