"""Errors for bad data, and the checks that raise them.

Every message names the problem and the fix; nothing is dropped silently.
"""

from __future__ import annotations

import numpy as np


class DataError(ValueError):
    """Bad data or a bad data option (a ``ValueError``, so plain ``except ValueError`` catches it)."""


def check_finite(x: np.ndarray, what: str, fix: str = "clean or impute those values first") -> None:
    """Refuse NaN or inf in ``x``, naming how many and the first position."""
    if not np.issubdtype(x.dtype, np.number):
        return
    bad = ~np.isfinite(x)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        kind = "NaN" if np.isnan(x[first]) else "inf"
        raise DataError(f"{what} contains {int(bad.sum())} NaN/inf values (first: {kind} at index {first}); {fix}")


def check_same_length(x_len: int, y_len: int, what: str) -> None:
    """Inputs and targets must pair up one to one."""
    if x_len != y_len:
        raise DataError(
            f"{what}: {x_len} inputs but {y_len} targets; x and y must have the same number of samples"
        )


def check_labels(y: np.ndarray, num_classes: int | None, what: str) -> int:
    """Class labels must be integers in ``0..num_classes-1``; returns ``num_classes`` (inferred if ``None``)."""
    if y.size == 0:
        raise DataError(f"{what} has no samples")
    if not np.issubdtype(y.dtype, np.integer):
        if np.issubdtype(y.dtype, np.floating) and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
            y = y.astype(np.int64)
        else:
            raise DataError(f"{what}: class labels must be integers 0..K-1, got dtype {y.dtype}; "
                            "use task='regression' for real-valued targets")
    low, high = int(y.min()), int(y.max())
    if low < 0:
        raise DataError(f"{what}: label {low} is negative; class labels must be 0..K-1")
    if num_classes is None:
        return high + 1
    if high >= num_classes:
        raise DataError(f"{what}: label {high} is outside the class range 0..{num_classes - 1}; "
                        f"relabel the data or set num_classes >= {high + 1}")
    return num_classes
