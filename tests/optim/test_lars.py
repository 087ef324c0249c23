"""LARS against the independent reference of the paper's Algorithm 1."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from deepzen.optim.lars import LARS
from tests.optim.harness import Case, cases_params, run_case
from tests.optim.references.lars import RefLARS
from tests.optim.extra_checks import check_resume

CASES = [
    Case("lars", RefLARS, {}, id="lars-defaults"),
    Case("lars", RefLARS, {"lr": 0.5, "trust_coefficient": 0.02, "weight_decay": 0.01}, id="lars-decay"),
    Case("lars", RefLARS, {"lr": 0.5, "trust_coefficient": 0.02, "weight_decay": 0.0, "momentum": 0.0},
         id="lars-no-momentum-no-decay"),
    Case("lars", RefLARS, {"lr": 0.5, "trust_coefficient": 0.02, "exclude_1d": True, "weight_decay": 0.01},
         id="lars-exclude-1d"),
    Case("lars", RefLARS, {"lr": 0.3, "trust_coefficient": 0.05, "eps": 1e-3, "maximize": True},
         group2={"lr": 0.1, "momentum": 0.5, "weight_decay": 0.1}, id="lars-maximize-two-groups"),
]


@cases_params(CASES)
def test_matches_reference(case: Case) -> None:
    run_case(case)


def test_zero_weights_and_zero_gradient_use_local_lr_1() -> None:
    """A zero-initialized layer, and a layer with a zero gradient, take the plain momentum-SGD step."""
    zero_w = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    zero_g = torch.ones(3, dtype=torch.float64, requires_grad=True)
    opt = LARS([zero_w, zero_g], lr=0.1, momentum=0.9, weight_decay=0.01)
    g = torch.tensor([1.0, -2.0, 3.0, 0.5], dtype=torch.float64)
    zero_w.grad, zero_g.grad = g, torch.zeros(3, dtype=torch.float64)
    opt.step()
    torch.testing.assert_close(zero_w.detach(), -0.1 * g)                     # λ = 1, βw = 0
    torch.testing.assert_close(zero_g.detach(), torch.full((3,), 1 - 0.1 * 0.01, dtype=torch.float64))


def test_trust_ratio_bounds_the_relative_step() -> None:
    """Without momentum and decay, each step moves a layer by exactly γ·η_tc·‖w‖ (the paper's point)."""
    torch.manual_seed(0)
    w = torch.randn(50, 20, dtype=torch.float64, requires_grad=True)
    opt = LARS([w], lr=2.0, momentum=0.0, weight_decay=0.0, trust_coefficient=0.01)
    for scale in (1e-4, 1.0, 1e4):
        before = w.detach().clone()
        w.grad = scale * torch.randn(50, 20, dtype=torch.float64)
        opt.step()
        moved = (w.detach() - before).norm()
        torch.testing.assert_close(moved, 2.0 * 0.01 * before.norm())


def test_state_dict_round_trip() -> None:
    check_resume(lambda ps: LARS(ps, lr=0.5, trust_coefficient=0.02, exclude_1d=True))


@pytest.mark.parametrize("bad", [{"trust_coefficient": 0.0}, {"momentum": 1.0}, {"weight_decay": -1.0},
                                 {"exclude_1d": "yes"}])
def test_rejects_bad_hyperparameters(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        LARS([torch.zeros(1, requires_grad=True)], **bad)


def test_exclude_1d_counts_a_complex_vector_as_1d() -> None:
    """A complex bias is excluded like a real one: plain momentum SGD, no decay."""
    b = torch.tensor([1 + 2j, -1j], dtype=torch.complex128, requires_grad=True)
    opt = LARS([b], lr=0.1, exclude_1d=True, weight_decay=0.5)
    g = torch.tensor([0.5 - 1j, 2 + 0j], dtype=torch.complex128)
    b.grad = g
    opt.step()
    torch.testing.assert_close(b.detach(), torch.tensor([1 + 2j, -1j], dtype=torch.complex128) - 0.1 * g)
