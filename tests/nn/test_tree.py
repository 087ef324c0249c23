"""Tree models: the level-batched evaluation equals a node-by-node recursion of the paper's equations."""

from __future__ import annotations

import pytest
import torch

import deepzen.nn as dn
from tests.nn.helpers import TREE_NODES, TREE_ROOT, random_trees


def _tree_lstm_node(cell, e, kids):
    """Tai et al. (2015) eqs. 2-8 for one node, from its children's (h, c) pairs."""
    H = cell.hidden_size
    W, b = cell.W_iou.weight, cell.W_iou.bias
    U = cell.U_iou.weight
    h_tilde = sum((h for h, _ in kids), torch.zeros(H, dtype=torch.float64))
    i = torch.sigmoid(W[:H] @ e + b[:H] + U[:H] @ h_tilde)
    o = torch.sigmoid(W[H:2 * H] @ e + b[H:2 * H] + U[H:2 * H] @ h_tilde)
    u = torch.tanh(W[2 * H:] @ e + b[2 * H:] + U[2 * H:] @ h_tilde)
    c = i * u
    for h_k, c_k in kids:
        f_k = torch.sigmoid(cell.W_f.weight @ e + cell.W_f.bias + cell.U_f.weight @ h_k)
        c = c + f_k * c_k
    return o * torch.tanh(c), c


def _recursive_node(cell, e, kids, mean):
    """h = tanh(W [e ; s] + b), s = sum (or mean) of the children's h, 0 for a leaf."""
    s = sum((h for h, _ in kids), torch.zeros(cell.hidden_size, dtype=torch.float64))
    if mean and kids:
        s = s / len(kids)
    h = torch.tanh(cell.linear.weight @ torch.cat([e, s]) + cell.linear.bias)
    return h, h


def _reference(model, nested, node_fn):
    """Recursive evaluation, one node at a time; returns root states and all states in post-order."""
    order: list[torch.Tensor] = []

    def visit(node):
        kids = [visit(c) for c in node[1]]
        h, c = node_fn(model.cell, model.embed.weight[node[0]], kids)
        order.append(h)
        return h, c

    roots = [visit(t)[0] for t in nested]
    return torch.stack(roots), torch.stack(order)


@pytest.mark.parametrize(("cell", "composition"), [("treelstm", "sum"), ("recursive", "sum"), ("recursive", "mean")])
def test_batched_equals_node_by_node(cell, composition) -> None:
    torch.manual_seed(0)
    trees, nested = random_trees(6, max_depth=5, max_arity=3, seed=3)
    assert len(trees.levels) >= 4 and int((trees.children >= 0).sum(1).max()) == 3
    model = dn.build("tree", TREE_NODES, cell=cell, composition=composition, hidden_size=8,
                     embedding_dim=5).double().eval()
    fn = _tree_lstm_node if cell == "treelstm" else (lambda c, e, k: _recursive_node(c, e, k, composition == "mean"))
    with torch.no_grad():
        _, states_ref = _reference(model, nested, fn)
        states = model.states(trees)
    # helpers.random_trees numbers nodes in post-order, the same order as the reference
    torch.testing.assert_close(states, states_ref, rtol=1e-10, atol=1e-12)
    logits = model(trees)
    torch.testing.assert_close(logits, model.head(states_ref))


def test_root_outputs_come_from_each_trees_root() -> None:
    torch.manual_seed(0)
    trees, nested = random_trees(5, seed=4)
    model = dn.build("tree", TREE_ROOT, hidden_size=8, embedding_dim=5).double().eval()
    with torch.no_grad():
        roots_ref, _ = _reference(model, nested, _tree_lstm_node)
        out = model(trees)
    assert out.shape == (5, 3)
    torch.testing.assert_close(out, model.head(roots_ref))


def test_batch_result_does_not_depend_on_other_trees() -> None:
    torch.manual_seed(0)
    model = dn.build("tree", TREE_ROOT, hidden_size=8).eval()
    both, _ = random_trees(4, seed=5)
    with torch.no_grad():
        out = model(both)
        for b in range(4):
            single, _ = random_trees(4, seed=5)
            # same trees built one by one: take tree b alone
            keep = (single.tree_index == b).nonzero().squeeze(1)
            remap = torch.full((single.num_nodes,), -1, dtype=torch.long)
            remap[keep] = torch.arange(len(keep))
            kids = single.children[keep]
            kids = torch.where(kids >= 0, remap[kids.clamp_min(0)], kids)
            levels = [remap[lv[single.tree_index[lv] == b]] for lv in single.levels]
            alone = type(single)(single.tokens[keep], kids, [lv for lv in levels if len(lv)],
                                 remap[single.roots[b : b + 1]], torch.zeros(len(keep), dtype=torch.long))
            torch.testing.assert_close(model(alone)[0], out[b], rtol=1e-5, atol=1e-6)
