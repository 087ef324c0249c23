"""Output shapes and gradients for every family and its main options."""

from __future__ import annotations

import pytest
import torch

import deepzen.nn as dn
from deepzen.structures import Sequences
from tests.nn.helpers import (DIGITS, FIXED_SEQ, LM, SIGNAL, TABULAR, TAGS, TOKENS, TREE_NODES, TREE_ROOT,
                              VAR_SEQ, padded_tokens, random_trees)

LENGTHS = [7, 3, 5]
TREES, _ = random_trees(3, seed=1)


def _seq_floats() -> Sequences:
    values = torch.randn(3, 7, 3)
    for i, n in enumerate(LENGTHS):
        values[i, n:] = 0
    return Sequences(values, torch.tensor(LENGTHS))


INPUTS = {
    "digits": lambda: torch.rand(4, 1, 8, 8),
    "tab": lambda: torch.randn(4, 5),
    "sig": lambda: torch.randn(4, 2, 20),
    "fseq": lambda: torch.randn(4, 6, 3),
    "tok": lambda: torch.randint(1, 12, (4, 9)),
    "tok_padded": lambda: Sequences(padded_tokens(LENGTHS), torch.tensor(LENGTHS)),
    "vseq": _seq_floats,
    "trees": lambda: TREES,
}

CASES = [  # kind, info, input, options, expected output shape
    ("mlp", TABULAR, "tab", {}, (4, 2)),
    ("mlp", DIGITS, "digits", {"hidden": (16, 16, 16), "activation": "tanh", "batch_norm": True}, (4, 10)),
    ("mlp", TABULAR, "tab", {"layer_norm": True, "dropout": 0.3, "init": "kaiming", "activation": "leaky_relu"},
     (4, 2)),
    ("mlp", TABULAR, "tab", {"hidden": (), "init": "xavier"}, (4, 2)),
    ("cnn", DIGITS, "digits", {}, (4, 10)),
    ("cnn", DIGITS, "digits", {"channels": (4, 6), "kernel_size": (5, 3), "padding": "valid", "pool": "none",
                               "global_pool": "avg", "batch_norm": False, "activation": "gelu"}, (4, 10)),
    ("cnn", DIGITS, "digits", {"channels": (4,), "stride": 2, "padding": 1, "pool": "avg",
                               "global_pool": "max", "convs_per_block": 2, "hidden": ()}, (4, 10)),
    ("cnn", SIGNAL, "sig", {"channels": (4, 8), "kernel_size": 5, "init": "kaiming"}, (4, 3)),
    ("cnn", FIXED_SEQ, "fseq", {"channels": (4,), "pool": "none"}, (4, 1)),
    ("rnn", TOKENS, "tok", {}, (4, 3)),
    ("rnn", TOKENS, "tok_padded", {"cell": "gru", "bidirectional": True, "layers": 2, "dropout": 0.1}, (3, 3)),
    ("rnn", TOKENS, "tok_padded", {"cell": "simple", "pooling": "mean"}, (3, 3)),
    ("rnn", TOKENS, "tok_padded", {"pooling": "max", "init": "default"}, (3, 3)),
    ("rnn", SIGNAL, "sig", {"hidden_size": 8}, (4, 3)),
    ("rnn", FIXED_SEQ, "fseq", {"cell": "gru"}, (4, 1)),
    ("rnn", VAR_SEQ, "vseq", {"bidirectional": True}, (3, 7, 4)),
    ("rnn", TAGS, "tok_padded", {"cell": "simple", "layers": 3}, (3, 7, 4)),
    ("rnn", LM, "tok", {"cell": "lstm", "layers": 2}, (4, 9, 12)),
    ("tree", TREE_ROOT, "trees", {}, (3, 3)),
    ("tree", TREE_ROOT, "trees", {"cell": "recursive", "composition": "mean", "activation": "relu"}, (3, 3)),
    ("tree", TREE_NODES, "trees", {"cell": "recursive", "dropout": 0.2}, (TREES.num_nodes, 3)),
    ("tree", TREE_NODES, "trees", {"init": "xavier"}, (TREES.num_nodes, 3)),
    ("transformer", TOKENS, "tok", {}, (4, 3)),
    ("transformer", TOKENS, "tok_padded", {"pooling": "cls", "positions": "sinusoidal", "d_model": 32}, (3, 3)),
    ("transformer", TABULAR, "tab", {"d_model": 16, "heads": 2}, (4, 2)),
    ("transformer", DIGITS, "digits", {"patch_size": 4, "pooling": "cls"}, (4, 10)),
    ("transformer", SIGNAL, "sig", {"layers": 1, "activation": "relu"}, (4, 3)),
    ("transformer", FIXED_SEQ, "fseq", {"init": "default"}, (4, 1)),
    ("transformer", VAR_SEQ, "vseq", {"d_model": 24, "heads": 3}, (3, 7, 4)),
    ("transformer", TAGS, "tok_padded", {"variant": "decoder"}, (3, 7, 4)),
    ("transformer", LM, "tok_padded", {"positions": "sinusoidal"}, (3, 7, 12)),
]


@pytest.mark.parametrize(("kind", "info", "inp", "opts", "shape"), CASES,
                         ids=[f"{c[0]}-{c[1].name}-{i}" for i, c in enumerate(CASES)])
def test_shape_and_gradients(kind, info, inp, opts, shape) -> None:
    torch.manual_seed(0)
    model = dn.build(kind, info, **opts)
    out = model(INPUTS[inp]())
    assert out.shape == shape
    assert torch.isfinite(out).all()
    out.pow(2).mean().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, f"{name} got no gradient"
        assert torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, f"{name} has an all-zero gradient"


def test_summary_counts_every_parameter_and_shows_shapes() -> None:
    model = dn.build("cnn", DIGITS, channels=(4, 6), hidden=(12,))
    s = dn.summary(model, DIGITS, batch=2)
    assert sum(r[3] for r in s.rows) == s.total_params == sum(p.numel() for p in model.parameters())
    shapes = {r[0]: r[2] for r in s.rows}
    # conv 'same' keeps 8x8, pool halves: 8 -> 4 -> 2
    assert shapes["features.0"] == "(2, 4, 8, 8)" and shapes["features.7"] == "(2, 6, 2, 2)"
    assert s.output_shape == "(2, 10)" and "total params" in str(s)


@pytest.mark.parametrize(("kind", "info"), [("rnn", VAR_SEQ), ("transformer", LM), ("tree", TREE_NODES),
                                            ("tree", TREE_ROOT)])
def test_summary_builds_sequences_and_trees_inputs(kind, info) -> None:
    model = dn.build(kind, info, **({"d_model": 16} if kind == "transformer" else {}))
    s = dn.summary(model, info)
    assert s.total_params == sum(p.numel() for p in model.parameters())
    assert sum(r[3] for r in s.rows) == s.total_params
    assert s.output_shape.endswith(f", {info.num_classes})")


@pytest.mark.parametrize(("kind", "info", "inp"), [("mlp", TABULAR, "tab"), ("cnn", DIGITS, "digits"),
                                                   ("cnn", SIGNAL, "sig"), ("rnn", TOKENS, "tok"),
                                                   ("transformer", TOKENS, "tok")])
def test_defaults_train_on_a_last_batch_of_one(kind, info, inp) -> None:
    model = dn.build(kind, info).train()
    out = model(INPUTS[inp]()[:1])
    assert out.shape[0] == 1
    out.sum().backward()
