"""A study's outputs in its folder:

- ``best.toml``: the full experiment config with the best trial's values (runnable with ``deepzen train``);
- ``best.json``: the best trial, its value, its values and its test metrics (evaluated once, here);
- ``trials.csv``: one row per trial (number, state, value, parameters, epochs, seconds, note);
- ``plots/``: Optuna's matplotlib figures (optimization history, parameter importances, parallel
  coordinates, slices, intermediate values) and ``best_curves.png`` (the best trial's curves);
- a summary table on the console.
"""

from __future__ import annotations

import csv
import json
import shutil
import warnings
from pathlib import Path
from typing import Any, Sequence

import optuna
from optuna.trial import FrozenTrial, TrialState

from deepzen.config import ExperimentConfig, write_config
from deepzen.config.tune import SearchParam
from deepzen.tune.space import decode_params, experiment_raw, trial_config
from deepzen.tune.storage import CRASHED_ATTR, RETRY_ATTR, SURPLUS_ATTR

PLOTS = {
    "optimization_history.png": "plot_optimization_history",
    "param_importances.png": "plot_param_importances",
    "parallel_coordinate.png": "plot_parallel_coordinate",
    "slice.png": "plot_slice",
    "intermediate_values.png": "plot_intermediate_values",
}


def shown_trials(study: optuna.Study) -> list[FrozenTrial]:
    """Every trial but the surplus ones (claimed past ``n_trials`` by a racing worker)."""
    return [t for t in study.get_trials(deepcopy=False) if not t.system_attrs.get(SURPLUS_ATTR)]


def write_trials_csv(study: optuna.Study, params: Sequence[SearchParam], path: Path) -> Path:
    """``trials.csv``: number, state, value, one column per searched key, epochs, seconds, note."""
    keys = [p.key for p in params]
    header = ["number", "state", "value", *keys, "epochs", "seconds", "run_dir", "note"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for t in shown_trials(study):
            values = decode_params(params, t.params)
            seconds = (t.datetime_complete - t.datetime_start).total_seconds() \
                if t.datetime_complete and t.datetime_start else ""
            note = t.user_attrs.get("note", "")
            if t.system_attrs.get(CRASHED_ATTR):
                note = "its process died; repeated by a later trial"
            elif RETRY_ATTR in t.system_attrs:
                note = f"repeats trial {t.system_attrs[RETRY_ATTR]}" + (f"; {note}" if note else "")
            cells = [json.dumps(values[k]) if isinstance(values.get(k), list) else values.get(k, "") for k in keys]
            writer.writerow([t.number, t.state.name, "" if t.value is None else repr(t.value), *cells,
                             len(t.intermediate_values), f"{seconds:.2f}" if seconds != "" else "",
                             t.user_attrs.get("run_dir", ""), note])
    return path


def best_config(config: ExperimentConfig, params: Sequence[SearchParam], trial: FrozenTrial,
                monitor: str, study_name: str) -> ExperimentConfig:
    """The experiment with ``trial``'s values (no ``[tune]``), written to run as ``<study>-best``."""
    base = experiment_raw(config)
    base.setdefault("training", {}).setdefault("monitor", monitor)
    base.setdefault("output", {})["name"] = f"{study_name}-best"
    return trial_config(base, decode_params(params, trial.params))


#: Plots whose axes Optuna labels with ``target_name`` (default "Objective Value").
TARGET_NAMED = ("plot_optimization_history", "plot_param_importances", "plot_parallel_coordinate", "plot_slice")
#: Width in inches per searched parameter: a slice panel, a parallel-coordinate axis (tick labels sit
#: beside each axis, so narrower axes overlap their neighbours' labels).
INCHES_PER_PARAM = {"plot_slice": 3.2, "plot_parallel_coordinate": 2.2}


def draw_plot(study: optuna.Study, function: str, metric: str = "Objective Value") -> Any:
    """The matplotlib figure of Optuna's ``function`` (a name in :data:`PLOTS`), axes named after
    ``metric``, sized so that tick labels do not run into each other."""
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as vis

    completed = [t for t in study.trials if t.state == TrialState.COMPLETE]
    n_params = len({name for t in completed for name in t.params})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        options = {"target_name": metric} if function in TARGET_NAMED else {}
        drawn = getattr(vis, function)(study, **options)
    figure = _figure_of(drawn)
    width = max(figure.get_size_inches()[0], 8, INCHES_PER_PARAM.get(function, 0) * (n_params + 1))
    figure.set_size_inches(width, max(figure.get_size_inches()[1], 5))
    if function == "plot_slice":  # long choices ("[128, 64]") and log ticks meet their neighbours
        from matplotlib.ticker import NullFormatter

        for axes in figure.axes:
            plt.setp(axes.get_xticklabels(), rotation=30, ha="right", rotation_mode="anchor")
            axes.xaxis.set_minor_formatter(NullFormatter())  # a short log range labels 2x, 3x, ... too
    return figure


def save_plots(study: optuna.Study, folder: Path, metric: str = "Objective Value") -> dict[str, str]:
    """Optuna's matplotlib figures as PNG (:func:`draw_plot`); ``{file: reason}`` for the ones that
    could not be drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    skipped: dict[str, str] = {}
    completed = [t for t in study.trials if t.state == TrialState.COMPLETE]
    for name, function in PLOTS.items():
        if len(completed) < 2 and function != "plot_optimization_history":
            skipped[name] = "needs 2 completed trials"
            continue
        try:
            figure = draw_plot(study, function, metric)
            figure.savefig(folder / name, dpi=110, bbox_inches="tight")
            plt.close(figure)
        except Exception as err:  # noqa: BLE001 - a missing figure must not lose the study's results
            skipped[name] = f"{type(err).__name__}: {err}"
            plt.close("all")
    return skipped


def _figure_of(drawn: Any) -> Any:
    """The figure behind Optuna's return value (an Axes or an array of Axes)."""
    import numpy as np

    first = np.asarray(drawn, dtype=object).ravel()[0] if not hasattr(drawn, "figure") else drawn
    return first.figure


def write_outputs(study: optuna.Study, config: ExperimentConfig, params: Sequence[SearchParam], study_dir: Path,
                  metric: str, evaluate: Any = None) -> dict[str, Any]:
    """Write every output; returns the content of ``best.json`` (``{}`` without a completed trial).

    ``evaluate(run_dir) -> metrics`` evaluates the best trial's weights on the test split (default
    ``deepzen.train.inference.evaluate_run``).
    """
    study_dir = Path(study_dir)
    write_trials_csv(study, params, study_dir / "trials.csv")
    skipped = save_plots(study, study_dir / "plots", metric)
    completed = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    if not completed:
        return {}
    best = study.best_trial
    run_dir = study_dir / best.user_attrs.get("run_dir", "")
    write_config(best_config(config, params, best, metric, study_dir.name), study_dir / "best.toml")
    if (run_dir / "curves.png").is_file():
        shutil.copyfile(run_dir / "curves.png", study_dir / "plots" / "best_curves.png")
    if evaluate is None:
        from deepzen.train.inference import evaluate_run

        def evaluate(folder: Path) -> dict[str, float] | None:
            try:
                return evaluate_run(folder, split="test")
            except ValueError:  # no test split
                return None

    values = decode_params(params, best.params)
    info = {"trial": best.number, "metric": metric, "direction": study.direction.name.lower(),
            "value": best.value, "params": values, "run_dir": str(run_dir.relative_to(study_dir)),
            "test": evaluate(run_dir) if run_dir.is_dir() else None,
            "trials": {s.name.lower(): sum(t.state == s for t in shown_trials(study)) for s in TrialState},
            "plots_skipped": skipped}
    (study_dir / "best.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return info


def summary_table(study: optuna.Study, params: Sequence[SearchParam], metric: str, best: dict[str, Any],
                  top: int = 10) -> Any:
    """A rich table of the ``top`` best completed trials, best first."""
    from rich.table import Table

    completed = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    completed.sort(key=lambda t: t.value, reverse=study.direction.name.lower() == "maximize")
    counts = best.get("trials", {})
    title = (f"study {study.study_name}: {counts.get('complete', 0)} complete, {counts.get('pruned', 0)} pruned, "
             f"{counts.get('fail', 0)} failed")
    table = Table(title=title, title_justify="left")
    table.add_column("trial", justify="right")
    table.add_column(metric, justify="right")
    for p in params:
        table.add_column(p.key, overflow="fold")
    for t in completed[:top]:
        values = decode_params(params, t.params)
        table.add_row(str(t.number), f"{t.value:.5g}", *(_cell(values.get(p.key)) for p in params))
    return table


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


__all__ = ["best_config", "draw_plot", "save_plots", "shown_trials", "summary_table", "write_outputs", "write_trials_csv"]
