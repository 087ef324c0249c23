"""The protocol on a stochastic test problem of :mod:`deepzen.compare.noisy`: the same lr search
(Optuna TPE with the protocol's seed and budget, or the DeepOBS grid), then the seed runs, written
in the folder layout of the training problems (``choice.json``, ``seed-<k>/metrics.csv`` and
``compare.json``) so the tables and plots read them the same way. Each run takes milliseconds, so
an unfinished search is simply redone; finished seed runs are kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from deepzen.compare import noisy
from deepzen.compare.plan import Problem, Protocol
from deepzen.compare.task_files import CHOICE, RECORD, default_lr, fmt, say, seed_dir, task_dir


def search_noisy_lr(problem: Problem, protocol: Protocol, optimizer: str, folder: Path) -> dict[str, Any]:
    """The lr whose run (first seed) has the lowest best-epoch validation value; ``choice.json``."""
    path = folder / CHOICE
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    assert problem.noisy is not None
    if protocol.budget == 0:
        choice: dict[str, Any] = {"status": "defaults", "lr": None, "trials": []}
    else:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        seed = protocol.seeds[0]
        if protocol.grid:
            sampler: Any = optuna.samplers.GridSampler({"lr": protocol.lr_grid()}, seed=seed)
        else:
            sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(5, protocol.budget))
        study = optuna.create_study(sampler=sampler)
        trials = []
        for number in range(protocol.budget):
            trial = study.ask()
            lr = (trial.suggest_categorical("lr", protocol.lr_grid()) if protocol.grid
                  else trial.suggest_float("lr", *protocol.lr_range, log=True))
            result = noisy.train(problem.noisy, optimizer, lr, seed)
            value = None if result["diverged"] else min(result["history"]["val_loss"])
            study.tell(trial, value if value is not None else noisy.DIVERGED)
            trials.append({"number": number, "lr": lr, "state": "fail" if value is None else "complete",
                           "value": value, "final": None if result["diverged"] else result["final"],
                           "diverged": result["diverged"], "note": "training failed" if value is None else ""})
        done = [t for t in trials if t["state"] == "complete"]
        best = min(done, key=lambda t: t["value"]) if done else None
        choice = {"status": "tuned" if best else "no_converging_lr", "lr": best["lr"] if best else None,
                  "trials": trials}
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(choice, indent=2) + "\n", encoding="utf-8")
    return choice


def run_noisy_task(problem: Problem, protocol: Protocol, optimizer: str, root: Path, verbose: bool) -> str:
    assert problem.noisy is not None
    choice = search_noisy_lr(problem, protocol, optimizer, task_dir(root, problem.name, optimizer))
    if choice["status"] == "no_converging_lr":
        say(verbose, f"{problem.name}/{optimizer}: no lr of the {protocol.budget} tried converged; no seed runs")
        return optimizer
    lr = choice["lr"] if choice["lr"] is not None else default_lr(optimizer)
    for seed in protocol.seeds:
        folder = seed_dir(root, problem.name, optimizer, seed)
        if (folder / RECORD).is_file():
            continue
        result = noisy.train(problem.noisy, optimizer, lr, seed)
        record = noisy.write_run(folder, result, {"problem": problem.name, "optimizer": optimizer, "seed": seed,
                                                  "lr": lr, "stop_reason": None})
        shown = "diverged" if record["status"] == "diverged" else f"test loss {fmt(result['final'])}"
        say(verbose, f"{problem.name}/{optimizer} seed {seed} lr={fmt(lr)}  {shown}  ({result['seconds']:.1f}s)")
    return optimizer


__all__ = ["run_noisy_task", "search_noisy_lr"]
