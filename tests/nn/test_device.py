"""On a GPU (skipped without one): every family gives the CPU's result for the same weights and batch."""

from __future__ import annotations

import pytest
import torch

import deepzen.nn as dn
from deepzen.structures import Sequences, to_device
from tests.nn.helpers import DIGITS, LM, TOKENS, TREE_NODES, padded_tokens, random_trees

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

LENGTHS = [5, 2, 4]


@pytest.mark.parametrize(("kind", "info", "opts"), [
    ("cnn", DIGITS, {}), ("rnn", TOKENS, {"bidirectional": True}), ("rnn", LM, {"cell": "gru"}),
    ("transformer", TOKENS, {"pooling": "cls"}), ("transformer", LM, {}), ("tree", TREE_NODES, {}),
])
def test_gpu_matches_cpu(kind, info, opts) -> None:
    torch.manual_seed(0)
    model = dn.build(kind, info, **opts).eval()
    if kind == "cnn":
        x = torch.rand(3, 1, 8, 8)
    elif kind == "tree":
        x, _ = random_trees(4, seed=2)
    else:
        x = Sequences(padded_tokens(LENGTHS), torch.tensor(LENGTHS))
    with torch.no_grad():
        cpu = model(x)
        gpu = model.cuda()(to_device(x, "cuda")).cpu()
    torch.testing.assert_close(gpu, cpu, rtol=1e-3, atol=1e-4)
