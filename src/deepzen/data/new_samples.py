"""New samples from a file, prepared exactly as the training data were: the input side of prediction and
of evaluation on a labelled file.

    x, y_raw = read_samples("new.csv", info)   # model inputs (N, ...), raw targets (N,) or None

* Data loaded from a user's CSV (``info.stats["csv"]``): the stored schema picks the feature columns by
  name (header required, any order, the target column optional), one-hot encodes text columns with the
  training categories (a category never seen in training is an error) and imputes missing cells with the
  training values (:func:`deepzen.data.csv_file.prepare_csv`).
* Other tabular, image and signal data, ``.csv``: a header row is optional; with one, the training
  ``feature_names`` (when known) pick the columns and the target is ``extra["target"]`` or the one
  remaining column; without names, as many columns as features, or one more (the target, last).
* ``.npz``: an array ``x`` (or ``X``, ``inputs``, ``features``, or the only array) ``(N, *input_shape)``
  or ``(N, prod(input_shape))``, optional targets ``y`` (or ``Y``, ``targets``, ``labels``).

Features are standardized with the training split's statistics (``x' = (x * prescale - mean) / std``,
:func:`deepzen.data.prepare`). Targets come back raw (text or numbers); turning class names into
indices or standardizing regression targets is the caller's step.
"""

from __future__ import annotations

import csv
from pathlib import Path

from typing import Any

import numpy as np
import torch

from deepzen.data.csv_file import encode_features, prepare_csv
from deepzen.data.errors import DataError, check_finite, check_same_length
from deepzen.data.scaling import apply_stats, prepare
from deepzen.info import DataInfo

X_KEYS = ("x", "X", "inputs", "features")
Y_KEYS = ("y", "Y", "targets", "labels")
FILE_KINDS = ("tabular", "image", "signal")


def read_samples(path: str | Path, info: DataInfo, x_key: str | None = None,
                 y_key: str | None = None) -> tuple[torch.Tensor, np.ndarray | None]:
    """Model inputs (float32, training statistics applied) and raw targets (or ``None``) of a
    ``.csv`` or ``.npz`` file, for a model trained on data ``info`` describes (see the module doc).
    ``x_key`` / ``y_key`` name the NPZ arrays when they are not among the usual names."""
    file = Path(path)
    if not file.is_file():
        raise DataError(f"no file at {file}; check the path")
    if info.input_kind not in FILE_KINDS:
        raise DataError(f"files of raw features work for tabular, image and signal data; {info.name!r} has "
                        f"{info.input_kind!r} inputs")
    suffix = file.suffix.lower()
    if suffix == ".npz":
        x, y = _npz_samples(file, x_key, y_key)
        return prepare(x, info), y
    if suffix != ".csv":
        raise DataError(f"{file}: unsupported file type {suffix!r}; allowed: .csv, .npz")
    if info.stats and "csv" in info.stats:
        x_csv, y = prepare_csv(file, info.stats)
        return torch.as_tensor(x_csv, dtype=torch.float32), y
    x, y = _plain_csv(file, info)
    return prepare(x, info), y


def prepare_file(path: str | Path, info: DataInfo, x_key: str | None = None) -> torch.Tensor:
    """Model inputs for new samples stored in a CSV or NPZ file (:func:`read_samples` without targets)."""
    return read_samples(path, info, x_key=x_key)[0]


def prepare_table(table: Any, info: DataInfo) -> torch.Tensor:
    """Model inputs for a table of new samples: a DataFrame-like object (pandas, polars: ``columns`` and
    column access by name) or a ``{column: values}`` dict, prepared like a CSV file with that header
    (stored encoding of a user's CSV; else the training ``feature_names``, or every column in order)."""
    names = [str(c) for c in (table.keys() if isinstance(table, dict) else table.columns)]
    columns = {name: [str(v).strip() for v in _column(table, name)] for name in names}
    if info.stats and "csv" in info.stats:
        x = encode_features(columns, info.stats["csv"], "table", unknown="error")
        check_finite(x, "table: the features")
        return torch.as_tensor(apply_stats(x, info.stats), dtype=torch.float32)
    wanted = [str(n) for n in info.extra.get("feature_names") or []]
    if wanted and all(n in columns for n in wanted):
        names = wanted
    try:
        x = np.array([[float(v) for v in columns[n]] for n in names], dtype=np.float64).T  # (N, F)
    except ValueError as err:
        raise DataError(f"table: feature values must be numbers ({err})") from None
    return prepare(x, info)


def _column(table: Any, name: str) -> list[Any]:
    values = table[name]
    return list(values.to_list() if hasattr(values, "to_list") else values)


def _npz_samples(file: Path, x_key: str | None, y_key: str | None) -> tuple[np.ndarray, np.ndarray | None]:
    with np.load(file, allow_pickle=False) as arrays:
        names = list(arrays.files)
        if x_key is not None and x_key not in names:
            raise DataError(f"{file.name} has no array {x_key!r}; it holds {', '.join(names)}")
        if y_key is not None and y_key not in names:
            raise DataError(f"{file.name} has no array {y_key!r}; it holds {', '.join(names)}")
        x_name = x_key or next((k for k in X_KEYS if k in names), names[0] if len(names) == 1 else None)
        if x_name is None:
            raise DataError(f"{file.name}: expected an array named 'x' (and 'y' for targets); it holds "
                            f"{', '.join(names)}")
        y_name = y_key or next((k for k in Y_KEYS if k in names), None)
        x, y = arrays[x_name], (arrays[y_name] if y_name is not None else None)
    if y is not None:
        check_same_length(len(x), len(y), file.name)
    return x, y


def _plain_csv(file: Path, info: DataInfo) -> tuple[np.ndarray, np.ndarray | None]:
    """Raw ``(x (N, F), y or None)`` of a CSV without a stored schema (header optional)."""
    with file.open(newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.reader(handle) if r]
    if not rows:
        raise DataError(f"{file} is empty")
    header = None if all(_is_number(c) for c in rows[0]) else [c.strip() for c in rows[0]]
    body = rows[1:] if header is not None else rows
    names = [str(n) for n in info.extra.get("feature_names") or []]
    target_name = info.extra.get("target")
    if header is not None and names and all(n in header for n in names):
        x_cols = [header.index(n) for n in names]
        target = target_name if target_name in header else next((h for h in header if h not in names), None)
        y_col = header.index(target) if target is not None else None
    else:
        shape = [d for d in (info.input_shape or ()) if d is not None]
        n_features = int(np.prod(shape)) if shape else 1
        width = len(body[0]) if body else 0
        if width not in (n_features, n_features + 1):
            raise DataError(f"{file}: {width} columns, but the run was trained on {n_features} features "
                            f"(give {n_features} columns, or {n_features + 1} with the target last)")
        x_cols, y_col = list(range(n_features)), (n_features if width == n_features + 1 else None)
    try:
        x = np.array([[float(r[c]) for c in x_cols] for r in body], dtype=np.float64)
    except (ValueError, IndexError) as err:
        raise DataError(f"{file}: feature values must be numbers in every row ({err})") from None
    if y_col is None:
        return x, None
    values = [r[y_col].strip() for r in body]
    return x, (np.array([float(v) for v in values]) if all(_is_number(v) for v in values) else np.array(values))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
