"""Users' own data: a path (CSV, NumPy ``.npz``, image folder, text file) or a ``torch.utils.data.Dataset``.

NPZ: arrays ``x`` ``(N, ...)`` and ``y`` ``(N,)`` or ``(N, D)`` (other names via ``x_key``, ``y_key``);
optional ``x_test``, ``y_test`` are used as the test split. ``x`` of 2, 3, 4 dimensions is tabular,
signal ``(C, L)`` or image ``(C, H, W)``; standardized per feature / per channel with training statistics.
Integer ``y`` is classification (labels ``0..K-1``), real ``y`` regression (standardized targets).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, Subset

from deepzen.data.arrays import array_splits
from deepzen.data.csv_file import load_csv
from deepzen.data.errors import DataError, check_labels
from deepzen.data.images import load_image_folder
from deepzen.data.splits import DEFAULT_TEST, Splits, split_indices
from deepzen.data.text import load_text
from deepzen.info import DataInfo

KIND_BY_NDIM = {1: "tabular", 2: "tabular", 3: "signal", 4: "image"}
SCALE_BY_KIND = {"tabular": "feature", "signal": "channel", "image": "channel"}


def _npz_arrays(path: Path, x_key: str, y_key: str) -> tuple[np.ndarray, np.ndarray, Any]:
    with np.load(path, allow_pickle=False) as data:
        for key in (x_key, y_key):
            if key not in data.files:
                raise DataError(f"{path.name} has no array {key!r}; it holds {', '.join(data.files)}. "
                                "Name them with x_key=..., y_key=...")
        test = (data["x_test"], data["y_test"]) if {"x_test", "y_test"} <= set(data.files) else None
        return data[x_key], data[y_key], test


def load_npz(path: str | Path, val: float, test: float | None, seed: int, x_key: str = "x", y_key: str = "y",
             task: str | None = None, num_classes: int | None = None) -> Splits:
    file = Path(path)
    if not file.is_file():
        raise DataError(f"NPZ file {str(file)!r} does not exist; check the path")
    x, y, test_arrays = _npz_arrays(file, x_key, y_key)
    if x.ndim not in KIND_BY_NDIM:
        raise DataError(f"{file.name}: x has shape {x.shape}; expected (N, F), (N, C, L) or (N, C, H, W)")
    if x.ndim == 1:
        x = x[:, None]
    if test_arrays is not None and test_arrays[0].ndim == 1:
        test_arrays = (test_arrays[0][:, None], test_arrays[1])
    if task is None:
        task = "classification" if np.issubdtype(y.dtype, np.integer) or num_classes else "regression"
    kind = KIND_BY_NDIM[x.ndim]
    return array_splits(file.stem, x, y, task=task, input_kind=kind, val=val, test=test, seed=seed,
                        scale=SCALE_BY_KIND[kind], scale_target=True, num_classes=num_classes,
                        test_arrays=test_arrays)


def _infer_info(dataset: Dataset, name: str) -> tuple[DataInfo, int]:
    x, y = dataset[0]
    x, y = torch.as_tensor(x), torch.as_tensor(y)
    if x.is_floating_point() and x.dim() in (1, 2, 3):
        kind = {1: "tabular", 2: "signal", 3: "image"}[x.dim()]
    else:
        raise DataError(f"cannot infer the input kind of {name} from a sample of dtype {x.dtype} and shape "
                        f"{tuple(x.shape)}; pass info=DataInfo(...)")
    if y.is_floating_point():
        return DataInfo(name, "regression", kind, tuple(x.shape), num_outputs=max(1, y.numel())), 0
    labels = np.array([int(torch.as_tensor(dataset[i][1])) for i in range(len(dataset))])  # type: ignore[arg-type]
    k = check_labels(labels, None, name)
    return DataInfo(name, "classification", kind, tuple(x.shape), num_classes=k), k


def load_torch_dataset(dataset: Dataset, val: float, test: float | None, seed: int,
                       info: DataInfo | None = None) -> Splits:
    """Random ``Subset`` splits of any map-style dataset, used as is (no scaling).

    Without ``info`` it is inferred from the first sample (float ``x`` of 1, 2, 3 dims; integer labels
    scanned for the number of classes, or float targets). With a classification ``info`` every label is
    checked against ``num_classes``.
    """
    name = type(dataset).__name__
    try:
        n = len(dataset)  # type: ignore[arg-type]
    except TypeError as err:
        raise DataError(f"{name} has no len(); deepzen splits map-style datasets only") from err
    if n == 0:
        raise DataError(f"{name} is empty")
    if info is None:
        info, _ = _infer_info(dataset, name)
    elif info.task == "classification" and info.input_kind != "tree" and info.num_classes:
        labels = np.array([int(torch.as_tensor(dataset[i][1])) for i in range(n)])
        check_labels(labels, info.num_classes, name)
    tr, va, te = split_indices(n, val, DEFAULT_TEST if test is None else test, seed, name)
    sizes = {"train": len(tr), "val": len(va), "test": len(te)}
    info = DataInfo.from_dict({**info.to_dict(), "extra": {**info.extra, "sizes": sizes}})
    subset = lambda idx: Subset(dataset, idx.tolist()) if len(idx) else None  # noqa: E731
    return Splits(Subset(dataset, tr.tolist()), subset(va), subset(te), info)


def load_path(path: str | Path, val: float, test: float | None, seed: int, **options: Any) -> Splits:
    """Dispatch on the path: a folder of class subfolders, ``.csv``, ``.npz``, or ``.txt``."""
    p = Path(path)
    if p.is_dir():
        return load_image_folder(p, val, test, seed, **options)
    if not p.exists():
        raise DataError(f"{str(p)!r} does not exist; check the path (built-in dataset names are listed by "
                        "deepzen.data.available())")
    suffix = p.suffix.lower()
    if suffix == ".csv":
        return load_csv(p, val, test, seed, **options)
    if suffix == ".npz":
        return load_npz(p, val, test, seed, **options)
    if suffix == ".txt":
        return load_text(val, test, seed, path=str(p), **options)
    raise DataError(f"unsupported file type {suffix!r} for {p.name}; deepzen reads .csv, .npz, .txt files "
                    "and image folders (root/<class>/<images>)")
