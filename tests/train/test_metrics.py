"""Metrics against hand computation (plain Python / sklearn as independent oracles)."""

from __future__ import annotations

import math

import pytest
import torch
from sklearn.metrics import f1_score, r2_score

from deepzen.structures import IGNORE_INDEX
from deepzen.train.metrics import get_metric


def feed(name, batches, **kw):
    metric = get_metric(name, **kw)
    for pred, target in batches:
        metric.update(pred, target)
    return metric.compute()


def split(pred, target, size=4):
    return list(zip(pred.split(size), target.split(size)))


def test_accuracy_and_topk_by_hand():
    g = torch.Generator().manual_seed(1)
    pred, target = torch.randn(10, 5, generator=g), torch.randint(0, 5, (10,), generator=g)
    rows, labels = pred.tolist(), target.tolist()
    correct = sum(max(range(5), key=lambda c: r[c]) == t for r, t in zip(rows, labels))
    top2 = sum(t in sorted(range(5), key=lambda c: -r[c])[:2] for r, t in zip(rows, labels))
    assert feed("accuracy", split(pred, target)) == pytest.approx(correct / 10)
    assert feed("top2", split(pred, target)) == pytest.approx(top2 / 10)


def test_ignore_index_is_skipped_in_sequence_labels():
    pred = torch.tensor([[[2.0, 0.0], [0.0, 1.0], [5.0, 0.0]], [[0.0, 3.0], [1.0, 0.0], [1.0, 0.0]]])  # (B, T, C)
    target = torch.tensor([[0, 0, IGNORE_INDEX], [1, IGNORE_INDEX, IGNORE_INDEX]])  # (B, T)
    # labelled positions: (0,0) right, (0,1) wrong, (1,0) right
    assert feed("accuracy", [(pred, target)]) == pytest.approx(2 / 3)


def test_binary_single_logit():
    pred = torch.tensor([2.0, -1.0, 0.5, -0.2])
    target = torch.tensor([1, 0, 0, 0])
    assert feed("accuracy", [(pred, target)]) == pytest.approx(3 / 4)


def test_f1_macro_matches_sklearn():
    g = torch.Generator().manual_seed(2)
    pred, target = torch.randn(40, 4, generator=g), torch.randint(0, 4, (40,), generator=g)
    target[::7] = IGNORE_INDEX
    keep = target != IGNORE_INDEX
    expected = f1_score(target[keep].numpy(), pred.argmax(1)[keep].numpy(), average="macro")
    assert feed("f1", split(pred, target, 6)) == pytest.approx(expected)


def test_regression_metrics_by_hand():
    g = torch.Generator().manual_seed(3)
    pred, target = torch.randn(12, 2, generator=g), torch.randn(12, 2, generator=g)
    p, y = pred.tolist(), target.tolist()
    mse = sum((a - b) ** 2 for pr, yr in zip(p, y) for a, b in zip(pr, yr)) / 24
    mae = sum(abs(a - b) for pr, yr in zip(p, y) for a, b in zip(pr, yr)) / 24
    assert feed("mse", split(pred, target, 5)) == pytest.approx(mse)
    assert feed("mae", split(pred, target, 5)) == pytest.approx(mae)
    assert feed("r2", split(pred, target, 5)) == pytest.approx(r2_score(target.numpy(), pred.numpy()))


def test_perplexity_is_exp_of_mean_token_nll():
    g = torch.Generator().manual_seed(4)
    logits = torch.randn(2, 5, 7, generator=g)  # (B, T, V)
    target = torch.randint(0, 7, (2, 5), generator=g)
    target[1, 3:] = IGNORE_INDEX
    nll, count = 0.0, 0
    for b in range(2):
        for t in range(5):
            if target[b, t] == IGNORE_INDEX:
                continue
            row = logits[b, t].tolist()
            log_z = math.log(sum(math.exp(v) for v in row))
            nll += log_z - row[target[b, t]]
            count += 1
    assert feed("perplexity", [(logits[:1], target[:1]), (logits[1:], target[1:])]) == pytest.approx(
        math.exp(nll / count), rel=1e-5)


def test_unknown_metric_suggests_a_name():
    with pytest.raises(ValueError, match="did you mean 'accuracy'"):
        get_metric("acuracy")
