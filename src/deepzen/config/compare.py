"""The ``[compare]`` section: which optimizers a comparison runs and under which protocol.

    [compare]
    optimizers = ["sgd", "momentum", "adam"]   # or "all"
    budget = 8               # lr trials per optimizer on the validation split; 0: the paper defaults
    seeds = 3                # reruns of the chosen setting (seeds shared by every optimizer)
    lr_range = [1e-4, 1.0]   # the log-uniform lr search range (Crowded Valley's range for most optimizers)
    grid = false             # true: DeepOBS's log grid over 1e-5..1e2 (budget points) instead of Optuna TPE
    schedule = "constant"    # constant | cosine | warmup_cosine: the same policy for every optimizer
    target = 0.95            # time-to-target: reach this fraction of the best optimizer's final value
    metric = "val_accuracy"  # unset: training.monitor, else val_<first metric>

The same choices are command-line options of ``deepzen compare``; the command line wins.
"""

from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from deepzen._suggest import did_you_mean
from deepzen.config.errors import folder_name

#: Ranges a comparison accepts (wider ones are almost surely typos and would run for hours).
MAX_BUDGET = 200
MAX_SEEDS = 20
SCHEDULES = ("constant", "cosine", "warmup_cosine")
DEFAULT_OPTIMIZERS = ("sgd", "momentum", "adam")


def optimizer_names() -> list[str]:
    from deepzen.optim import available

    return list(available())


def check_optimizers(names: list[str] | str) -> list[str]:
    """``"all"`` or a list of registry names -> the checked list (a ``ValueError`` names the bad one)."""
    known = optimizer_names()
    if isinstance(names, str):
        if names.strip().lower() == "all":
            return known
        names = [n.strip() for n in names.split(",") if n.strip()]
    if not names:
        raise ValueError("no optimizer to compare; give names such as 'adam,sgd' or 'all'")
    checked: list[str] = []
    for name in names:
        key = str(name).lower()
        if key not in known:
            raise ValueError(f"unknown optimizer {name!r}{did_you_mean(key, known, cutoff=0.6)} "
                             f"Available: {', '.join(known)}, or 'all'")
        if key in checked:
            raise ValueError(f"optimizer {name!r} is listed twice")
        checked.append(key)
    return checked


def check_budget(budget: int) -> int:
    if isinstance(budget, bool) or not isinstance(budget, int) or not 0 <= budget <= MAX_BUDGET:
        raise ValueError(f"budget = {budget!r}: lr trials per optimizer, an integer from 0 (the paper "
                         f"defaults, no tuning) to {MAX_BUDGET}")
    return budget


def check_seeds(seeds: int) -> int:
    if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= MAX_SEEDS:
        raise ValueError(f"seeds = {seeds!r}: reruns of each chosen setting, an integer from 1 to {MAX_SEEDS}")
    return seeds


class CompareConfig(BaseModel):
    """``[compare]``: the optimizers and the protocol (see the module doc)."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    optimizers: Union[list[str], str] = Field(list(DEFAULT_OPTIMIZERS), description="registry names or 'all'")
    budget: int = Field(8, description=f"lr trials per optimizer, 0..{MAX_BUDGET}; 0: paper defaults")
    seeds: int = Field(3, description=f"seeds per chosen setting, 1..{MAX_SEEDS}")
    workers: int = Field(1, ge=1, description="processes running (problem, optimizer) tasks at once")
    lr_range: tuple[float, float] = Field((1e-4, 1.0), description="log-uniform lr search range")
    grid: bool = Field(False, description="DeepOBS's log lr grid over 1e-5..1e2 instead of Optuna's TPE")
    schedule: Literal["constant", "cosine", "warmup_cosine"] = "constant"
    target: float = Field(0.95, gt=0.0, le=1.0, description="time-to-target fraction of the best final value")
    metric: Optional[str] = Field(None, description="validation metric; unset: training.monitor or val_<metric>")
    name: Optional[str] = Field(None, description="output folder <output.dir>/<name>; unset: '<run name>-compare'")

    @field_validator("optimizers")
    @classmethod
    def _known_optimizers(cls, value: Union[list[str], str]) -> list[str]:
        return check_optimizers(value)

    @field_validator("budget")
    @classmethod
    def _budget_range(cls, value: int) -> int:
        return check_budget(value)

    @field_validator("seeds")
    @classmethod
    def _seeds_range(cls, value: int) -> int:
        return check_seeds(value)

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: Optional[str]) -> Optional[str]:
        return folder_name(value, "comparison")

    @model_validator(mode="after")
    def _lr_range_ordered(self) -> CompareConfig:
        low, high = self.lr_range
        if not 0 < low < high:
            raise ValueError(f"lr_range = [{low}, {high}]: need 0 < low < high")
        return self


__all__ = ["DEFAULT_OPTIMIZERS", "MAX_BUDGET", "MAX_SEEDS", "SCHEDULES", "CompareConfig", "check_budget",
           "check_optimizers", "check_seeds"]
