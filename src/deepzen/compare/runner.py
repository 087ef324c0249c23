"""Running a comparison: for each (problem, optimizer) task, the lr search, then the seed runs.

Folder of one task: ``<compare dir>/<problem>/<optimizer>/``

- ``tune/``: the lr search, a normal ``deepzen tune`` study (``study.journal``, ``trials/<n>/`` run
  folders, scored on the validation split; the test split is never touched there);
- ``choice.json``: the chosen lr, the status (``tuned``, ``defaults`` for budget 0, ``no_converging_lr``)
  and every trial (lr, best and final validation value, diverged or not): the sensitivity curve;
- ``seed-<k>/``: a normal ``deepzen train`` run folder per seed, with ``compare.json`` written last
  (its test metrics at the final and at the best-validation weights, each split evaluated once).

Resume: a seed folder with ``compare.json`` is done and is read, not rerun; one with a checkpoint
continues from it (``deepzen train --resume``); the study continues where it stopped (a trial left
running by a killed process is repeated). ``workers = W`` runs W tasks at once, one process each:
each task belongs to exactly one worker, so each run is done once.
"""

from __future__ import annotations

import functools
import json
import math
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Callable

from deepzen.compare.plan import Problem, Protocol, run_config, tuning_config
from deepzen.compare.task_files import CHOICE, RECORD, default_lr, fmt, say, seed_dir, task_dir

# ---------------------------------------------------------------------------------------------- lr search
def _trial_body(label: str, metric: str, verbose: bool, config: Any, run_dir: Path, callbacks: list) -> Any:
    """A tuning trial: a normal training run (no test evaluation) and one progress line."""
    from deepzen.train import experiment

    config.output.progress = "none"
    started = time.perf_counter()
    result = experiment.run(config, run_dir=run_dir, callbacks=callbacks, evaluate_test=False)
    values = result.history.get(metric, [])
    shown = "diverged" if result.history.failed else f"final {metric} {fmt(values[-1]) if values else '-'}"
    say(verbose, f"{label} tune lr={fmt(config.optimizer.options().get('lr'))}  {shown}  "
                  f"({time.perf_counter() - started:.1f}s)")
    return result


def search_lr(problem: Problem, protocol: Protocol, optimizer: str, folder: Path, verbose: bool) -> dict[str, Any]:
    """Run (or continue) the lr search; returns and saves ``choice.json``'s contents."""
    if protocol.budget == 0:
        choice: dict[str, Any] = {"status": "defaults", "lr": None, "trials": []}
    else:
        import optuna

        from deepzen import tune

        config = tuning_config(problem, protocol, optimizer)
        body = functools.partial(_trial_body, f"{problem.name}/{optimizer}", problem.metric, verbose)
        study = tune.run(config, study_dir=folder / "tune", workers=1, report=False, verbose=False, train=body)
        trials = [_trial_row(folder / "tune", t, problem.metric) for t in study.trials
                  if t.state != optuna.trial.TrialState.RUNNING]
        done = [t for t in trials if t["state"] == "complete"]
        if done:
            best = (max if problem.maximize else min)(done, key=lambda t: t["value"])
            choice = {"status": "tuned", "lr": best["lr"], "trials": trials}
        else:
            choice = {"status": "no_converging_lr", "lr": None, "trials": trials}
    (folder / CHOICE).parent.mkdir(parents=True, exist_ok=True)
    (folder / CHOICE).write_text(json.dumps(choice, indent=2) + "\n", encoding="utf-8")
    return choice


def _trial_row(study_dir: Path, trial: Any, metric: str) -> dict[str, Any]:
    note = str(trial.user_attrs.get("note", ""))
    final = None
    summary = study_dir / str(trial.user_attrs.get("run_dir", "")) / "summary.json"
    if summary.is_file():
        final = json.loads(summary.read_text(encoding="utf-8")).get("final", {}).get(metric)
    return {"number": trial.number, "lr": trial.params.get("optimizer.lr"), "state": trial.state.name.lower(),
            "value": trial.value, "final": final, "diverged": note.startswith("training failed"), "note": note}


# ---------------------------------------------------------------------------------------------- seed runs
def run_seed(problem: Problem, protocol: Protocol, optimizer: str, seed: int, lr: float | None, folder: Path,
             verbose: bool) -> dict[str, Any]:
    """One seed run of the chosen setting, then its test metrics (final and best-validation weights)."""
    from deepzen.train import experiment, inference

    done = folder / RECORD
    if done.is_file():
        return json.loads(done.read_text(encoding="utf-8"))
    config = run_config(problem, protocol, optimizer, seed, lr)
    started = time.perf_counter()
    resume = (folder / "checkpoints" / "last.pt").is_file()
    result = experiment.run(config, run_dir=folder, resume=resume, evaluate_test=False)
    history, summary = result.history, result.summary
    record: dict[str, Any] = {
        "problem": problem.name, "optimizer": optimizer, "seed": seed,
        "lr": config.optimizer.options().get("lr", default_lr(optimizer)),
        "status": "diverged" if history.failed else "ok", "stop_reason": history.stop_reason,
        "epochs": summary.get("epochs_completed"), "steps": summary.get("global_step"),
        "fit_seconds": (summary.get("timings") or {}).get("fit_seconds"), "test_final": None, "test_best": None,
    }
    if not history.failed:
        record["test_final"] = inference.evaluate_run(folder, split="test", checkpoint="last")
        record["test_best"] = inference.evaluate_run(folder, split="test", checkpoint="best")
    done.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    test_key = problem.metric.removeprefix("val_")
    shown = "diverged" if history.failed else f"test {test_key} {fmt(record['test_final'].get(test_key))}"
    say(verbose, f"{problem.name}/{optimizer} seed {seed} lr={fmt(record['lr'])}  {shown}  "
                  f"({time.perf_counter() - started:.1f}s)")
    return record


def run_task(problem: Problem, protocol: Protocol, optimizer: str, root: Path, verbose: bool = True,
             threads: int | None = None) -> str:
    """The lr search and the seed runs of one optimizer on one problem (see the module doc)."""
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    if problem.noisy is not None:
        from deepzen.compare.noisy_runner import run_noisy_task

        return run_noisy_task(problem, protocol, optimizer, root, verbose)
    folder = task_dir(root, problem.name, optimizer)
    choice = search_lr(problem, protocol, optimizer, folder, verbose)
    if choice["status"] == "no_converging_lr":
        say(verbose, f"{problem.name}/{optimizer}: no lr of the {protocol.budget} tried converged; no seed runs")
        return optimizer
    for seed in protocol.seeds:
        run_seed(problem, protocol, optimizer, seed, choice["lr"], seed_dir(root, problem.name, optimizer, seed),
                 verbose)
    return optimizer


# ---------------------------------------------------------------------------------------------- all tasks
def run_all(problems: list[Problem], protocol: Protocol, root: Path, verbose: bool = True,
            task: Callable[..., str] = run_task) -> None:
    """Every (problem, optimizer) task, ``protocol.workers`` at a time; one progress line per task."""
    jobs = [(p, o) for p in problems for o in protocol.optimizers]
    started = time.perf_counter()

    def progress(done: int) -> None:
        spent = time.perf_counter() - started
        eta = spent / done * (len(jobs) - done) if done else math.nan
        say(verbose, f"[{done}/{len(jobs)} optimizer x problem tasks done, {spent:.0f}s"
                      + (f", about {eta:.0f}s left]" if done < len(jobs) else "]"))

    if protocol.workers == 1:
        for n, (problem, optimizer) in enumerate(jobs, 1):
            task(problem, protocol, optimizer, root, verbose)
            progress(n)
        return
    threads = max(1, (os.cpu_count() or 1) // protocol.workers)
    with ProcessPoolExecutor(max_workers=protocol.workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(task, p, protocol, o, root, verbose, threads) for p, o in jobs]
        for n, future in enumerate(as_completed(futures), 1):
            future.result()
            progress(n)


__all__ = ["CHOICE", "RECORD", "run_all", "run_seed", "run_task", "search_lr", "seed_dir", "task_dir"]
