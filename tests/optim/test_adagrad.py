"""Adagrad against the independent reference and against torch.optim.Adagrad."""

from __future__ import annotations

import pytest
import torch

from deepzen.optim.adagrad import Adagrad
from tests.optim.harness import Case, cases_params, run_against_torch, run_case
from tests.optim.references.adagrad import RefAdagrad
from tests.optim.test_sgd import run_big_against_torch


CASES = [
    Case("adagrad", RefAdagrad, {}, id="adagrad-defaults"),
    Case("adagrad", RefAdagrad, {"fused": False}, id="adagrad-foreach"),
    Case("adagrad", RefAdagrad, {"lr": 0.1, "lr_decay": 0.05}, id="adagrad-lr-decay-fused"),
    Case("adagrad", RefAdagrad, {"lr": 0.1, "lr_decay": 0.05, "fused": False}, id="adagrad-lr-decay-foreach"),
    Case("adagrad", RefAdagrad, {"initial_accumulator_value": 0.1, "eps": 1e-7, "weight_decay": 0.2},
         id="adagrad-keras-init-l2-fused"),
    Case("adagrad", RefAdagrad, {"initial_accumulator_value": 0.1, "eps": 1e-7, "weight_decay": 0.2,
                                 "fused": False}, id="adagrad-keras-init-l2-foreach"),
    Case("adagrad", RefAdagrad, {"lr": 0.05, "maximize": True},
         group2={"lr": 0.3, "lr_decay": 0.1, "initial_accumulator_value": 0.5}, id="adagrad-maximize-two-groups"),
    Case("adagrad", RefAdagrad, {"lr": 0.05, "maximize": True, "fused": False},
         group2={"lr": 0.3, "lr_decay": 0.1, "initial_accumulator_value": 0.5},
         id="adagrad-maximize-two-groups-foreach"),
]


@cases_params(CASES)
def test_matches_reference(case: Case) -> None:
    run_case(case)


TORCH_CONFIGS = [
    {"lr": 0.1},
    {"lr": 0.1, "lr_decay": 0.03, "weight_decay": 0.1},
    {"lr": 0.05, "initial_accumulator_value": 0.2, "eps": 1e-6, "maximize": True},
]


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "foreach"])
@pytest.mark.parametrize("config", TORCH_CONFIGS, ids=str)
def test_adagrad_matches_torch(config: dict, fused: bool) -> None:
    run_against_torch(lambda ps: Adagrad(ps, **config, fused=fused),
                      lambda ps: torch.optim.Adagrad(ps, **config, foreach=False))


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "foreach"])
def test_big_late_tensor_matches_torch(fused: bool) -> None:
    run_big_against_torch(lambda ps: Adagrad(ps, lr=0.1, lr_decay=0.1, fused=fused),
                          lambda ps: torch.optim.Adagrad(ps, lr=0.1, lr_decay=0.1, foreach=False))


@pytest.mark.parametrize("kwargs, name", [
    ({"lr": -0.1}, "lr"), ({"lr_decay": -1.0}, "lr_decay"), ({"eps": -1e-10}, "eps"),
    ({"initial_accumulator_value": -0.1}, "initial_accumulator_value"), ({"weight_decay": -1}, "weight_decay"),
    ({"fused": 1}, "fused"),
])
def test_bad_hyperparameters_are_named(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        Adagrad([torch.zeros(2, requires_grad=True)], **kwargs)


def test_initial_accumulator_value_in_added_group() -> None:
    opt = Adagrad([torch.zeros(2, requires_grad=True)])
    q = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt.add_param_group({"params": [q], "initial_accumulator_value": 3.0, "lr": 1.0})
    q.grad = torch.tensor([4.0, 0.0, -1.0], dtype=torch.float64)
    opt.step()                                          # G = 3 + g²; θ = −g / (√G + ε)
    assert q.tolist() == pytest.approx([-4 / 19**0.5, 0.0, 1 / 2], rel=1e-9)
