"""Workers: processes that claim trials from the shared study and run them until it has
``n_trials`` of them (finished, pruned, failed or running; crashed-and-repeated ones don't count).

One worker runs in the calling process; ``workers=N`` starts N spawned processes on this host, each
with ``1/N`` of the CPU threads. Claims ("count, then ask") are exact with a journal file (a file lock)
and with PostgreSQL (an advisory lock on the server, shared by every machine). With another database
shared by several machines, a worker that loses a race marks its extra trial as surplus (FAIL,
ignored in every count and report).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
import zlib
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable

import optuna

from deepzen.config import ConfigError, parse_toml, validate
from deepzen.tune.objective import TrialOutcome, run_trial
from deepzen.tune.space import experiment_raw
from deepzen.tune.storage import (
    SURPLUS_ATTR, WORKER_ATTR, Leases, counts_toward_total, is_local, open_leases, open_storage, recover_dead_trials,
)
from deepzen.tune.study import load_study, make_pruner, make_sampler


def train_experiment(config: Any, run_dir: Path, callbacks: list, mlflow_parent: str | None = None) -> Any:
    """The default trial body: ``deepzen.train.experiment.run`` without a test evaluation (an MLflow run
    nested under the study's ``mlflow_parent`` when the config tracks with MLflow)."""
    from deepzen.train import experiment

    config.output.progress = "none"
    return experiment.run(config, run_dir=run_dir, callbacks=callbacks, evaluate_test=False,
                          mlflow_parent=mlflow_parent)


@dataclass
class StudySetup:
    """Everything a worker process needs (picklable): the study and how to run one trial."""

    study_dir: Path
    config_text: str  # the experiment TOML, [tune] included, training.monitor set to the metric
    storage: str | None
    study_name: str
    metric: str
    direction: str
    n_trials: int
    deadline: float | None = None  # time.time() after which no trial starts
    seed: int = 0
    train: Callable[..., Any] = train_experiment
    verbose: bool = True
    mlflow_parent: str | None = None  # the study's MLflow run, parent of the trials' runs


def claim_trial(study: optuna.Study, setup: StudySetup, leases: Leases) -> optuna.Trial | None:
    """A new (or repeated) trial for this worker, or ``None`` once the study has its ``n_trials``."""
    with leases.claim():
        recover_dead_trials(study, leases)
        if sum(counts_toward_total(t) for t in study.get_trials(deepcopy=False)) >= setup.n_trials:
            return None
        trial = study.ask()
        study._storage.set_trial_system_attr(trial._trial_id, WORKER_ATTR, leases.token)
    if not leases.exact_claims:  # other folders claim at the same time: the lowest numbers win a race
        earlier = [t for t in study.get_trials(deepcopy=False) if t.number < trial.number and counts_toward_total(t)]
        if len(earlier) >= setup.n_trials:
            study._storage.set_trial_system_attr(trial._trial_id, SURPLUS_ATTR, True)
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            return None
    return trial


def work(setup: StudySetup, worker: int = 0) -> int:
    """Run trials until the study is complete or the deadline passed; returns how many this worker ran."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    config = validate(parse_toml(setup.config_text), "the study config")
    assert config.tune is not None
    params = config.tune.params()
    base = experiment_raw(config)
    storage = open_storage(setup.storage, setup.study_dir)
    study = load_study(storage, setup.study_name, setup.direction, optuna.samplers.RandomSampler(),
                       make_pruner(config.tune, config.training.epochs))
    train = partial(setup.train, mlflow_parent=setup.mlflow_parent) if setup.mlflow_parent else setup.train
    ran = 0
    with open_leases(storage, setup.storage, setup.study_dir, setup.study_name) as leases:
        # a different stream per worker and per restart (and per process on a database shared by several
        # machines): no two workers propose the same startup points
        stream = setup.seed + 100_003 * worker + len(study.get_trials(deepcopy=False))
        if not is_local(storage):
            stream += zlib.crc32(leases.token.encode())
        study.sampler = make_sampler(config.tune, params, seed=stream)
        while setup.deadline is None or time.time() < setup.deadline:
            trial = claim_trial(study, setup, leases)
            if trial is None:
                break
            outcome = run_trial(study, trial, params, base, setup.metric, setup.study_dir, train)
            ran += 1
            if setup.verbose:
                print(outcome_line(outcome, setup.metric, worker), flush=True)
    return ran


def outcome_line(outcome: TrialOutcome, metric: str, worker: int) -> str:
    """``trial 3  optimizer.lr=0.0123  val_loss 0.4210  (2.1s)``."""
    shown = "  ".join(f"{k}={_short(v)}" for k, v in outcome.values.items())
    state = outcome.state.name.lower()
    result = f"{metric} {outcome.value:.4g}" if outcome.value is not None else f"{state}: {outcome.note}"
    who = f"[worker {worker}] " if worker else ""
    return f"{who}trial {outcome.number}  {shown}  {result}  ({outcome.seconds:.1f}s)"


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _worker_main(setup: StudySetup, worker: int, threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    try:
        work(setup, worker)
    except KeyboardInterrupt:
        sys.exit(130)


def run_workers(setup: StudySetup, workers: int) -> None:
    """``workers`` spawned processes, each running :func:`work`; waits for all of them."""
    if workers == 1:
        work(setup, 0)
        return
    threads = max(1, (os.cpu_count() or 1) // workers)
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_worker_main, args=(setup, i, threads), name=f"deepzen-tune-{i}")
                 for i in range(workers)]
    for process in processes:
        process.start()
    try:
        for process in processes:
            process.join()
    except KeyboardInterrupt:
        for process in processes:
            process.join(timeout=30)
        raise
    if any(p.exitcode == 130 for p in processes):
        raise KeyboardInterrupt
    failed = [p.name for p in processes if p.exitcode not in (0, None)]
    if failed:
        raise WorkerError(f"tuning workers {', '.join(failed)} stopped with an error (see above); finished "
                          "trials are kept: run the same command again to continue")


class WorkerError(RuntimeError):
    """A worker process ended with an error (its traceback was printed by that process)."""

__all__ = ["StudySetup", "WorkerError", "claim_trial", "outcome_line", "run_workers", "train_experiment", "work"]
