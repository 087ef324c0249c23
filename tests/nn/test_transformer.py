"""Transformer: causal mask, padding masks, positions and attention against written-out formulas."""

from __future__ import annotations

import math

import pytest
import torch

import deepzen.nn as dn
from deepzen.nn.transformer import SelfAttention, sinusoidal
from deepzen.structures import Sequences
from tests.nn.helpers import LM, TAGS, TOKENS, padded_tokens

LENGTHS = [6, 2, 5, 1]


@pytest.mark.parametrize("padded", [False, True])
def test_outputs_at_t_do_not_depend_on_later_inputs(padded) -> None:
    torch.manual_seed(0)
    model = dn.build("transformer", LM, d_model=32, heads=4, layers=2).eval()
    x = torch.randint(1, 12, (2, 8))
    run = (lambda v: model(Sequences(v, torch.tensor([8, 8])))) if padded else model
    base = run(x)
    for t in range(7):
        changed = x.clone()
        changed[:, t + 1 :] = torch.randint(1, 12, changed[:, t + 1 :].shape)
        changed[:, t + 1] = (x[:, t + 1] % 11) + 1  # surely different at t+1
        out = run(changed)
        torch.testing.assert_close(out[:, : t + 1], base[:, : t + 1])
        assert not torch.allclose(out[:, t + 1], base[:, t + 1])


def test_encoder_sees_the_whole_sequence() -> None:
    torch.manual_seed(0)
    model = dn.build("transformer", TAGS, d_model=32).eval()
    x = torch.randint(1, 12, (1, 8))
    y = x.clone()
    y[0, -1] = (x[0, -1] % 11) + 1
    assert not torch.allclose(model(x)[0, 0], model(y)[0, 0])


@pytest.mark.parametrize(("info", "opts"), [
    (TOKENS, {"pooling": "mean"}), (TOKENS, {"pooling": "cls", "positions": "sinusoidal"}),
    (TAGS, {}), (TAGS, {"variant": "decoder"}), (LM, {}),
])
def test_padded_batch_equals_each_sequence_alone(info, opts) -> None:
    torch.manual_seed(0)
    model = dn.build("transformer", info, d_model=32, **opts).eval()
    x = padded_tokens(LENGTHS, pad=5)  # padding with a real token id: the mask must hide it
    batched = model(Sequences(x, torch.tensor(LENGTHS)))
    for i, n in enumerate(LENGTHS):
        alone = model(x[i : i + 1, :n])[0]
        got = batched[i, :n] if batched.dim() == 3 else batched[i]
        torch.testing.assert_close(got, alone, rtol=1e-4, atol=1e-5)


def test_sinusoidal_table_formula() -> None:
    table = sinusoidal(7, 6)
    for p in range(7):
        for i in range(3):
            angle = p / 10000 ** (2 * i / 6)
            assert math.isclose(table[p, 2 * i], math.sin(angle), abs_tol=1e-6)
            assert math.isclose(table[p, 2 * i + 1], math.cos(angle), abs_tol=1e-6)


@pytest.mark.parametrize("causal", [False, True])
def test_attention_matches_softmax_formula(causal) -> None:
    torch.manual_seed(0)
    B, T, D, heads = 2, 5, 12, 3
    attn = SelfAttention(D, heads, dropout=0.0).double()
    x = torch.randn(B, T, D, dtype=torch.float64)
    q, k, v = (x @ attn.qkv.weight.T + attn.qkv.bias).split(D, dim=-1)
    d = D // heads
    outs = []
    for h in range(heads):
        qh, kh, vh = (m[..., h * d : (h + 1) * d] for m in (q, k, v))
        scores = qh @ kh.transpose(1, 2) / math.sqrt(d)  # (B, T, T)
        if causal:
            scores = scores.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf"))
        outs.append(torch.softmax(scores, -1) @ vh)
    expected = torch.cat(outs, -1) @ attn.proj.weight.T + attn.proj.bias
    torch.testing.assert_close(attn(x, None, causal), expected)
