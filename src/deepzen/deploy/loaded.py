"""``deepzen.load``: a trained run (or a safetensors export of one) as a ready object, in one line.

    >>> run = deepzen.load("runs/mlp-iris")              # best checkpoint, eval mode, on the CPU
    >>> run.predict("new.csv").labels                    # class names, as deepzen predict writes them
    >>> run.predict(np_array).probabilities              # (N, C)
    >>> run.model, run.info, run.preprocessing           # torch module, DataInfo, fitted statistics

Weights load with ``torch.load(weights_only=True)`` (safetensors for an export); a checkpoint written by
another deepzen version, or weights that no longer fit the model its config builds, stop with a message
naming both versions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

import deepzen
from deepzen.config import ConfigError, ExperimentConfig, parse_toml, validate
from deepzen.deploy.inputs import model_inputs
from deepzen.info import DataInfo
from deepzen.train.checkpoint import FORMAT, load_checkpoint
from deepzen.train.device import resolve_device
from deepzen.train.experiment import build_model
from deepzen.train.run_files import read_data_info, read_run_config
from deepzen.train.run_dir import RunDir

#: Format tag of the JSON written next to every export.
EXPORT_FORMAT = "deepzen.export/1"
CHECKPOINTS = ("best", "last")


@dataclass
class Predictions:
    """What :meth:`LoadedRun.predict` returns.

    Attributes:
        labels: classification: class names (or indices) ``(N,)``; per-step tasks ``(N, T)``; else ``None``.
        probabilities: softmax of the outputs ``(N, C)`` / ``(N, T, C)``; ``None`` for regression.
        values: regression outputs in the targets' original units ``(N, D)``; ``None`` otherwise.
    """

    labels: np.ndarray | None = None
    probabilities: np.ndarray | None = None
    values: np.ndarray | None = None


@dataclass
class LoadedRun:
    """A trained model with what it needs to predict (see the module docstring).

    Attributes:
        model: the network, in eval mode, on ``device``.
        info: the :class:`~deepzen.info.DataInfo` it was trained for.
        config: the resolved experiment config.
        device: where the model lives.
        source: the run folder or export file it came from.
    """

    model: nn.Module
    info: DataInfo
    config: ExperimentConfig
    device: torch.device
    source: Path

    @property
    def preprocessing(self) -> dict[str, Any]:
        """Statistics fitted on the training split (standardization, CSV encoding) and the vocabulary."""
        vocab = self.info.extra.get("vocab")
        return {**(self.info.stats or {}), **({"vocab": vocab} if vocab is not None else {})}

    def inputs(self, data: Any) -> Any:
        """``data`` (file, array, table, token lists) as the model's input batch (see :func:`model_inputs`)."""
        return model_inputs(data, self.info)

    @torch.no_grad()
    def outputs(self, data: Any, batch_size: int = 256) -> Tensor:
        """Raw model outputs (logits, or standardized regression values) for ``data``, on the CPU."""
        x = self.inputs(data)
        parts = [self.model(_slice(x, i, batch_size).to(self.device)).float().cpu()
                 for i in range(0, len(x), batch_size)]
        return torch.cat(parts) if parts else torch.empty(0)

    def predict(self, data: Any, batch_size: int = 256) -> Predictions:
        """Class labels and probabilities, or regression values in original units, for ``data``: a
        ``.csv`` / ``.npz`` file (as ``deepzen predict``), an array ``(N, *input_shape)``, a DataFrame-like
        table, or token inputs (lists of ids, strings for a text model, an ``(N, T)`` int array)."""
        z = self.outputs(data, batch_size)  # (N, C) | (N, T, C) | (N, D)
        if self.info.task == "regression":
            from deepzen.data import unscale_targets

            return Predictions(values=unscale_targets(z.reshape(len(z), -1), self.info).numpy())
        probs = torch.softmax(z, dim=-1).numpy()
        best = probs.argmax(-1)
        names = self.info.class_names
        labels = np.asarray(names, dtype=object)[best] if names and self.info.task == "classification" else best
        return Predictions(labels=labels, probabilities=probs)


def load(source: str | Path, which: str = "best", device: str | torch.device = "cpu") -> LoadedRun:
    """A run folder written by ``deepzen train`` (its ``which`` checkpoint: ``"best"`` or ``"last"``),
    or a ``.safetensors`` file written by ``deepzen export``, as a :class:`LoadedRun` on ``device``."""
    if which not in CHECKPOINTS:
        raise ConfigError(f"which={which!r}: allowed: 'best', 'last'")
    path = Path(source)
    if path.suffix == ".safetensors":
        config, info, state = _read_safetensors(path)
    else:
        config, info, state = _read_run(path, which)
    model = build_model(config, info)
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise ConfigError(f"{path}: the saved weights do not fit the {config.model.kind!r} model its config "
                          f"builds with this deepzen {deepzen.__version__} (written by another version?): "
                          f"{str(err).splitlines()[0]}") from None
    target = resolve_device(device)
    return LoadedRun(model.to(target).eval(), info, config, target, path)


def _read_run(path: Path, which: str) -> tuple[ExperimentConfig, DataInfo, dict[str, Tensor]]:
    config = read_run_config(path)
    info = read_data_info(path)
    if info is None:
        raise ConfigError(f"{path} has no data_info.json; was it written by deepzen train?")
    rd = RunDir(path)
    file = rd.best_checkpoint if which == "best" and rd.best_checkpoint.is_file() else rd.last_checkpoint
    if not file.is_file():
        raise ConfigError(f"{path} has no checkpoint yet (checkpoints/{which}.pt); train it first")
    try:
        payload = load_checkpoint(file)
    except ValueError:
        found = _checkpoint_format(file)
        raise ConfigError(f"{file} is a checkpoint of format {found!r}, written by another deepzen version; "
                          f"this deepzen {deepzen.__version__} reads {FORMAT!r}. Load it with the deepzen "
                          "that wrote it, or train the run again") from None
    return config, info, payload["model"]


def _checkpoint_format(file: Path) -> str:
    try:
        payload = torch.load(file, map_location="cpu", weights_only=True)
    except Exception:  # not even a torch file
        return "unknown"
    return str(payload.get("format", "none")) if isinstance(payload, dict) else "unknown"


def require(module: str, extra: str) -> None:
    """Import ``module`` or stop with the ``pip install 'deepzen[extra]'`` that brings it."""
    try:
        __import__(module)
    except ImportError:
        raise ConfigError(f"{module!r} is not installed: pip install 'deepzen[{extra}]'") from None


def _read_safetensors(path: Path) -> tuple[ExperimentConfig, DataInfo, dict[str, Tensor]]:
    require("safetensors", "safetensors")
    from safetensors.torch import load_file

    meta = read_export_json(path)
    config = validate(parse_toml(meta["config"], str(path)), str(path))
    return config, DataInfo.from_dict(meta["data_info"]), load_file(str(path))


def export_json_path(path: Path) -> Path:
    """The JSON written next to an export: ``model.pt2`` -> ``model.pt2.json``."""
    return path.with_name(path.name + ".json")


def read_export_json(path: Path) -> dict[str, Any]:
    """The JSON next to export ``path``, checked to be one deepzen wrote in a format it reads."""
    meta_path = export_json_path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no export at {path}")
    if not meta_path.is_file():
        raise ConfigError(f"{path} has no {meta_path.name} beside it (deepzen export writes both)")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("format") != EXPORT_FORMAT:
        raise ConfigError(f"{meta_path} has format {meta.get('format')!r} (deepzen "
                          f"{meta.get('deepzen_version', '?')}); this deepzen {deepzen.__version__} reads "
                          f"{EXPORT_FORMAT!r}")
    return meta


def _slice(x: Any, start: int, size: int) -> Any:
    if isinstance(x, Tensor):
        return x[start : start + size]
    from deepzen.structures import Sequences

    lengths = x.lengths[start : start + size]
    return Sequences(x.values[start : start + size, : int(lengths.max())], lengths)
