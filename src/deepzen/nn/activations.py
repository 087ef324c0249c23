"""Activation functions by name (the torch modules themselves)."""

from __future__ import annotations

from torch import nn

from deepzen._suggest import did_you_mean

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
        hint = did_you_mean(str(name), ACTIVATIONS)
        raise ValueError(f"unknown activation {name!r}{hint} Available: {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]()
