"""deepzen.nn: model families built by name from a data description.

``build(kind, data_info, **options)`` returns a plain ``torch.nn.Module``; ``available()`` lists the
kinds, ``options(kind)`` their options; ``summary(model, data_info)`` tabulates layers.
"""

from __future__ import annotations

from deepzen.nn.activations import ACTIVATIONS, make_activation
from deepzen.nn.build import MODELS, available, build, options
from deepzen.nn.cnn import CNN
from deepzen.nn.init import SCHEMES, initialize
from deepzen.nn.mlp import MLP
from deepzen.nn.rnn import RNN
from deepzen.nn.summary import ModelSummary, example_input, summary
from deepzen.nn.transformer import Transformer
from deepzen.nn.tree import ChildSumTreeLSTMCell, RecursiveCell, TreeNet

__all__ = ["ACTIVATIONS", "CNN", "MLP", "MODELS", "RNN", "SCHEMES", "ChildSumTreeLSTMCell", "ModelSummary",
           "RecursiveCell", "Transformer", "TreeNet", "available", "build", "example_input",
           "initialize", "make_activation", "options", "summary"]
