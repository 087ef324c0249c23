"""Muon against the independent float64 numpy reference, against torch.optim.Muon, and its routing."""

from __future__ import annotations

import functools

import pytest
import torch
from torch import nn

import deepzen.optim as dzo
import deepzen.optim.muon as muon_module
from deepzen.optim.muon import Muon, split_parameters
from tests.optim.harness import SHAPES, Case, cases_params, run_against_torch, run_case
from tests.optim.references.muon import RefMuon

REF = functools.partial(RefMuon, dict(enumerate(SHAPES)))

CASES = [
    Case("muon", REF, {}, id="muon-defaults"),
    Case("muon", REF, {"lr": 0.02, "weight_decay": 0.0, "nesterov": False, "adjust_lr": "original"},
         group2={"adamw_betas": (0.8, 0.99)}, id="muon-plain-momentum-two-groups"),
    Case("muon", REF, {"lr": 0.01, "momentum": 0.8, "ns_steps": 3, "maximize": True, "adamw_eps": 1e-4},
         id="muon-three-ns-steps-maximize"),
]


@cases_params(CASES)
def test_matches_reference(case: Case) -> None:
    run_case(case)


def test_a_tall_matrix_matches_reference() -> None:
    """The iteration runs on the wide orientation: a 5 × 2 matrix is transposed and back."""
    case = Case("muon", functools.partial(RefMuon, {0: (5, 2), 1: (5,), 2: ()}), {"lr": 0.02}, id="muon-tall")
    import tests.optim.harness as harness

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(harness, "SHAPES", [(5, 2), (5,), ()])
        run_case(case)


@pytest.mark.parametrize("adjust", ["original", "match_rms_adamw"])
def test_matches_torch_muon_to_bfloat16_rounding(adjust: str) -> None:
    """torch runs Newton-Schulz in bfloat16; we run it in the parameter's precision."""
    def only_matrices(ps):  # type: ignore[no-untyped-def]
        return [p for p in ps if p.ndim == 2]

    torch_fn = {"original": "original", "match_rms_adamw": "match_rms_adamw"}[adjust]
    run_against_torch(lambda ps: Muon(only_matrices(ps), lr=0.02, adjust_lr=adjust),
                      lambda ps: torch.optim.Muon(only_matrices(ps), lr=0.02, adjust_lr_fn=torch_fn),
                      rtol=2e-2, atol=2e-3)


def test_routing_from_a_module() -> None:
    model = nn.Sequential(nn.Embedding(10, 6), nn.Linear(6, 8), nn.LayerNorm(8), nn.ReLU(), nn.Conv1d(8, 8, 3),
                          nn.Flatten(), nn.Linear(8, 3))
    groups = split_parameters(model)
    muon = {id(p) for p in groups[0]["params"]}
    assert groups[0]["use_muon"] is True and muon == {id(model[1].weight)}
    opt = dzo.create("muon", model)
    routed = {id(p): g["use_muon"] for g in opt.param_groups for p in g["params"]}
    assert routed[id(model[1].weight)] is True
    for p in (model[0].weight, model[6].weight, model[1].bias, model[2].weight, model[4].weight):
        assert routed[id(p)] is False


def test_routing_from_named_parameters() -> None:
    model = nn.Sequential()
    model.add_module("embedding", nn.Linear(4, 4))
    model.add_module("hidden", nn.Linear(4, 4))
    model.add_module("head", nn.Linear(4, 2))
    opt = Muon(model.named_parameters())
    muon = [p for g in opt.param_groups if g["use_muon"] for p in g["params"]]
    assert [id(p) for p in muon] == [id(model.hidden.weight)]


def test_forced_conv_kernel_is_orthogonalized_as_a_matrix() -> None:
    kernel = torch.randn(4, 3, 2, 2, dtype=torch.float64, requires_grad=True)
    opt = Muon([{"params": [kernel], "use_muon": True}], lr=0.1, weight_decay=0.0, adjust_lr="none")
    kernel.grad = torch.randn_like(kernel)
    before = kernel.detach().clone()
    opt.step()
    step = (before - kernel.detach()).reshape(4, -1) / 0.1       # O: (4, 12), rows near-orthonormal
    singular = torch.linalg.svdvals(step)
    assert "momentum_buffer" in opt.state[kernel] and singular.min() > 0.5 and singular.max() < 1.5


def test_forcing_a_vector_onto_muon_is_refused() -> None:
    with pytest.raises(ValueError, match="use_muon"):
        Muon([{"params": [torch.zeros(3, requires_grad=True)], "use_muon": True}])


def test_planted_bug_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scaling by √max(n, m) without Liu et al.'s 0.2 fails the reference."""
    real = muon_module.newton_schulz
    monkeypatch.setattr(muon_module, "newton_schulz", lambda *a: real(*a) * 5)
    with pytest.raises(AssertionError):
        run_case(CASES[0])
