"""SGD / Momentum / NAG against the independent reference and against torch.optim.SGD."""

from __future__ import annotations

import copy
import random
from collections.abc import Callable

import pytest
import torch

from deepzen.optim.sgd import NAG, SGD, Momentum
from tests.optim.harness import Case, cases_params, run_against_torch, run_case
from tests.optim.references.sgd import RefMomentum, RefNAG, RefSGD


CASES = [
    Case("sgd", RefSGD, {}, id="sgd-defaults"),
    Case("sgd", RefSGD, {"fused": False}, id="sgd-foreach"),
    Case("sgd", RefSGD, {"lr": 0.1, "weight_decay": 0.1, "maximize": True}, id="sgd-l2-maximize-fused"),
    Case("sgd", RefSGD, {"lr": 0.1, "weight_decay": 0.1, "maximize": True, "fused": False},
         id="sgd-l2-maximize-foreach"),
    Case("sgd", RefSGD, {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01},
         group2={"lr": 0.2, "momentum": 0.5, "dampening": 0.0}, id="sgd-dampening-two-groups-fused"),
    Case("sgd", RefSGD, {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01, "fused": False},
         group2={"lr": 0.2, "momentum": 0.0}, id="sgd-dampening-two-groups-foreach"),
    Case("sgd", RefSGD, {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.05}, id="sgd-nesterov"),
    Case("sgd", RefSGD, {"lr": 0.05, "momentum": 0.8, "dampening": 0.5, "lr_in_buffer": True},
         group2={"lr": 0.01}, id="sgd-lr-in-buffer-two-groups"),
    Case("momentum", RefMomentum, {}, id="momentum-defaults"),
    Case("momentum", RefMomentum, {"fused": False}, id="momentum-foreach"),
    Case("momentum", RefMomentum, {"dampening": 0.9, "weight_decay": 0.1, "maximize": True},
         id="momentum-dampening-l2-maximize-fused"),
    Case("momentum", RefMomentum, {"dampening": 0.9, "weight_decay": 0.1, "maximize": True, "fused": False},
         id="momentum-dampening-l2-maximize-foreach"),
    Case("momentum", RefMomentum, {"lr": 0.03, "lr_in_buffer": True, "weight_decay": 0.1},
         group2={"momentum": 0.5}, id="momentum-lr-in-buffer"),
    Case("nag", RefNAG, {}, id="nag-defaults"),
    Case("nag", RefNAG, {"fused": False}, id="nag-foreach"),
    Case("nag", RefNAG, {"lr": 0.05, "weight_decay": 0.1, "maximize": True},
         group2={"lr": 0.1, "momentum": 0.99}, id="nag-l2-maximize-two-groups-fused"),
    Case("nag", RefNAG, {"lr": 0.05, "weight_decay": 0.1, "maximize": True, "fused": False},
         group2={"lr": 0.1, "momentum": 0.99}, id="nag-l2-maximize-two-groups-foreach"),
    Case("nag", RefNAG, {"lr": 0.05, "lr_in_buffer": True, "weight_decay": 0.02}, id="nag-lr-in-buffer"),
]


@cases_params(CASES)
def test_matches_reference(case: Case) -> None:
    run_case(case)


TORCH_CONFIGS = [
    {"lr": 0.1},
    {"lr": 0.1, "weight_decay": 0.2, "maximize": True},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01},
    {"lr": 0.05, "momentum": 0.7, "nesterov": True, "weight_decay": 0.1},
]


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "foreach"])
@pytest.mark.parametrize("config", TORCH_CONFIGS, ids=str)
def test_sgd_matches_torch(config: dict, fused: bool) -> None:
    run_against_torch(lambda ps: SGD(ps, **config, fused=fused),
                      lambda ps: torch.optim.SGD(ps, **config, foreach=False))


def test_named_forms_match_torch() -> None:
    run_against_torch(lambda ps: Momentum(ps, lr=0.02, dampening=0.1),
                      lambda ps: torch.optim.SGD(ps, lr=0.02, momentum=0.9, dampening=0.1))
    run_against_torch(lambda ps: NAG(ps, lr=0.02, fused=False),
                      lambda ps: torch.optim.SGD(ps, lr=0.02, momentum=0.9, nesterov=True))


def run_big_against_torch(ours: Callable[[list[torch.Tensor]], torch.optim.Optimizer],
                          theirs: Callable[[list[torch.Tensor]], torch.optim.Optimizer],
                          *, steps: int = 6, rtol: float = 1e-9, atol: float = 1e-12) -> None:
    """Like ``run_against_torch`` on a tensor big enough to be chunked (260 x 260) beside a small one,
    the big one first getting a gradient at step 3 (a new state next to an old one)."""
    gen = torch.Generator().manual_seed(0)
    a = [torch.randn(260, 260, generator=gen, dtype=torch.float64).requires_grad_(),
         torch.randn(7, generator=gen, dtype=torch.float64).requires_grad_()]
    b = [x.detach().clone().requires_grad_() for x in a]
    opt_a, opt_b = ours(a), theirs(b)
    for t in range(1, steps + 1):
        for i, (x, y) in enumerate(zip(a, b)):
            g = torch.randn(x.shape, generator=gen, dtype=torch.float64) if i or t >= 3 else None
            x.grad, y.grad = g, None if g is None else g.clone()
        opt_a.step()
        opt_b.step()
        for i, (x, y) in enumerate(zip(a, b)):
            # (torch.testing.assert_close is ~100x slower than this on big float64 tensors)
            worst = ((x - y).abs() - rtol * y.abs()).max().item()
            assert worst <= atol, f"step {t}, param {i}: max |ours - torch| - rtol|torch| = {worst}"


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "foreach"])
def test_big_late_tensor_matches_torch(fused: bool) -> None:
    run_big_against_torch(lambda ps: Momentum(ps, lr=0.05, dampening=0.4, weight_decay=0.1, fused=fused),
                          lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, dampening=0.4, weight_decay=0.1,
                                                     foreach=False))
    run_big_against_torch(lambda ps: NAG(ps, lr=0.05, fused=fused),
                          lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, foreach=False))


@pytest.mark.parametrize("nesterov", [False, True])
def test_lr_schedule_separates_the_two_forms(nesterov: bool) -> None:
    """Under a changing lr, each form follows its own recurrence, and the two really differ."""
    rng = random.Random(1)
    lrs = [0.1, 0.1, 0.02, 0.3, 0.05, 0.05, 0.2]
    init = [rng.uniform(-1, 1) for _ in range(4)]
    results = {}
    for lr_in_buffer in (False, True):
        p = torch.tensor(init, dtype=torch.float64, requires_grad=True)
        opt = SGD([p], lr=lrs[0], momentum=0.8, dampening=0.0 if nesterov else 0.2, nesterov=nesterov,
                  lr_in_buffer=lr_in_buffer, fused=False)
        ref = RefSGD(lr=lrs[0], momentum=0.8, dampening=0.0 if nesterov else 0.2, nesterov=nesterov,
                     lr_in_buffer=lr_in_buffer)
        theta, grad_rng = list(init), random.Random(2)
        for lr in lrs:
            opt.param_groups[0]["lr"] = ref.lr = lr
            g = [grad_rng.gauss(0, 1) for _ in init]
            p.grad = torch.tensor(g, dtype=torch.float64)
            opt.step()
            theta = ref.step(0, theta, g)
            assert p.tolist() == pytest.approx(theta, rel=1e-12, abs=1e-14)
        results[lr_in_buffer] = theta
    assert max(abs(x - y) for x, y in zip(results[False], results[True])) > 1e-3


def test_momentum_turned_on_later_starts_from_a_zero_buffer() -> None:
    p = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    opt = SGD([p], lr=0.1, fused=False)
    p.grad = torch.tensor([0.5, 0.5], dtype=torch.float64)
    opt.step()                                              # θ = [0.95, -2.05], no buffer yet
    assert "momentum_buffer" not in opt.state[p]
    opt.param_groups[0].update(momentum=0.9, dampening=0.5)
    p.grad = torch.tensor([1.0, -2.0], dtype=torch.float64)
    opt.step()                                              # b = 0.9·0 + 0.5·g; θ −= 0.1·b
    assert p.tolist() == pytest.approx([0.95 - 0.05, -2.05 + 0.1], rel=1e-14)
    assert opt.state[p]["momentum_buffer"].tolist() == pytest.approx([0.5, -1.0])


def test_state_dict_round_trip_continues_identically() -> None:
    gen = torch.Generator().manual_seed(3)
    grads = [torch.randn(5, generator=gen, dtype=torch.float64) for _ in range(8)]
    p = torch.zeros(5, dtype=torch.float64, requires_grad=True)
    q = torch.zeros(5, dtype=torch.float64, requires_grad=True)
    opt = Momentum([p], lr=0.1, dampening=0.3)
    for g in grads[:4]:
        p.grad = g
        opt.step()
    resumed = Momentum([q], lr=0.1, dampening=0.3)
    resumed.load_state_dict(copy.deepcopy(opt.state_dict()))   # as if saved and loaded
    with torch.no_grad():
        q.copy_(p)
    for g in grads[4:]:
        p.grad, q.grad = g, g.clone()
        opt.step()
        resumed.step()
    assert torch.equal(p, q)


@pytest.mark.parametrize("make, message", [
    (lambda ps: NAG(ps, dampening=0.1), "dampening"),
    (lambda ps: NAG(ps, momentum=0.0), "momentum"),
    (lambda ps: SGD(ps, nesterov=True), "momentum"),
    (lambda ps: SGD(ps, lr=-1.0), "lr"),
    (lambda ps: SGD(ps, momentum=1.0), "momentum"),
    (lambda ps: Momentum(ps, dampening=1.5), "dampening"),
    (lambda ps: SGD(ps, weight_decay=-0.1), "weight_decay"),
    (lambda ps: SGD(ps, momentum=0.9, lr_in_buffer=True, fused=True), "fused"),
    (lambda ps: SGD(ps, nesterov="yes"), "nesterov"),
])
def test_bad_hyperparameters_are_named(make: Callable, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make([torch.zeros(2, requires_grad=True)])


def test_add_param_group_is_validated() -> None:
    opt = NAG([torch.zeros(2, requires_grad=True)])
    with pytest.raises(ValueError, match="dampening"):
        opt.add_param_group({"params": [torch.zeros(2, requires_grad=True)], "dampening": 0.5})
    assert len(opt.param_groups) == 1
