"""Sophia against the independent reference (with Hessian refreshes) and the authors' package (sophia-opt)."""

from __future__ import annotations

import importlib
import math
import random
from typing import Any

import pytest
import torch

import deepzen.optim as dzo
from deepzen.optim.sophia import Sophia
from tests.optim.harness import SHAPES, Case, cases_params, run_case
from tests.optim.references.sophia import RefSophia

# Through the shared harness h stays 0 (no refresh): the clipped step is η·sign(m).
CASES = [
    Case("sophia", RefSophia, {"lr": 0.01}, id="sophia-no-hessian"),
    Case("sophia", RefSophia, {"lr": 0.01, "weight_decay": 0.0, "maximize": True}, id="sophia-no-hessian-maximize"),
]

HESSIAN_CASES = [
    {"lr": 0.01},
    {"lr": 0.02, "gamma": 0.5, "betas": (0.9, 0.95), "weight_decay": 0.0},
    {"lr": 0.01, "gamma": 2.0, "maximize": True},
    {"lr": 0.01, "gamma": 0.05, "fused": True},
]


@cases_params(CASES)
def test_matches_reference_without_hessian(case: Case) -> None:
    run_case(case)


def run_with_hessian(kwargs: dict[str, Any], *, steps: int = 24, batch: int = 16,
                     make: Any = None) -> None:
    """Like the harness (matrix, vector, late 0-d scalar, a gap), plus a Hessian refresh every 3 steps."""
    rng = random.Random(0)
    init = [[rng.uniform(-1, 1) for _ in range(math.prod(s))] for s in SHAPES]
    params = [torch.tensor(v, dtype=torch.float64).reshape(s).requires_grad_() for v, s in zip(init, SHAPES)]
    opt = (make or Sophia)(params, **kwargs)
    ref = RefSophia(**kwargs)
    theta = [list(v) for v in init]
    for t in range(1, steps + 1):
        active = [i for i in range(3) if not (i == 2 and t < 4) and not (i == 1 and t == 10)]
        if t % 3 == 1:
            sampled = {i: [rng.gauss(0, 0.3) for _ in theta[i]] for i in active}
            for i, p in enumerate(params):
                p.grad = torch.tensor(sampled[i], dtype=torch.float64).reshape(p.shape) if i in active else None
            opt.update_hessian(batch)
            for i in active:
                ref.update_hessian(i, sampled[i], batch)
        grads = {i: [rng.gauss(0, 1) for _ in theta[i]] for i in active}
        for i, p in enumerate(params):
            p.grad = torch.tensor(grads[i], dtype=torch.float64).reshape(p.shape) if i in active else None
        opt.step()
        for i in active:
            theta[i] = ref.step(i, theta[i], grads[i])
        for i, p in enumerate(params):
            torch.testing.assert_close(p.detach().reshape(-1), torch.tensor(theta[i], dtype=torch.float64),
                                       rtol=1e-9, atol=1e-12, msg=lambda m: f"step {t}, param {i}: {m}")


@pytest.mark.parametrize("kwargs", HESSIAN_CASES, ids=str)
def test_matches_reference_with_hessian_refreshes(kwargs: dict[str, Any]) -> None:
    run_with_hessian(kwargs)


def test_matches_the_authors_package() -> None:
    """sophia-opt keeps h = EMA(ĝ²) and scales γ by the batch size in step(bs=...): the same ratio."""
    sophia_opt = importlib.import_module("sophia_opt")  # the test extra pins it: missing is a failure, not a skip
    gen = torch.Generator().manual_seed(0)
    a = [torch.randn(s, generator=gen, dtype=torch.float64).requires_grad_() for s in [(3, 4), (5,), ()]]
    b = [x.detach().clone().requires_grad_() for x in a]
    ours, theirs = Sophia(a, lr=0.01, gamma=0.01), sophia_opt.SophiaG(b, lr=0.01, rho=0.01)
    for t in range(20):
        if t % 3 == 0:
            for x, y in zip(a, b):
                x.grad = torch.randn(x.shape, generator=gen, dtype=torch.float64)
                y.grad = x.grad.clone()
            ours.update_hessian(64)
            theirs.update_hessian()
        for x, y in zip(a, b):
            x.grad = torch.randn(x.shape, generator=gen, dtype=torch.float64)
            y.grad = x.grad.clone()
        ours.step()
        theirs.step(bs=64)
        for x, y in zip(a, b):
            torch.testing.assert_close(x, y, rtol=1e-7, atol=1e-10)


def test_update_hessian_names_a_bad_batch_size() -> None:
    opt = dzo.create("sophia", [torch.zeros(2, requires_grad=True)])
    with pytest.raises(ValueError, match="batch_size"):
        opt.update_hessian(0)


def test_planted_bug_is_caught() -> None:
    """Dropping the batch size from the Gauss-Newton-Bartlett estimate (h from ĝ² alone) fails."""
    class NoBatchSize(Sophia):
        def update_hessian(self, batch_size: int) -> None:
            super().update_hessian(1)

    with pytest.raises(AssertionError):
        run_with_hessian(HESSIAN_CASES[1], make=NoBatchSize)
