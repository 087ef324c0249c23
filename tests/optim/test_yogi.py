"""Yogi against the independent reference, plus properties of its second moment."""

from __future__ import annotations

import pytest
import torch

from deepzen.optim.yogi import Yogi
from tests.optim.extra_checks import check_chunked_matches_whole, check_resume
from tests.optim.harness import Case, cases_params, run_case
from tests.optim.references.yogi import RefYogi

CASES = [
    Case("yogi", RefYogi, {}, id="yogi-defaults"),
    Case("yogi", RefYogi, {"bias_correction": False, "initial_accumulator_value": 0.0, "eps": 1e-8},
         id="yogi-paper-algorithm-2"),
    Case("yogi", RefYogi, {"lr": 0.05, "initial_accumulator_value": 0.5}, id="yogi-big-initial-accumulator"),
    Case("yogi", RefYogi, {"lr": 0.02, "weight_decay": 0.1}, id="yogi-l2"),
    Case("yogi", RefYogi, {"lr": 0.02, "weight_decay": 0.1, "decoupled": True}, id="yogi-decoupled"),
    Case("yogi", RefYogi, {"lr": 0.02, "betas": (0.8, 0.9), "maximize": True},
         group2={"lr": 0.005, "eps": 1e-6, "bias_correction": False}, id="yogi-maximize-two-groups"),
]


@cases_params(CASES)
def test_matches_reference(case: Case) -> None:
    run_case(case)


def test_second_moment_moves_towards_g_squared_additively() -> None:
    # v below g² grows by (1 − β2)g²; v above g² shrinks by (1 − β2)g² (Adam would shrink by (1 − β2)v).
    p = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    opt = Yogi([p], betas=(0.9, 0.9), initial_accumulator_value=1.0)
    p.grad = torch.tensor([3.0, 0.5], dtype=torch.float64)
    opt.step()
    v = opt.state[p]["exp_avg_sq"]
    torch.testing.assert_close(v, torch.tensor([1.0 + 0.1 * 9.0, 1.0 - 0.1 * 0.25], dtype=torch.float64),
                               rtol=1e-15, atol=0)


def test_resume_and_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    check_resume(lambda ps: Yogi(ps, weight_decay=0.1))
    check_chunked_matches_whole(lambda ps: Yogi(ps, betas=(0.9, 0.9)), monkeypatch)


@pytest.mark.parametrize("kwargs", [{"lr": -1.0}, {"betas": (0.9, -0.1)}, {"eps": -1.0}, {"weight_decay": -1.0},
                                    {"initial_accumulator_value": -1e-6}, {"bias_correction": 0}])
def test_rejects_bad_hyperparameters(kwargs: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        Yogi([torch.zeros(2, requires_grad=True)], **kwargs)
