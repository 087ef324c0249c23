"""ADOPT against the independent reference (clipped version of the paper and the authors' code)."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from deepzen.optim.adopt import ADOPT
from tests.optim.harness import LATE_START, Case, cases_params, run_case
from tests.optim.references.adopt import RefADOPT
from tests.optim.extra_checks import check_resume

CASES = [
    Case("adopt", RefADOPT, {}, id="adopt-defaults"),
    Case("adopt", RefADOPT, {"lr": 0.01, "betas": (0.9, 0.9)}, id="adopt-fast-v-clipping"),
    Case("adopt", RefADOPT, {"lr": 0.01, "clip_exponent": None, "eps": 0.5}, id="adopt-unclipped-big-eps"),
    Case("adopt", RefADOPT, {"lr": 0.01, "weight_decay": 0.1}, id="adopt-l2"),
    Case("adopt", RefADOPT, {"lr": 0.01, "weight_decay": 0.1, "decoupled": True}, id="adopt-decoupled"),
    Case("adopt", RefADOPT, {"lr": 0.02, "betas": (0.8, 0.99), "maximize": True},
         group2={"lr": 0.005, "clip_exponent": 0.5, "weight_decay": 0.05}, id="adopt-maximize-two-groups"),
]


@cases_params(CASES)
def test_matches_reference(case: Case) -> None:
    run_case(case)


def test_clipping_is_exercised() -> None:
    made: list[RefADOPT] = []
    run_case(CASES[1], ref_factory=lambda **kw: made.append(RefADOPT(**kw)) or made[-1])
    assert made[0].clipped > 10


def test_first_step_only_initializes_each_parameter() -> None:
    """No parameter moves on its own first step, including one that starts late."""
    a = torch.ones(3, dtype=torch.float64, requires_grad=True)
    b = torch.ones(2, dtype=torch.float64, requires_grad=True)
    opt = ADOPT([a, b], lr=0.1, weight_decay=0.1, decoupled=True)
    a.grad = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64)
    opt.step()
    assert torch.equal(a.detach(), torch.ones(3, dtype=torch.float64))
    torch.testing.assert_close(opt.state[a]["exp_avg_sq"], a.grad**2)
    for _ in range(LATE_START):
        opt.step()
    assert not torch.equal(a.detach(), torch.ones(3, dtype=torch.float64))
    b.grad = torch.tensor([0.5, 4.0], dtype=torch.float64)
    opt.step()
    assert torch.equal(b.detach(), torch.ones(2, dtype=torch.float64))
    torch.testing.assert_close(opt.state[b]["exp_avg_sq"], b.grad**2)


def test_state_dict_round_trip() -> None:
    check_resume(lambda ps: ADOPT(ps, lr=0.01, betas=(0.9, 0.9), weight_decay=0.1, decoupled=True))


def test_big_tensor_chunked_path_matches_small_path() -> None:
    torch.manual_seed(0)
    big = torch.randn(260, 260, dtype=torch.float64)
    pieces = [big[:130].clone().requires_grad_(), big[130:].clone().requires_grad_()]
    whole = big.clone().requires_grad_()
    opt_w, opt_p = ADOPT([whole], lr=0.01), ADOPT(pieces, lr=0.01)
    for _ in range(4):
        g = torch.randn(260, 260, dtype=torch.float64)
        whole.grad, pieces[0].grad, pieces[1].grad = g, g[:130].clone(), g[130:].clone()
        opt_w.step()
        opt_p.step()
    torch.testing.assert_close(whole.detach(), torch.cat([p.detach() for p in pieces]), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("bad", [{"clip_exponent": -0.25}, {"betas": (0.9,)}, {"decoupled": 0}, {"eps": -1e-6}])
def test_rejects_bad_hyperparameters(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        ADOPT([torch.zeros(1, requires_grad=True)], **bad)
