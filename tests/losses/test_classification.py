"""cross_entropy, nll and binary_cross_entropy against their formulas recomputed in plain Python."""

from __future__ import annotations

import math

import pytest
import torch

from deepzen.losses import IGNORE_INDEX, binary_cross_entropy, cross_entropy, nll
from tests.losses import reference as ref

torch.manual_seed(0)
B, T, C = 4, 5, 6
LOGITS = torch.randn(B, T, C, dtype=torch.float64) * 3  # (B, T, C)
LABELS = torch.randint(0, C, (B, T))  # (B, T)
LABELS[0, 3:] = IGNORE_INDEX  # padded tail of a short sequence
LABELS[2, 4] = IGNORE_INDEX
WEIGHT = [0.5, 2.0, 1.0, 0.1, 3.0, 1.5]


def _expected(logits, labels, weight=None, smoothing=0.0):  # type: ignore[no-untyped-def]
    losses, weights = ref.cross_entropy_terms(logits.reshape(-1, logits.shape[-1]).tolist(),
                                              labels.reshape(-1).tolist(), weight, smoothing)
    return losses, sum(losses) / sum(weights)


@pytest.mark.parametrize("weight", [None, WEIGHT], ids=["plain", "weighted"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_sequence_with_padding(weight, smoothing) -> None:  # type: ignore[no-untyped-def]
    losses, mean = _expected(LOGITS, LABELS, weight, smoothing)
    opts = {"weight": weight, "label_smoothing": smoothing}
    assert cross_entropy(LOGITS, LABELS, **opts).item() == pytest.approx(mean, rel=1e-12)
    assert cross_entropy(LOGITS, LABELS, reduction="sum", **opts).item() == pytest.approx(sum(losses), rel=1e-12)
    per = cross_entropy(LOGITS, LABELS, reduction="none", **opts)
    assert per.shape == (B, T)
    assert per.reshape(-1).tolist() == pytest.approx(losses, rel=1e-12, abs=1e-15)


def test_cross_entropy_plain_mean_is_the_spec_formula() -> None:
    """CE = −(1/N) Σ_i Σ_c y_ic log softmax(z_i)_c with one-hot y, over the N counted positions."""
    logits, labels = LOGITS[1], LABELS[1]  # (T, C), (T,) with no padding
    total = 0.0
    for row, y in zip(logits.tolist(), labels.tolist()):
        total -= sum((1.0 if c == y else 0.0) * lp for c, lp in enumerate(ref.log_softmax(row)))
    assert cross_entropy(logits, labels).item() == pytest.approx(total / len(labels), rel=1e-12)


def test_cross_entropy_gradient_is_softmax_minus_onehot_over_counted() -> None:
    logits = LOGITS.clone().requires_grad_()
    cross_entropy(logits, LABELS).backward()
    counted = LABELS != IGNORE_INDEX
    onehot = torch.nn.functional.one_hot(LABELS.clamp(min=0), C).double()
    expected = (LOGITS.exp() / LOGITS.exp().sum(-1, keepdim=True) - onehot) * counted[..., None] / counted.sum()
    torch.testing.assert_close(logits.grad, expected, rtol=1e-10, atol=1e-14)


def test_all_ignored_batch_gives_zero_loss_with_gradient() -> None:
    logits = torch.randn(2, 3, C, requires_grad=True)
    labels = torch.full((2, 3), IGNORE_INDEX)
    for opts in ({}, {"weight": WEIGHT}, {"label_smoothing": 0.1}):
        loss = cross_entropy(logits, labels, **opts)
        assert loss.item() == 0.0
        loss.backward()
        assert torch.equal(logits.grad, torch.zeros_like(logits))
        logits.grad = None
    assert nll(torch.randn(3, C), torch.full((3,), IGNORE_INDEX)).item() == 0.0


def test_cross_entropy_probability_targets() -> None:
    logits = LOGITS[0]  # (T, C)
    probs = torch.softmax(torch.randn(T, C, dtype=torch.float64), -1)
    expected = ref.soft_cross_entropy_terms(logits.tolist(), probs.tolist())
    assert cross_entropy(logits, probs).item() == pytest.approx(sum(expected) / T, rel=1e-12)


def test_nll_matches_formula_and_cross_entropy() -> None:
    log_probs = torch.log_softmax(LOGITS, -1)
    for weight in (None, WEIGHT):
        losses, weights = ref.nll_terms(log_probs.reshape(-1, C).tolist(), LABELS.reshape(-1).tolist(), weight)
        assert nll(log_probs, LABELS, weight=weight).item() == pytest.approx(sum(losses) / sum(weights), rel=1e-12)
        assert nll(log_probs, LABELS, weight=weight).item() == pytest.approx(
            cross_entropy(LOGITS, LABELS, weight=weight).item(), rel=1e-12)


def test_flat_classification_and_tree_nodes() -> None:
    logits, labels = LOGITS.reshape(-1, C), LABELS.reshape(-1)  # (N, C), (N,)
    _, mean = _expected(logits, labels)
    assert cross_entropy(logits, labels).item() == pytest.approx(mean, rel=1e-12)


@pytest.mark.parametrize(("logits_shape", "labels_shape"), [((B, C, T), (B, T)), ((B, C), (B, 1)), ((B, C), (C,))])
def test_classes_must_be_on_the_last_dim(logits_shape, labels_shape) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="LAST dim"):
        cross_entropy(torch.randn(logits_shape), torch.zeros(labels_shape, dtype=torch.long))


def test_bad_labels_and_options() -> None:
    with pytest.raises(ValueError, match="target 6 is out of range"):
        cross_entropy(torch.randn(3, C), torch.tensor([0, 6, 1]))
    with pytest.raises(ValueError, match="one entry per class"):
        cross_entropy(torch.randn(3, C), torch.tensor([0, 1, 1]), weight=[1.0, 2.0])
    with pytest.raises(ValueError, match="label_smoothing"):
        cross_entropy(torch.randn(3, C), torch.tensor([0, 1, 1]), label_smoothing=1.5)


# ----------------------------------------------------------------------------- binary
Z = torch.tensor([[-3.0, 0.0, 2.5], [40.0, -40.0, 0.7]], dtype=torch.float64)  # (B, K) logits
Y = torch.tensor([[0.0, 1.0, 1.0], [1.0, 1.0, 0.25]], dtype=torch.float64)


def test_bce_with_logits_matches_formula_including_extreme_logits() -> None:
    expected = ref.bce_terms(Z.reshape(-1).tolist(), Y.reshape(-1).tolist())
    assert binary_cross_entropy(Z, Y).item() == pytest.approx(sum(expected) / len(expected), rel=1e-12)
    assert binary_cross_entropy(Z, Y, reduction="none").reshape(-1).tolist() == pytest.approx(expected, rel=1e-12)
    weighted = ref.bce_terms(Z.reshape(-1).tolist(), Y.reshape(-1).tolist(), pos_weight=3.0)
    assert binary_cross_entropy(Z, Y, pos_weight=3.0, reduction="sum").item() == pytest.approx(sum(weighted), rel=1e-12)


def test_bce_from_probabilities_and_binary_column() -> None:
    z, y = Z[0, :2], Y[0, :2]  # moderate logits only: probabilities are exact there
    expected = ref.bce_terms(z.tolist(), y.tolist())
    probs = torch.sigmoid(z)
    got = binary_cross_entropy(probs, y, from_logits=False)
    assert got.item() == pytest.approx(sum(expected) / 2, rel=1e-10)
    # (B, 1) logits against (B,) integer labels: compared row by row, not broadcast to (B, B)
    assert binary_cross_entropy(z[:, None], y.long()).item() == pytest.approx(sum(expected) / 2, rel=1e-12)
    assert math.isfinite(binary_cross_entropy(Z, Y).item())
