"""Split sizes, disjointness, determinism for a seed, and refused fractions."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import deepzen.data as dd
from deepzen.data.splits import split_indices


@pytest.mark.parametrize("n,val,test", [(100, 0.1, 0.2), (1797, 0.15, 0.25), (7, 0.2, 0.2), (50, 0.0, 0.3)])
def test_split_indices_partition_range(n, val, test):
    tr, va, te = split_indices(n, val, test, seed=3)
    assert (len(va), len(te)) == (round(n * val), round(n * test))
    joined = torch.cat([tr, va, te]).sort().values
    assert torch.equal(joined, torch.arange(n))  # disjoint and covering


def _rows(ds) -> set[tuple]:
    return {tuple(np.round(r.flatten().numpy(), 5)) for r in ds.x}


def test_loaded_splits_are_disjoint_and_sized():
    s = dd.load("breast_cancer", val=0.1, test=0.2, seed=0)  # 569 distinct rows
    assert (len(s.train), len(s.val), len(s.test)) == (569 - 57 - 114, 57, 114)
    train, val, test = _rows(s.train), _rows(s.val), _rows(s.test)
    assert len(train) + len(val) + len(test) == 569
    assert not (train & val) and not (train & test) and not (val & test)
    assert s.info.extra["sizes"] == {"train": 398, "val": 57, "test": 114}


def test_same_seed_same_split_other_seed_other_split():
    a, b, c = (dd.load("wine", seed=s) for s in (0, 0, 1))
    assert torch.equal(a.test.x, b.test.x) and torch.equal(a.train.y, b.train.y)
    assert not torch.equal(a.test.x, c.test.x)
    g1, g2 = dd.load("parity", seed=5, n=200), dd.load("parity", seed=6, n=200)
    assert [x.tolist() for x in g1.test.x] != [x.tolist() for x in g2.test.x]


def test_generated_content_fixed_by_data_seed_not_split_seed():
    a, b = dd.load("adding", seed=0, n=100), dd.load("adding", seed=1, n=100)
    pool_a = {tuple(x.flatten().tolist()) for s in a[:3] for x in s.x}
    pool_b = {tuple(x.flatten().tolist()) for s in b[:3] for x in s.x}
    assert pool_a == pool_b  # same samples, split differently
    c = dd.load("adding", seed=0, n=100, data_seed=1)
    assert pool_a != {tuple(x.flatten().tolist()) for s in c[:3] for x in s.x}


@pytest.mark.parametrize("val,test,words", [(0.5, 0.5, "add up to less than 1"), (0.7, 0.4, "nothing to train"),
                                            (-0.1, 0.2, "[0, 1)"), (0.1, 1.0, "[0, 1)")])
def test_bad_fractions_are_refused(val, test, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        dd.load("iris", val=val, test=test)


def test_empty_split_is_an_error_zero_fraction_is_none():
    with pytest.raises(dd.DataError, match="validation split of .* would be empty"):
        dd.load("iris", val=0.001)
    s = dd.load("iris", val=0.0, test=0.2)
    assert s.val is None and len(s.train) == 120
