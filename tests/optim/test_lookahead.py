"""Lookahead (around torch's and deepzen's optimizers) and LADOPT against independent references."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import torch

import deepzen.optim as dzo
from deepzen.optim.adam import Adam
from deepzen.optim.adopt import ADOPT
from deepzen.optim.lookahead import LADOPT, Lookahead
from tests.optim.harness import Case, cases_params, run_against_torch, run_case
from tests.optim.references.adam import RefAdam
from tests.optim.references.adopt import RefADOPT
from tests.optim.references.lookahead import RefLookahead, RefSGD
from tests.optim.extra_checks import check_resume


def _split(kw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    outer = {k: kw.pop(k) for k in ("k", "alpha") if k in kw}
    return kw, outer


def around_torch_sgd(params: Any, **kw: Any) -> Lookahead:
    inner, outer = _split(kw)
    return Lookahead(torch.optim.SGD(params, **inner), **outer)


def around_adam(params: Any, **kw: Any) -> Lookahead:
    inner, outer = _split(kw)
    return Lookahead(Adam(params, **inner), **outer)


def ref_around(inner_ref: Any) -> Any:
    def make(**kw: Any) -> RefLookahead:
        inner, outer = _split(kw)
        return RefLookahead(inner_ref(**inner), **outer)
    return make


CASES = [
    Case("sgd", ref_around(RefSGD), {"lr": 0.1}, make=around_torch_sgd, id="lookahead-torch-sgd-defaults"),
    Case("sgd", ref_around(RefSGD), {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01, "k": 3, "alpha": 0.8},
         make=around_torch_sgd, id="lookahead-torch-sgd-momentum-k3"),
    Case("sgd", ref_around(RefSGD), {"lr": 0.05, "momentum": 0.5, "maximize": True, "k": 4},
         group2={"lr": 0.2, "k": 2, "alpha": 0.3}, make=around_torch_sgd, id="lookahead-torch-sgd-two-groups"),
    Case("adam", ref_around(RefAdam), {"lr": 0.01, "k": 7}, make=around_adam, id="lookahead-deepzen-adam-k7"),
    Case("adam", ref_around(RefAdam), {"lr": 0.01, "weight_decay": 0.1, "decoupled": True, "fused": False,
                                       "alpha": 0.25}, group2={"k": 1}, make=around_adam,
         id="lookahead-deepzen-adamw-foreach-two-groups"),
    Case("ladopt", ref_around(RefADOPT), {}, id="ladopt-defaults"),
    Case("ladopt", ref_around(RefADOPT), {"lr": 0.01, "k": 3, "alpha": 0.7, "weight_decay": 0.1},
         id="ladopt-k3-l2"),
    Case("ladopt", ref_around(RefADOPT), {"lr": 0.02, "decoupled": True, "weight_decay": 0.1, "maximize": True,
                                          "clip_exponent": None, "eps": 0.3},
         group2={"k": 2, "lr": 0.005, "betas": (0.8, 0.9)}, id="ladopt-maximize-two-groups"),
]


@cases_params(CASES)
def test_matches_reference(case: Case) -> None:
    run_case(case)


def test_ladopt_is_lookahead_around_adopt() -> None:
    run_against_torch(lambda ps: LADOPT(ps, lr=0.01, k=3, alpha=0.6, weight_decay=0.1),
                      lambda ps: Lookahead(ADOPT(ps, lr=0.01, weight_decay=0.1), k=3, alpha=0.6))


def test_k1_alpha1_is_the_inner_optimizer() -> None:
    run_against_torch(lambda ps: Lookahead(torch.optim.Adam(ps, lr=0.01), k=1, alpha=1.0),
                      lambda ps: torch.optim.Adam(ps, lr=0.01), rtol=0, atol=0)


def test_groups_are_shared_so_schedulers_and_add_param_group_reach_the_inner_optimizer() -> None:
    a, b = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
    inner = torch.optim.SGD([a], lr=0.1)
    opt = Lookahead(inner, k=2)
    assert opt.param_groups is inner.param_groups and opt.param_groups[0]["k"] == 2
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    a.grad = torch.ones(2)
    opt.step()
    sched.step()
    assert inner.param_groups[0]["lr"] == 0.05
    opt.add_param_group({"params": [b], "lr": 0.3, "alpha": 0.9})
    assert inner.param_groups[1]["params"] == [b] and inner.param_groups[1]["k"] == 2
    assert inner.param_groups[1]["momentum"] == 0          # the inner optimizer's defaults filled in
    with pytest.raises(ValueError, match="alpha"):
        opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)], "alpha": 2.0})
    assert len(inner.param_groups) == 2


def test_closure_is_returned_and_slow_weights_start_before_the_first_update() -> None:
    """Gradients that appear only inside the closure still start φ at the pre-step value."""
    w = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    opt = Lookahead(torch.optim.SGD([w], lr=0.1), k=2, alpha=0.5)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = (w**2).sum()
        loss.backward()
        return loss

    x = [1.0, -2.0]
    for _ in range(2):
        loss = opt.step(closure)
        assert isinstance(loss, torch.Tensor)
    opt.zero_grad(set_to_none=True)
    # reference: two SGD steps on ‖x‖² (x ← 0.8x twice), then φ = x₀ + ½(x₂ − x₀)
    x2 = [0.64 * v for v in x]
    expected = [v + 0.5 * (u - v) for v, u in zip(x, x2)]
    torch.testing.assert_close(w.detach(), torch.tensor(expected, dtype=torch.float64))


def test_state_dict_round_trip_around_torch_adam() -> None:
    check_resume(lambda ps: Lookahead(torch.optim.Adam(ps, lr=0.01), k=4), steps=13, stop=6)


def test_state_dict_round_trip_around_deepzen_adam_restores_k_alpha() -> None:
    def make(ps: list[torch.Tensor]) -> Lookahead:
        return Lookahead(Adam([{"params": ps[:2]}, {"params": ps[2:], "k": 2}], lr=0.01), k=3, alpha=0.4)
    check_resume(make)


def test_load_state_dict_keeps_groups_shared() -> None:
    ps = [torch.zeros(2, requires_grad=True)]
    opt = Lookahead(torch.optim.SGD(ps, lr=0.1), k=3)
    opt.param_groups[0]["alpha"] = 0.7
    saved = copy.deepcopy(opt.state_dict())
    other = Lookahead(torch.optim.SGD(ps, lr=0.5), k=3)
    other.load_state_dict(saved)
    assert other.param_groups is other.optimizer.param_groups
    assert other.param_groups[0]["alpha"] == 0.7 and other.optimizer.param_groups[0]["lr"] == 0.1


def test_ladopt_state_dict_round_trip() -> None:
    check_resume(lambda ps: LADOPT(ps, lr=0.01, k=3, betas=(0.9, 0.9)))


def test_ladopt_registered() -> None:
    assert type(dzo.create("ladopt", [torch.zeros(1, requires_grad=True)])) is LADOPT
    assert dzo.Lookahead is Lookahead


@pytest.mark.parametrize("bad", [{"k": 0}, {"k": 2.0}, {"alpha": -0.1}, {"alpha": 1.5}])
def test_rejects_bad_hyperparameters(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        Lookahead(torch.optim.SGD([torch.zeros(1, requires_grad=True)]), **bad)
    with pytest.raises(ValueError, match=next(iter(bad))):
        LADOPT([torch.zeros(1, requires_grad=True)], **bad)
