"""``report.md``: the protocol, the per-problem table, the ranking and the plots of a comparison."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from deepzen.compare.plan import GRID_RANGE, Problem, Protocol
from deepzen.compare.plots import plot_curves, plot_profile, plot_sensitivity, plot_time_to_target
from deepzen.compare.profiles import performance_profile
from deepzen.compare.results import Row

PROFILE_TAUS = (1.0, 1.5, 2.0, 4.0)


def protocol_text(protocol: Protocol) -> str:
    if protocol.budget == 0:
        search = "no tuning: every optimizer runs with its paper defaults (Crowded Valley's one-shot setting)"
    elif protocol.grid:
        search = (f"DeepOBS's protocol: a log grid of {protocol.budget} learning rates over "
                  f"[{GRID_RANGE[0]:g}, {GRID_RANGE[1]:g}], scored on the validation split")
    else:
        low, high = protocol.lr_range
        search = (f"{protocol.budget} Optuna TPE trials per optimizer over a log-uniform lr in [{low:g}, {high:g}] "
                  f"(same sampler seed for all), scored on the validation split; other hyperparameters "
                  "are the paper defaults")
    return "\n".join([
        f"- Tuning: {search}.",
        f"- The chosen lr is rerun with {len(protocol.seeds)} seeds ({', '.join(map(str, protocol.seeds))}), shared "
        "by every optimizer: same initial weights, batch order and data split at a given seed.",
        f"- Schedule: {protocol.schedule} for every optimizer.",
        "- The test split is evaluated only in those reruns, after tuning, at the final weights (`test final`) "
        "and at the best validation epoch (`test best`).",
        "- A run whose loss turned NaN/inf is counted as diverged (never dropped); `diverged lrs` counts the "
        "tuning trials that diverged.",
        f"- Target: {protocol.target:g} of the best optimizer's final validation value on each problem "
        "(value x f when maximized, value / f when minimized); steps and seconds to reach it on the "
        "seed-mean validation curve.",
    ])


def ranking(problems: list[Problem], protocol: Protocol, summary: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per optimizer: mean rank of ``test_final_mean`` over problems (1 = best; a failed optimizer
    ranks last) and ρ(τ) of the steps-to-target performance profile."""
    ranks: dict[str, list[int]] = {o: [] for o in protocol.optimizers}
    for problem in problems:
        entries = [e for e in summary if e["problem"] == problem.name]
        sign = -1 if problem.maximize else 1
        ordered = sorted(entries, key=lambda e: sign * e["test_final_mean"] if math.isfinite(e["test_final_mean"])
                         else math.inf)
        for position, e in enumerate(ordered, 1):
            ranks[e["optimizer"]].append(position)
    costs: dict[str, dict[str, float]] = {}
    for e in summary:
        costs.setdefault(e["problem"], {})[e["optimizer"]] = e["steps_to_target"]
    profile = performance_profile(costs, PROFILE_TAUS)
    table = [{"optimizer": o, "mean_rank": sum(r) / len(r) if r else math.nan,
              **{f"rho_{tau:g}": profile.get(o, [math.nan] * len(PROFILE_TAUS))[i]
                 for i, tau in enumerate(PROFILE_TAUS)}} for o, r in ranks.items()]
    return sorted(table, key=lambda row: row["mean_rank"])


def _num(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float) and math.isinf(value):
        return "never"
    return f"{value:.{digits}g}" if isinstance(value, float) else str(value)


def problem_table(entries: list[dict[str, Any]]) -> list[str]:
    lines = ["| optimizer | lr | test final (mean ± std) | test best | val best | steps to target | "
             "s to target | ms/step | diverged seeds | diverged lrs | status |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for e in entries:
        lines.append(
            f"| {e['optimizer']} | {_num(e['lr'], 3)} | {_num(e['test_final_mean'])} ± {_num(e['test_final_std'], 2)} "
            f"| {_num(e['test_best_mean'])} | {_num(e['val_best_mean'])} | {_num(e['steps_to_target'])} "
            f"| {_num(e['seconds_to_target'], 3)} | {_num(e['seconds_per_step'] * 1e3, 3)} "
            f"| {e['diverged_seeds']} | {e['diverged_lrs']}/{e['trials']} | {e['status']} |")
    return lines


def ranking_table(rows: list[dict[str, Any]]) -> list[str]:
    taus = " | ".join(f"ρ({t:g})" for t in PROFILE_TAUS)
    lines = [f"| optimizer | mean rank (test final) | {taus} |", "|---|---:|" + "---:|" * len(PROFILE_TAUS)]
    for r in rows:
        lines.append(f"| {r['optimizer']} | {_num(r['mean_rank'], 3)} | "
                     + " | ".join(_num(r[f'rho_{t:g}'], 3) for t in PROFILE_TAUS) + " |")
    return lines


def write_report(root: Path, problems: list[Problem], protocol: Protocol, rows: list[Row],
                 summary: list[dict[str, Any]]) -> Path:
    """Write the plots and ``report.md`` into ``root``; returns the report's path."""
    plots = root / "plots"
    plot_curves(plots / "curves.png", problems, protocol, rows)
    plot_sensitivity(plots / "sensitivity.png", problems, protocol, root)
    plot_time_to_target(plots / "time_to_target.png", problems, protocol, summary)
    plot_profile(plots / "profile.png", protocol, summary)
    lines = ["# Optimizer comparison", "", "## Protocol", "", protocol_text(protocol), "", "## Results", ""]
    for problem in problems:
        metric = problem.metric.removeprefix("val_")
        lines += [f"### {problem.name} ({metric}, {'higher' if problem.maximize else 'lower'} is better)", ""]
        lines += problem_table([e for e in summary if e["problem"] == problem.name]) + [""]
    lines += ["## Ranking", "", "Mean rank of the final test metric over the problems, and the performance "
              "profile ρ(τ) over steps to target: the fraction of problems on which the optimizer reaches "
              "the target within τ times the steps of the fastest (Dolan & Moré 2002).", ""]
    lines += ranking_table(ranking(problems, protocol, summary)) + [""]
    lines += ["## Plots", "", "![performance profile](plots/profile.png)", "",
              "![training and validation curves](plots/curves.png)", "",
              "![lr sensitivity](plots/sensitivity.png)", "", "![steps to target](plots/time_to_target.png)", ""]
    path = root / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


__all__ = ["protocol_text", "ranking", "write_report"]
