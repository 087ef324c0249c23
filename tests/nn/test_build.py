"""Building by name: the registry, option validation and refusals of impossible data/model pairs."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import deepzen.nn as dn
from deepzen.info import DataInfo
from tests.nn.helpers import DIGITS, FIXED_SEQ, LM, SIGNAL, TABULAR, TOKENS, TREE_ROOT, VAR_SEQ


def test_every_kind_builds_from_its_name_and_lists_options() -> None:
    assert set(dn.available()) == {"mlp", "cnn", "rnn", "tree", "transformer"}
    info_for = {"mlp": TABULAR, "cnn": DIGITS, "rnn": TOKENS, "tree": TREE_ROOT, "transformer": LM}
    for kind, info in info_for.items():
        model = dn.build(kind, info)
        assert isinstance(model, nn.Module)
        table = dn.options(kind)
        assert table and all(o.help and o.allowed for o in table.values())
        # every default passes its own validation
        assert all(o.parse(o.default) == o.default for o in table.values())


def test_info_may_be_a_dict_and_kind_is_case_insensitive() -> None:
    model = dn.build("MLP", TABULAR.to_dict(), hidden=[8])
    assert model(torch.randn(3, 5)).shape == (3, 2)


def test_activations_table_holds_torch_modules() -> None:
    for name, cls in dn.ACTIVATIONS.items():
        assert issubclass(cls, nn.Module), name
    assert {"relu", "tanh", "sigmoid", "gelu", "leaky_relu"} <= set(dn.ACTIVATIONS)
    x = torch.linspace(-2, 2, 9)
    assert torch.equal(dn.make_activation("leaky_relu")(x), torch.nn.functional.leaky_relu(x))


def test_unknown_kind_and_option_suggest_and_list() -> None:
    with pytest.raises(ValueError, match=r"did you mean 'cnn'.*Available: mlp, cnn"):
        dn.build("cnnn", DIGITS)
    with pytest.raises(ValueError, match=r"unknown option 'chanels'.*did you mean 'channels'.*Allowed options"):
        dn.build("cnn", DIGITS, chanels=(8,))


@pytest.mark.parametrize(("kind", "info", "opts", "match"), [
    ("mlp", TABULAR, {"dropout": 1.0}, r"'dropout'.*\[0.0, 1.0\)"),
    ("mlp", TABULAR, {"hidden": [8, 0]}, r"'hidden'.*integers >= 1"),
    ("mlp", TABULAR, {"activation": "relu6"}, r"'activation'.*did you mean 'relu'"),
    ("cnn", DIGITS, {"padding": "full"}, r"'padding'.*'same', 'valid'"),
    ("cnn", DIGITS, {"batch_norm": "yes"}, r"'batch_norm'.*true or false"),
    ("rnn", TOKENS, {"cell": "gruu"}, r"did you mean 'gru'"),
    ("rnn", TOKENS, {"layers": 0}, r"'layers'.*integer >= 1"),
    ("transformer", TOKENS, {"heads": 3}, r"heads=3 must divide d_model=128"),
    ("cnn", DIGITS, {"kernel_size": [3, 3, 3]}, r"3 entries but there are 2 blocks"),
])
def test_bad_values_are_named_with_what_is_allowed(kind, info, opts, match) -> None:
    with pytest.raises(ValueError, match=match):
        dn.build(kind, info, **opts)


@pytest.mark.parametrize(("kind", "info", "opts", "match"), [
    ("cnn", TABULAR, {}, r"tabular data has no spatial or time axis"),
    ("cnn", DataInfo("img", "classification", "image", None, num_classes=2), {}, r"no fixed spatial size"),
    ("tree", DIGITS, {}, r"image data has no trees"),
    ("rnn", TREE_ROOT, {}, r"tree data is not a sequence"),
    ("transformer", DataInfo("lm", "language_model", "sequence", (None, 3), num_classes=5), {},
     r"language model predicts token ids, but sequence data holds real features"),
    ("rnn", DataInfo("lm", "language_model", "sequence", (None, 3), num_classes=5), {},
     r"language model predicts token ids"),
    ("rnn", DataInfo("tok", "classification", "tokens", num_classes=2), {}, r"needs data_info.vocab_size"),
    ("transformer", TOKENS, {"max_length": 4}, r"sequences of 10 tokens, longer than max_length=4"),
    ("cnn", DIGITS, {"kernel_size": 9, "padding": "valid"}, r"kernel size 9 in block 0 is larger than its input"),
    ("cnn", DIGITS, {"channels": (8, 8, 8, 8)}, r"pooling window 2 after block 3 is larger than its input"),
    ("rnn", LM, {"bidirectional": True}, r"bidirectional network reads the tokens it should predict"),
    ("transformer", LM, {"variant": "encoder"}, r"encoder attends to the tokens it should predict"),
    ("mlp", VAR_SEQ, {}, r"needs per-step outputs"),
    ("tree", DataInfo("t", "classification", "tree", vocab_size=5, num_classes=2, padding_index=5), {},
     r"padding_index 5 is not a token id in \[0, 5\)"),
    ("transformer", DataInfo("t", "classification", "tokens", (20,), vocab_size=5, num_classes=2),
     {"max_length": 16}, r"sequences of 20 tokens, longer than max_length=16"),
    ("transformer", DataInfo("img", "sequence_labeling", "image", (1, 8, 8), num_classes=2), {},
     r"needs one output per step, but image data has no steps"),
    ("transformer", TOKENS, {"variant": "decoder"}, r"decoder variant gives per-step outputs"),
    ("mlp", DataInfo("r", "regression", "tabular", (4,)), {}, r"regression task needs data_info.num_outputs"),
    ("mlp", TABULAR, {"batch_norm": True, "layer_norm": True}, r"batch_norm or layer_norm, not both"),
])
def test_impossible_combinations_are_refused_at_build(kind, info, opts, match) -> None:
    with pytest.raises(ValueError, match=match):
        dn.build(kind, info, **opts)


def test_wrong_input_types_are_refused_at_call() -> None:
    with pytest.raises(ValueError, match="cannot read real-valued features"):
        dn.build("rnn", TOKENS)(torch.randn(2, 5))
    with pytest.raises(ValueError, match="built for real-valued features"):
        dn.build("cnn", SIGNAL)(torch.zeros(2, 2, 20, dtype=torch.long))
    with pytest.raises(ValueError, match="longer than max_length=10"):
        dn.build("transformer", TOKENS)(torch.ones(2, 11, dtype=torch.long))
    assert dn.build("cnn", FIXED_SEQ, kernel_size=3, pool="none")(torch.randn(4, 6, 3)).shape == (4, 1)
