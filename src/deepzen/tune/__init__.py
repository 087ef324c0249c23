"""deepzen.tune: hyperparameter studies with Optuna over any key of an experiment config.

    >>> study = deepzen.tune.run("examples/tune_digits.toml", n_trials=12)
    >>> study.best_params

A study lives in ``<output.dir>/<tune.name or run name + '-tune'>/``: ``config.toml`` (what it
searches), ``study.journal`` (Optuna's journal storage: survives a crash; running the same config
again resumes it), ``trials/<number>/`` (one run directory per trial, as ``deepzen train`` writes),
then ``best.toml``, ``best.json``, ``trials.csv`` and ``plots/``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import optuna

from deepzen._suggest import did_you_mean
from deepzen.config import ConfigError, ExperimentConfig, load_config, parse_toml, to_toml
from deepzen.tune.report import summary_table, write_outputs
from deepzen.tune.space import check_space
from deepzen.tune.storage import hide_password, open_storage
from deepzen.tune.study import direction_of, grid_size, load_study, make_pruner, make_sampler, study_exists
from deepzen.tune.tracking import end_study_run, start_study_run
from deepzen.tune.workers import StudySetup, WorkerError, run_workers, train_experiment

STUDY_CONFIG = "config.toml"
#: ``[tune]`` keys that may change between runs of one study (how long and where, not what).
RUN_KEYS = ("n_trials", "timeout", "workers", "storage")


def default_study_dir(config: ExperimentConfig) -> Path:
    assert config.tune is not None
    return Path(config.output.dir) / (config.tune.name or f"{config.run_name()}-tune")


def resolve_metric(config: ExperimentConfig) -> tuple[str, str]:
    """``(metric, direction)``; the metric must be a validation quantity this task logs."""
    from deepzen.train import experiment, get_metric

    assert config.tune is not None
    metric = config.tune.metric or config.training.monitor or "val_loss"
    splits = experiment.load_data(config)
    if splits.val is None:
        raise ConfigError("tuning needs a validation split to score trials: set data.val > 0 "
                          "(the test split never drives a search)")
    logged = ["loss", *(get_metric(m).name for m in experiment.metric_names(config, splits.info))]
    allowed = [f"val_{name}" for name in logged]
    if metric not in allowed:
        hint = " (tune on the validation split: prefix val_)" if f"val_{metric}" in allowed else ""
        raise ConfigError(f"tune.metric = {metric!r}: not produced by this {splits.info.task} experiment{hint}"
                          f"{did_you_mean(metric, allowed, cutoff=0.6)} Allowed: {', '.join(allowed)}")
    return metric, direction_of(metric, config.tune.direction)


def without_password(config: ExperimentConfig) -> ExperimentConfig:
    """``config`` with the password of ``tune.storage`` replaced by ``***``: what files and logs may hold."""
    if config.tune is None or not config.tune.storage:
        return config
    hidden = config.model_copy(deep=True)
    assert hidden.tune is not None
    hidden.tune.storage = hide_password(config.tune.storage)
    return hidden


def _study_key(raw: dict[str, Any]) -> dict[str, Any]:
    """The parts of a saved config that define the study (all but how long and where it runs)."""
    key = {k: v for k, v in raw.items() if k != "tune"}
    key["tune"] = {k: v for k, v in raw.get("tune", {}).items() if k not in RUN_KEYS}
    return key


def _differences(old: Any, new: Any, prefix: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        keys = list(dict.fromkeys([*old, *new]))
        return [d for k in keys for d in _differences(old.get(k), new.get(k), f"{prefix}{k}.")]
    return [] if old == new else [prefix.rstrip(".")]


def check_same_study(study_dir: Path, config: ExperimentConfig, resume: bool) -> None:
    """Running a changed config into an existing study folder needs ``resume`` (it then continues)."""
    saved = study_dir / STUDY_CONFIG
    if resume or not saved.is_file():
        return
    changed = _differences(_study_key(parse_toml(saved.read_text(encoding="utf-8"), str(saved))),
                           _study_key(parse_toml(to_toml(config))))
    if changed:
        raise ConfigError(f"{study_dir} holds a study of another config (changed: {', '.join(changed[:6])}); "
                          "pass --resume to continue it with this config, or set tune.name for a new study")


def run(config: ExperimentConfig | str | Path, n_trials: int | None = None, *, study_dir: str | Path | None = None,
        resume: bool = False, workers: int | None = None, storage: str | None = None,
        timeout: float | None = None, report: bool = True, verbose: bool = True,
        train: Any = train_experiment) -> optuna.Study:
    """Run (or continue) the study of ``config``'s ``[tune]`` section; returns the Optuna study.

    Arguments:
        config: an :class:`ExperimentConfig` or the path of its TOML file.
        n_trials: trials the study ends with, all runs together (default ``tune.n_trials``).
        study_dir: the study folder (default ``<output.dir>/<tune.name or '<run name>-tune'>``).
        resume: continue the study in ``study_dir`` even if the config changed; without it a study
            folder holding the same config is continued and one holding another config is an error.
        workers: processes running trials at once on this host (default ``tune.workers``).
        storage: a database URL shared by workers on several machines (default ``tune.storage``:
            a journal file in the study folder).
        timeout: seconds after which no new trial starts (default ``tune.timeout``).
        report: write ``best.toml``, ``best.json``, ``trials.csv`` and plots, and evaluate the best
            trial on the test split (once, at the end).
        train: ``train(config, run_dir, callbacks) -> result with .history`` for one trial.

    Every check (search-space keys and ranges, metric, storage) runs before the first trial.
    """
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if not isinstance(config, ExperimentConfig):
        config = load_config(config)
    params = check_space(config)
    tune = config.tune
    assert tune is not None
    metric, direction = resolve_metric(config)
    if config.training.monitor is None:  # best.pt and early stopping follow the tuned metric
        config = config.model_copy(deep=True)
        config.training.monitor = metric
    total = n_trials if n_trials is not None else tune.n_trials
    if total is None or total < 1:
        raise ConfigError(f"n_trials = {total!r}: give a number >= 1")
    make_sampler(tune, params, 0)  # a grid over a conditional or continuous parameter fails here
    if tune.sampler == "grid":
        total = min(total, grid_size(params))
    folder = Path(study_dir) if study_dir is not None else default_study_dir(config)
    url = storage if storage is not None else tune.storage
    name = folder.name
    backend = open_storage(url, folder)
    exists = study_exists(backend, name)
    if resume and not exists:
        raise ConfigError(f"nothing to resume: no study {name!r} in "
                          f"{hide_password(url) if url else folder / 'study.journal'}")
    if exists:
        check_same_study(folder, config, resume)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / STUDY_CONFIG).write_text(to_toml(without_password(config)), encoding="utf-8")
    load_study(backend, name, direction, optuna.samplers.RandomSampler(), make_pruner(tune, config.training.epochs))
    limit = timeout if timeout is not None else tune.timeout
    setup = StudySetup(study_dir=folder, config_text=to_toml(config), storage=url, study_name=name, metric=metric,
                       direction=direction, n_trials=total, deadline=time.time() + limit if limit else None,
                       seed=tune.seed if tune.seed is not None else config.seed, train=train, verbose=verbose,
                       mlflow_parent=start_study_run(config, folder))
    run_workers(setup, workers if workers is not None else tune.workers)
    study = optuna.load_study(study_name=name, storage=backend)
    if report:
        best = write_outputs(study, config, params, folder, metric)
        if verbose:
            from rich.console import Console

            console = Console(highlight=False, soft_wrap=True)
            console.print(summary_table(study, params, metric, best))
            if best:
                test = best.get("test") or {}
                shown = "  ".join(f"{k} {v:.4f}" for k, v in test.items())
                console.print(f"best: trial {best['trial']}  {metric} {best['value']:.5g}"
                              + (f"  test: {shown}" if shown else ""))
                console.print(f"best config: {folder / 'best.toml'}  (train it with: deepzen train "
                              f"{folder / 'best.toml'})")
    if setup.mlflow_parent is not None:
        end_study_run(config, folder, setup.mlflow_parent, study, metric)
    return study


__all__ = ["WorkerError", "check_space", "default_study_dir", "resolve_metric", "run", "without_password"]
