"""Evaluate and predict with a finished run, rebuilt from its folder (``config.toml``, ``data_info.json``,
``checkpoints/best.pt``): what ``deepzen evaluate`` and ``deepzen predict`` do.

    >>> evaluate_run("runs/mlp-iris")                    # {"loss": ..., "accuracy": ...} on the test split
    >>> predict_run("runs/mlp-iris", "new.csv")          # writes new.predictions.csv

Files of new samples are read by :func:`deepzen.data.read_samples`, with the preprocessing fitted on
the run's training split (standardization; for a user's CSV also its categories and imputation values).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from deepzen.config import ExperimentConfig
from deepzen.data.errors import DataError
from deepzen.info import DataInfo
from deepzen.train.experiment import load_data, make_trainer, tensors_of
from deepzen.train.run_dir import RunDir
from deepzen.train.run_files import DATA_INFO, load_weights, read_data_info, read_run_config
from deepzen.train.trainer import Trainer

SPLITS = ("train", "val", "test")


def restore(run_dir: str | Path, which: str = "best") -> tuple[ExperimentConfig, DataInfo, Trainer]:
    """Config, data description and a Trainer holding the run's ``which`` weights (nothing written)."""
    config = read_run_config(run_dir)
    info = read_data_info(run_dir)
    if info is None:
        raise ValueError(f"{run_dir} has no {DATA_INFO}; was it written by deepzen train?")
    config.output.progress = "none"
    trainer = make_trainer(config, info, None)
    load_weights(trainer.model, RunDir(run_dir), which)
    return config, info, trainer


def evaluate_run(run_dir: str | Path, data: str | Path | None = None, *, split: str = "test",
                 checkpoint: str = "best") -> dict[str, float]:
    """Loss and metrics of a run's ``checkpoint`` weights on its ``split`` (rebuilt from the saved config
    and seed: the same samples as in training), or on a labelled file ``data`` (``.npz`` with ``x``, ``y``;
    ``.csv`` with the features and the target, see :func:`deepzen.data.read_samples`).
    """
    config, info, trainer = restore(run_dir, checkpoint)
    if data is None:
        if split not in SPLITS:
            raise ValueError(f"split {split!r}: allowed: {', '.join(repr(s) for s in SPLITS)}")
        dataset = getattr(load_data(config), split)
        if dataset is None:
            raise ValueError(f"run {Path(run_dir).name!r} has no {split} split (data.{split} was 0)")
        return trainer.evaluate(tensors_of(dataset))
    from deepzen import data as dzdata

    x, y_raw = dzdata.read_samples(data, info)
    if y_raw is None:
        raise DataError(f"{data}: evaluation needs targets; give a 'y' array (npz) or a target column (csv)")
    return trainer.evaluate((x, prepare_targets(y_raw, info, str(data))))


def predict_run(run_dir: str | Path, input_file: str | Path, output_file: str | Path | None = None, *,
                checkpoint: str = "best") -> Path:
    """Predictions of a run for the samples in ``input_file`` (CSV or NPZ of raw features, prepared as in
    training), written as CSV to ``output_file`` (default ``<input>.predictions.csv``).

    Columns: ``id`` (the sample's position in ``input_file``, from 0), then for classification
    ``prediction`` (class name or index), ``probability`` and one ``p_<class>`` column per class; for
    regression one column per output, in the original units.
    """
    from deepzen import data as dzdata

    _, info, trainer = restore(run_dir, checkpoint)
    x, _ = dzdata.read_samples(input_file, info)
    header, rows = prediction_rows(trainer.predict(x), info)
    header, rows = ["id", *header], [[i, *row] for i, row in enumerate(rows)]
    out = Path(output_file) if output_file is not None else Path(input_file).with_suffix(".predictions.csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return out


def prepare_targets(y_raw: Any, info: DataInfo, what: str) -> Tensor:
    """Raw targets -> what the loss saw in training: class indices ``(N,)`` (class names mapped by
    ``info.class_names``), or regression targets ``(N, D)`` standardized with the training statistics."""
    y = np.asarray(y_raw)
    if y.dtype.kind in "US":
        y = np.char.strip(y.astype(str))
    if info.task == "classification":
        return torch.as_tensor(_class_indices(y, info, what), dtype=torch.long)
    values = _numbers(y, what, "regression targets must be numbers")
    values = values.reshape(len(values), -1)
    stats = info.stats or {}
    if "target_mean" in stats:
        values = (values - np.asarray(stats["target_mean"])) / np.asarray(stats["target_std"])
    return torch.as_tensor(values, dtype=torch.float32)


def _class_indices(y: np.ndarray, info: DataInfo, what: str) -> np.ndarray:
    k = info.num_classes or 0
    names = list(info.class_names or ())
    if y.dtype.kind == "U" and names:
        # text labels are class names; numbers may still be indices, except for a run trained on a user's
        # CSV, whose class names are that file's own label spellings (which may look like "1", "2")
        if set(y) <= set(names):
            return np.array([names.index(v) for v in y])
        if "csv" in (info.stats or {}) or not all(_is_number(v) for v in y):
            unknown = sorted({str(v) for v in y} - set(names))
            raise DataError(f"{what}: unknown class names {unknown[:5]}; the run knows {names}")
    labels = _numbers(y, what, f"labels must be integers 0..{k - 1} for this run")
    if not np.all(np.isfinite(labels)) or np.any(labels != np.round(labels)) or labels.min() < 0 or labels.max() >= k:
        raise DataError(f"{what}: labels must be integers 0..{k - 1} for this run")
    return labels.astype(np.int64)


def _numbers(y: np.ndarray, what: str, problem: str) -> np.ndarray:
    try:
        return y.astype(np.float64)
    except ValueError:
        bad = next(str(v) for v in y if not _is_number(str(v)))
        raise DataError(f"{what}: {problem} (found {bad!r})") from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def prediction_rows(outputs: Any, info: DataInfo) -> tuple[list[str], list[list[Any]]]:
    """CSV header and rows for model outputs (see :func:`predict_run`)."""
    if not isinstance(outputs, Tensor):
        raise ValueError("predictions of this model are not one table (variable-size outputs)")
    outputs = outputs.float()
    if info.task == "classification":
        probs = torch.softmax(outputs, dim=-1)  # (N, C)
        best = probs.argmax(-1)  # (N,)
        names = list(info.class_names) if info.class_names else [str(c) for c in range(probs.shape[-1])]
        header = ["prediction", "probability", *(f"p_{n}" for n in names)]
        rows = [[names[int(k)], f"{float(p[k]):.6g}", *(f"{float(v):.6g}" for v in p)] for k, p in zip(best, probs)]
        return header, rows
    from deepzen import data as dzdata

    values = dzdata.unscale_targets(outputs.reshape(len(outputs), -1), info)  # (N, D) in original units
    header = ["prediction"] if values.shape[1] == 1 else [f"prediction_{i}" for i in range(values.shape[1])]
    return header, [[f"{float(v):.6g}" for v in row] for row in values]
