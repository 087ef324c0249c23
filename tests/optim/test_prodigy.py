"""Prodigy against the independent reference (a global one: d mixes every parameter) and against the
authors' package (prodigyopt)."""

from __future__ import annotations

import importlib
import math
import random
from typing import Any

import pytest
import torch

import deepzen.optim.prodigy as prodigy_module
from deepzen.optim.prodigy import Prodigy
from tests.optim.contract_cases import saved_state_dict
from tests.optim.harness import SHAPES, run_against_torch
from tests.optim.references.prodigy import RefProdigy

CASES = [
    {},
    {"weight_decay": 0.05, "betas": (0.8, 0.99)},
    {"weight_decay": 0.05, "decouple": False, "use_bias_correction": True, "safeguard_warmup": True},
    {"beta3": 0.9, "d0": 1e-3, "growth_rate": 1.05, "d_coef": 0.5, "maximize": True},
]


def run_global(kwargs: dict[str, Any], *, steps: int = 25, two_groups: bool = False, make: Any = None) -> None:
    """The harness's schedule (matrix, vector, a 0-d scalar from step 4, the vector missing at step 10),
    stepping the reference over all parameters at once."""
    rng = random.Random(0)
    init = [[rng.uniform(-1, 1) for _ in range(math.prod(s))] for s in SHAPES]
    params = [torch.tensor(v, dtype=torch.float64).reshape(s).requires_grad_() for v, s in zip(init, SHAPES)]
    groups: Any = [{"params": params[:2]}, {"params": params[2:]}] if two_groups else params
    opt = (make or Prodigy)(groups, **kwargs)
    ref = RefProdigy(**kwargs)
    theta = [list(v) for v in init]
    for t in range(1, steps + 1):
        active = [i for i in range(3) if not (i == 2 and t < 4) and not (i == 1 and t == 10)]
        grads = {i: [rng.gauss(0, 1) for _ in theta[i]] for i in active}
        for i, p in enumerate(params):
            p.grad = torch.tensor(grads[i], dtype=torch.float64).reshape(p.shape) if i in active else None
        opt.step()
        new = ref.step_all({i: theta[i] for i in active}, grads)
        theta = [new.get(i, theta[i]) for i in range(3)]
        for i, p in enumerate(params):
            torch.testing.assert_close(p.detach().reshape(-1), torch.tensor(theta[i], dtype=torch.float64),
                                       rtol=1e-9, atol=1e-12, msg=lambda m: f"step {t}, param {i}: {m}")
        assert opt.param_groups[-1]["d"] == pytest.approx(ref.d, rel=1e-12)


@pytest.mark.parametrize("kwargs", CASES, ids=str)
def test_matches_reference(kwargs: dict[str, Any]) -> None:
    run_global(kwargs)


def test_matches_reference_over_two_groups() -> None:
    run_global({"weight_decay": 0.01}, two_groups=True)


@pytest.mark.parametrize("options", [{"weight_decay": 0.01},
                                     {"weight_decay": 0.01, "decouple": False, "use_bias_correction": True}])
def test_matches_the_authors_package(options: dict[str, Any]) -> None:
    prodigyopt = importlib.import_module("prodigyopt")  # the test extra pins it: missing is a failure, not a skip
    run_against_torch(lambda ps: Prodigy(ps, **options), lambda ps: prodigyopt.Prodigy(ps, **options), rtol=1e-7)


def test_estimate_is_saved_and_resumes() -> None:
    target = torch.linspace(-2, 2, 12, dtype=torch.float64).reshape(4, 3)
    a = torch.zeros(4, 3, dtype=torch.float64, requires_grad=True)
    opt = Prodigy([a])
    for _ in range(5):
        a.grad = a.detach() - target                  # f = ½‖θ − c‖²
        opt.step()
    saved = saved_state_dict(opt)                   # through a checkpoint file: nothing shared
    assert saved["param_groups"][0]["d"] > 1e-5 and saved["param_groups"][0]["k"] == 5
    b = a.detach().clone().requires_grad_()
    resumed = Prodigy([b])
    resumed.load_state_dict(saved)
    for _ in range(5):
        a.grad, b.grad = a.detach() - target, b.detach() - target
        opt.step()
        resumed.step()
    assert torch.equal(a, b)


def test_a_group_with_lr_zero_is_frozen_and_a_smaller_lr_steps_proportionally() -> None:
    target = torch.ones(3, dtype=torch.float64)
    x, y, z = (torch.zeros(3, dtype=torch.float64, requires_grad=True) for _ in range(3))
    opt = Prodigy([{"params": [x]}, {"params": [y], "lr": 0.5}, {"params": [z], "lr": 0.0}])
    for _ in range(6):
        for p in (x, y, z):
            p.grad = p.detach() - target
        opt.step()
    assert torch.equal(z, torch.zeros(3, dtype=torch.float64))
    assert 0 < float(y.detach()[0]) < float(x.detach()[0])


def test_planted_bug_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Leaving the distance ⟨g, θ₀ − θ⟩ out of the numerator's decay (r = r_Δ each step) fails."""
    real = prodigy_module._accumulate

    def no_memory(group, batch, d, d0, dlr, b1, b2, b3, delta, total):  # type: ignore[no-untyped-def]
        group["d_numerator"] = 0.0        # forgets r before the step reads it
        return real(group, batch, d, d0, dlr, b1, b2, b3, delta, total)

    monkeypatch.setattr(prodigy_module, "_accumulate", no_memory)
    with pytest.raises(AssertionError):
        run_global(CASES[1])
