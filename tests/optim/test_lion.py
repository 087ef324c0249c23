"""Lion against the independent reference and against the authors' package (lion-pytorch)."""

from __future__ import annotations

import dataclasses
import importlib

import pytest
import torch

from deepzen.optim.lion import LION, Lion
from tests.optim.harness import Case, cases_params, run_against_torch, run_case
from tests.optim.references.lion import RefLion

CASES = [
    Case("lion", RefLion, {}, id="lion-defaults"),
    Case("lion", RefLion, {"lr": 0.01, "betas": (0.8, 0.95), "weight_decay": 0.3},
         group2={"lr": 0.002, "weight_decay": 0.0}, id="lion-two-groups"),
    Case("lion", RefLion, {"lr": 0.01, "weight_decay": 0.1, "maximize": True}, id="lion-maximize"),
    Case("lion", RefLion, {"lr": 0.03, "betas": (0.0, 0.5)}, id="lion-no-interpolation"),
]


@cases_params(CASES)
def test_matches_reference(case: Case) -> None:
    run_case(case)


def test_matches_the_authors_package() -> None:
    lion_pytorch = importlib.import_module("lion_pytorch")  # the test extra pins it: missing is a failure, not a skip
    run_against_torch(lambda ps: Lion(ps, lr=0.01, betas=(0.9, 0.99), weight_decay=0.1),
                      lambda ps: lion_pytorch.Lion(ps, lr=0.01, betas=(0.9, 0.99), weight_decay=0.1))


def test_planted_bug_is_caught() -> None:
    """Updating the momentum before taking the sign (a common misreading of Alg. 2) fails the reference."""
    def momentum_first(p, g, m, s):  # type: ignore[no-untyped-def]
        m.copy_(m + s[3] * (g - m))
        p.copy_(p * s[0] - s[1] * torch.sign(m + s[2] * (g - m)))

    class MomentumFirst(Lion):
        rule = dataclasses.replace(LION, math=momentum_first)

    case = CASES[1]
    with pytest.raises(AssertionError):
        run_case(Case(case.name, case.ref, case.kwargs, group2=case.group2, make=MomentumFirst))
