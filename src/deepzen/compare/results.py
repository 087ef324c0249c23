"""The results table: one row per (problem, optimizer, seed) read back from the run folders, and
the summary per (problem, optimizer) with the time to target.

Summary columns (over the seeds that did not diverge; ``std`` is the sample standard deviation):
``test_final_mean/std`` (test metric at the last epoch's weights), ``test_best_mean/std`` (at the best
validation epoch's weights), ``val_best_mean`` and ``val_final_mean``, ``seconds_per_step``,
``steps_to_target`` / ``seconds_to_target`` (first epoch at which the seed-mean validation curve reaches
the problem's target, see :mod:`deepzen.compare.profiles`; empty when never), ``diverged_seeds``,
``diverged_lrs`` (tuning trials that diverged) and ``status``.
"""

from __future__ import annotations

import csv
import json
import math
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from deepzen.compare.plan import Problem, Protocol
from deepzen.compare.profiles import first_reaching, target_value
from deepzen.compare.task_files import CHOICE, RECORD, seed_dir, task_dir


@dataclass
class Row:
    """One seed run (``results.csv``); curves are per epoch and stay out of the CSV."""

    problem: str
    optimizer: str
    seed: int
    lr: float | None
    status: str  # ok | diverged | no_converging_lr | missing
    epochs: int = 0
    steps: int = 0
    fit_seconds: float = math.nan
    seconds_per_step: float = math.nan
    val_final: float = math.nan
    val_best: float = math.nan
    test_final: float = math.nan
    test_best: float = math.nan
    train_loss: list[float] = field(default_factory=list, repr=False)
    val_curve: list[float] = field(default_factory=list, repr=False)
    time_curve: list[float] = field(default_factory=list, repr=False)  # cumulative seconds at each epoch end


CSV_FIELDS = [f for f in Row.__dataclass_fields__ if f not in ("train_loss", "val_curve", "time_curve")]


def read_metrics(path: Path) -> dict[str, list[float]]:
    """``metrics.csv`` -> column name -> values (empty when the file is missing)."""
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    columns: dict[str, list[float]] = {}
    for row in rows:
        for key, value in row.items():
            columns.setdefault(key, []).append(float(value) if value not in ("", None) else math.nan)
    return columns


def read_row(root: Path, problem: Problem, optimizer: str, seed: int, choice: dict[str, Any]) -> Row:
    folder = seed_dir(root, problem.name, optimizer, seed)
    if choice.get("status") == "no_converging_lr":
        return Row(problem.name, optimizer, seed, None, "no_converging_lr")
    record_path = folder / RECORD
    if not record_path.is_file():
        return Row(problem.name, optimizer, seed, choice.get("lr"), "missing")
    record = json.loads(record_path.read_text(encoding="utf-8"))
    columns = read_metrics(folder / "metrics.csv")
    val = columns.get(problem.metric, [])
    key = problem.metric.removeprefix("val_")
    finite = [v for v in val if math.isfinite(v)]
    steps, seconds = int(record.get("steps") or 0), float(record.get("fit_seconds") or math.nan)
    times = columns.get("time", [])
    return Row(
        problem.name, optimizer, seed, record.get("lr"), record["status"], int(record.get("epochs") or 0), steps,
        seconds, seconds / steps if steps else math.nan,
        val[-1] if val else math.nan,
        ((max if problem.maximize else min)(finite) if finite else math.nan),
        _metric(record.get("test_final"), key), _metric(record.get("test_best"), key),
        columns.get("loss", []), val, [sum(times[:i + 1]) for i in range(len(times))],
    )


def _metric(values: dict[str, float] | None, key: str) -> float:
    return float(values[key]) if values and key in values else math.nan


def read_choice(root: Path, problem: str, optimizer: str) -> dict[str, Any]:
    path = task_dir(root, problem, optimizer) / CHOICE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {"status": "missing", "trials": []}


def collect(root: Path, problems: list[Problem], protocol: Protocol) -> list[Row]:
    """Every row of the comparison, read from its folders."""
    return [read_row(root, p, o, s, read_choice(root, p.name, o))
            for p in problems for o in protocol.optimizers for s in protocol.seeds]


def _mean(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return statistics.fmean(finite) if finite else math.nan


def _std(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return statistics.stdev(finite) if len(finite) > 1 else (0.0 if finite else math.nan)


def mean_curve(curves: list[list[float]]) -> list[float]:
    """Epoch-wise mean of curves (over the seeds that reached that epoch)."""
    length = max((len(c) for c in curves), default=0)
    return [_mean([c[i] for c in curves if i < len(c)]) for i in range(length)]


def summarize(rows: list[Row], problems: list[Problem], protocol: Protocol, root: Path) -> list[dict[str, Any]]:
    """One summary row per (problem, optimizer), with the time to target."""
    table = []
    for problem in problems:
        entries = []
        for optimizer in protocol.optimizers:
            mine = [r for r in rows if r.problem == problem.name and r.optimizer == optimizer]
            ok = [r for r in mine if r.status == "ok"]
            choice = read_choice(root, problem.name, optimizer)
            trials = choice.get("trials", [])
            entries.append({
                "problem": problem.name, "optimizer": optimizer, "metric": problem.metric,
                "lr": mine[0].lr if mine else None, "status": choice.get("status"),
                "test_final_mean": _mean([r.test_final for r in ok]), "test_final_std": _std([r.test_final for r in ok]),
                "test_best_mean": _mean([r.test_best for r in ok]), "test_best_std": _std([r.test_best for r in ok]),
                "val_final_mean": _mean([r.val_final for r in ok]), "val_best_mean": _mean([r.val_best for r in ok]),
                "seconds_per_step": _mean([r.seconds_per_step for r in ok]),
                "diverged_seeds": sum(r.status == "diverged" for r in mine),
                "diverged_lrs": sum(bool(t.get("diverged")) for t in trials), "trials": len(trials),
                "_val_curve": mean_curve([r.val_curve for r in ok]),
                "_time_curve": mean_curve([r.time_curve for r in ok]),
                "_steps_per_epoch": ok[0].steps / ok[0].epochs if ok and ok[0].epochs else problem.steps_per_epoch,
            })
        finals = [e["val_final_mean"] for e in entries if math.isfinite(e["val_final_mean"])]
        best = (max if problem.maximize else min)(finals) if finals else math.nan
        target = target_value(best, protocol.target, problem.maximize) if finals else math.nan
        for e in entries:
            hit = first_reaching(e["_val_curve"], target, problem.maximize) if finals else None
            e["target"] = target
            e["steps_to_target"] = (hit + 1) * e["_steps_per_epoch"] if hit is not None else math.inf
            e["seconds_to_target"] = e["_time_curve"][hit] if hit is not None else math.inf
        table.extend(entries)
    return table


SUMMARY_FIELDS = ["problem", "optimizer", "metric", "status", "lr", "test_final_mean", "test_final_std",
                  "test_best_mean", "test_best_std", "val_final_mean", "val_best_mean", "target", "steps_to_target",
                  "seconds_to_target", "seconds_per_step", "diverged_seeds", "diverged_lrs", "trials"]


def _cell(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "" if math.isnan(value) else "inf"
    return value


def write_csv(path: Path, rows: list[dict[str, Any]], fields: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(row.get(k)) for k in fields})
    return path


def write_tables(root: Path, rows: list[Row], summary: list[dict[str, Any]]) -> None:
    """``results.csv`` (one row per optimizer x seed) and ``summary.csv`` (one per optimizer)."""
    write_csv(root / "results.csv", [asdict(r) for r in rows], CSV_FIELDS)
    write_csv(root / "summary.csv", summary, SUMMARY_FIELDS)


__all__ = ["CSV_FIELDS", "SUMMARY_FIELDS", "Row", "collect", "mean_curve", "read_choice", "read_metrics",
           "summarize", "write_tables"]
