"""L1/L2/L1L2 penalties: values from their formulas, the default filter, and L2 + SGD == coupled decay."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

import deepzen.regularizers as reg


class Tagger(nn.Module):
    """Embedding, conv, a multi-dim LayerNorm (2-D weight), batch norm, a custom RMSNorm, a tied head."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(7, 4)
        self.conv = nn.Conv1d(4, 4, 3, padding=1)
        self.bn = nn.BatchNorm1d(4)
        self.ln = nn.LayerNorm((5, 4))
        self.norm = MyRMSNorm(4)
        self.head = nn.Linear(4, 7)
        self.head.weight = self.embed.weight  # tied: counted once

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:  # (B, 5) -> (B, 5, 7)
        h = self.bn(self.conv(self.embed(tokens).transpose(1, 2))).transpose(1, 2)  # (B, 5, 4)
        return self.head(self.norm(self.ln(h)))


class MyRMSNorm(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1, dim) * 1.5)  # 2-D on purpose: excluded by the module type

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * x / x.square().mean(-1, keepdim=True).add(1e-6).sqrt()


def _model() -> Tagger:
    torch.manual_seed(0)
    return Tagger().double()


def test_default_filter_takes_weights_and_skips_biases_and_norms() -> None:
    model = _model()
    chosen = {id(p) for p in reg.L2(1.0).parameters(model)}
    assert chosen == {id(model.embed.weight), id(model.conv.weight)}  # head.weight is embed.weight
    groups = reg.param_groups(model, 0.1)
    assert {id(p) for p in groups[0]["params"]} == chosen
    assert len(groups[0]["params"]) + len(groups[1]["params"]) == len(list(model.parameters()))
    assert [g["weight_decay"] for g in groups] == [0.1, 0.0]


def test_penalty_values_follow_the_formulas() -> None:
    model = _model()
    weights = [model.embed.weight, model.conv.weight]
    abs_sum = sum(float(w.detach().abs().sum()) for w in weights)
    sq_sum = sum(float((w.detach() ** 2).sum()) for w in weights)
    assert reg.L1(0.3)(model).item() == pytest.approx(0.3 * abs_sum, rel=1e-12)
    assert reg.L2(0.3)(model).item() == pytest.approx(0.3 / 2 * sq_sum, rel=1e-12)
    assert reg.L1L2(0.2, 0.5)(model).item() == pytest.approx(0.2 * abs_sum + 0.25 * sq_sum, rel=1e-12)
    every = list(model.parameters())
    assert reg.L2(0.3, filter="all")(model).item() == pytest.approx(
        0.15 * sum(float((p.detach() ** 2).sum()) for p in every), rel=1e-12)
    assert reg.get("none")(model).item() == 0.0


def test_l1_gradient_is_strength_times_sign() -> None:
    model = _model()
    reg.L1(0.7)(model).backward()
    torch.testing.assert_close(model.conv.weight.grad, 0.7 * model.conv.weight.sign(), rtol=0, atol=0)
    assert model.conv.bias.grad is None and model.bn.weight.grad is None


def test_custom_filter_and_frozen_parameters() -> None:
    model = _model()
    only_conv = reg.L2(1.0, filter=lambda name, p, module: name.startswith("conv"))
    assert {id(p) for p in only_conv.parameters(model)} == {id(model.conv.weight), id(model.conv.bias)}
    model.conv.weight.requires_grad_(False)
    assert {id(p) for p in reg.L2(1.0).parameters(model)} == {id(model.embed.weight)}


def _steps(model: nn.Module, opt: torch.optim.Optimizer, penalty: reg.Penalty | None) -> None:
    gen = torch.Generator().manual_seed(1)
    for _ in range(6):
        tokens = torch.randint(0, 7, (8, 5), generator=gen)
        labels = torch.randint(0, 7, (8, 5), generator=gen)
        loss = nn.functional.cross_entropy(model(tokens).reshape(-1, 7), labels.reshape(-1))
        if penalty is not None:
            loss = loss + penalty(model)
        opt.zero_grad()
        loss.backward()
        opt.step()


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_l2_penalty_with_sgd_equals_coupled_weight_decay(momentum: float) -> None:
    lam, lr = 0.05, 0.1
    with_penalty, with_decay = _model(), _model()
    _steps(with_penalty, torch.optim.SGD(with_penalty.parameters(), lr=lr, momentum=momentum), reg.L2(lam))
    _steps(with_decay, torch.optim.SGD(reg.param_groups(with_decay, lam), lr=lr, momentum=momentum), None)
    plain = _model()
    _steps(plain, torch.optim.SGD(plain.parameters(), lr=lr, momentum=momentum), None)
    for (name, a), b, c in zip(with_penalty.named_parameters(), with_decay.parameters(), plain.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-13, atol=1e-15, msg=name)
        if name in ("embed.weight", "conv.weight"):
            assert not torch.allclose(a, c), name  # the decay did change the weights


def test_l2_on_all_parameters_equals_sgd_weight_decay() -> None:
    lam = 0.05
    a, b = _model(), _model()
    _steps(a, torch.optim.SGD(a.parameters(), lr=0.1), reg.L2(lam, filter="all"))
    _steps(b, torch.optim.SGD(b.parameters(), lr=0.1, weight_decay=lam), None)
    for x, y in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(x, y, rtol=1e-13, atol=1e-15)


def test_param_groups_patterns_and_rules() -> None:
    model = _model()
    groups = reg.param_groups(model, 0.01, no_decay=["*.bias", "bn.*", "ln.*", "norm.*", "embed.*"])
    assert {id(p) for p in groups[0]["params"]} == {id(model.conv.weight)}
    groups = reg.param_groups(model, 0.01, no_decay=lambda name, p, m: p.ndim < 3)
    assert {id(p) for p in groups[0]["params"]} == {id(model.conv.weight)}
    copy.deepcopy(torch.optim.AdamW(reg.param_groups(model, 0.01), lr=1e-3).state_dict())  # torch accepts them


def test_validation_and_registry() -> None:
    for bad in (-1e-4, float("nan"), float("inf"), True):
        with pytest.raises(ValueError, match="finite number >= 0"):
            reg.L2(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="l1"):
        reg.L1L2(l1=-1.0)
    with pytest.raises(ValueError, match="weight_decay"):
        reg.param_groups(_model(), -0.1)
    with pytest.raises(ValueError, match="unknown filter"):
        reg.L2(0.1, filter="weight")
    with pytest.raises(ValueError, match="did you mean 'l2'"):
        reg.get("l3")
    with pytest.raises(ValueError, match="did you mean 'strength'"):
        reg.get("l2", strenght=0.1)
    assert isinstance(reg.get("L1L2", l1=1e-5, l2=1e-4), reg.L1L2)
    assert isinstance(reg.create("l2", strength=1e-4), reg.L2)
    assert isinstance(reg.get(None), reg.NoPenalty)
    assert set(reg.available()) == {"l1", "l2", "l1l2", "none"}
