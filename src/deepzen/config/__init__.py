"""deepzen.config: one TOML file describes one experiment.

Sections ``data``, ``model``, ``optimizer``, ``loss``, ``regularization``, ``training``, ``output``
(pydantic models in :mod:`deepzen.config.sections`). Unknown keys and bad values are a
:class:`ConfigError` naming the key, the value and what is allowed, with a "did you mean".

    >>> config = deepzen.config.load_config("exp.toml", ["optimizer.lr=1e-3"])
    >>> deepzen.config.write_config(config, "runs/exp/config.toml")
"""

from __future__ import annotations

from deepzen.config.errors import ConfigError
from deepzen.config.loader import (
    apply_overrides,
    default_text,
    load_config,
    parse_toml,
    parse_value,
    read_toml,
    remove_keys,
    to_toml,
    validate,
    write_config,
)
from deepzen.config.references import check_references, optimizer_hparams
from deepzen.config.sections import (
    DataConfig,
    EarlyStoppingConfig,
    ExperimentConfig,
    LossConfig,
    ModelConfig,
    OptimizerConfig,
    OutputConfig,
    RegularizationConfig,
    ScheduleConfig,
    TrainingConfig,
)

__all__ = [
    "ConfigError", "DataConfig", "EarlyStoppingConfig", "ExperimentConfig", "LossConfig", "ModelConfig",
    "OptimizerConfig", "OutputConfig", "RegularizationConfig", "ScheduleConfig", "TrainingConfig",
    "apply_overrides", "check_references", "default_text", "load_config", "optimizer_hparams",
    "parse_toml", "parse_value", "read_toml", "remove_keys", "to_toml", "validate", "write_config",
]
