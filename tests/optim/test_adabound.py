"""AdaBound and AMSBound against the independent reference (authors' code form)."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from deepzen.optim.adabound import AdaBound, AMSBound
from tests.optim.harness import Case, cases_params, run_case
from tests.optim.references.adabound import RefAdaBound, RefAMSBound
from tests.optim.extra_checks import check_resume


def _lr_changed_after_construction(params: Any, lr_now: float, **kw: Any) -> AdaBound:
    """As after an LR scheduler: ``lr`` changed, ``base_lr`` (η₀) still the constructor's."""
    opt = AdaBound(params, **kw)
    for group in opt.param_groups:
        group["lr"] = lr_now
    return opt


def _ref_lr_changed(lr_now: float, lr: float, **kw: Any) -> RefAdaBound:
    return RefAdaBound(lr=lr_now, base_lr=lr, **kw)


CASES = [
    Case("adabound", RefAdaBound, {}, id="adabound-defaults"),
    # Fast-closing bounds (γ = 0.1) so both bounds clip within 25 steps.
    Case("adabound", RefAdaBound, {"lr": 0.05, "gamma": 0.1, "final_lr": 0.1},
         id="adabound-tight-bounds"),
    Case("adabound", RefAdaBound, {"lr": 0.01, "gamma": 0.1, "weight_decay": 0.1}, id="adabound-l2"),
    Case("adabound", RefAdaBound, {"lr": 0.02, "gamma": 0.05, "betas": (0.8, 0.99), "maximize": True},
         group2={"lr": 0.005, "final_lr": 0.2, "gamma": 0.2}, id="adabound-maximize-two-groups"),
    Case("adabound", RefAdaBound, {"lr": 0.01, "gamma": 0.1}, group2={"lr": 0.03, "base_lr": 0.01},
         id="adabound-group-with-own-base-lr"),
    Case("adabound", RefAdaBound, {"lr": 0.01, "gamma": 0.0}, id="adabound-gamma-0-is-adam-like"),
    Case("adabound", _ref_lr_changed, {"lr": 0.01, "lr_now": 0.004, "gamma": 0.1},
         make=_lr_changed_after_construction, id="adabound-lr-scheduled"),
    Case("amsbound", RefAMSBound, {"lr": 0.01, "gamma": 0.1}, id="amsbound"),
    Case("adabound", RefAdaBound, {"lr": 0.01, "gamma": 0.1, "amsbound": True, "weight_decay": 0.05},
         group2={"final_lr": 0.02}, id="adabound-amsbound-flag-l2-two-groups"),
]


@cases_params(CASES)
def test_matches_reference(case: Case) -> None:
    run_case(case)


def test_cases_exercise_both_bounds() -> None:
    """The tight-bounds case really clips below and above (else it would not test the clipping)."""
    made: list[RefAdaBound] = []
    case = CASES[1]
    run_case(case, ref_factory=lambda **kw: made.append(RefAdaBound(**kw)) or made[-1])
    assert made[0].clipped["lower"] > 5 and made[0].clipped["upper"] > 5, made[0].clipped


def test_base_lr_set_per_group_and_kept_by_add_param_group() -> None:
    a, b = torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    opt = AdaBound([a], lr=0.01)
    opt.add_param_group({"params": [b], "lr": 0.3})
    assert [g["base_lr"] for g in opt.param_groups] == [0.01, 0.3]
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    a.grad, b.grad = torch.ones(2), torch.ones(2)
    opt.step()
    sched.step()
    assert [g["lr"] for g in opt.param_groups] == [0.005, 0.15]
    assert [g["base_lr"] for g in opt.param_groups] == [0.01, 0.3]


def test_state_dict_round_trip() -> None:
    check_resume(lambda ps: AdaBound([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.02}],
                                     lr=0.01, gamma=0.1, amsbound=True))


@pytest.mark.parametrize("bad", [{"final_lr": -1.0}, {"gamma": 1.0}, {"lr": -0.1}, {"betas": (0.9, 1.0)},
                                 {"amsbound": 1}])
def test_rejects_bad_hyperparameters(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        AdaBound([torch.zeros(1, requires_grad=True)], **bad)


def test_rejects_zero_base_lr_in_added_group() -> None:
    opt = AdaBound([torch.zeros(1, requires_grad=True)])
    with pytest.raises(ValueError, match="base_lr"):
        opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)], "lr": 0.0})
    assert len(opt.param_groups) == 1


def test_big_tensor_chunked_path_matches_small_path() -> None:
    """A tensor big enough to be updated in chunks gives the same result as the multi-tensor path."""
    torch.manual_seed(0)
    big = torch.randn(260, 260, dtype=torch.float64)
    pieces = [big[:130].clone().requires_grad_(), big[130:].clone().requires_grad_()]
    whole = big.clone().requires_grad_()
    opt_w = AMSBound([whole], lr=0.01, gamma=0.1)
    opt_p = AMSBound(pieces, lr=0.01, gamma=0.1)
    for _ in range(5):
        g = torch.randn(260, 260, dtype=torch.float64)
        whole.grad, pieces[0].grad, pieces[1].grad = g, g[:130].clone(), g[130:].clone()
        opt_w.step()
        opt_p.step()
    torch.testing.assert_close(whole.detach(), torch.cat([p.detach() for p in pieces]), rtol=1e-12, atol=1e-14)
