"""LAMB against the independent reference of the final paper's Algorithm 2."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from deepzen.optim.lamb import LAMB
from tests.optim.harness import Case, cases_params, run_case
from tests.optim.references.lamb import RefLAMB
from tests.optim.extra_checks import check_resume

CASES = [
    Case("lamb", RefLAMB, {}, id="lamb-defaults"),
    Case("lamb", RefLAMB, {"lr": 0.01, "weight_decay": 0.0}, id="lamb-no-decay"),
    Case("lamb", RefLAMB, {"lr": 0.02, "weight_decay": 0.1, "clamp_value": 0.5}, id="lamb-clamped-phi"),
    Case("lamb", RefLAMB, {"lr": 0.02, "bias_correction": False}, id="lamb-no-bias-correction"),
    Case("lamb", RefLAMB, {"lr": 0.02, "betas": (0.8, 0.99), "maximize": True},
         group2={"lr": 0.05, "eps": 1e-2, "weight_decay": 0.3}, id="lamb-maximize-two-groups"),
]


@cases_params(CASES)
def test_matches_reference(case: Case) -> None:
    run_case(case)


def test_zero_weights_take_the_unscaled_step() -> None:
    """‖θ‖ = 0 (a zero-initialized bias): the ratio is 1, so the first step is −η·(r + 0)."""
    b = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = LAMB([b], lr=0.1, eps=1e-6)
    g = torch.tensor([2.0, -0.5, 0.0], dtype=torch.float64)
    b.grad = g
    opt.step()
    # t = 1: m̂ = g, v̂ = g², so r = g / (|g| + ε).
    torch.testing.assert_close(b.detach(), -0.1 * g / (g.abs() + 1e-6))


def test_step_length_is_lr_times_weight_norm() -> None:
    """The trust ratio makes every layer's step exactly η·φ(‖θ‖) long, whatever the gradient scale."""
    torch.manual_seed(0)
    w = torch.randn(40, 30, dtype=torch.float64, requires_grad=True)
    opt = LAMB([w], lr=0.01, clamp_value=3.0)
    for scale in (1e-3, 1.0, 1e3):
        before = w.detach().clone()
        w.grad = scale * torch.randn(40, 30, dtype=torch.float64)
        opt.step()
        torch.testing.assert_close((w.detach() - before).norm(), 0.01 * before.norm().clamp(max=3.0))


def test_state_dict_round_trip() -> None:
    check_resume(lambda ps: LAMB(ps, lr=0.02, clamp_value=1.0))


@pytest.mark.parametrize("bad", [{"clamp_value": 0.0}, {"eps": -1.0}, {"bias_correction": None},
                                 {"betas": (1.0, 0.9)}])
def test_rejects_bad_hyperparameters(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        LAMB([torch.zeros(1, requires_grad=True)], **bad)
