"""MADGRAD against the independent reference and against the authors' package (madgrad)."""

from __future__ import annotations

import dataclasses
import importlib

import pytest

from deepzen.optim.madgrad import MADGRAD, MADGRAD_RULE, madgrad_rule_scalars
from tests.optim.harness import Case, cases_params, run_against_torch, run_case
from tests.optim.references.madgrad import RefMADGRAD

CASES = [
    Case("madgrad", RefMADGRAD, {}, id="madgrad-defaults"),
    Case("madgrad", RefMADGRAD, {"lr": 0.02, "weight_decay": 0.05}, group2={"momentum": 0.0, "lr": 0.01},
         id="madgrad-l2-two-groups"),
    Case("madgrad", RefMADGRAD, {"lr": 0.02, "weight_decay": 0.05, "decoupled": True, "maximize": True},
         id="madgrad-decoupled-maximize"),
    Case("madgrad", RefMADGRAD, {"lr": 0.05, "momentum": 0.5, "eps": 1e-3}, id="madgrad-short-momentum"),
]


@cases_params(CASES)
def test_matches_reference(case: Case) -> None:
    run_case(case)


@pytest.mark.parametrize("options", [{"weight_decay": 0.01}, {"weight_decay": 0.01, "momentum": 0.0},
                                     {"weight_decay": 0.01, "decouple_decay": True}])
def test_matches_the_authors_package_with_eps_added_to_lr(options: dict) -> None:
    """The official code steps with λ_t = (η + ε)√t; MADGRAD(lr=η + ε) is that rule."""
    madgrad = importlib.import_module("madgrad")  # the test extra pins it: missing is a failure, not a skip
    ours = {"decoupled" if k == "decouple_decay" else k: v for k, v in options.items()}
    run_against_torch(lambda ps: MADGRAD(ps, lr=0.01 + 1e-6, **ours),
                      lambda ps: madgrad.MADGRAD(ps, lr=0.01, **options), rtol=1e-7)


def test_planted_bug_is_caught() -> None:
    """Weighting the sums by η instead of η√t (plain dual averaging) fails the reference."""
    class Unweighted(MADGRAD):
        rule = dataclasses.replace(MADGRAD_RULE, scalars=lambda group, t: madgrad_rule_scalars(group, 1.0))

    case = CASES[1]
    with pytest.raises(AssertionError):
        run_case(Case(case.name, case.ref, case.kwargs, group2=case.group2, make=Unweighted))
