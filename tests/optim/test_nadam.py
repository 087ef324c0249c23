"""NAdam against the independent reference and against torch.optim.NAdam."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import torch

from deepzen.optim.nadam import NAdam, mu_product
from tests.optim.extra_checks import check_chunked_matches_whole, check_resume
from tests.optim.harness import Case, cases_params, run_against_torch, run_case
from tests.optim.references.nadam import RefNAdam

CASES = [
    Case("nadam", RefNAdam, {}, id="nadam-defaults"),
    Case("nadam", RefNAdam, {"lr": 0.01, "momentum_decay": 0.5}, id="nadam-fast-schedule"),
    Case("nadam", RefNAdam, {"lr": 0.01, "momentum_decay": 0.0}, id="nadam-constant-momentum"),
    Case("nadam", RefNAdam, {"lr": 0.01, "weight_decay": 0.1}, id="nadam-l2"),
    Case("nadam", RefNAdam, {"lr": 0.01, "weight_decay": 0.1, "decoupled": True}, id="nadam-decoupled"),
    Case("nadam", RefNAdam, {"lr": 0.02, "betas": (0.8, 0.99), "maximize": True},
         group2={"lr": 0.005, "betas": (0.95, 0.9), "momentum_decay": 0.1}, id="nadam-maximize-two-groups"),
]


@cases_params(CASES)
def test_matches_reference(case: Case) -> None:
    run_case(case)


@contextmanager
def float64_default() -> Iterator[None]:
    """torch keeps ``mu_product`` in the default dtype: make it float64 so the comparison is exact."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


@pytest.mark.parametrize("kwargs", [
    {},
    {"lr": 0.01, "momentum_decay": 0.3},
    {"lr": 0.01, "weight_decay": 0.1},
    {"lr": 0.01, "weight_decay": 0.1, "decoupled": True},
    {"lr": 0.01, "betas": (0.5, 0.9), "maximize": True},
])
def test_matches_torch(kwargs: dict) -> None:
    theirs = {("decoupled_weight_decay" if k == "decoupled" else k): v for k, v in kwargs.items()}
    with float64_default():
        run_against_torch(lambda ps: NAdam(ps, **kwargs), lambda ps: torch.optim.NAdam(ps, **theirs), steps=30)


def test_mu_product_is_the_product_of_the_schedule() -> None:
    expected = 1.0
    for t in (5, 1, 2, 3, 4, 5, 6, 7):              # asked out of order first: the product is one of t
        assert mu_product(t, 0.9, 0.2) > 0
    for t in range(1, 8):
        expected *= 0.9 * (1 - 0.5 * 0.96 ** (t * 0.2))
        assert mu_product(t, 0.9, 0.2) == pytest.approx(expected, rel=1e-15)


def test_resume_and_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    check_resume(lambda ps: NAdam(ps, lr=0.01, momentum_decay=0.3))
    check_chunked_matches_whole(lambda ps: NAdam(ps, lr=0.01, momentum_decay=0.3), monkeypatch)


@pytest.mark.parametrize("kwargs", [{"lr": -1.0}, {"betas": (1.0, 0.9)}, {"eps": -1.0}, {"weight_decay": -1.0},
                                    {"momentum_decay": -0.1}, {"decoupled": "yes"}])
def test_rejects_bad_hyperparameters(kwargs: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        NAdam([torch.zeros(2, requires_grad=True)], **kwargs)
