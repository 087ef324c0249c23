"""Multilayer perceptron: a fully connected stack over flattened fixed-size inputs.

    h_0 = flatten(x),   h_l = dropout(act(norm(W_l h_{l-1} + b_l))),   y = W_out h_L + b_out
"""

from __future__ import annotations

import math
from typing import Any

from torch import Tensor, nn

from deepzen.info import DataInfo
from deepzen.nn import _options as opt
from deepzen.nn._common import check_tokens, dense_stack, one_norm, output_size, refuse
from deepzen.nn.activations import ACTIVATIONS
from deepzen.nn.init import SCHEMES, initialize

OPTIONS: dict[str, opt.Option] = {
    "hidden": opt.int_tuple((128, 128), "width of each hidden layer (depth = number of entries)"),
    "activation": opt.choice("relu", tuple(ACTIVATIONS), "nonlinearity after each hidden layer"),
    "dropout": opt.real(0.0, "dropout probability after each hidden layer", 0.0, 1.0, high_open=True),
    "batch_norm": opt.boolean(False, "BatchNorm1d after each hidden Linear"),
    "layer_norm": opt.boolean(False, "LayerNorm after each hidden Linear"),
    "init": opt.choice("default", SCHEMES, "weight initialization scheme"),
}


class MLP(nn.Module):
    """Fully connected network.

    Arguments:
        in_features: size of the flattened input.
        out_features: classes or regression outputs.
        hidden, activation, dropout, batch_norm, layer_norm: see ``OPTIONS``.

    Input ``(B, *input_shape)`` float; output ``(B, out_features)``.
    """

    def __init__(self, in_features: int, out_features: int, hidden: tuple[int, ...] = (128, 128),
                 activation: str = "relu", dropout: float = 0.0, batch_norm: bool = False,
                 layer_norm: bool = False) -> None:
        super().__init__()
        self.body, width = dense_stack(in_features, hidden, activation, dropout, batch_norm, layer_norm)
        self.head = nn.Linear(width, out_features)

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            raise ValueError(f"mlp takes a dense tensor, got {type(x).__name__}; use rnn or transformer")
        check_tokens("mlp", x, expect_tokens=False)
        return self.head(self.body(x.flatten(1)))  # (B, out)


def build(info: DataInfo, **o: Any) -> MLP:
    """An :class:`MLP` for ``info`` (classification or regression on any fixed-size real input)."""
    one_norm("mlp", o["batch_norm"], o["layer_norm"])
    if info.input_kind in ("tokens", "tree"):
        raise refuse("mlp", f"{info.input_kind} input holds token ids, not real features",
                     "Use rnn or transformer (tokens) or tree (trees)")
    if info.task not in ("classification", "regression"):
        raise refuse("mlp", f"task {info.task!r} needs per-step outputs", "Use rnn or transformer")
    shape = info.input_shape
    if not shape or any(s is None or s < 1 for s in shape):
        raise refuse("mlp", f"input_shape {shape} is not a fixed size", "Use rnn or transformer")
    model = MLP(math.prod(shape), output_size("mlp", info), o["hidden"], o["activation"], o["dropout"],
                o["batch_norm"], o["layer_norm"])
    return initialize(model, o["init"], o["activation"])
