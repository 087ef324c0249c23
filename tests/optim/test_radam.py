"""RAdam against the independent reference, against torch.optim.RAdam, and the rectification rules."""

from __future__ import annotations

import math

import pytest
import torch

from deepzen.optim.radam import RAdam, rectification
from tests.optim.extra_checks import check_chunked_matches_whole, check_resume
from tests.optim.harness import Case, cases_params, run_against_torch, run_case
from tests.optim.references.radam import RefRAdam

CASES = [
    Case("radam", RefRAdam, {}, id="radam-defaults"),
    Case("radam", RefRAdam, {"lr": 0.01, "threshold": 4.0}, id="radam-paper-threshold"),
    Case("radam", RefRAdam, {"lr": 0.01, "betas": (0.9, 0.9)}, id="radam-short-average"),
    Case("radam", RefRAdam, {"lr": 0.01, "betas": (0.8, 0.5)}, id="radam-never-rectified"),
    Case("radam", RefRAdam, {"lr": 0.01, "weight_decay": 0.1}, id="radam-l2"),
    Case("radam", RefRAdam, {"lr": 0.01, "weight_decay": 0.1, "decoupled": True}, id="radam-decoupled"),
    Case("radam", RefRAdam, {"lr": 0.02, "betas": (0.8, 0.99), "maximize": True},
         group2={"lr": 0.005, "eps": 1e-3, "threshold": 6.5}, id="radam-maximize-two-groups"),
]


@cases_params(CASES)
def test_matches_reference(case: Case) -> None:
    run_case(case)


@pytest.mark.parametrize("kwargs", [
    {"lr": 0.01},
    {"lr": 0.01, "weight_decay": 0.1},
    {"lr": 0.01, "weight_decay": 0.1, "decoupled": True},
    {"lr": 0.01, "betas": (0.5, 0.9), "maximize": True},
])
def test_matches_torch(kwargs: dict) -> None:
    theirs = {("decoupled_weight_decay" if k == "decoupled" else k): v for k, v in kwargs.items()}
    run_against_torch(lambda ps: RAdam(ps, **kwargs), lambda ps: torch.optim.RAdam(ps, **theirs), steps=30)


def test_rectification_is_never_negative_or_nan() -> None:
    for beta2 in (0.0, 0.3, 0.6, 0.61, 0.9, 0.99, 0.999, 0.9999):
        for threshold in (4.0, 5.0):
            for t in range(1, 3000, 7):
                r = rectification(t, beta2, threshold)
                if r is not None:
                    assert math.isfinite(r) and 0.0 < r <= 1.0 + 1e-12, (beta2, t, r)


def test_rectification_switches_where_rho_crosses_the_threshold() -> None:
    # ρ∞ = 1999 for β2 = 0.999; ρ_t = ρ∞ − 2tβ2ᵗ/(1 − β2ᵗ) computed here independently.
    def rho(t: int) -> float:
        return 1999.0 - 2 * t * 0.999**t / (1 - 0.999**t)

    first_paper = next(t for t in range(1, 50) if rho(t) > 4)
    first_torch = next(t for t in range(1, 50) if rho(t) > 5)
    assert rectification(first_paper - 1, 0.999, 4.0) is None
    assert rectification(first_paper, 0.999, 4.0) is not None
    assert rectification(first_torch - 1, 0.999) is None
    assert rectification(first_torch, 0.999) is not None
    assert first_torch > first_paper
    # ρ∞ <= 4 (β2 <= 0.6): never tractable, always the un-adapted step.
    assert all(rectification(t, 0.6, 4.0) is None for t in range(1, 10_000, 13))


def test_warmup_descends_on_a_quadratic() -> None:
    # f(θ) = ½‖θ‖²: every step must move θ towards 0 (a negative r_t would move it away).
    theta = torch.full((4,), 2.0, dtype=torch.float64, requires_grad=True)
    opt = RAdam([theta], lr=0.01, threshold=4.0)
    previous = theta.detach().norm().item()
    for _ in range(40):
        theta.grad = theta.detach().clone()
        opt.step()
        now = theta.detach().norm().item()
        assert now < previous
        previous = now


def test_resume_and_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    check_resume(lambda ps: RAdam(ps, lr=0.01, weight_decay=0.1))
    check_chunked_matches_whole(lambda ps: RAdam(ps, lr=0.01, betas=(0.9, 0.9)), monkeypatch, steps=8)


@pytest.mark.parametrize("kwargs", [{"lr": -1.0}, {"betas": (0.9, 1.0)}, {"eps": -1e-8},
                                    {"weight_decay": -0.1}, {"threshold": 3.9}, {"decoupled": 1}])
def test_rejects_bad_hyperparameters(kwargs: dict) -> None:
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=name):
        RAdam([torch.zeros(2, requires_grad=True)], **kwargs)
    opt = RAdam([torch.zeros(2, requires_grad=True)])
    with pytest.raises(ValueError, match=name):
        opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)], **kwargs})
    assert len(opt.param_groups) == 1
