"""Adafactor against the independent reference and against torch.optim.Adafactor."""

from __future__ import annotations

import functools

import pytest
import torch

from deepzen.optim.adafactor import Adafactor
from tests.optim.harness import SHAPES, Case, cases_params, run_against_torch, run_case
from tests.optim.references.adafactor import RefAdafactor

REF = functools.partial(RefAdafactor, dict(enumerate(SHAPES)))

CASES = [
    Case("adafactor", REF, {}, id="adafactor-defaults"),
    Case("adafactor", REF, {"lr": 0.05, "weight_decay": 0.1, "d": 1.5}, group2={"lr": 0.2, "beta2_decay": -0.5},
         id="adafactor-two-groups"),
    Case("adafactor", REF, {"lr": 0.05, "eps": (1e-3, 1e-2), "maximize": True}, id="adafactor-big-eps-maximize"),
    Case("adafactor", REF, {"lr": 0.1, "d": 1.0}, grad_scale=100.0, id="adafactor-clipped"),
]


@cases_params(CASES)
def test_matches_reference(case: Case) -> None:
    run_case(case)


@pytest.mark.parametrize("options", [{}, {"weight_decay": 0.1, "d": 2.0, "beta2_decay": -0.6}])
def test_matches_torch_adafactor_with_eps1_zero(options: dict) -> None:
    """torch clamps V̂ by ε1² where the paper adds ε1 to G²: with ε1 = 0 both are the same rule."""
    run_against_torch(lambda ps: Adafactor(ps, lr=0.05, eps=(0.0, 1e-3), **options),
                      lambda ps: torch.optim.Adafactor(ps, lr=0.05, eps=(0.0, 1e-3), foreach=False, **options),
                      rtol=1e-7)


def test_a_3d_tensor_is_factored_over_its_last_two_dimensions() -> None:
    p = torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True)
    q = p.detach().clone().requires_grad_()
    opt, theirs = Adafactor([p], eps=(0.0, 1e-3)), torch.optim.Adafactor([q], eps=(0.0, 1e-3), foreach=False)
    for _ in range(5):
        g = torch.randn(2, 3, 4, dtype=torch.float64)
        p.grad, q.grad = g, g.clone()
        opt.step()
        theirs.step()
    assert opt.state[p]["row_var"].shape == (2, 3, 1) and opt.state[p]["col_var"].shape == (2, 1, 4)
    torch.testing.assert_close(p, q, rtol=1e-7, atol=1e-12)


def test_planted_bug_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """An RMS over n − 1 elements (the sample-deviation slip) fails the reference."""
    import deepzen.optim.adafactor as adafactor_module

    monkeypatch.setattr(adafactor_module, "rms", lambda x: float(x.norm()) / max(x.numel() - 1, 1) ** 0.5)
    with pytest.raises(AssertionError):
        run_case(CASES[1])
