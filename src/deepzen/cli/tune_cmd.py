"""``deepzen tune CONFIG``: run (or continue) the hyperparameter study of a config's ``[tune]`` section."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from deepzen.cli.common import SET_HELP


def tune(
    config: Path = typer.Argument(..., help="Experiment TOML with a \\[tune] section (search space, metric, trials)."),
    set_: List[str] = typer.Option([], "--set", "-s", help=SET_HELP, metavar="KEY=VALUE"),
    resume: bool = typer.Option(False, "--resume", help="Continue the study even if the config changed."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", min=1, help="Trials at once, one process each."),
    storage: Optional[str] = typer.Option(None, "--storage", help="Database URL shared by many machines "
                                          "(postgresql://..., mysql://...); default: a journal file in the study folder."),
    n_trials: Optional[int] = typer.Option(None, "--n-trials", "-n", min=1, help="Trials the study ends with (all runs)."),
    timeout: Optional[float] = typer.Option(None, "--timeout", help="Start no trial after this many seconds."),
    study_dir: Optional[Path] = typer.Option(None, "--study-dir", help="Study folder; default <output.dir>/<tune.name>."),
) -> None:
    """Search hyperparameters with Optuna; writes best.toml, trials.csv and plots to the study folder.

    Running the same command again continues a study where it stopped (finished trials are kept,
    trials a killed process left behind are repeated).
    """
    from deepzen.config import load_config
    from deepzen.tune import WorkerError, run

    cfg = load_config(config, set_)
    try:
        run(cfg, n_trials, study_dir=study_dir, resume=resume, workers=workers, storage=storage, timeout=timeout)
    except WorkerError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None
