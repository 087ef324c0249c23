"""Losses by name: get(), aliases, option checks, available() formulas, explain()."""

from __future__ import annotations

import pytest
import torch

import deepzen.losses as losses


def test_every_loss_is_listed_with_its_formula_in_the_docstring() -> None:
    table = losses.available()
    assert set(table) == {"mse", "mae", "huber", "cross_entropy", "binary_cross_entropy", "nll", "kl_div"}
    for name, formula in table.items():
        lhs = formula.split("=")[0].strip()  # e.g. "MSE", "CE", "KL(q ‖ p)"
        assert lhs and lhs in losses.explain(name), name
        assert "=" in losses.explain(name)


def test_spec_formulas_are_stated() -> None:
    assert "MSE = (1/N) Σ_i (ŷ_i − y_i)²" in losses.explain("mse")
    assert "CE = −(1/N) Σ_i Σ_c y_ic · log softmax(z_i)_c" in losses.explain("cross_entropy")


def test_get_binds_options() -> None:
    logits, labels = torch.randn(5, 3), torch.tensor([0, 2, 1, 1, 0])
    fn = losses.get("cross_entropy", label_smoothing=0.1, reduction="sum")
    assert torch.equal(fn(logits, labels), losses.cross_entropy(logits, labels, label_smoothing=0.1, reduction="sum"))
    assert not torch.equal(fn(logits, labels), losses.cross_entropy(logits, labels, reduction="sum"))
    assert losses.get("CE").fn is losses.cross_entropy
    assert losses.get("bce").fn is losses.binary_cross_entropy
    assert losses.get("Cross-Entropy").fn is losses.cross_entropy


def test_get_passes_callables_through() -> None:
    def custom(pred: torch.Tensor, target: torch.Tensor, *, scale: float = 1.0) -> torch.Tensor:
        return scale * (pred - target).sum()

    assert losses.get(custom) is custom
    assert losses.get(custom, scale=2.0)(torch.ones(2), torch.zeros(2)).item() == 4.0


def test_unknown_names_and_options() -> None:
    with pytest.raises(ValueError, match="did you mean 'cross_entropy'"):
        losses.get("cross_entropi")
    with pytest.raises(ValueError, match="did you mean 'label_smoothing'"):
        losses.get("cross_entropy", label_smothing=0.1)
    with pytest.raises(ValueError, match="Allowed: delta, reduction"):
        losses.get("huber", beta=1.0)
