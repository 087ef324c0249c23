"""Batches: padded sequences, joined trees, and loaders whose order depends only on (seed, epoch)."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import Subset, TensorDataset

import deepzen.data as dd
from deepzen.structures import IGNORE_INDEX, Sequences, Trees


def test_sequences_are_padded_with_lengths_and_ignored_targets():
    ds = dd.SequenceDataset([torch.tensor([3, 4, 5]), torch.tensor([6])],
                            [torch.tensor([1, 0, 1]), torch.tensor([2])], padding_index=0)
    x, y = dd.collate_for(ds)([ds[0], ds[1]])
    assert isinstance(x, Sequences)
    assert x.values.tolist() == [[3, 4, 5], [6, 0, 0]] and x.lengths.tolist() == [3, 1]
    assert y.tolist() == [[1, 0, 1], [2, IGNORE_INDEX, IGNORE_INDEX]]


def test_sequence_level_targets_are_stacked():
    s = dd.load("adding", n=50, length=12)
    x, y = dd.collate_for(s.train)([s.train[i] for i in range(4)])
    assert x.values.shape == (4, 12, 2) and y.shape == (4, 1) and x.lengths.tolist() == [12] * 4


def _tree(tokens, children, arity=3):
    return dd.Tree.from_lists(tokens, children, arity)


def test_trees_join_into_one_node_list():
    a = _tree([5, 6, 7, 9], [[], [], [], [0, 1, 2]])  # root with three leaves
    b = _tree([1, 2, 8, 3, 9], [[], [], [0, 1], [], [2, 3]], arity=2)  # depth 2
    ds = dd.TreeDataset([a, b], [torch.tensor([0, 1, 2, 3]), torch.tensor([4, 5, 6, 7, 8])])
    batch, y = dd.collate_for(ds)([ds[0], ds[1]])
    assert isinstance(batch, Trees) and batch.num_nodes == 9 and len(batch) == 2
    assert batch.roots.tolist() == [3, 8] and batch.tree_index.tolist() == [0] * 4 + [1] * 5
    assert batch.children[3].tolist() == [0, 1, 2] and batch.children[6].tolist() == [4, 5, -1]
    assert batch.children[8].tolist() == [6, 7, -1]
    assert [lv.tolist() for lv in batch.levels] == [[0, 1, 2, 4, 5, 7], [3, 6], [8]]
    assert y.tolist() == list(range(9))
    seen: set[int] = set()  # levels in order: every child is evaluated before its parent
    for level in batch.levels:
        for node in level.tolist():
            assert all(c in seen for c in batch.children[node].tolist() if c >= 0)
        seen |= set(level.tolist())
    assert seen == set(range(9))


def test_root_labels_collate_to_batch_size():
    s = dd.load("listops", n=40)
    batch, y = dd.collate_for(s.train)([s.train[i] for i in range(5)])
    assert y.shape == (5,) and batch.tokens[batch.roots].min() >= 11  # roots are operators


def test_post_order_is_required():
    with pytest.raises(ValueError, match="post-order"):
        _tree([1, 2, 3], [[1, 2], [], []])


def test_collate_for_sees_through_subset_and_defaults_to_stacking():
    ds = dd.SequenceDataset([torch.tensor([1, 2]), torch.tensor([3])], torch.tensor([0, 1]))
    assert dd.collate_for(Subset(ds, [0, 1])) == ds.collate
    plain = TensorDataset(torch.ones(3, 2), torch.zeros(3))
    x, y = dd.collate_for(plain)([plain[0], plain[1]])
    assert x.shape == (2, 2) and y.shape == (2,)


def _order(loader):
    return torch.cat([y for _, y in loader]).tolist()


def test_loader_order_is_a_function_of_seed_and_epoch():
    ds = dd.ArrayDataset(torch.arange(50.0)[:, None], torch.arange(50))
    first = _order(dd.make_loader(ds, 8, seed=1, epoch=0))
    assert sorted(first) == list(range(50)) and first != list(range(50))
    assert _order(dd.make_loader(ds, 8, seed=1, epoch=0)) == first
    assert _order(dd.make_loader(ds, 8, seed=1, epoch=1)) != first
    assert _order(dd.make_loader(ds, 8, seed=2, epoch=0)) != first
    loader = dd.make_loader(ds, 8, seed=1, epoch=0)
    loader.sampler.set_epoch(1)
    assert _order(loader) == _order(dd.make_loader(ds, 8, seed=1, epoch=1))
    assert _order(dd.make_loader(ds, 8, shuffle=False)) == list(range(50))
    assert len(dd.make_loader(ds, 8, drop_last=True)) == 6


def test_loader_batches_variable_length_sequences():
    s = dd.load("sorting", n=64)
    x, y = next(iter(dd.make_loader(s.train, 16)))
    assert x.values.shape[0] == 16 and x.values.shape[1] == int(x.lengths.max())
    assert ((y == IGNORE_INDEX) == ~x.mask()).all()
