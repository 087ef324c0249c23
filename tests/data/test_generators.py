"""Each generator's targets recomputed independently from its inputs."""

from __future__ import annotations

import re
import statistics

import numpy as np
import pytest
import torch

import deepzen.data as dd


def _all(splits):
    return [item for part in splits[:3] if part is not None for item in (part[i] for i in range(len(part)))]


def test_adding_target_is_sum_of_marked_values():
    s = dd.load("adding", n=300, length=30)
    for x, y in _all(s):
        marked = torch.nonzero(x[:, 1]).flatten()
        assert len(marked) == 2 and marked[0] < 15 <= marked[1]  # one marker in each half
        assert torch.isclose(y[0], x[marked, 0].sum())
        assert x.shape == (30, 2) and ((x[:, 0] >= 0) & (x[:, 0] <= 1)).all()


def test_copy_labels_repeat_symbols_after_delimiter():
    k, delay, symbols = 4, 7, 5
    s = dd.load("copy", n=100, k=k, delay=delay, symbols=symbols)
    for x, y in _all(s):
        assert len(x) == len(y) == 2 * k + delay + 1
        assert x[k + delay].item() == symbols + 2  # the delimiter
        assert torch.equal(y[-k:], x[:k] - 1)  # the symbols' labels, in order
        assert (y[:-k] == 0).all() and (x[k:k + delay] == 1).all() and (x[-k:] == 1).all()
    assert s.info.vocab_size == symbols + 3 and s.info.num_classes == symbols + 1


def test_parity_label_counts_ones():
    s = dd.load("parity", n=300, min_length=2, max_length=9)
    lengths = set()
    for x, y in _all(s):
        lengths.add(len(x))
        assert y.item() == int((x == 2).sum()) % 2 and set(x.tolist()) <= {1, 2}
    assert lengths == set(range(2, 10))


def test_sorting_labels_are_sorted_inputs():
    s = dd.load("sorting", n=200, values=7)
    for x, y in _all(s):
        assert y.tolist() == sorted(v - 1 for v in x.tolist()) and x.min() >= 1 and x.max() <= 7


def _evaluate_tree(tokens, children, node):
    """Independent ListOps evaluator over the flattened tree."""
    tok = int(tokens[node])
    if tok <= 10:
        return tok - 1
    args = [_evaluate_tree(tokens, children, int(c)) for c in children[node] if c >= 0]
    op = {11: min, 12: max, 13: lambda a: statistics.median_low(a), 14: lambda a: sum(a) % 10}[tok]
    return op(args)


def test_listops_root_and_node_values():
    s = dd.load("listops", n=300, per_node=True, max_depth=4)
    for tree, y in _all(s):
        assert len(y) == len(tree)
        for node in range(len(tree)):
            assert _evaluate_tree(tree.tokens, tree.children, node) == y[node].item()
    roots = dd.load("listops", n=300)
    for tree, y in _all(roots):
        assert y.item() == _evaluate_tree(tree.tokens, tree.children, len(tree) - 1)
    counts = torch.bincount(roots.train.y, minlength=10)
    assert (counts > 0).all()  # every class occurs


SCORES = {"good": 1, "fun": 1, "warm": 1, "clever": 1, "charming": 1, "great": 2, "brilliant": 2, "superb": 2,
          "bad": -1, "dull": -1, "slow": -1, "weak": -1, "messy": -1, "awful": -2, "terrible": -2, "dreadful": -2}


def test_sentiment_labels_follow_composition_rule():
    s = dd.load("sentiment_trees", n=200)
    vocab = s.info.extra["vocab"]

    def score(tree, node):
        kids = [int(c) for c in tree.children[node] if c >= 0]
        if not kids:
            return SCORES.get(vocab[int(tree.tokens[node])], 0)
        left, right = kids
        left_word = vocab[int(tree.tokens[left])] if (tree.children[left] < 0).all() else None
        if left_word == "not":
            return -score(tree, right)
        if left_word == "very":
            return 2 * score(tree, right)
        return score(tree, left) + score(tree, right)

    for tree, y in _all(s):
        expected = [min(max(score(tree, i), -2), 2) + 2 for i in range(len(tree))]
        assert y.tolist() == expected
        assert (tree.tokens[(tree.children >= 0).any(1)] == 0).all()  # internal nodes carry padding


def test_mnist1d_sizes_balance_and_determinism():
    s = dd.load("mnist1d", val=0.1)
    assert (len(s.train), len(s.val), len(s.test)) == (3600, 400, 1000)
    assert s.info.input_shape == (1, 40) and s.info.input_kind == "signal"
    assert torch.bincount(torch.cat([s.train.y, s.val.y, s.test.y])).tolist() == [500] * 10
    again = dd.load("mnist1d", val=0.1)
    assert torch.equal(s.test.x, again.test.x)
    other = dd.load("mnist1d", val=0.1, data_seed=1)
    assert not torch.equal(s.test.x, other.test.x)
    pooled = dd.load("mnist1d", val=0.1, test=0.3)  # an explicit fraction pools all 5,000
    assert len(pooled.test) == 1500


def test_mnist1d_classes_are_separable_by_template_correlation():
    """Nearest template by best circular cross-correlation beats chance clearly (a sanity check that
    labels follow the templates, independent of any trained model)."""
    from deepzen.data.mnist1d import TEMPLATES, generate

    x, y = generate(400, data_seed=3)
    correct = 0
    for signal, label in zip(x[:, 0], y):
        signal = signal - signal.mean()
        best = [max(np.correlate(np.tile(signal, 2), np.interp(np.linspace(0, 11, w), np.arange(12), t)).max()
                    for w in (6, 8, 10)) for t in TEMPLATES - TEMPLATES.mean(1, keepdims=True)]
        correct += int(np.argmax(best) == label)
    assert correct / len(y) > 0.2  # chance is 0.1


def test_text_windows_shift_by_one_and_splits_do_not_overlap():
    s = dd.load("text", block=32)
    x, y = s.train[0]
    assert torch.equal(x[1:], y[:-1]) and len(x) == 32
    from deepzen.data.text import read_corpus

    corpus = read_corpus("garden")
    vocab = s.info.extra["vocab"]
    for part in s[:3]:  # every window is a piece of the text; unseen characters (id 1) match anything
        for i in range(len(part)):
            x, y = part[i]
            ids = torch.cat([x, y[-1:]]).tolist()
            pattern = "".join("." if t == 1 else re.escape(vocab[t]) for t in ids)
            assert re.search(pattern, corpus, flags=re.S)
    assert all(t != 1 for i in range(len(s.train)) for t in s.train[i][0].tolist())  # train has no unknowns
    sizes = s.info.extra["tokens"]
    assert sum(sizes.values()) == len(corpus) and sizes["val"] == round(0.1 * len(corpus))
    assert vocab[2:] == sorted(set(corpus[: sizes["train"]]))  # vocabulary from the training block only
    assert len(s.val) == (sizes["val"] - 1) // 32  # non-overlapping evaluation windows


def test_regression_generators_match_their_formula():
    for name, fn in [("rosenbrock", lambda a, b: (1 - a) ** 2 + 100 * (b - a * a) ** 2),
                     ("himmelblau", lambda a, b: (a * a + b - 11) ** 2 + (a + b * b - 7) ** 2)]:
        s = dd.load(name, n=200)
        std, mean = np.array(s.info.stats["std"]), np.array(s.info.stats["mean"])
        raw = s.test.x.double().numpy() * std + mean
        y = dd.unscale_targets(s.test.y, s.info).double().numpy()[:, 0]
        assert np.allclose(y, fn(raw[:, 0], raw[:, 1]), rtol=1e-4, atol=1e-3)
    s = dd.load("polynomial", n=500, noise=0.0, coefficients=(1.0, 2.0))
    raw = s.train.x.double().numpy()[:, 0] * s.info.stats["std"][0] + s.info.stats["mean"][0]
    assert np.allclose(dd.unscale_targets(s.train.y, s.info).numpy()[:, 0], 1 + 2 * raw, atol=1e-4)


@pytest.mark.parametrize("name,option", [("adding", {"length": 1}), ("parity", {"min_length": 5, "max_length": 2}),
                                         ("listops", {"max_args": 1}), ("copy", {"k": 0})])
def test_bad_generator_options(name, option):
    with pytest.raises(ValueError, match="|".join(option)):
        dd.load(name, **option)
