"""Samplers, pruners and the Optuna study of a ``[tune]`` section.

Samplers: ``tpe`` (Tree-structured Parzen Estimator, Bergstra et al. 2011; the default), ``random``,
``grid`` (every combination of ``choice`` / int values) and ``cmaes`` (CMA-ES, Hansen 2016, for
numeric parameters; choices fall back to random sampling). Pruners: ``median`` (stop a trial whose
value at epoch t is worse than the median of earlier trials at t), ``hyperband`` (Li et al. 2018)
and ``none``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import optuna

from deepzen.config import ConfigError
from deepzen.config.tune import SearchParam, TuneConfig
from deepzen.tune.space import choice_label

#: Most combinations a grid may have.
MAX_GRID = 100_000


def direction_of(metric: str, direction: str | None) -> str:
    """``direction`` if set, else ``maximize`` for accuracy-like metrics and ``minimize`` for losses."""
    if direction is not None:
        return direction
    from deepzen.train.callbacks import infer_mode

    return "maximize" if infer_mode(metric) == "max" else "minimize"


def grid_of(params: Sequence[SearchParam]) -> dict[str, list]:
    """The grid sampler's space: each choice's labels, each int range's values."""
    grid: dict[str, list] = {}
    for p in params:
        if p.when:
            raise ConfigError(f"tune.sampler = 'grid': {p.key} is conditional; a grid needs every "
                              "parameter in every trial (use tpe or random)")
        if p.kind == "choice":
            grid[p.key] = [choice_label(c) for c in p.choices]
        elif p.kind == "int":
            grid[p.key] = list(range(int(p.low), int(p.high) + 1, int(p.step or 1)))
        elif p.kind == "uniform" and p.step is not None:
            count = int(round((p.high - p.low) / p.step)) + 1
            grid[p.key] = [p.low + i * p.step for i in range(count) if p.low + i * p.step <= p.high + 1e-12]
        else:
            raise ConfigError(f"tune.sampler = 'grid': {p.key} is {p.describe()}; a grid takes choice, int, "
                              "or uniform with a step")
    return grid


def grid_size(params: Sequence[SearchParam]) -> int:
    size = 1
    for values in grid_of(params).values():
        size *= len(values)
    return size


class GridSampler(optuna.samplers.GridSampler):
    """Optuna's grid sampler, without its ``study.stop()`` once the grid is done: our workers use
    ask/tell (where ``stop`` is an error) and already cap ``n_trials`` at the grid's size."""

    def after_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial, state: optuna.trial.TrialState,
                    values: Sequence[float] | None) -> None:
        return None


def make_sampler(tune: TuneConfig, params: Sequence[SearchParam], seed: int) -> optuna.samplers.BaseSampler:
    """The sampler ``tune.sampler`` names, seeded with ``seed``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if tune.sampler == "random":
            return optuna.samplers.RandomSampler(seed=seed)
        if tune.sampler == "grid":
            if grid_size(params) > MAX_GRID:
                raise ConfigError(f"tune.sampler = 'grid': {grid_size(params)} combinations (at most {MAX_GRID})")
            return GridSampler(grid_of(params), seed=seed)
        if tune.sampler == "cmaes":
            return optuna.samplers.CmaEsSampler(seed=seed, n_startup_trials=tune.startup_trials,
                                                warn_independent_sampling=False)
        conditional = any(p.when for p in params)
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=tune.startup_trials,
                                          multivariate=True, group=conditional, constant_liar=True)


def make_pruner(tune: TuneConfig, epochs: int) -> optuna.pruners.BasePruner:
    """The pruner ``tune.pruner`` names; ``epochs`` is a trial's full length (hyperband's max resource)."""
    if tune.pruner == "none":
        return optuna.pruners.NopPruner()
    if tune.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=max(1, tune.warmup_epochs), max_resource=max(epochs, 2))
    return optuna.pruners.MedianPruner(n_startup_trials=tune.startup_trials, n_warmup_steps=tune.warmup_epochs)


def load_study(storage: optuna.storages.BaseStorage, name: str, direction: str,
               sampler: optuna.samplers.BaseSampler, pruner: optuna.pruners.BasePruner,
               create: bool = True) -> optuna.Study:
    """The study ``name`` in ``storage`` (created when missing and ``create``)."""
    if not create:
        return optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)
    study = optuna.create_study(study_name=name, storage=storage, direction=direction, sampler=sampler,
                                pruner=pruner, load_if_exists=True)
    if study.direction.name.lower() != direction:
        raise ConfigError(f"study {name!r} in this storage optimizes in direction "
                          f"{study.direction.name.lower()}, not {direction}; use another tune.name")
    return study


def study_exists(storage: optuna.storages.BaseStorage, name: str) -> bool:
    return any(s.study_name == name for s in storage.get_all_studies())


__all__ = ["direction_of", "grid_of", "grid_size", "load_study", "make_pruner", "make_sampler", "study_exists"]
