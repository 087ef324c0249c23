"""QHAdam against the independent reference, and its named special cases."""

from __future__ import annotations

import pytest
import torch

from deepzen.optim.adam import Adam
from deepzen.optim.qhadam import QHAdam
from tests.optim.extra_checks import check_chunked_matches_whole, check_resume
from tests.optim.harness import Case, cases_params, run_against_torch, run_case
from tests.optim.references.qhadam import RefQHAdam

CASES = [
    Case("qhadam", RefQHAdam, {}, id="qhadam-defaults"),
    Case("qhadam", RefQHAdam, {"lr": 0.01, "nus": (0.3, 0.6), "betas": (0.9, 0.99)}, id="qhadam-both-nus"),
    Case("qhadam", RefQHAdam, {"lr": 0.01, "nus": (0.0, 0.0)}, id="qhadam-no-averages"),
    Case("qhadam", RefQHAdam, {"lr": 0.01, "weight_decay": 0.1}, id="qhadam-l2"),
    Case("qhadam", RefQHAdam, {"lr": 0.01, "weight_decay": 0.1, "decoupled": True}, id="qhadam-decoupled"),
    Case("qhadam", RefQHAdam, {"lr": 0.02, "nus": (0.5, 0.9), "maximize": True},
         group2={"lr": 0.005, "nus": (1.0, 0.5), "eps": 1e-3}, id="qhadam-maximize-two-groups"),
]


@cases_params(CASES)
def test_matches_reference(case: Case) -> None:
    run_case(case)


def test_nus_one_one_is_adam() -> None:
    # The paper's remark: ν = (1, 1) recovers Adam; compare with torch's Adam (an independent oracle).
    run_against_torch(lambda ps: QHAdam(ps, lr=0.01, betas=(0.9, 0.999), nus=(1.0, 1.0), weight_decay=0.1),
                      lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=0.1))


def test_nus_zero_one_is_rmsprop_with_bias_corrected_average() -> None:
    # ν1 = 0 drops momentum: θ −= η g / (√v̂ + ε), i.e. Adam with β1 = 0.
    run_against_torch(lambda ps: QHAdam(ps, lr=0.01, betas=(0.7, 0.99), nus=(0.0, 1.0)),
                      lambda ps: Adam(ps, lr=0.01, betas=(0.0, 0.99), fused=False))


def test_resume_and_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    check_resume(lambda ps: QHAdam(ps, lr=0.01, nus=(0.7, 0.8)))
    check_chunked_matches_whole(lambda ps: QHAdam(ps, lr=0.01, nus=(0.7, 0.8)), monkeypatch)


@pytest.mark.parametrize("kwargs", [{"lr": -1.0}, {"betas": (0.9, 1.5)}, {"nus": (0.7, 1.1)}, {"nus": (0.7,)},
                                    {"eps": -1.0}, {"weight_decay": -1.0}, {"decoupled": None}])
def test_rejects_bad_hyperparameters(kwargs: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        QHAdam([torch.zeros(2, requires_grad=True)], **kwargs)
