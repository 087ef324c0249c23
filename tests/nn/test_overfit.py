"""Every family can fit a tiny batch (loss -> ~0): the parameters, gradients and outputs are wired to
learn. Small widths keep each case to about a second on one CPU thread."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import deepzen.nn as dn
from deepzen.structures import IGNORE_INDEX, Sequences
from tests.nn.helpers import DIGITS, LM, TABULAR, TOKENS, TREE_NODES, TREE_ROOT, padded_tokens, random_trees

LENGTHS = [7, 3, 5, 6, 2, 7, 4, 1]


def _lm_batch():
    x = padded_tokens(LENGTHS, seed=2)
    targets = torch.full_like(x, IGNORE_INDEX)
    for i, n in enumerate(LENGTHS):
        targets[i, : n - 1] = x[i, 1:n]  # next token; the last real step and padding are ignored
    return Sequences(x, torch.tensor(LENGTHS)), targets


def _subtree_sums(nested) -> list[int]:
    """Sum of tokens under each node, in the post-order that ``random_trees`` numbers nodes in."""
    sums: list[int] = []

    def visit(node) -> int:
        total = node[0] + sum(visit(c) for c in node[1])
        sums.append(total)
        return total

    for t in nested:
        visit(t)
    return sums


def _case(name):
    g = torch.Generator().manual_seed(0)
    if name == "mlp":
        return dn.build("mlp", TABULAR, hidden=(32, 32)), torch.randn(16, 5, generator=g), \
            torch.randn(16, 2, generator=g), "mse"
    if name == "cnn":
        return dn.build("cnn", DIGITS, channels=(8, 16), hidden=(32,), dropout=0.0), \
            torch.rand(16, 1, 8, 8, generator=g), torch.randint(0, 10, (16,), generator=g), "ce"
    if name == "rnn":
        return dn.build("rnn", TOKENS, cell="lstm", hidden_size=32, embedding_dim=16), \
            Sequences(padded_tokens(LENGTHS, seed=1), torch.tensor(LENGTHS)), \
            torch.randint(0, 3, (8,), generator=g), "ce"
    if name == "rnn-lm":
        x, y = _lm_batch()
        return dn.build("rnn", LM, cell="gru", hidden_size=48, embedding_dim=16), x, y, "ce"
    if name == "simple-rnn-bi":
        return dn.build("rnn", TOKENS, cell="simple", bidirectional=True, hidden_size=32, pooling="mean"), \
            Sequences(padded_tokens(LENGTHS, seed=1), torch.tensor(LENGTHS)), \
            torch.randint(0, 3, (8,), generator=g), "ce"
    if name == "treelstm":
        trees, _ = random_trees(12, seed=6)
        return dn.build("tree", TREE_ROOT, hidden_size=32, embedding_dim=16), trees, \
            torch.randint(0, 3, (12,), generator=g), "ce"
    if name == "recursive-per-node":
        trees, nested = random_trees(6, seed=7)
        y = torch.tensor(_subtree_sums(nested)) % 3  # a label each node's subtree determines
        return dn.build("tree", TREE_NODES, cell="recursive", hidden_size=48, embedding_dim=16), trees, y, "ce"
    if name == "transformer":
        return dn.build("transformer", TOKENS, d_model=32, heads=2, layers=1, dropout=0.0), \
            Sequences(padded_tokens(LENGTHS, seed=1), torch.tensor(LENGTHS)), \
            torch.randint(0, 3, (8,), generator=g), "ce"
    x, y = _lm_batch()
    return dn.build("transformer", LM, d_model=32, heads=2, layers=2, dropout=0.0), x, y, "ce"


@pytest.mark.parametrize("name", ["mlp", "cnn", "rnn", "rnn-lm", "simple-rnn-bi", "treelstm",
                                  "recursive-per-node", "transformer", "transformer-lm"])
def test_overfits_a_tiny_batch(name) -> None:
    torch.manual_seed(0)
    model, x, y, loss_kind = _case(name)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)

    def loss_fn():
        out = model(x)
        if loss_kind == "mse":
            return F.mse_loss(out, y)
        return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1), ignore_index=IGNORE_INDEX)

    first = loss_fn().item()
    for _ in range(150):
        loss = loss_fn()
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    final = loss_fn().item()
    assert final < 0.05 * max(first, 1.0), (first, final)
