"""Eve against the independent reference (the loss fed through the closure), its loss checks, and its
global d̃ surviving a state_dict round trip."""

from __future__ import annotations

import math

import pytest
import torch

from deepzen.optim.eve import Eve
from tests.optim.extra_checks import check_chunked_matches_whole, check_resume
from tests.optim.harness import Case, cases_params, run_case
from tests.optim.references.eve import RefEve

CASES = [
    Case("eve", RefEve, {}, needs_loss=True, id="eve-defaults"),
    Case("eve", RefEve, {"lr": 0.01, "beta3": 0.5}, needs_loss=True, id="eve-fast-d"),
    Case("eve", RefEve, {"lr": 0.01, "beta3": 0.3, "c": 1.5}, needs_loss=True, id="eve-tight-clip"),
    Case("eve", RefEve, {"lr": 0.01, "beta3": 0.3, "f_star": 0.95}, needs_loss=True, id="eve-f-star-near-min"),
    Case("eve", RefEve, {"lr": 0.01, "beta3": 0.5, "weight_decay": 0.1}, needs_loss=True, id="eve-l2"),
    Case("eve", RefEve, {"lr": 0.01, "beta3": 0.5, "weight_decay": 0.1, "decoupled": True}, needs_loss=True,
         id="eve-decoupled"),
    # maximize: the closure's value (at most 3.5 here) is the objective and f* = 4 bounds it from above
    Case("eve", RefEve, {"lr": 0.02, "beta3": 0.5, "maximize": True, "f_star": 4.0},
         group2={"lr": 0.005, "beta3": 0.2, "c": 2.0}, needs_loss=True, id="eve-maximize-two-groups"),
]


@cases_params(CASES)
def test_matches_reference(case: Case) -> None:
    run_case(case)


def _param() -> torch.Tensor:
    return torch.ones(3, dtype=torch.float64, requires_grad=True)


def _closure(p: torch.Tensor, loss: float):
    def closure() -> torch.Tensor:
        p.grad = torch.full_like(p, 0.5)
        return torch.tensor(loss, dtype=torch.float64)
    return closure


def test_d_tilde_follows_the_clipped_relative_change() -> None:
    p = _param()
    opt = Eve([p], beta3=0.5, c=4.0)
    losses = [2.0, 1.0, 1.1, 100.0]
    d_tilde = 1.0                                   # d̃₁ = 1
    for k, f in enumerate(losses):
        opt.step(_closure(p, f))
        if k:
            prev = losses[k - 1]
            d = min(max(abs(f - prev) / min(f, prev), 1 / 4.0), 4.0)
            d_tilde = 0.5 * d_tilde + 0.5 * d
        assert opt.param_groups[0]["d_tilde"] == pytest.approx(d_tilde, rel=1e-15)
    # the steps above hit both clip bounds: |1.1 − 1|/1 = 0.1 < 1/4 and |100 − 1.1|/1.1 > 4


def test_needs_a_closure_and_a_valid_loss() -> None:
    p = _param()
    opt = Eve([p], f_star=0.5)
    p.grad = torch.ones_like(p)
    with pytest.raises(ValueError, match="closure"):
        opt.step()
    with pytest.raises(ValueError, match="returned None"):
        opt.step(lambda: None)
    for bad in (math.nan, math.inf):
        with pytest.raises(ValueError, match="non-finite"):
            opt.step(_closure(p, bad))
    with pytest.raises(ValueError, match="f_star"):
        opt.step(_closure(p, 0.5))
    assert torch.equal(p.detach(), torch.ones(3, dtype=torch.float64))   # nothing moved
    assert opt.param_groups[0]["prev_loss"] is None and not opt.state


def test_maximize_takes_f_star_as_an_upper_bound() -> None:
    p = _param()
    opt = Eve([p], beta3=0.5, c=100.0, f_star=3.0, maximize=True)
    opt.step(_closure(p, 1.0))
    opt.step(_closure(p, 2.0))
    # −f: −1 → −2 with lower bound −3: d = |−2 − (−1)| / (min(−1, −2) − (−3)) = 1 / 1
    assert opt.param_groups[0]["d_tilde"] == pytest.approx(0.5 * 1.0 + 0.5 * 1.0, rel=1e-15)
    opt.step(_closure(p, 2.8))
    # −2 → −2.8: d = 0.8 / (−2.8 − (−3)) = 4
    assert opt.param_groups[0]["d_tilde"] == pytest.approx(0.5 * 1.0 + 0.5 * 4.0, rel=1e-12)
    with pytest.raises(ValueError, match="upper bound"):
        opt.step(_closure(p, 3.0))


def test_resume_mid_run_continues_identically(monkeypatch: pytest.MonkeyPatch) -> None:
    check_resume(lambda ps: Eve(ps, lr=0.01, beta3=0.5, c=3.0), steps=12, stop=5)
    check_chunked_matches_whole(lambda ps: Eve(ps, lr=0.01, beta3=0.5), monkeypatch)


def test_d_tilde_is_saved_in_the_state_dict() -> None:
    p = _param()
    opt = Eve([p], beta3=0.5)
    for f in (3.0, 2.0, 2.5):
        opt.step(_closure(p, f))
    saved = opt.state_dict()["param_groups"][0]
    assert saved["prev_loss"] == 2.5 and saved["d_tilde"] == opt.param_groups[0]["d_tilde"] != 1.0


def test_a_group_added_later_shares_the_current_d_tilde() -> None:
    p, q = _param(), _param()
    opt = Eve([p], beta3=0.5)
    for f in (3.0, 2.0, 2.5):
        opt.step(_closure(p, f))
    opt.add_param_group({"params": [q]})
    assert opt.param_groups[1]["d_tilde"] == opt.param_groups[0]["d_tilde"]
    assert opt.param_groups[1]["prev_loss"] == 2.5
    opt.step(_closure(p, 2.2))
    assert opt.param_groups[1]["d_tilde"] == opt.param_groups[0]["d_tilde"]


@pytest.mark.parametrize("kwargs", [{"lr": -1.0}, {"betas": (0.9, 0.999, 0.999)}, {"beta3": 1.0}, {"c": 0.5},
                                    {"f_star": math.nan}, {"eps": -1.0}, {"weight_decay": -1.0}])
def test_rejects_bad_hyperparameters(kwargs: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        Eve([torch.zeros(2, requires_grad=True)], **kwargs)
