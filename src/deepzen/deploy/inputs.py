"""What users hand to ``LoadedRun.predict``, turned into the batch the model saw in training.

- a path (``str`` / ``Path``) to a ``.csv`` or ``.npz`` file: :func:`deepzen.data.read_samples`, as
  ``deepzen predict`` reads it (features standardized with the training statistics, CSV encoding applied);
- a DataFrame-like table (``.columns``) or a dict of columns: :func:`deepzen.data.prepare_table`;
- an array or tensor: raw features ``(N, *input_shape)`` (standardized here), token ids ``(N, T)``, or
  real-valued steps ``(N, T, F)``;
- token inputs of different lengths: a list of id lists, or of strings for a text model (tokenized like
  its training text, unknown tokens -> id 1), padded into a ``Sequences`` batch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from deepzen.data import DataError, prepare, prepare_table, read_samples
from deepzen.data.scaling import apply_stats
from deepzen.info import DataInfo
from deepzen.structures import Sequences

ACCEPTED = ("a .csv/.npz path, an array or tensor, a DataFrame-like table or dict of columns, or a list of "
            "token sequences")


def model_inputs(data: Any, info: DataInfo) -> Tensor | Sequences:
    """``data`` (see the module docstring) -> ``(N, ...)`` tensor or a padded ``Sequences`` batch."""
    if isinstance(data, (str, Path)):
        return read_samples(data, info)[0]
    if isinstance(data, Sequences):
        return data
    if isinstance(data, dict) or hasattr(data, "columns"):
        return prepare_table(data, info)
    if info.input_kind == "tree":
        raise DataError("tree models predict from Trees batches (deepzen.data.collate_trees); "
                        f"got {type(data).__name__}")
    if info.input_kind in ("tokens", "sequence"):
        return _sequences(data, info)
    if isinstance(data, (np.ndarray, Tensor, list, tuple)):
        return prepare(np.asarray(data, dtype=np.float64), info)
    raise DataError(f"cannot predict from {type(data).__name__}; give {ACCEPTED}")


def _sequences(data: Any, info: DataInfo) -> Tensor | Sequences:
    """Token ids ``(N, T)`` / steps ``(N, T, F)``, or a ragged list of them padded after each end."""
    if isinstance(data, (str, bytes)):
        data = [data]
    if isinstance(data, (np.ndarray, Tensor)):
        rows = list(torch.as_tensor(np.asarray(data)))
    elif isinstance(data, (list, tuple)):
        rows = [_one_sequence(item, info) for item in data]
    else:
        raise DataError(f"cannot predict from {type(data).__name__}; give {ACCEPTED}")
    if not rows:
        raise DataError("no samples to predict")
    rows = [_check_row(r, info) for r in rows]
    lengths = torch.tensor([len(r) for r in rows], dtype=torch.long)  # (N,)
    values = torch.nn.utils.rnn.pad_sequence(rows, batch_first=True, padding_value=info.padding_index)
    if bool((lengths == values.shape[1]).all()):
        return values  # (N, T[, F]): every sequence full length, nothing to mask
    return Sequences(values, lengths)


def _one_sequence(item: Any, info: DataInfo) -> Tensor:
    if isinstance(item, str):
        vocab = info.extra.get("vocab")
        if vocab is None:
            raise DataError(f"{info.name!r} has no vocabulary of strings; give token ids")
        from deepzen.data.text import encode, tokenize

        return encode(tokenize(item, info.extra.get("unit", "char"), bool(info.extra.get("lowercase"))), vocab)
    return torch.as_tensor(np.asarray(item))


def _check_row(row: Tensor, info: DataInfo) -> Tensor:
    if info.input_kind == "tokens":
        if torch.is_floating_point(row) or row.dim() != 1:
            raise DataError(f"token inputs must be 1-D integer ids per sample; got {row.dtype} of shape "
                            f"{tuple(row.shape)}")
        vocab = info.vocab_size or 0
        if len(row) and (int(row.min()) < 0 or int(row.max()) >= vocab):
            raise DataError(f"token ids must be in 0..{vocab - 1} for this model; got {int(row.min())}.."
                            f"{int(row.max())}")
        return row.long()
    features = (info.input_shape or (None, None))[-1]
    if row.dim() != 2 or (features is not None and row.shape[1] != features):
        raise DataError(f"sequence inputs must be (T, {features}) per sample; got {tuple(row.shape)}")
    return torch.as_tensor(apply_stats(row.numpy(), info.stats), dtype=torch.float32)
