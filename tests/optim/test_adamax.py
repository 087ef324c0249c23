"""AdaMax against the independent reference and against torch.optim.Adamax."""

from __future__ import annotations

import pytest
import torch

from deepzen.optim.adamax import AdaMax
from tests.optim.extra_checks import check_chunked_matches_whole, check_resume
from tests.optim.harness import Case, cases_params, run_against_torch, run_case
from tests.optim.references.adamax import RefAdaMax

CASES = [
    Case("adamax", RefAdaMax, {}, id="adamax-defaults"),
    Case("adamax", RefAdaMax, {"lr": 0.01, "eps": 0.3}, id="adamax-big-eps-in-max"),
    Case("adamax", RefAdaMax, {"lr": 0.01, "eps": 0.3, "eps_placement": "denominator"}, id="adamax-eps-denominator"),
    Case("adamax", RefAdaMax, {"lr": 0.01, "eps": 0.0}, id="adamax-paper-no-eps"),
    Case("adamax", RefAdaMax, {"lr": 0.01, "weight_decay": 0.1}, id="adamax-l2"),
    Case("adamax", RefAdaMax, {"lr": 0.01, "weight_decay": 0.1, "decoupled": True}, id="adamax-decoupled"),
    Case("adamax", RefAdaMax, {"lr": 0.02, "betas": (0.8, 0.9), "maximize": True},
         group2={"lr": 0.005, "eps": 0.1, "eps_placement": "denominator"}, id="adamax-maximize-two-groups"),
]


@cases_params(CASES)
def test_matches_reference(case: Case) -> None:
    run_case(case)


@pytest.mark.parametrize("kwargs", [
    {},
    {"lr": 0.01, "eps": 0.2},
    {"lr": 0.01, "weight_decay": 0.1},
    {"lr": 0.01, "betas": (0.5, 0.8), "maximize": True},
])
def test_matches_torch(kwargs: dict) -> None:
    run_against_torch(lambda ps: AdaMax(ps, **kwargs), lambda ps: torch.optim.Adamax(ps, **kwargs))


@pytest.mark.parametrize("placement", ["max", "denominator"])
def test_zero_gradients_never_divide_by_zero(placement: str) -> None:
    p = torch.ones(3, dtype=torch.float64, requires_grad=True)
    opt = AdaMax([p], eps_placement=placement)
    for _ in range(3):
        p.grad = torch.zeros_like(p)
        opt.step()
    assert torch.equal(p.detach(), torch.ones(3, dtype=torch.float64))


def test_resume_and_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    check_resume(lambda ps: AdaMax(ps, lr=0.01, eps_placement="denominator"))
    check_chunked_matches_whole(lambda ps: AdaMax(ps, lr=0.01, eps=0.1, eps_placement="denominator"), monkeypatch)


def test_misspelled_placement_gets_a_suggestion() -> None:
    with pytest.raises(ValueError, match="did you mean 'denominator'"):
        AdaMax([torch.zeros(2, requires_grad=True)], eps_placement="denominater")


@pytest.mark.parametrize("kwargs", [{"lr": -1.0}, {"betas": (0.9,)}, {"eps": -1.0}, {"weight_decay": -1.0},
                                    {"eps_placement": "inside"}, {"maximize": None}])
def test_rejects_bad_hyperparameters(kwargs: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        AdaMax([torch.zeros(2, requires_grad=True)], **kwargs)
