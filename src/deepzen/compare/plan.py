"""The protocol of a comparison, resolved and checked before any run starts, and the configs it runs.

For optimizer ``s`` on a problem (one experiment config) at seed ``k``, :func:`run_config` keeps the
problem's data, model, loss, regularization and training, and sets:

- ``optimizer = {name = s, lr = <chosen>}``: every other hyperparameter takes the paper's default
  (the user's ``[optimizer]`` table belongs to one optimizer and would not be fair to the others);
- ``seed = seeds[k]``: the same initial weights and batch order for every optimizer at that seed;
- ``data.seed`` fixed to the problem's split seed: the same train/val/test split for every run;
- ``training.schedule`` from the protocol (constant, cosine, warmup_cosine) for all;
- ``training.monitor`` = the compared validation metric (``best.pt`` is its best epoch).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deepzen._suggest import did_you_mean
from deepzen.config import ConfigError, ExperimentConfig, validate
from deepzen.config.compare import CompareConfig, check_budget, check_optimizers, check_seeds

#: DeepOBS's learning-rate grid: log-spaced over [1e-5, 1e2] (36 points in the paper).
GRID_RANGE = (1e-5, 1e2)
WARMUP_FRACTION = 0.05  # warmup_cosine: linear warm-up over the first 5% of the steps


@dataclass(frozen=True)
class Protocol:
    """The resolved choices of one comparison (all problems share them)."""

    optimizers: tuple[str, ...]
    budget: int
    seeds: tuple[int, ...]
    lr_range: tuple[float, float]
    grid: bool
    schedule: str
    target: float
    workers: int = 1

    def lr_grid(self) -> list[float]:
        """``budget`` log-spaced learning rates over DeepOBS's range (``--grid``)."""
        low, high = (math.log10(v) for v in GRID_RANGE)
        n = self.budget
        return [10 ** (low + (high - low) * i / (n - 1)) for i in range(n)] if n > 1 else [10 ** low]


@dataclass
class Problem:
    """One problem compared under the protocol: its name (folder), base experiment config (``None``
    for a stochastic test problem of :mod:`deepzen.compare.noisy`, named by ``noisy``) and the
    validation metric that tunes and ranks (``maximize`` for accuracy-like metrics)."""

    name: str
    config: ExperimentConfig | None
    metric: str
    maximize: bool
    steps_per_epoch: int = 0
    noisy: str | None = None


def noisy_problem(name: str) -> Problem:
    """A stochastic test problem (``quadratic_deep``, ``noisy_rosenbrock``, ``noisy_beale``)."""
    from deepzen.compare import noisy

    if name not in noisy.PROBLEMS:
        raise ConfigError(f"noisy problem {name!r}: unknown{did_you_mean(name, noisy.PROBLEMS)} "
                          f"Available: {', '.join(noisy.PROBLEMS)}")
    return Problem(name, None, noisy.METRIC, False, noisy.PROBLEMS[name]().steps_per_epoch, noisy=name)


def resolve_protocol(config: ExperimentConfig, **overrides: Any) -> Protocol:
    """``config``'s ``[compare]`` section with the non-``None`` ``overrides`` (command-line options)
    applied; every value is checked (a :class:`ConfigError` names the bad one and what is allowed)."""
    base = config.compare or CompareConfig()
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        if "optimizers" in given:
            given["optimizers"] = check_optimizers(given["optimizers"])
        if "budget" in given:
            check_budget(given["budget"])
        if "seeds" in given:
            check_seeds(given["seeds"])
        if "workers" in given and (not isinstance(given["workers"], int) or given["workers"] < 1):
            raise ValueError(f"workers = {given['workers']!r}: an integer >= 1")
        merged = CompareConfig.model_validate({**base.model_dump(), **given})
    except ValueError as err:
        raise ConfigError(f"compare: {_first_line(err)}") from None
    if merged.grid and merged.budget < 2:
        raise ConfigError(f"compare: grid with budget = {merged.budget}: a grid needs at least 2 learning rates")
    return Protocol(optimizers=tuple(merged.optimizers), budget=merged.budget,  # type: ignore[arg-type]
                    seeds=tuple(config.seed + i for i in range(merged.seeds)), lr_range=tuple(merged.lr_range),
                    grid=merged.grid, schedule=merged.schedule, target=merged.target, workers=merged.workers)


def _first_line(err: Exception) -> str:
    text = str(err)
    if "validation error" in text:  # pydantic: keep the field and its message
        lines = [ln.strip() for ln in text.splitlines()[1:] if ln.strip() and not ln.strip().startswith("For further")]
        return "; ".join(lines)
    return text


def resolve_problem(config: ExperimentConfig, name: str | None = None) -> Problem:
    """Check that ``config`` can be compared (a validation split, a logged metric) and name it."""
    from deepzen.train import experiment, get_metric
    from deepzen.train.callbacks import infer_mode

    splits = experiment.load_data(config)
    if splits.val is None or len(splits.val) == 0:
        raise ConfigError(f"compare needs a validation split to tune and rank on (data.val = {config.data.val}); "
                          "set data.val > 0: the test split is used once per run, after tuning")
    logged = ["loss", *(get_metric(m).name for m in experiment.metric_names(config, splits.info))]
    wanted = (config.compare.metric if config.compare else None) or config.training.monitor or f"val_{logged[1] if len(logged) > 1 else logged[0]}"
    allowed = [f"val_{m}" for m in logged]
    if wanted not in allowed:
        raise ConfigError(f"compare.metric = {wanted!r}: not a validation quantity of this "
                          f"{splits.info.task} experiment{did_you_mean(wanted, allowed, cutoff=0.6)} "
                          f"Allowed: {', '.join(allowed)}")
    t = config.training
    batches = math.ceil(len(splits.train) / t.batch_size) if not t.drop_last else len(splits.train) // t.batch_size
    return Problem(name or config.run_name(), config, wanted, infer_mode(wanted) == "max",
                   steps_per_epoch=max(1, math.ceil(batches / t.accumulate_steps)))


def check_runnable(problem: Problem, optimizers: tuple[str, ...]) -> None:
    """Refuse, before any run, an optimizer this problem's training cannot drive."""
    from deepzen import optim

    if problem.config is None:
        return
    for name in optimizers:
        needs_loss = getattr(optim.get_class(name), "needs_loss", False)
        if needs_loss and problem.config.training.precision == "fp16":
            raise ConfigError(f"optimizer {name!r} needs the loss every step (a closure), which the Trainer "
                              "cannot give it with fp16 (GradScaler); use precision '32' or 'bf16', or leave "
                              f"{name!r} out")


def run_config(problem: Problem, protocol: Protocol, optimizer: str, seed: int, lr: float | None) -> ExperimentConfig:
    """The config of one run (see the module doc); ``lr = None`` keeps the paper's default lr."""
    assert problem.config is not None
    raw = problem.config.to_toml_dict()
    raw.pop("compare", None)
    raw.pop("tune", None)
    raw["seed"] = seed
    raw.setdefault("data", {})["seed"] = problem.config.data.seed if problem.config.data.seed is not None \
        else problem.config.seed
    raw["optimizer"] = {"name": optimizer, **({"lr": lr} if lr is not None else {})}
    training = raw.setdefault("training", {})
    training["monitor"] = problem.metric
    training.pop("schedule", None)
    if protocol.schedule != "constant":
        total = problem.steps_per_epoch * problem.config.training.epochs
        warmup = int(WARMUP_FRACTION * total) if protocol.schedule == "warmup_cosine" else 0
        training["schedule"] = {"name": "cosine", **({"warmup_steps": warmup} if warmup else {})}
    raw.setdefault("output", {})["progress"] = "none"
    return validate(raw, f"the comparison of {problem.name}")


def tuning_config(problem: Problem, protocol: Protocol, optimizer: str) -> ExperimentConfig:
    """The first seed's run config with a ``[tune]`` section searching ``optimizer.lr`` only."""
    raw = run_config(problem, protocol, optimizer, protocol.seeds[0], None).to_toml_dict()
    if protocol.grid:
        space = {"optimizer.lr": {"choice": protocol.lr_grid()}}
        sampler = "grid"
    else:
        space = {"optimizer.lr": {"log_uniform": list(protocol.lr_range)}}
        sampler = "tpe"
    raw["tune"] = {"metric": problem.metric, "n_trials": protocol.budget, "sampler": sampler, "pruner": "none",
                   "seed": protocol.seeds[0], "space": space}
    return validate(raw, f"the lr search of {optimizer} on {problem.name}")


__all__ = ["GRID_RANGE", "Problem", "Protocol", "check_runnable", "noisy_problem", "resolve_problem",
           "resolve_protocol", "run_config", "tuning_config"]
