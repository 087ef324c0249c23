"""``deepzen compare [CONFIG | --suite NAME | --functions NAMES]``: a fair optimizer benchmark."""

from __future__ import annotations

import time
from pathlib import Path
from typing import List, Optional

import typer

from deepzen.cli.common import SET_HELP


def compare(
    config: Optional[Path] = typer.Argument(None, help="Experiment TOML; none: the bundled default (CNN on digits)."),
    suite: Optional[str] = typer.Option(None, "--suite", help="A bundled problem suite instead of CONFIG: classic."),
    functions: Optional[str] = typer.Option(None, "--functions", help="Trajectories on 2-D test functions instead: "
                                            "rosenbrock,himmelblau,beale,... or all."),
    set_: List[str] = typer.Option([], "--set", "-s", help=SET_HELP, metavar="KEY=VALUE"),
    optimizers: Optional[str] = typer.Option(None, "--optimizers", "-o", help="Comma-separated names, or all."),
    budget: Optional[int] = typer.Option(None, "--budget", "-b", help="lr trials per optimizer (0: paper defaults)."),
    seeds: Optional[int] = typer.Option(None, "--seeds", "-k", help="Seeds per chosen setting."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", help="Tasks at once, one process each."),
    grid: Optional[bool] = typer.Option(None, "--grid/--no-grid", help="DeepOBS's log lr grid over 1e-5..1e2."),
    schedule: Optional[str] = typer.Option(None, "--schedule", help="constant | cosine | warmup_cosine, for all."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder; default runs/<name>-compare (-grid / -defaults appended for --grid / --budget 0)."),
) -> None:
    """Compare optimizers under one protocol: same lr budget on the validation split, shared seeds,
    the test split once per run after tuning; writes results.csv, summary.csv, report.md and plots.

    Running the same command again continues a comparison without redoing finished runs.
    """
    from deepzen.config import ConfigError

    started = time.perf_counter()
    if functions is not None:
        if config is not None or suite is not None:
            raise ConfigError("--functions runs on its own: give no CONFIG or --suite with it")
        from deepzen.compare import functions as fn

        folder = fn.run_functions(functions, optimizers, budget, out or Path("runs") / "functions-compare")
        typer.echo(f"trajectories saved in {folder}  ({time.perf_counter() - started:.1f}s)")
        return
    from deepzen.compare import run

    result = run(config, suite=suite, overrides=set_, optimizers=optimizers, budget=budget, seeds=seeds,
                 workers=workers, grid=grid, schedule=schedule, out=out)
    from deepzen.compare.report import ranking

    typer.echo("ranking (mean rank of the final test metric over problems):")
    for row in ranking(result.problems, result.protocol, result.summary):
        typer.echo(f"  {row['optimizer']:<10} {row['mean_rank']:.2f}")
    typer.echo(f"report: {result.root / 'report.md'}  ({time.perf_counter() - started:.1f}s)")
