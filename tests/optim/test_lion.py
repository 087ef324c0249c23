"""Lion against the independent reference and against the authors' package (lion-pytorch)."""

from __future__ import annotations

import pytest

import deepzen.optim.lion as lion_module
from deepzen.optim.lion import Lion
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
    lion_pytorch = pytest.importorskip("lion_pytorch")
    run_against_torch(lambda ps: Lion(ps, lr=0.01, betas=(0.9, 0.99), weight_decay=0.1),
                      lambda ps: lion_pytorch.Lion(ps, lr=0.01, betas=(0.9, 0.99), weight_decay=0.1))


def test_planted_bug_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Interpolating into the momentum buffer itself (c aliasing m, a classic in-place slip) fails."""
    monkeypatch.setattr(lion_module.T, "clone", lambda xs: xs)
    with pytest.raises(AssertionError):
        run_case(CASES[1])
