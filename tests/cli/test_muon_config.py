"""Muon from a config: ``optimizer.use_muon`` is checked on a model (not a lone vector) and routes the
run's parameters; ``regularization.weight_decay`` keeps Muon's routing."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from deepzen.config import ConfigError, load_config
from deepzen.config.references import check_references
from deepzen.train.experiment import build_optimizer
from tests.cli.conftest import call, summary

CONFIG = """
[data]
name = "iris"
[model]
kind = "mlp"
hidden = [8, 8]
[optimizer]
name = "muon"
lr = 0.02
use_muon = true
[regularization]
weight_decay = 0.01
[training]
epochs = 2
"""


def test_train_with_use_muon_runs_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "muon.toml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    code, out, err = call(capsys, "train", "muon.toml")
    assert code == 0, err
    result = summary(tmp_path / "runs" / "mlp-iris")
    assert 0.0 <= result["test"]["accuracy"] <= 1.0
    saved = torch.load(tmp_path / "runs" / "mlp-iris" / "checkpoints" / "last.pt", weights_only=False)
    groups = saved["optimizer"]["param_groups"]
    assert {(g["use_muon"], g["weight_decay"]) for g in groups} == {(True, 0.01), (False, 0.0)}


def _routes(overrides: list[str], model: nn.Module) -> dict[int, tuple[bool, float]]:
    opt = build_optimizer(load_config(None, ["optimizer.name=muon", *overrides]), model)
    return {id(p): (g["use_muon"], g["weight_decay"]) for g in opt.param_groups for p in g["params"]}


@pytest.fixture
def model() -> nn.Sequential:
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 3))


def test_use_muon_true_sends_every_matrix_to_muon(model: nn.Sequential) -> None:
    routes = _routes(["optimizer.use_muon=true"], model)
    assert all(routes[id(layer.weight)][0] is True for layer in (model[0], model[2], model[4]))   # the head too
    assert all(routes[id(layer.bias)][0] is False for layer in (model[0], model[2], model[4]))


def test_use_muon_false_sends_everything_to_adamw(model: nn.Sequential) -> None:
    assert {route for route, _ in _routes(["optimizer.use_muon=false"], model).values()} == {False}


def test_weight_decay_groups_keep_the_module_rule(model: nn.Sequential) -> None:
    """With regularization.weight_decay the parameters come in decay groups; each keeps Muon's own
    route (the head stays on AdamW) and its decay (biases 0)."""
    routes = _routes(["regularization.weight_decay=0.05"], model)
    assert routes[id(model[0].weight)] == (True, 0.05) and routes[id(model[2].weight)] == (True, 0.05)
    assert routes[id(model[4].weight)] == (False, 0.05)                  # the output head: AdamW
    assert routes[id(model[0].bias)] == (False, 0.0)


def test_validation_accepts_use_muon_and_names_a_bad_value() -> None:
    assert check_references(load_config(None, ["optimizer.name=muon", "optimizer.use_muon=true"])) == []
    with pytest.raises(ConfigError, match=r"optimizer\.use_muon = 'yes': invalid use_muon: 'yes'; expected True, False"):
        load_config(None, ["optimizer.name=muon", "optimizer.use_muon=\"yes\""])
