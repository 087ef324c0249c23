"""RMSProp against the independent reference and against torch.optim.RMSprop."""

from __future__ import annotations

import pytest
import torch

from deepzen.optim.rmsprop import RMSProp
from tests.optim.harness import Case, cases_params, run_against_torch, run_case
from tests.optim.references.rmsprop import RefRMSProp
from tests.optim.test_sgd import run_big_against_torch


CASES = [
    Case("rmsprop", RefRMSProp, {}, id="rmsprop-defaults"),
    Case("rmsprop", RefRMSProp, {"lr": 0.01, "eps_inside_sqrt": False, "eps": 1e-8, "alpha": 0.99},
         id="rmsprop-torch-form"),
    Case("rmsprop", RefRMSProp, {"lr": 0.01, "centered": True}, id="rmsprop-centered"),
    Case("rmsprop", RefRMSProp, {"lr": 0.01, "centered": True, "eps_inside_sqrt": False},
         id="rmsprop-centered-eps-outside"),
    Case("rmsprop", RefRMSProp, {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.1}, id="rmsprop-momentum-l2"),
    Case("rmsprop", RefRMSProp, {"lr": 1e-4, "alpha": 0.95, "eps": 1e-4, "momentum": 0.9, "centered": True},
         id="rmsprop-graves-2013"),
    Case("rmsprop", RefRMSProp, {"lr": 0.01, "maximize": True},
         group2={"lr": 0.05, "alpha": 0.5, "momentum": 0.5, "centered": True}, id="rmsprop-maximize-two-groups"),
]


@cases_params(CASES)
def test_matches_reference(case: Case) -> None:
    run_case(case)


@pytest.mark.parametrize("config", [
    {},
    {"centered": True},
    {"momentum": 0.9},
    {"lr": 0.005, "alpha": 0.9, "eps": 1e-6, "centered": True, "momentum": 0.8, "weight_decay": 0.1},
    {"maximize": True, "weight_decay": 0.05},
], ids=str)
def test_rmsprop_matches_torch(config: dict) -> None:
    run_against_torch(lambda ps: RMSProp(ps, **{"lr": 0.01, "alpha": 0.99, "eps": 1e-8, **config},
                                         eps_inside_sqrt=False),
                      lambda ps: torch.optim.RMSprop(ps, **config, foreach=False))


def test_big_late_tensor_matches_torch() -> None:
    config = {"lr": 0.01, "alpha": 0.9, "eps": 1e-8, "centered": True, "momentum": 0.7}
    run_big_against_torch(lambda ps: RMSProp(ps, **config, eps_inside_sqrt=False),
                          lambda ps: torch.optim.RMSprop(ps, **config, foreach=True))


def test_eps_placement_differs() -> None:
    """With a zero gradient history ε decides the step: η·g/√ε inside the root, η·g/ε outside."""
    steps = {}
    for inside in (True, False):
        p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        opt = RMSProp([p], lr=1.0, alpha=0.5, eps=1e-2, eps_inside_sqrt=inside)
        p.grad = torch.tensor([1e-3], dtype=torch.float64)
        opt.step()
        steps[inside] = -p.item()
    v = 0.5 * 1e-6
    assert steps[True] == pytest.approx(1e-3 / (v + 1e-2) ** 0.5, rel=1e-12)
    assert steps[False] == pytest.approx(1e-3 / (v**0.5 + 1e-2), rel=1e-12)


def test_options_turned_on_later_get_buffers() -> None:
    p = torch.ones(3, dtype=torch.float64, requires_grad=True)
    q = torch.ones(2, dtype=torch.float64, requires_grad=True)
    opt = RMSProp([p, q])
    p.grad = torch.ones(3, dtype=torch.float64)
    opt.step()                                          # q has no state yet, p has only square_avg
    opt.param_groups[0].update(centered=True, momentum=0.5)
    p.grad, q.grad = torch.ones(3, dtype=torch.float64), torch.ones(2, dtype=torch.float64)
    opt.step()
    assert set(opt.state[p]) == set(opt.state[q]) == {"step", "square_avg", "grad_avg", "momentum_buffer"}
    # p: v = 0.9·0.1 + 0.1 = 0.19, m = 0.1, b = 1/√(0.19 − 0.01 + ε)
    assert opt.state[p]["momentum_buffer"].tolist() == pytest.approx([1 / (0.18 + 1e-7) ** 0.5] * 3)


@pytest.mark.parametrize("kwargs, name", [
    ({"lr": -1.0}, "lr"), ({"alpha": 1.0}, "alpha"), ({"eps": -1.0}, "eps"), ({"momentum": 1.0}, "momentum"),
    ({"momentum": -0.5}, "momentum"), ({"weight_decay": -1.0}, "weight_decay"), ({"centered": 1}, "centered"),
    ({"eps_inside_sqrt": "no"}, "eps_inside_sqrt"),
])
def test_bad_hyperparameters_are_named(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        RMSProp([torch.zeros(2, requires_grad=True)], **kwargs)
