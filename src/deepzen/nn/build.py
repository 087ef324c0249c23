"""The table of model families by name, and :func:`build`: one config builds a model for any dataset
its family can read, sized from the dataset's :class:`~deepzen.info.DataInfo`.

Family modules are imported on first use, so listing names stays cheap.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from deepzen.registry import Entry, Registry
from deepzen.info import DataInfo
from deepzen.nn._options import Option, validate

#: kind -> (module under deepzen.nn, one-line description)
MODELS: dict[str, tuple[str, str]] = {
    "mlp": ("mlp", "fully connected stack over flattened fixed-size inputs"),
    "cnn": ("cnn", "1-D / 2-D convolution blocks with pooling, then a dense head"),
    "rnn": ("rnn", "Elman, GRU or LSTM layers, optionally bidirectional; per-sequence or per-step outputs"),
    "tree": ("tree", "recursive network or Child-Sum Tree-LSTM (Tai et al. 2015) over trees, batched by level"),
    "transformer": ("transformer", "pre-norm Transformer: encoder classifier or causal decoder language model"),
}


MODEL_KINDS = Registry("model kind", [Entry(kind, f"deepzen.nn.{module}", desc) for kind, (module, desc) in MODELS.items()],
                       columns=(("kind", "name"), ("description", "summary")))


def available() -> dict[str, str]:
    """Model kinds with their one-line descriptions."""
    return MODEL_KINDS.available()


def _module(kind: str) -> Any:
    return MODEL_KINDS.load(kind)


def options(kind: str) -> dict[str, Option]:
    """The options of ``kind``: name -> :class:`Option` (``default``, ``allowed``, ``help``)."""
    return dict(_module(kind).OPTIONS)


def build(kind: str, info: DataInfo | dict[str, Any], **opts: Any) -> nn.Module:
    """Build a model of family ``kind`` for the data described by ``info``.

    Arguments:
        kind: one of :func:`available` (``mlp``, ``cnn``, ``rnn``, ``tree``, ``transformer``).
        info: the dataset's :class:`DataInfo` (or its ``to_dict()`` form).
        **opts: the family's options (see :func:`options`); the rest take their defaults.

    Returns:
        A plain ``torch.nn.Module`` whose ``forward`` takes the data's collated batch input.

    Raises:
        ValueError: unknown kind or option, a bad option value, or data the family cannot read
            (each message names the problem and what is allowed).
    """
    module = _module(kind)
    if isinstance(info, dict):
        info = DataInfo.from_dict(info)
    if not isinstance(info, DataInfo):
        raise ValueError(f"build needs a DataInfo (or its dict), got {type(info).__name__}")
    values = validate(kind.lower(), module.OPTIONS, opts)
    return module.build(info, **values)
