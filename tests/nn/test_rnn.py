"""RNN: a padded variable-length batch gives each sequence exactly what it gets when run alone."""

from __future__ import annotations

import pytest
import torch

import deepzen.nn as dn
from deepzen.structures import Sequences
from tests.nn.helpers import TAGS, TOKENS, VAR_SEQ, padded_tokens

LENGTHS = [6, 2, 4, 1, 5]


@pytest.mark.parametrize("cell", ["simple", "gru", "lstm"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
def test_padded_batch_equals_each_sequence_alone(cell, bidirectional, pooling) -> None:
    torch.manual_seed(0)
    model = dn.build("rnn", TOKENS, cell=cell, bidirectional=bidirectional, pooling=pooling, layers=2,
                     hidden_size=16, embedding_dim=8).eval()
    x = padded_tokens(LENGTHS, pad=7)  # padding with a real token id: it must still be ignored
    batched = model(Sequences(x, torch.tensor(LENGTHS)))
    for i, n in enumerate(LENGTHS):
        alone = model(x[i : i + 1, :n])  # plain tensor, no packing, no padding
        torch.testing.assert_close(batched[i], alone[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("info", "bidirectional"), [(TAGS, True), (TAGS, False), (VAR_SEQ, True)])
def test_per_step_outputs_on_padded_batch_equal_alone(info, bidirectional) -> None:
    torch.manual_seed(0)
    model = dn.build("rnn", info, cell="gru", bidirectional=bidirectional, hidden_size=16).eval()
    if info.input_kind == "tokens":
        x = padded_tokens(LENGTHS)
    else:
        x = torch.randn(len(LENGTHS), max(LENGTHS), 3)
    batched = model(Sequences(x, torch.tensor(LENGTHS)))  # (B, T, C)
    assert batched.shape == (len(LENGTHS), max(LENGTHS), info.num_classes)
    for i, n in enumerate(LENGTHS):
        torch.testing.assert_close(batched[i, :n], model(x[i : i + 1, :n])[0], rtol=1e-5, atol=1e-6)


def test_elman_cell_matches_its_equation() -> None:
    """h_t = tanh(W x_t + b_w + U h_{t-1} + b_u), logits = V h_T + c, written out step by step."""
    info = VAR_SEQ.__class__("s", "classification", "sequence", (None, 3), num_classes=2)
    torch.manual_seed(0)
    model = dn.build("rnn", info, cell="simple", hidden_size=5).eval()
    x = torch.randn(1, 4, 3)
    r = model.rnn
    h = torch.zeros(5)
    for t in range(4):
        h = torch.tanh(r.weight_ih_l0 @ x[0, t] + r.bias_ih_l0 + r.weight_hh_l0 @ h + r.bias_hh_l0)
    torch.testing.assert_close(model(x)[0], model.head.weight @ h + model.head.bias)
