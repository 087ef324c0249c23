"""Initialization schemes have the statistics their papers define."""

from __future__ import annotations

import math

import torch

import deepzen.nn as dn
from tests.nn.helpers import DIGITS, TABULAR, TOKENS


def test_orthogonal_recurrent_blocks_and_lstm_forget_bias() -> None:
    model = dn.build("rnn", TOKENS, cell="lstm", hidden_size=16, init="orthogonal")
    w = model.rnn.weight_hh_l0  # (4H, H): one block per gate
    for block in w.detach().chunk(4, 0):
        torch.testing.assert_close(block @ block.T, torch.eye(16), atol=1e-5, rtol=0)
    b = model.rnn.bias_ih_l0.detach()
    assert torch.all(b[16:32] == 1) and torch.all(b[:16] == 0) and torch.all(b[32:] == 0)


def test_xavier_bound_and_zero_bias() -> None:
    model = dn.build("mlp", TABULAR, hidden=(400,), init="xavier")
    w = model.body[0].weight
    bound = math.sqrt(6 / (5 + 400))
    assert w.abs().max() <= bound and w.abs().max() > 0.9 * bound
    assert torch.all(model.body[0].bias == 0)


def test_kaiming_std_and_normal_std() -> None:
    torch.manual_seed(0)
    model = dn.build("mlp", TABULAR, hidden=(2000,), init="kaiming")
    w = model.head.weight  # (2, 2000): fan_in 2000, relu gain sqrt(2)
    assert abs(w.std().item() - math.sqrt(2 / 2000)) < 0.05 * math.sqrt(2 / 2000)
    t = dn.build("transformer", TOKENS, d_model=64, init="normal")
    assert abs(t.blocks[0].attn.qkv.weight.std().item() - 0.02) < 0.002
    assert torch.all(t.tokenizer.weight[0] == 0)  # the padding row stays zero


def test_default_leaves_torch_init() -> None:
    torch.manual_seed(1)
    a = dn.build("cnn", DIGITS, init="default")
    torch.manual_seed(1)
    b = torch.nn.Conv2d(1, 32, 3, padding=1, bias=False)
    torch.testing.assert_close(a.features[0].weight, b.weight)
