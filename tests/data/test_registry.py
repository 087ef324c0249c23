"""Every built-in set loads offline, quickly, with info that matches its batches."""

from __future__ import annotations

import json

import pytest
import torch

import deepzen.data as dd
from deepzen.structures import IGNORE_INDEX, Sequences, Trees

SMALL = {"adding": {"n": 200}, "copy": {"n": 200}, "parity": {"n": 200}, "sorting": {"n": 200},
         "listops": {"n": 300}, "sentiment_trees": {"n": 300}}


def test_available_lists_every_set_with_size_task_description():
    sets = dd.available()
    assert {"digits", "iris", "wine", "breast_cancer", "diabetes", "mnist1d", "adding", "copy", "parity",
            "sorting", "text", "listops", "sentiment_trees", "sine", "polynomial"} <= set(sets)
    assert all(set(v) == {"size", "task", "description"} and all(v.values()) for v in sets.values())


@pytest.mark.parametrize("name", list(dd.available()))
def test_builtin_set_matches_its_info(name):
    s = dd.load(name, **SMALL.get(name, {}))
    info = s.info
    json.dumps(info.to_dict())
    assert type(info).from_dict(json.loads(json.dumps(info.to_dict()))) == info
    x, y = next(iter(dd.make_loader(s.train, 8)))
    if info.input_kind in ("tabular", "image", "signal"):
        assert x.shape == (8, *info.input_shape) and x.dtype == torch.float32
    elif info.input_kind == "sequence":
        assert isinstance(x, Sequences) and x.values.shape[2:] == info.input_shape[1:]
    elif info.input_kind == "tokens":
        assert isinstance(x, Sequences) and x.values.dtype == torch.long
        assert 0 <= x.values.min() and x.values.max() < info.vocab_size and x.lengths.max() <= info.max_length
    else:
        assert isinstance(x, Trees) and x.tokens.max() < info.vocab_size
    if info.task == "regression":
        assert y.shape == (8, info.num_outputs) and y.dtype == torch.float32
    else:
        labels = y[y != IGNORE_INDEX]
        assert y.dtype == torch.long and 0 <= labels.min() and labels.max() < info.num_classes
        if info.task == "classification":
            assert y.shape == (8,)
        elif info.per_node:
            assert y.shape == (x.num_nodes,)
        else:
            assert y.shape == x.values.shape[:2]
    if info.class_names is not None:
        assert len(info.class_names) == info.num_classes
