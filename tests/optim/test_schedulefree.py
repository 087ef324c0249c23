"""Schedule-Free SGD and AdamW against the independent reference and the authors' package (schedulefree),
and their train/eval modes."""

from __future__ import annotations

import importlib
import io

import pytest
import torch

import deepzen.optim as dzo
from deepzen.optim.schedulefree import ScheduleFreeAdamW, ScheduleFreeSGD
from tests.optim.harness import Case, cases_params, run_against_torch, run_case
from tests.optim.references.schedulefree import RefScheduleFreeAdamW, RefScheduleFreeSGD

CASES = [
    Case("schedulefree_sgd", RefScheduleFreeSGD, {"lr": 0.1}, id="sf-sgd"),
    Case("schedulefree_sgd", RefScheduleFreeSGD, {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.05,
                                                  "warmup_steps": 6}, group2={"lr": 0.03, "r": 1.0},
         id="sf-sgd-warmup-two-groups"),
    Case("schedulefree_sgd", RefScheduleFreeSGD, {"lr": 0.05, "maximize": True, "weight_lr_power": 0.0},
         id="sf-sgd-maximize"),
    Case("schedulefree_adamw", RefScheduleFreeAdamW, {}, id="sf-adamw-defaults"),
    Case("schedulefree_adamw", RefScheduleFreeAdamW, {"lr": 0.01, "weight_decay": 0.1, "warmup_steps": 8},
         group2={"betas": (0.5, 0.99), "eps": 1e-3}, id="sf-adamw-warmup-two-groups"),
    Case("schedulefree_adamw", RefScheduleFreeAdamW, {"lr": 0.02, "r": 2.0, "maximize": True},
         id="sf-adamw-poly-maximize"),
]


@cases_params(CASES)
def test_matches_reference(case: Case) -> None:
    run_case(case)


def _train_mode(opt: torch.optim.Optimizer) -> torch.optim.Optimizer:
    opt.train()
    return opt


def test_sgd_matches_the_authors_package() -> None:
    sf = importlib.import_module("schedulefree")  # the test extra pins it: missing is a failure, not a skip
    run_against_torch(lambda ps: ScheduleFreeSGD(ps, lr=0.1, weight_decay=0.01, warmup_steps=5),
                      lambda ps: _train_mode(sf.SGDScheduleFreeReference(ps, lr=0.1, weight_decay=0.01,
                                                                          warmup_steps=5)), rtol=1e-7)


def test_adamw_matches_the_authors_package() -> None:
    sf = importlib.import_module("schedulefree")  # the test extra pins it: missing is a failure, not a skip
    run_against_torch(lambda ps: ScheduleFreeAdamW(ps, lr=0.01, weight_decay=0.01, warmup_steps=5),
                      lambda ps: _train_mode(sf.AdamWScheduleFree(ps, lr=0.01, weight_decay=0.01, warmup_steps=5)),
                      rtol=1e-7)


@pytest.mark.parametrize("fused", [False, True])
@pytest.mark.parametrize("name", ["schedulefree_sgd", "schedulefree_adamw"])
def test_eval_puts_x_and_train_puts_back_y_bitwise(name: str, fused: bool) -> None:
    sf_ref = {"schedulefree_sgd": RefScheduleFreeSGD, "schedulefree_adamw": RefScheduleFreeAdamW}[name]
    torch.manual_seed(0)
    p = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    opt = dzo.create(name, [p], lr=0.05, fused=fused)
    ref = sf_ref(lr=0.05)
    theta = p.detach().reshape(-1).tolist()
    for _ in range(6):
        g = torch.randn(4, 3, dtype=torch.float64)
        p.grad = g
        opt.step()
        theta = ref.step(0, theta, g.reshape(-1).tolist())
    y = p.detach().clone()
    opt.eval()
    torch.testing.assert_close(p.detach().reshape(-1), torch.tensor(ref.eval_point(0), dtype=torch.float64),
                               rtol=1e-9, atol=1e-12)
    opt.eval()                                   # idempotent
    with pytest.raises(RuntimeError, match="train()"):
        opt.step()
    opt.train()
    assert torch.equal(p.detach(), y)
    opt.train()
    assert torch.equal(p.detach(), y)


@pytest.mark.parametrize("name", ["schedulefree_sgd", "schedulefree_adamw"])
def test_checkpoint_in_eval_mode_resumes_bitwise(name: str) -> None:
    """Save in eval mode (weights = x), load into fresh objects, train(): the run continues identically."""
    def grads(seed: int) -> list[torch.Tensor]:
        gen = torch.Generator().manual_seed(seed)
        return [torch.randn(5, 2, generator=gen, dtype=torch.float64) for _ in range(12)]

    torch.manual_seed(1)
    init = torch.randn(5, 2, dtype=torch.float64)
    a = init.clone().requires_grad_()
    opt_a = dzo.create(name, [a], lr=0.05, weight_decay=0.01)
    for g in grads(3)[:6]:
        a.grad = g
        opt_a.step()
    opt_a.eval()
    buffer = io.BytesIO()
    torch.save({"p": a.detach().clone(), "opt": opt_a.state_dict()}, buffer)
    opt_a.train()
    for g in grads(3)[6:]:
        a.grad = g
        opt_a.step()
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    b = saved["p"].clone().requires_grad_()
    opt_b = dzo.create(name, [b], lr=0.05, weight_decay=0.01)
    opt_b.load_state_dict(saved["opt"])
    opt_b.train()
    for g in grads(3)[6:]:
        b.grad = g
        opt_b.step()
    assert torch.equal(a.detach(), b.detach())


def test_planted_bug_is_caught() -> None:
    """Warming up and weighting with the step count of the whole optimizer (as the official code counts
    per group) instead of the parameter's own fails the late-starting parameter's comparison."""
    class GroupCount(ScheduleFreeSGD):
        def _advance(self, group, batch):  # type: ignore[no-untyped-def]
            batch.steps = [float(max(s["weight_step"] for s in self.state.values() if "weight_step" in s) + 1)] * len(batch)
            return super()._advance(group, batch)

    case = CASES[1]
    with pytest.raises(AssertionError, match="param 2"):
        run_case(Case(case.name, case.ref, case.kwargs, group2=case.group2, make=GroupCount))
