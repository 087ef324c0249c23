"""AdEMAMix against the independent reference and against pytorch_optimizer's AdEMAMix (the official
code, apple/ml-ademamix, is not packaged: its rule is the reference's)."""

from __future__ import annotations

import importlib

import pytest

import deepzen.optim.ademamix as ademamix_module
from deepzen.optim.ademamix import AdEMAMix
from tests.optim.harness import Case, cases_params, run_against_torch, run_case
from tests.optim.references.ademamix import RefAdEMAMix

CASES = [
    Case("ademamix", RefAdEMAMix, {}, id="ademamix-defaults"),
    Case("ademamix", RefAdEMAMix, {"lr": 0.01, "alpha": 5.0, "alpha_warmup": 12, "beta3_warmup": 12,
                                   "weight_decay": 0.1}, group2={"betas": (0.8, 0.99, 0.999)},
         id="ademamix-warmups-two-groups"),
    Case("ademamix", RefAdEMAMix, {"lr": 0.01, "betas": (0.9, 0.99, 0.995), "maximize": True, "alpha_warmup": 7},
         id="ademamix-maximize"),
]


@cases_params(CASES)
def test_matches_reference(case: Case) -> None:
    run_case(case)


def test_matches_pytorch_optimizer() -> None:
    """pytorch_optimizer defaults α to 5 (the official code: 2) and decays by L2 unless told."""
    po = importlib.import_module("pytorch_optimizer")  # the test extra pins it: missing is a failure, not a skip
    run_against_torch(lambda ps: AdEMAMix(ps, lr=0.01, alpha=2.0, weight_decay=0.1),
                      lambda ps: po.AdEMAMix(ps, lr=0.01, alpha=2.0, weight_decay=0.1, weight_decouple=True),
                      rtol=1e-7)


def test_warmups_match_pytorch_optimizer_to_the_1e8_inside_the_logarithm() -> None:
    """pytorch_optimizer writes the paper's β3 formula (no 1e-8 inside ln): the same up to ~1e-6."""
    po = importlib.import_module("pytorch_optimizer")  # the test extra pins it: missing is a failure, not a skip
    run_against_torch(lambda ps: AdEMAMix(ps, lr=0.01, alpha_warmup=10, beta3_warmup=10),
                      lambda ps: po.AdEMAMix(ps, lr=0.01, alpha=2.0, t_alpha_beta3=10), rtol=1e-5, atol=1e-8)


def test_planted_bug_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """A β3 warm-up that ignores the step count (always the final β3) fails the reference."""
    monkeypatch.setattr(ademamix_module, "beta3_at", lambda t, b1, b3, warmup: b3)
    with pytest.raises(AssertionError):
        run_case(CASES[1])
