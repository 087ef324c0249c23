"""SOAP against the independent float64 numpy reference (the official code is not packaged; heavyball's
SOAP, which follows it, is compared in test_soap_heavyball.py)."""

from __future__ import annotations

import functools

import pytest
import torch

import deepzen.optim.soap as soap_module
from deepzen.optim.soap import SOAP
from tests.optim.harness import SHAPES, Case, cases_params, run_case
from tests.optim.references.soap import RefSOAP

REF = functools.partial(RefSOAP, dict(enumerate(SHAPES)))

CASES = [
    Case("soap", REF, {}, id="soap-defaults"),
    Case("soap", REF, {"lr": 0.01, "precondition_frequency": 3, "weight_decay": 0.0},
         group2={"betas": (0.9, 0.99)}, id="soap-refresh-every-3-two-groups"),
    Case("soap", REF, {"lr": 0.01, "precondition_frequency": 2, "shampoo_beta": 0.8, "maximize": True},
         id="soap-shampoo-beta-maximize"),
    Case("soap", REF, {"lr": 0.01, "precondition_frequency": 4, "max_precond_dim": 3, "normalize_grads": True},
         id="soap-partial-dims-normalized"),
]


@cases_params(CASES)
def test_matches_reference(case: Case) -> None:
    run_case(case)


def test_a_3d_tensor_matches_reference() -> None:
    import tests.optim.harness as harness

    shapes = [(2, 3, 4), (5,), ()]
    case = Case("soap", functools.partial(RefSOAP, dict(enumerate(shapes))), {"lr": 0.01, "precondition_frequency": 3},
                id="soap-3d")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(harness, "SHAPES", shapes)
        run_case(case)


def test_first_step_only_builds_the_preconditioner() -> None:
    p = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    before = p.detach().clone()
    opt = SOAP([p])
    p.grad = torch.randn(3, 4, dtype=torch.float64)
    opt.step()
    assert torch.equal(p.detach(), before)
    q = opt.state[p]["basis_1"]
    torch.testing.assert_close(q.T @ q, torch.eye(4, dtype=torch.float64))


def test_a_preconditioned_vector_gets_an_orthonormal_basis_and_descends() -> None:
    """precondition_1d: a vector's first L = (1 − β_s)ggᵀ has rank one, so its eigenbasis is not unique
    (any basis of the null space is one) and two LAPACK builds may pick different ones: no step-by-step
    reference here; the basis is orthonormal with g's direction first, and the loss goes down."""
    target = torch.linspace(-1, 1, 6, dtype=torch.float64)
    p = torch.zeros(6, dtype=torch.float64, requires_grad=True)
    opt = SOAP([p], lr=0.05, precondition_1d=True, precondition_frequency=2, weight_decay=0.0)
    losses = []
    for _ in range(60):
        p.grad = p.detach() - target
        losses.append(0.5 * float((p.detach() - target).square().sum()))
        opt.step()
    q = opt.state[p]["basis_0"]
    torch.testing.assert_close(q.T @ q, torch.eye(6, dtype=torch.float64))
    assert losses[-1] < 0.1 * losses[0]


def test_planted_bug_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Projecting back with Qᵀ instead of Q (the transposes swapped) fails the reference."""
    real = soap_module.rotate
    monkeypatch.setattr(soap_module, "rotate", lambda x, bases, back: real(x, bases, back=False))
    with pytest.raises(AssertionError):
        run_case(CASES[1])
