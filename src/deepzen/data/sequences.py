"""Synthetic sequence tasks for recurrent networks, generated from ``data_seed``.

- ``adding`` (Hochreiter & Schmidhuber 1997; Le et al. 2015): steps ``(value ~ U[0,1], marker)``, two
  markers set, one in each half; target ``(1,)`` = the sum of the two marked values. Predicting 1
  always gives MSE ~0.167, the baseline to beat.
- ``copy`` (Hochreiter & Schmidhuber 1997; Arjovsky et al. 2016): ``k`` symbols, ``delay`` blanks, a
  delimiter, ``k`` blanks; the label is blank everywhere except the last ``k`` steps, which must repeat
  the symbols. Memoryless baseline: cross entropy ``k log(S) / (delay + 2k + 1)``.
- ``parity``: a bit string of variable length; label = number of ones mod 2.
- ``sorting``: a variable-length sequence of integers; the label at step t is the t-th smallest.

Token ids: 0 is padding. Labels of the token tasks live in their own range ``0..num_classes-1``.
"""

from __future__ import annotations

import numpy as np
import torch

from deepzen.data.datasets import SequenceDataset
from deepzen.data.errors import DataError
from deepzen.data.splits import Splits, dataset_splits


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if value < 1:
            raise DataError(f"{name}={value}: must be a positive integer")


def adding_problem(n: int, length: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``(n, length, 2)`` and targets ``(n, 1)``."""
    values = rng.uniform(0, 1, size=(n, length))
    half = length // 2
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, length, size=n)
    markers = np.zeros((n, length))
    markers[np.arange(n), first] = 1
    markers[np.arange(n), second] = 1
    target = values[np.arange(n), first] + values[np.arange(n), second]
    return np.stack([values, markers], axis=-1), target[:, None]


def load_adding(val: float, test: float | None, seed: int, n: int = 5000, length: int = 50,
                data_seed: int = 0) -> Splits:
    _check_positive(n=n)
    if length < 2:
        raise DataError(f"length={length}: the adding problem needs at least 2 steps")
    x, y = adding_problem(n, length, np.random.default_rng(data_seed))
    xs = list(torch.as_tensor(x, dtype=torch.float32))
    ds = SequenceDataset(xs, torch.as_tensor(y, dtype=torch.float32))
    info = dict(task="regression", input_kind="sequence", input_shape=(length, 2), num_outputs=1,
                max_length=length)
    return dataset_splits("adding", ds, info, val, test, seed)


def copy_task(n: int, k: int, delay: int, symbols: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Tokens ``(n, k + delay + 1 + k)`` and labels of the same shape.

    Labels: 0 = blank, ``1..symbols`` = a symbol. Tokens: label + 1, delimiter ``symbols + 2``.
    """
    total = k + delay + 1 + k
    seq = rng.integers(1, symbols + 1, size=(n, k))
    labels = np.zeros((n, total), dtype=np.int64)
    labels[:, -k:] = seq
    tokens = np.ones((n, total), dtype=np.int64)  # blank = label 0 + 1
    tokens[:, :k] = seq + 1
    tokens[:, k + delay] = symbols + 2
    return tokens, labels


def load_copy(val: float, test: float | None, seed: int, n: int = 5000, k: int = 10, delay: int = 20,
              symbols: int = 8, data_seed: int = 0) -> Splits:
    _check_positive(n=n, k=k, delay=delay, symbols=symbols)
    tokens, labels = copy_task(n, k, delay, symbols, np.random.default_rng(data_seed))
    ds = SequenceDataset(list(torch.as_tensor(tokens)), list(torch.as_tensor(labels)))
    length = tokens.shape[1]
    info = dict(task="sequence_labeling", input_kind="tokens", vocab_size=symbols + 3,
                num_classes=symbols + 1, max_length=length,
                class_names=("blank", *(f"s{i}" for i in range(1, symbols + 1))))
    return dataset_splits("copy", ds, info, val, test, seed)


def _lengths(n: int, min_length: int, max_length: int, rng: np.random.Generator) -> np.ndarray:
    _check_positive(n=n, min_length=min_length)
    if max_length < min_length:
        raise DataError(f"max_length={max_length} is below min_length={min_length}")
    return rng.integers(min_length, max_length + 1, size=n)


def load_parity(val: float, test: float | None, seed: int, n: int = 5000, min_length: int = 1,
                max_length: int = 16, data_seed: int = 0) -> Splits:
    """Tokens: 1 = bit 0, 2 = bit 1. Label: parity of the bits."""
    rng = np.random.default_rng(data_seed)
    bits = [rng.integers(0, 2, size=t) for t in _lengths(n, min_length, max_length, rng)]
    ds = SequenceDataset([torch.as_tensor(b + 1) for b in bits],
                         torch.as_tensor([int(b.sum() % 2) for b in bits]))
    info = dict(task="classification", input_kind="tokens", vocab_size=3, num_classes=2,
                max_length=max_length, class_names=("even", "odd"))
    return dataset_splits("parity", ds, info, val, test, seed)


def load_sorting(val: float, test: float | None, seed: int, n: int = 5000, min_length: int = 5,
                 max_length: int = 10, values: int = 10, data_seed: int = 0) -> Splits:
    """Tokens: value + 1 for values ``0..values-1``. Labels at step t: the t-th smallest value."""
    _check_positive(values=values)
    rng = np.random.default_rng(data_seed)
    seqs = [rng.integers(0, values, size=t) for t in _lengths(n, min_length, max_length, rng)]
    ds = SequenceDataset([torch.as_tensor(s + 1) for s in seqs], [torch.as_tensor(np.sort(s)) for s in seqs])
    info = dict(task="sequence_labeling", input_kind="tokens", vocab_size=values + 1, num_classes=values,
                max_length=max_length)
    return dataset_splits("sorting", ds, info, val, test, seed)
