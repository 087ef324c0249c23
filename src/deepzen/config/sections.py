"""The experiment config: one pydantic model per TOML section.

Fixed keys are typed and checked here. Three sections also take free-form keys that depend on a
name: ``[model]`` (the options of ``kind``), ``[optimizer]`` (the hyperparameters of ``name``),
``[loss]`` (the options of ``name``) and ``[data]`` (options of the dataset ``name``); those are
checked against their registries by :mod:`deepzen.config.references`. Every other unknown key is an
error with a "did you mean".
"""

from __future__ import annotations

from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from deepzen.config.compare import CompareConfig
from deepzen.config.errors import folder_name
from deepzen.config.tune import TuneConfig

Precision = Literal["32", "bf16", "fp16"]
ProgressMode = Literal["auto", "bar", "line", "none"]
Tracker = Literal["auto", "none", "tensorboard", "mlflow"]


class Section(BaseModel):
    """A table whose unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


class OpenSection(BaseModel):
    """A table whose extra keys are options of a named thing (checked against its registry)."""

    model_config = ConfigDict(extra="allow", validate_default=True)

    def options(self) -> dict[str, Any]:
        """The free-form keys, in file order."""
        return dict(self.model_extra or {})


class DataConfig(OpenSection):
    """``[data]``: which dataset and how to split it. Other keys are the dataset's options
    (e.g. ``path``, ``target`` for CSV files; ``n``, ``length`` for generated tasks)."""

    name: str = "digits"
    val: float = Field(0.1, ge=0.0, lt=1.0, description="validation fraction of the samples")
    test: Optional[float] = Field(None, ge=0.0, lt=1.0,
                                  description="test fraction; unset: the set's own test split, else 0.2")
    seed: Optional[int] = Field(None, description="split seed; unset: the experiment seed")

    @model_validator(mode="after")
    def _fractions_leave_training_data(self) -> DataConfig:
        if self.val + (self.test or 0.0) >= 1.0:
            raise ValueError(f"val ({self.val}) + test ({self.test}) must be < 1, leaving samples to train on")
        return self


class ModelConfig(OpenSection):
    """``[model]``: ``kind`` (mlp, cnn, rnn, tree, transformer); other keys are its options."""

    kind: str = "cnn"


class OptimizerConfig(OpenSection):
    """``[optimizer]``: ``name``; other keys are its hyperparameters (``lr``, ``betas``, ...)."""

    name: str = "adam"


class LossConfig(OpenSection):
    """``[loss]``: ``name`` (unset: cross_entropy for classes, mse for regression); other keys are its
    options (``label_smoothing``, ``delta``, ...)."""

    name: Optional[str] = None


class RegularizationConfig(Section):
    """``[regularization]``: penalties added to the loss and weight decay through parameter groups.

    ``l1``, ``l2``: strengths λ of ``λ Σ|θ|`` and ``(λ/2) Σ θ²`` over weights (not biases or norms).
    ``weight_decay``: the optimizer's own ``weight_decay`` given to weights only (decoupled for
    AdamW-style optimizers, coupled L2 for the others); ``no_decay``: glob patterns of parameter
    names to leave undecayed instead of the default rule (biases, 1-D parameters, norm layers).
    """

    l1: float = Field(0.0, ge=0.0)
    l2: float = Field(0.0, ge=0.0)
    weight_decay: float = Field(0.0, ge=0.0)
    no_decay: Optional[list[str]] = None


class EarlyStoppingConfig(Section):
    """``[training.early_stopping]``: stop after ``patience`` epochs without improvement."""

    patience: int = Field(5, ge=1)
    min_delta: float = Field(0.0, ge=0.0)
    monitor: Optional[str] = Field(None, description="unset: training.monitor")
    restore_best_weights: bool = True


class ScheduleConfig(OpenSection):
    """``[training.schedule]``: ``name`` (step, cosine, one_cycle, plateau); other keys are its options."""

    name: str


class TrainingConfig(Section):
    """``[training]``: the loop."""

    epochs: int = Field(20, ge=1)
    batch_size: int = Field(64, ge=1)
    eval_batch_size: Optional[int] = Field(None, ge=1)
    shuffle: bool = True
    drop_last: bool = False
    metrics: Optional[list[str]] = Field(None, description="unset: by task (accuracy, r2 and mse, perplexity)")
    monitor: Optional[str] = Field(None, description="quantity for best.pt and early stopping; unset: val_loss")
    schedule: Optional[ScheduleConfig] = None
    early_stopping: Optional[EarlyStoppingConfig] = None
    clip_grad_norm: Optional[float] = Field(None, gt=0.0)
    clip_grad_value: Optional[float] = Field(None, gt=0.0)
    accumulate_steps: int = Field(1, ge=1)
    device: str = "auto"
    precision: Precision = "32"
    compile: bool = False
    deterministic: bool = False
    num_workers: int = Field(0, ge=0)
    threads: Union[int, str, None] = Field(
        "auto", description="CPU threads for torch ops: auto (one per 100 MFLOP of forward work per batch, up "
        "to the cores; 1 for every example), an int, or unset for torch's default; results depend on it")
    checkpoint_every: Optional[int] = Field(100, ge=1, description="also write last.pt every N optimizer steps")
    nan_guard: bool = True
    sync_batch_norm: bool = Field(
        False, description="with several processes (--nproc, torchrun): BatchNorm layers become SyncBatchNorm, "
        "whose statistics are those of the global batch, so N processes train as one; off (as in torch): each "
        "process normalizes with its own share of the batch. With one process it changes nothing. GPUs only "
        "(torch's SyncBatchNorm needs CUDA): an error on the CPU")

    @field_validator("threads", mode="before")
    @classmethod
    def _threads_rule(cls, value: Any) -> Any:
        if value is None or value == "auto" or (type(value) is int and value >= 1):
            return value
        raise ValueError(f"must be 'auto', an int >= 1, or unset for torch's default; got {value!r}")

    @field_validator("schedule", mode="before")
    @classmethod
    def _schedule_name_alone(cls, value: Any) -> Any:
        """``schedule = "cosine"`` is short for ``[training.schedule] name = "cosine"``."""
        if isinstance(value, str):
            return None if value.lower() == "none" else {"name": value}
        return value

    @field_validator("early_stopping", mode="before")
    @classmethod
    def _early_stopping_flag(cls, value: Any) -> Any:
        """``early_stopping = true`` / ``false`` are short for the defaults / none."""
        if isinstance(value, bool):
            return {} if value else None
        return value


class OutputConfig(Section):
    """``[output]``: where the run directory goes: ``<dir>/<name>/``."""

    dir: str = "runs"
    name: Optional[str] = Field(None, description="unset: '<model>-<data>'")
    overwrite: bool = Field(False, description="false: pick '<name>-2', '-3', ... when the folder holds a run")
    progress: ProgressMode = "auto"
    tracking: list[Tracker] = Field(
        ["auto"], description="experiment trackers: tensorboard, mlflow, both, none; auto: tensorboard "
                              "when the tensorboard package is installed")
    log_every_steps: int = Field(10, ge=1, description="TensorBoard: per-step loss and lr every this many "
                                                       "optimizer steps (1: every step)")
    mlflow_uri: Optional[str] = Field(None, description="MLflow tracking URI; unset: $MLFLOW_TRACKING_URI, "
                                                        "else sqlite:///<dir>/mlflow.db")
    mlflow_experiment: str = Field("deepzen", description="MLflow experiment the runs are grouped in")

    @field_validator("tracking", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: Optional[str]) -> Optional[str]:
        return folder_name(value, "run")


class ExperimentConfig(Section):
    """One experiment: the whole TOML file."""

    seed: int = 0
    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    optimizer: OptimizerConfig = Field(default_factory=OptimizerConfig)
    loss: LossConfig = Field(default_factory=LossConfig)
    regularization: RegularizationConfig = Field(default_factory=RegularizationConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)
    tune: Optional[TuneConfig] = Field(None, description="hyperparameter study (deepzen tune)")
    compare: Optional[CompareConfig] = Field(None, description="optimizer comparison (deepzen compare)")

    def run_name(self) -> str:
        """``output.name`` or ``<model kind>-<dataset>``."""
        return self.output.name or f"{self.model.kind}-{self.data.name}".replace("/", "_")

    def to_toml_dict(self) -> dict[str, Any]:
        """Plain dict for TOML (unset values left out, since TOML has no null)."""
        return _drop_none(self.model_dump(mode="json"))


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value
