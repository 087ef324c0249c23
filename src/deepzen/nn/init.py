"""Weight initialization schemes, applied to a whole model after it is built.

- ``default``: leave torch's per-layer defaults (Kaiming-uniform with a=sqrt(5) for Linear/Conv).
- ``xavier``: Glorot & Bengio (2010) uniform, U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)).
- ``kaiming``: He et al. (2015) normal, N(0, gain^2 / fan_in), gain from the activation.
- ``orthogonal``: Saxe et al. (2014) orthogonal matrices (recurrent weights per gate), Xavier for the
  rest; LSTM forget-gate biases set to 1 (Jozefowicz et al. 2015).
- ``normal``: N(0, 0.02^2) for Linear and Embedding weights (GPT-2 style), for Transformers.

Biases of Linear/Conv layers become 0 under every scheme but ``default``; norm layers are left as built.
"""

from __future__ import annotations

from torch import nn

SCHEMES: tuple[str, ...] = ("default", "xavier", "kaiming", "orthogonal", "normal")

_GAINS = {"relu": "relu", "leaky_relu": "leaky_relu", "tanh": "tanh", "sigmoid": "sigmoid", "selu": "selu"}
_DENSE = (nn.Linear, nn.Conv1d, nn.Conv2d)


def _dense(module: nn.Module, scheme: str, activation: str) -> None:
    nonlinearity = _GAINS.get(activation, "relu")
    if scheme == "xavier" or scheme == "orthogonal":
        nn.init.xavier_uniform_(module.weight)
    elif scheme == "kaiming":
        nn.init.kaiming_normal_(module.weight, nonlinearity=nonlinearity)
    elif scheme == "normal":
        nn.init.normal_(module.weight, std=0.02)
    if module.bias is not None:
        nn.init.zeros_(module.bias)


def _recurrent(module: nn.RNNBase, scheme: str) -> None:
    gates = {"LSTM": 4, "GRU": 3}.get(type(module).__name__, 1)
    for name, p in module.named_parameters():
        if name.startswith("weight_hh"):
            for chunk in p.data.chunk(gates, 0):  # one square block per gate
                nn.init.orthogonal_(chunk) if scheme == "orthogonal" else nn.init.xavier_uniform_(chunk)
        elif name.startswith("weight_ih"):
            for chunk in p.data.chunk(gates, 0):
                nn.init.xavier_uniform_(chunk)
        elif name.startswith("bias"):
            nn.init.zeros_(p)
            if gates == 4 and name.startswith("bias_ih"):  # torch order i, f, g, o: forget bias 1
                h = p.shape[0] // 4
                p.data[h:2 * h].fill_(1.0)


def initialize(model: nn.Module, scheme: str = "default", activation: str = "relu") -> nn.Module:
    """Re-initialize ``model``'s Linear, Conv, recurrent and Embedding layers in place; returns it."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown init scheme {scheme!r}; allowed: {', '.join(SCHEMES)}")
    if scheme == "default":
        return model
    for module in model.modules():
        if isinstance(module, _DENSE):
            _dense(module, scheme, activation)
        elif isinstance(module, nn.RNNBase):
            _recurrent(module, scheme)
        elif isinstance(module, nn.Embedding) and scheme == "normal":
            nn.init.normal_(module.weight, std=0.02)
            if module.padding_idx is not None:
                module.weight.data[module.padding_idx].zero_()
    return model
