"""CSV files: a header row, one sample per row, one target column.

Numeric columns stay numbers; text columns are one-hot encoded (``categorical="onehot"``, categories
taken from the training rows; a category seen only in the validation or test rows encodes as all zeros,
while in new samples to predict (:func:`prepare_csv`) it is an error) or refused
(``categorical="error"``). Missing cells (empty, ``NA``, ``NaN``, ``?``, ``null``, ...) are refused
(``missing="error"``) or imputed (``missing="impute"``: training mean for numbers, most frequent training
value for text). The target column may never have missing cells. All fitted values (categories,
imputation, standardization) come from the training rows and are stored in ``info.stats``.

Task (unless given): a text target, or integers with at most 20 distinct values, is classification
(classes sorted, ``class_names`` their original spelling); any other numeric target is regression.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from deepzen._suggest import did_you_mean
from deepzen.data.arrays import array_splits
from deepzen.data.errors import DataError, check_finite
from deepzen.data.scaling import apply_stats
from deepzen.data.splits import DEFAULT_TEST, Splits, split_indices

MISSING = {"", "na", "nan", "n/a", "null", "none", "?", "-"}
MAX_AUTO_CLASSES = 20


def read_table(path: str | Path, delimiter: str = ",") -> tuple[list[str], dict[str, list[str]]]:
    """Header and columns (as strings) of a CSV file; every row must have the header's width."""
    file = Path(path)
    if not file.is_file():
        raise DataError(f"CSV file {str(file)!r} does not exist; check the path")
    with file.open(newline="", encoding="utf-8") as f:
        rows = [r for r in csv.reader(f, delimiter=delimiter) if r]
    if len(rows) < 2:
        raise DataError(f"{file.name}: needs a header row and at least one data row, found {len(rows)} rows")
    header = [h.strip() for h in rows[0]]
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise DataError(f"{file.name} line {line}: {len(row)} fields but the header has {len(header)}; "
                            "fix the row or the delimiter")
    return header, {h: [r[i].strip() for r in rows[1:]] for i, h in enumerate(header)}


def _is_missing(cell: str) -> bool:
    return cell.lower() in MISSING


def _as_numbers(cells: list[str]) -> np.ndarray | None:
    """Floats with NaN for missing cells, or ``None`` if some cell is text."""
    try:
        return np.array([np.nan if _is_missing(c) else float(c) for c in cells])
    except ValueError:
        return None


def _missing_error(column: str, rows: np.ndarray, file: str, fix: str) -> DataError:
    shown = ", ".join(str(int(r) + 2) for r in rows[:5])
    return DataError(f"{file}: column {column!r} has {len(rows)} missing values (lines {shown}"
                     f"{', ...' if len(rows) > 5 else ''}); {fix}")


def encode_features(columns: dict[str, list[str]], fitted: dict[str, Any], file: str,
                    unknown: str = "zeros") -> np.ndarray:
    """Features ``(N, F)`` from raw columns with the training-split encoding in ``fitted``; a category
    the training rows never had encodes as all zeros (``unknown="zeros"``) or is refused (``"error"``)."""
    blocks = []
    for name in fitted["columns"]:
        if name not in columns:
            raise DataError(f"{file}: column {name!r} is missing{did_you_mean(name, columns)}; the model was "
                            f"trained on columns {', '.join(fitted['columns'])}")
        cells = columns[name]
        missing = np.array([_is_missing(c) for c in cells])
        if missing.any():
            if name not in fitted["impute"]:
                raise _missing_error(name, np.flatnonzero(missing), file,
                                     "fill them in, or load with missing='impute'")
            cells = [fitted["impute"][name] if m else c for c, m in zip(cells, missing)]
        if name in fitted["categorical"]:
            cats = fitted["categorical"][name]
            if unknown == "error":
                _refuse_unknown_categories(name, cells, cats, file)
            blocks.append(np.array([[c == k for k in cats] for c in cells], dtype=np.float64).reshape(len(cells), -1))
        else:
            nums = _as_numbers([str(c) for c in cells])
            if nums is None:
                raise DataError(f"{file}: column {name!r} holds text but was numeric in training")
            blocks.append(nums[:, None])
    return np.concatenate(blocks, axis=1)


def _refuse_unknown_categories(column: str, cells: list[str], categories: list[str], file: str) -> None:
    known = set(categories)
    lines = [i + 2 for i, c in enumerate(cells) if c not in known]
    if lines:
        first = cells[lines[0] - 2]
        raise DataError(f"{file} line {lines[0]}: column {column!r} has category {first!r}, which the training "
                        f"rows never had{did_you_mean(first, categories) or '.'} Known: {', '.join(categories)}"
                        f"{f' ({len(lines)} rows in all)' if len(lines) > 1 else ''}")


def fit_encoding(columns: dict[str, list[str]], names: list[str], train_rows: np.ndarray, categorical: str,
                 missing: str, file: str) -> dict[str, Any]:
    """Categories and imputation values from the training rows."""
    fitted: dict[str, Any] = {"columns": names, "categorical": {}, "impute": {}}
    for name in names:
        cells = columns[name]
        nums = _as_numbers(cells)
        if nums is None and categorical != "onehot":
            example = next(c for c in cells if _as_numbers([c]) is None)
            raise DataError(f"{file}: column {name!r} holds text (e.g. {example!r}); load with "
                            "categorical='onehot' to encode it, or drop the column")
        train_cells = [cells[i] for i in train_rows if not _is_missing(cells[i])]
        if any(_is_missing(c) for c in cells) and missing == "impute":
            if not train_cells:
                raise DataError(f"{file}: column {name!r} has no values in the training rows to impute from")
            fitted["impute"][name] = (str(float(np.mean([float(c) for c in train_cells]))) if nums is not None
                                      else Counter(train_cells).most_common(1)[0][0])
        if nums is None:
            fitted["categorical"][name] = sorted(set(train_cells))
    return fitted


def _target(cells: list[str], name: str, task: str | None, num_classes: int | None,
            file: str) -> tuple[np.ndarray, str, tuple[str, ...] | None]:
    missing = np.flatnonzero([_is_missing(c) for c in cells])
    if len(missing):
        raise _missing_error(name, missing, file, "targets are never imputed; fill them in or remove those rows")
    nums = _as_numbers(cells)
    if task is None:
        integral = nums is not None and np.all(nums == np.round(nums))
        task = "classification" if nums is None or (integral and len(set(cells)) <= MAX_AUTO_CLASSES) else "regression"
    if task == "regression":
        if nums is None:
            raise DataError(f"{file}: target column {name!r} holds text; regression needs numbers")
        return nums, task, None
    if task != "classification":
        raise DataError(f"task={task!r}; allowed for CSV files: 'classification', 'regression'")
    if num_classes is not None:  # labels are already 0..K-1
        if nums is None:
            raise DataError(f"{file}: num_classes given but target column {name!r} holds text labels")
        return nums, task, None
    classes = sorted(set(cells), key=lambda c: (float(c), c) if nums is not None else (0.0, c))
    index = {c: i for i, c in enumerate(classes)}
    return np.array([index[c] for c in cells]), task, tuple(classes)


def load_csv(path: str | Path, val: float, test: float | None, seed: int, target: str | None = None,
             task: str | None = None, categorical: str = "onehot", missing: str = "error",
             num_classes: int | None = None, delimiter: str = ",") -> Splits:
    """Splits of a CSV file; ``target`` defaults to the last column."""
    if categorical not in ("onehot", "error"):
        raise DataError(f"categorical={categorical!r}; allowed: 'onehot', 'error'")
    if missing not in ("error", "impute"):
        raise DataError(f"missing={missing!r}; allowed: 'error', 'impute'")
    file = Path(path).name
    header, columns = read_table(path, delimiter)
    target = header[-1] if target is None else target
    if target not in columns:
        raise DataError(f"{file}: unknown target column {target!r}{did_you_mean(target, header)} "
                        f"Columns: {', '.join(header)}")
    names = [h for h in header if h != target]
    if not names:
        raise DataError(f"{file}: no feature columns besides the target {target!r}")
    y, task, class_names = _target(columns[target], target, task, num_classes, file)
    n = len(y)
    indices = split_indices(n, val, DEFAULT_TEST if test is None else test, seed, file)
    fitted = fit_encoding(columns, names, indices[0].numpy(), categorical, missing, file)
    x = encode_features(columns, fitted, file)
    return array_splits(Path(path).stem, x, y, task=task, input_kind="tabular", val=val, test=test, seed=seed,
                        scale_target=True, num_classes=num_classes, class_names=class_names, indices=indices,
                        stats_extra={"csv": {**fitted, "target": target, "delimiter": delimiter}})


def prepare_csv(path: str | Path, stats: dict[str, Any]) -> tuple[np.ndarray, np.ndarray | None]:
    """New samples of a CSV file read with the stored training encoding ``stats["csv"]``: standardized
    features ``(N, F)`` (unknown categories refused) and the raw target cells ``(N,)`` as text, or
    ``None`` when the file has no target column."""
    fitted = stats["csv"]
    file = Path(path).name
    _, columns = read_table(path, fitted.get("delimiter", ","))
    x = encode_features(columns, fitted, file, unknown="error")
    check_finite(x, f"{file}: the features")
    target = fitted.get("target")
    y = np.array(columns[target], dtype=str) if target in columns else None
    return apply_stats(x, stats), y
