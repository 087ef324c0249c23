"""Adam, AdamW, AMSGrad against the independent reference and against torch.optim."""

from __future__ import annotations

import torch

from deepzen.optim.adam import Adam, AdamW, AMSGrad
from tests.optim.harness import Case, cases_params, run_against_torch, run_case
from tests.optim.references.adam import RefAdam, RefAdamW, RefAMSGrad

CASES = [
    Case("adam", RefAdam, {}, id="adam-defaults"),
    Case("adam", RefAdam, {"fused": False}, id="adam-foreach"),
    Case("adam", RefAdam, {"lr": 0.01, "weight_decay": 0.1, "fused": False}, id="adam-l2"),
    Case("adam", RefAdam, {"lr": 0.01, "weight_decay": 0.1}, id="adam-l2-fused"),
    Case("adam", RefAdam, {"lr": 0.02, "betas": (0.8, 0.99), "maximize": True},
         group2={"lr": 0.005, "eps": 1e-3}, id="adam-maximize-two-groups"),
    Case("adam", RefAdam, {"lr": 0.02, "maximize": True, "fused": False},
         group2={"betas": (0.5, 0.9)}, id="adam-maximize-two-groups-foreach"),
    Case("adamw", RefAdamW, {}, id="adamw-defaults"),
    Case("adamw", RefAdamW, {"lr": 0.01, "weight_decay": 0.3, "fused": False}, group2={"weight_decay": 0.0},
         id="adamw-two-groups-foreach"),
    Case("amsgrad", RefAMSGrad, {"lr": 0.01}, id="amsgrad-defaults"),
    Case("amsgrad", RefAMSGrad, {"lr": 0.01, "weight_decay": 0.05, "fused": False}, id="amsgrad-foreach"),
    Case("adam", RefAdam, {"lr": 0.01, "amsgrad": True, "decoupled": True, "weight_decay": 0.1,
                           "fused": False}, id="adam-amsgrad-decoupled"),
]


@cases_params(CASES)
def test_matches_reference(case: Case) -> None:
    run_case(case)


def test_adam_matches_torch() -> None:
    run_against_torch(lambda ps: Adam(ps, lr=0.01, weight_decay=0.1, fused=False),
                      lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=0.1, foreach=False))


def test_adamw_matches_torch() -> None:
    run_against_torch(lambda ps: AdamW(ps, lr=0.01, fused=False),
                      lambda ps: torch.optim.AdamW(ps, lr=0.01, foreach=True))


def test_amsgrad_matches_torch() -> None:
    run_against_torch(lambda ps: AMSGrad(ps, lr=0.01, fused=False),
                      lambda ps: torch.optim.Adam(ps, lr=0.01, amsgrad=True))
