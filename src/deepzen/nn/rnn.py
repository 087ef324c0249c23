"""Recurrent networks: Elman (tanh), GRU (Cho et al. 2014) and LSTM (Hochreiter & Schmidhuber 1997)
cells from ``torch.nn``, stacked and optionally bidirectional, over tokens or real-valued steps.

Elman: h_t = tanh(W x_t + U h_{t-1} + b). Variable-length batches (``Sequences``) are packed
(``pack_padded_sequence``), so padding never enters the recurrence and every sequence's result is the
one it gets when run alone.

Outputs: classification / regression -> one vector per sequence (pooling = final state, or masked mean
/ max over steps); sequence_labeling / language_model -> one vector per step ``(B, T, out)``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from deepzen.info import DataInfo
from deepzen.nn import _options as opt
from deepzen.nn._common import (PER_STEP_TASKS, check_tokens, masked_max, masked_mean, output_size, refuse,
                                require_vocab, split, step_mask)
from deepzen.nn.init import SCHEMES, initialize
from deepzen.structures import Sequences

CELLS: dict[str, type[nn.RNNBase]] = {"simple": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}

OPTIONS: dict[str, opt.Option] = {
    "cell": opt.choice("lstm", tuple(CELLS), "recurrent cell: simple (Elman, tanh), gru or lstm"),
    "hidden_size": opt.integer(128, "hidden state size per direction", low=1),
    "layers": opt.integer(1, "stacked recurrent layers", low=1),
    "bidirectional": opt.boolean(False, "also run right-to-left and concatenate (not for language models)"),
    "embedding_dim": opt.integer(64, "token embedding size (token input only)", low=1),
    "pooling": opt.choice("last", ("last", "mean", "max"),
                          "sequence-level tasks: final hidden state, or mean / max over real steps"),
    "dropout": opt.real(0.0, "dropout between layers and before the output layer", 0.0, 1.0, high_open=True),
    "init": opt.choice("orthogonal", SCHEMES, "weight initialization (orthogonal recurrent weights)"),
}


class RNN(nn.Module):
    """Recurrent network with an output layer.

    Arguments:
        input_size: features per step (ignored for tokens, which use ``embedding_dim``).
        out_features: classes or regression outputs.
        vocab_size: token vocabulary (``None``: real-valued steps).
        per_step: one output per step (labelling, language model) instead of per sequence.
        channels_first: input is a signal ``(B, C, L)``, read as L steps of C features.
        Other arguments: see ``OPTIONS``.

    Input: ``(B, T)`` int64 tokens, ``(B, T, F)`` float, ``(B, C, L)`` signal, or ``Sequences``.
    Output: ``(B, out)`` or ``(B, T, out)`` (zeros before the head at padding steps).
    """

    def __init__(self, input_size: int, out_features: int, vocab_size: int | None = None, *,
                 per_step: bool = False, cell: str = "lstm", hidden_size: int = 128, layers: int = 1,
                 bidirectional: bool = False, embedding_dim: int = 64, pooling: str = "last",
                 dropout: float = 0.0, padding_index: int = 0, channels_first: bool = False) -> None:
        super().__init__()
        self.tokens = vocab_size is not None
        self.per_step, self.pooling, self.channels_first = per_step, pooling, channels_first
        self.embed = nn.Embedding(vocab_size, embedding_dim, padding_idx=padding_index) if self.tokens else None
        self.rnn = CELLS[cell](embedding_dim if self.tokens else input_size, hidden_size, num_layers=layers,
                               batch_first=True, bidirectional=bidirectional,
                               dropout=dropout if layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), out_features)

    def forward(self, x: Tensor | Sequences) -> Tensor:
        values, lengths = split(x)
        check_tokens("rnn", values, expect_tokens=self.tokens)
        if self.channels_first:
            values = values.transpose(1, 2)  # (B, C, L) -> (B, L, C)
        B, T = values.shape[:2]
        h = self.embed(values) if self.embed is not None else values  # (B, T, E)
        if lengths is not None:
            packed = pack_padded_sequence(h, lengths.cpu(), batch_first=True, enforce_sorted=False)
            out, state = self.rnn(packed)
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=T)  # (B, T, D*H)
        else:
            out, state = self.rnn(h)  # (B, T, D*H)
        if self.per_step:
            return self.head(self.dropout(out))  # (B, T, out)
        if self.pooling == "last":
            h_n = state[0] if isinstance(state, tuple) else state  # (layers*D, B, H), sorted back by torch
            dirs = 2 if self.rnn.bidirectional else 1
            pooled = torch.cat(list(h_n[-dirs:]), dim=-1)  # (B, D*H): last layer, each direction's end
        else:
            mask = step_mask(lengths, B, T, out.device)
            pooled = masked_mean(out, mask) if self.pooling == "mean" else masked_max(out, mask)
        return self.head(self.dropout(pooled))  # (B, out)


def build(info: DataInfo, **o: Any) -> RNN:
    """An :class:`RNN` for token, real-valued sequence or signal inputs."""
    per_step = info.task in PER_STEP_TASKS
    if info.task == "language_model" and o["bidirectional"]:
        raise refuse("rnn", "a bidirectional network reads the tokens it should predict",
                     "Use bidirectional=false for language models")
    vocab = None
    input_size = 0
    if info.input_kind == "tokens":
        vocab = require_vocab("rnn", info)
    elif info.input_kind in ("sequence", "signal"):
        if info.task == "language_model":
            raise refuse("rnn", f"a language model predicts token ids, but {info.input_kind} data holds real "
                                "features", "Use token data with a vocabulary")
        shape = info.input_shape
        feat = shape[-1] if info.input_kind == "sequence" else shape[0] if shape else None
        if feat is None or feat < 1:
            raise refuse("rnn", f"{info.input_kind} data with input_shape {shape} has no known feature size")
        input_size = int(feat)
    else:
        raise refuse("rnn", f"{info.input_kind} data is not a sequence",
                     "rnn reads tokens, sequences (T, F) or signals (C, L); use mlp, cnn or tree")
    model = RNN(input_size, output_size("rnn", info), vocab, per_step=per_step, cell=o["cell"],
                hidden_size=o["hidden_size"], layers=o["layers"], bidirectional=o["bidirectional"],
                embedding_dim=o["embedding_dim"], pooling=o["pooling"], dropout=o["dropout"],
                padding_index=info.padding_index, channels_first=info.input_kind == "signal")
    return initialize(model, o["init"], "tanh")
