"""Adadelta against the independent reference and against torch.optim.Adadelta."""

from __future__ import annotations

import pytest
import torch

from deepzen.optim.adadelta import Adadelta
from tests.optim.harness import Case, cases_params, run_against_torch, run_case
from tests.optim.references.adadelta import RefAdadelta
from tests.optim.test_sgd import run_big_against_torch


CASES = [
    Case("adadelta", RefAdadelta, {}, id="adadelta-paper-defaults"),
    Case("adadelta", RefAdadelta, {"rho": 0.9}, id="adadelta-torch-rho"),
    Case("adadelta", RefAdadelta, {"lr": 0.5, "eps": 1e-4, "weight_decay": 0.1}, id="adadelta-lr-l2"),
    Case("adadelta", RefAdadelta, {"maximize": True}, group2={"rho": 0.5, "lr": 2.0, "eps": 1e-3},
         id="adadelta-maximize-two-groups"),
]


@cases_params(CASES)
def test_matches_reference(case: Case) -> None:
    run_case(case)


@pytest.mark.parametrize("config", [
    {},
    {"lr": 0.5, "rho": 0.8, "eps": 1e-4, "weight_decay": 0.1},
    {"rho": 0.95, "maximize": True},
], ids=str)
def test_adadelta_matches_torch(config: dict) -> None:
    run_against_torch(lambda ps: Adadelta(ps, **{"rho": 0.9, **config}),
                      lambda ps: torch.optim.Adadelta(ps, **config, foreach=False))


def test_big_late_tensor_matches_torch() -> None:
    run_big_against_torch(lambda ps: Adadelta(ps, lr=0.7, weight_decay=0.1),
                          lambda ps: torch.optim.Adadelta(ps, lr=0.7, rho=0.95, weight_decay=0.1, foreach=True))


def test_first_step_is_the_paper_value() -> None:
    """Step 1 from zero accumulators: Δ = −√ε / √((1 − ρ)g² + ε) · g."""
    p = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    p.grad = torch.tensor([2.0, -0.5], dtype=torch.float64)
    Adadelta([p]).step()
    expected = [-(1e-6**0.5) / (0.05 * g * g + 1e-6) ** 0.5 * g for g in (2.0, -0.5)]
    assert p.tolist() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("kwargs, name", [
    ({"lr": -1.0}, "lr"), ({"rho": 1.0}, "rho"), ({"rho": -0.1}, "rho"), ({"eps": -1.0}, "eps"),
    ({"weight_decay": -1.0}, "weight_decay"), ({"maximize": None}, "maximize"),
])
def test_bad_hyperparameters_are_named(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        Adadelta([torch.zeros(2, requires_grad=True)], **kwargs)
