"""Experiment trackers from ``[output] tracking``: ``tensorboard`` (:mod:`deepzen.train.tensorboard_log`),
``mlflow`` (:mod:`deepzen.train.mlflow_log`), both, ``none``, or ``auto`` (the default: TensorBoard when
its package is installed, nothing otherwise). A tracker named explicitly whose package is missing is a
config error that says which extra to install.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from deepzen.config import ConfigError, ExperimentConfig
from deepzen.train.callbacks import Callback
from deepzen.train.mlflow_log import MLflowLogger, default_uri, mlflow_installed
from deepzen.train.tensorboard_log import TensorBoardLogger, tensorboard_installed

TRACKERS = ("tensorboard", "mlflow")


def tracker_names(requested: Sequence[str]) -> list[str]:
    """The trackers to run for ``output.tracking`` (checked: packages installed, ``none`` alone)."""
    names = list(dict.fromkeys(requested))
    if "none" in names and len(names) > 1:
        raise ConfigError(f"output.tracking = {names}: 'none' cannot be combined with other trackers")
    chosen = []
    for name in names:
        if name == "auto":
            chosen += ["tensorboard"] if tensorboard_installed() else []
        elif name in TRACKERS:
            installed = tensorboard_installed() if name == "tensorboard" else mlflow_installed()
            if not installed:
                raise ConfigError(f"output.tracking = {name!r} needs its package: pip install 'deepzen[{name}]'")
            chosen.append(name)
    return list(dict.fromkeys(chosen))


def flat_params(raw: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"optimizer": {"lr": 0.1}}`` -> ``{"optimizer.lr": 0.1}``; lists and ``None`` become text
    (TensorBoard's HParams and MLflow take scalars)."""
    flat: dict[str, Any] = {}
    for key, value in raw.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flat_params(value, f"{name}."))
        elif isinstance(value, (bool, int, float, str)):
            flat[name] = value
        else:
            flat[name] = str(value)
    return flat


def config_params(config: ExperimentConfig) -> dict[str, Any]:
    """The experiment's hyperparameters: the resolved config without ``[output]`` and ``[tune]``."""
    raw = config.model_dump(mode="json", exclude={"output", "tune"}, exclude_none=True)
    return flat_params(raw)


def make_trackers(config: ExperimentConfig, run_dir: Path, parent: str | None = None) -> list[Callback]:
    """The tracker callbacks ``config.output`` asks for; an MLflow run is nested under ``parent``."""
    names = tracker_names(config.output.tracking)
    params = config_params(config)
    trackers: list[Callback] = []
    if "tensorboard" in names:
        trackers.append(TensorBoardLogger(run_dir / "tensorboard", hparams=params,
                                          log_every=config.output.log_every_steps))
    if "mlflow" in names:
        trackers.append(MLflowLogger(mlflow_uri(config), config.output.mlflow_experiment, run_dir.name, params,
                                     parent=parent, end_on_train_end=False))
    return trackers


def mlflow_uri(config: ExperimentConfig) -> str:
    """``output.mlflow_uri``, else ``$MLFLOW_TRACKING_URI``, else ``sqlite:///<output.dir>/mlflow.db``."""
    return config.output.mlflow_uri or default_uri(config.output.dir)
