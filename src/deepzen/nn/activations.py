"""Activation functions by name (the torch modules themselves)."""

from __future__ import annotations

import difflib

from torch import nn

#: name -> torch module class (built with no arguments, torch's defaults).
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "silu": nn.SiLU,
    "mish": nn.Mish,
    "softplus": nn.Softplus,
    "identity": nn.Identity,
}


def make_activation(name: str) -> nn.Module:
    """A fresh activation module for ``name``.

    Raises:
        ValueError: unknown name (with "did you mean" and the list of names).
    """
    if name not in ACTIVATIONS:
        close = difflib.get_close_matches(str(name), ACTIVATIONS, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"unknown activation {name!r}{hint} Available: {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]()
