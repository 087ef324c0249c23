"""Ranger against its own RAdam + Lookahead re-derivation, and the first-steps descent property."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from deepzen.optim.ranger import Ranger
from tests.optim.harness import Case, cases_params, run_case
from tests.optim.references.ranger import RefRanger
from tests.optim.extra_checks import check_resume

CASES = [
    Case("ranger", RefRanger, {}, id="ranger-defaults"),
    Case("ranger", RefRanger, {"lr": 0.01, "k": 4, "alpha": 0.8, "weight_decay": 0.1}, id="ranger-decoupled-decay"),
    Case("ranger", RefRanger, {"lr": 0.01, "weight_decay": 0.1, "decoupled": False}, id="ranger-l2"),
    Case("ranger", RefRanger, {"lr": 0.01, "use_gc": True, "threshold": 4.0}, id="ranger-gc-paper-threshold"),
    Case("ranger", RefRanger, {"lr": 0.02, "betas": (0.9, 0.99), "maximize": True, "use_gc": True},
         group2={"lr": 0.005, "k": 5, "eps": 1e-3, "use_gc": False}, id="ranger-maximize-two-groups"),
]


@cases_params(CASES)
def test_matches_reference(case: Case) -> None:
    run_case(case)


def test_both_radam_phases_are_exercised() -> None:
    made: list[RefRanger] = []
    run_case(CASES[0], ref_factory=lambda **kw: made.append(RefRanger(**kw)) or made[-1])
    total = 25 + 24 + 22 - 3     # parameter-steps: matrix 25, vector 24 (gap), scalar 22 (late start)
    assert 0 < made[0].rectified_steps < total


@pytest.mark.parametrize("use_gc", [False, True])
def test_first_steps_descend_a_quadratic(use_gc: bool) -> None:
    """While ρ_t <= threshold (t <= 5 for β2 = 0.999, all before the first Lookahead synchronization
    at k = 6) Ranger takes plain momentum steps, so a small lr decreases f(x) = ½Σ cᵢxᵢ² at every
    step. An implementation that applies r_t = −1 in that phase (a known bug of a peer library)
    ascends here."""
    torch.manual_seed(0)
    c = torch.linspace(0.5, 2.0, 12, dtype=torch.float64).reshape(3, 4)
    x = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    opt = Ranger([x], lr=0.05, use_gc=use_gc)

    def loss_fn() -> torch.Tensor:
        return 0.5 * (c * x**2).sum()

    losses = [loss_fn().item()]
    for _ in range(5):
        opt.zero_grad()
        loss_fn().backward()
        opt.step()
        losses.append(loss_fn().item())
    assert all(b < a for a, b in zip(losses, losses[1:])), losses


def test_gradient_centralization_leaves_p_grad_alone() -> None:
    w = torch.ones(2, 3, requires_grad=True)
    opt = Ranger([w], use_gc=True)
    g = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 6.0]])
    w.grad = g.clone()
    opt.step()
    assert torch.equal(w.grad, g)


def test_state_dict_round_trip() -> None:
    check_resume(lambda ps: Ranger(ps, lr=0.01, k=4, use_gc=True), steps=14, stop=6)


def test_big_tensor_chunked_path_matches_small_path_with_gc() -> None:
    """Centralization sees whole rows even when the update itself runs in chunks."""
    torch.manual_seed(0)
    big = torch.randn(260, 260, dtype=torch.float64)
    pieces = [big[:130].clone().requires_grad_(), big[130:].clone().requires_grad_()]
    whole = big.clone().requires_grad_()
    opt_w, opt_p = Ranger([whole], lr=0.01, k=3, use_gc=True), Ranger(pieces, lr=0.01, k=3, use_gc=True)
    for _ in range(7):
        g = torch.randn(260, 260, dtype=torch.float64)
        whole.grad, pieces[0].grad, pieces[1].grad = g, g[:130].clone(), g[130:].clone()
        opt_w.step()
        opt_p.step()
    torch.testing.assert_close(whole.detach(), torch.cat([p.detach() for p in pieces]), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("bad", [{"threshold": 3.0}, {"k": 0}, {"alpha": 2.0}, {"use_gc": 1}, {"betas": (0.95,)}])
def test_rejects_bad_hyperparameters(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        Ranger([torch.zeros(1, requires_grad=True)], **bad)


def test_gradient_centralization_of_complex_parameters() -> None:
    """Complex tensors are centralized as complex numbers: a vector not at all, a matrix per row."""
    torch.manual_seed(0)
    init = [torch.randn(4, dtype=torch.complex128), torch.randn(2, 3, dtype=torch.complex128)]
    a = [x.clone().requires_grad_() for x in init]
    b = [x.clone().requires_grad_() for x in init]
    opt_a, opt_b = Ranger(a, lr=0.01, use_gc=True), Ranger(b, lr=0.01, use_gc=False)
    for _ in range(3):
        g = [torch.randn_like(x) for x in init]
        a[0].grad, a[1].grad = g[0], g[1]
        b[0].grad, b[1].grad = g[0], g[1] - g[1].mean(dim=1, keepdim=True)
        opt_a.step()
        opt_b.step()
    for x, y in zip(a, b):
        torch.testing.assert_close(x, y, rtol=1e-12, atol=1e-14)
