"""Standardization fitted on the training split only, stored in ``info.stats`` and applied again to
validation, test and prediction inputs.

``x' = (x * prescale - mean) / std`` with ``mean``, ``std`` per feature (tabular), per channel (image,
signal) or one number; a feature with ``std == 0`` on the training split keeps ``std = 1``. Regression
targets may be scaled the same way (``target_mean``, ``target_std``); :func:`unscale_targets` undoes it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from deepzen.data.errors import DataError, check_finite
from deepzen.info import DataInfo


def fit_standardization(x: np.ndarray, per: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of training inputs ``x`` ``(N, ...)``, shaped to broadcast against one sample.

    ``per``: ``"feature"`` (every position of a sample), ``"channel"`` (axis 1 of ``(N, C, ...)``) or
    ``"global"`` (one number).
    """
    x = np.asarray(x, dtype=np.float64)
    if per == "feature":
        axes: tuple[int, ...] = (0,)
    elif per == "channel":
        axes = (0, *range(2, x.ndim))
    elif per == "global":
        axes = tuple(range(x.ndim))
    else:
        raise ValueError(f"per={per!r}; allowed: 'feature', 'channel', 'global'")
    mean = x.mean(axis=axes, keepdims=True)[0]
    std = x.std(axis=axes, keepdims=True)[0]
    std[std < 1e-12] = 1.0
    return mean, std


def make_stats(mean: np.ndarray, std: np.ndarray, prescale: float = 1.0, **more: Any) -> dict[str, Any]:
    """The JSON-serializable ``info.stats`` dict."""
    return {"mean": mean.tolist(), "std": std.tolist(), "prescale": float(prescale), **more}


def apply_stats(x: np.ndarray, stats: dict[str, Any] | None) -> np.ndarray:
    """``(x * prescale - mean) / std`` with the stored training statistics (identity without stats)."""
    x = np.asarray(x, dtype=np.float64)
    if not stats or "mean" not in stats:
        return x
    return (x * stats.get("prescale", 1.0) - np.asarray(stats["mean"])) / np.asarray(stats["std"])


def prepare(x_raw: Any, info: DataInfo) -> torch.Tensor:
    """Raw features of new samples -> the float32 model input the training data had.

    ``x_raw`` is ``(N, *input_shape)`` or ``(N, prod(input_shape))`` (a flat CSV row per sample);
    the training split's statistics from ``info.stats`` are applied. For CSV files with categorical
    columns use :func:`deepzen.data.prepare_file`.
    """
    if info.input_kind not in ("tabular", "image", "signal"):
        raise DataError(f"prepare() handles tabular, image and signal inputs; {info.name!r} has "
                        f"{info.input_kind!r} inputs, which are built by the dataset's own tokenizer")
    x = np.asarray(x_raw, dtype=np.float64)
    shape = tuple(info.input_shape or ())
    size = int(np.prod(shape)) if shape else 1
    if x.ndim == len(shape):
        x = x[None]  # one sample
    if x.size % size or (x.shape[1:] != shape and int(np.prod(x.shape[1:])) != size):
        raise DataError(f"prepare(): inputs of shape {x.shape} do not fit samples of shape {shape} "
                        f"({size} values each) that {info.name!r} was trained on")
    x = x.reshape(len(x), *shape)
    check_finite(x, "prediction inputs")
    return torch.as_tensor(apply_stats(x, info.stats), dtype=torch.float32)


def unscale_targets(y: Any, info: DataInfo) -> torch.Tensor:
    """Regression outputs in standardized units -> original units (identity if targets were not scaled)."""
    y = torch.as_tensor(y, dtype=torch.float32)
    stats = info.stats or {}
    if "target_mean" not in stats:
        return y
    return y * torch.tensor(stats["target_std"]) + torch.tensor(stats["target_mean"])
