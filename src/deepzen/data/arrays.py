"""From numpy arrays to standardized in-memory splits: the path every dense dataset takes
(scikit-learn sets, MNIST-1D, regression generators, CSV, NPZ, image folders)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from deepzen.data.datasets import ArrayDataset
from deepzen.data.errors import check_finite, check_labels, check_same_length
from deepzen.data.scaling import apply_stats, fit_standardization, make_stats
from deepzen.data.splits import DEFAULT_TEST, Splits, split_indices
from deepzen.info import DataInfo


def array_splits(name: str, x: np.ndarray, y: np.ndarray, *, task: str, input_kind: str, val: float,
                 test: float | None, seed: int, scale: str | None = "feature", prescale: float = 1.0,
                 scale_target: bool = False, num_classes: int | None = None,
                 class_names: tuple[str, ...] | None = None,
                 test_arrays: tuple[np.ndarray, np.ndarray] | None = None,
                 extra: dict[str, Any] | None = None, stats_extra: dict[str, Any] | None = None,
                 indices: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None) -> Splits:
    """Split ``(x, y)``, fit scaling on the training split only, and wrap each split as a dataset.

    Args:
        scale: ``"feature"``, ``"channel"``, ``"global"`` standardization (see
            :func:`deepzen.data.scaling.fit_standardization`) or ``None``.
        prescale: factor applied before standardization (e.g. ``1/16`` for digits' 0..16 pixels).
        scale_target: standardize regression targets with training statistics too.
        test_arrays: a natural test split; when given and ``test`` is ``None`` it is used and the
            validation split is drawn from ``(x, y)``. With a ``test`` fraction both are pooled.
        indices: precomputed ``(train, val, test)`` indices (when preprocessing had to split first).
    """
    if test_arrays is not None and test is not None:
        x, y = np.concatenate([x, test_arrays[0]]), np.concatenate([y, test_arrays[1]])
        test_arrays = None
    parts = [(x, y)] + ([test_arrays] if test_arrays is not None else [])
    for px, py in parts:
        check_same_length(len(px), len(py), name)
        check_finite(np.asarray(px), f"{name}: the inputs (x)")
    x_all = np.concatenate([p[0] for p in parts]).astype(np.float64)
    y_all = np.concatenate([p[1] for p in parts])
    if task == "classification":
        num_classes = check_labels(y_all, num_classes, name)
        y_all = y_all.astype(np.int64)
    else:
        check_finite(np.asarray(y_all, dtype=np.float64), f"{name}: the targets (y)")
        y_all = np.asarray(y_all, dtype=np.float64).reshape(len(y_all), -1)

    if indices is not None:
        tr, va, te = indices
    elif test_arrays is None:
        tr, va, te = split_indices(len(x), val, DEFAULT_TEST if test is None else test, seed, name)
    else:
        tr, va, _ = split_indices(len(x), val, 0.0, seed, name)
        te = torch.arange(len(x), len(x_all))
    stats: dict[str, Any] | None = None
    if scale is not None:
        mean, std = fit_standardization(x_all[tr.numpy()] * prescale, scale)
        stats = make_stats(mean, std, prescale, per=scale, **(stats_extra or {}))
        x_all = apply_stats(x_all, stats)
    if scale_target and task == "regression":
        t_mean, t_std = fit_standardization(y_all[tr.numpy()], "feature")
        stats = {**(stats or {}), "target_mean": t_mean.tolist(), "target_std": t_std.tolist()}
        y_all = (y_all - t_mean) / t_std

    xt = torch.as_tensor(x_all, dtype=torch.float32)
    yt = torch.as_tensor(y_all, dtype=torch.long if task == "classification" else torch.float32)
    full = ArrayDataset(xt, yt)
    info = DataInfo(
        name=name, task=task, input_kind=input_kind, input_shape=tuple(int(d) for d in x.shape[1:]),
        num_classes=num_classes if task == "classification" else None,
        num_outputs=int(y_all.shape[1]) if task == "regression" else None,
        class_names=tuple(class_names) if class_names is not None else None, stats=stats,
        extra={"sizes": {"train": len(tr), "val": len(va), "test": len(te)}, **(extra or {})},
    )
    return Splits(full.subset(tr), full.subset(va) if len(va) else None,
                  full.subset(te) if len(te) else None, info)
