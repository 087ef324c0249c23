"""A study in MLflow (``[output] tracking`` with ``"mlflow"``): one parent run for the study, with the
study settings and the base config as parameters and, at the end, the best value and the study's report
files (``best.toml``, ``best.json``, ``trials.csv``, ``plots/``); every trial is a nested child run (see
:mod:`deepzen.train.mlflow_log`). The parent's id is kept in ``<study>/mlflow_run.json``, so continuing
a study continues its parent run.
"""

from __future__ import annotations

import json
from pathlib import Path

import optuna

from deepzen.config import ExperimentConfig
from deepzen.train.mlflow_log import client_for, end_run, log_metrics, start_run
from deepzen.train.tracking import config_params, mlflow_uri, tracker_names
from deepzen.tune.storage import hide_password

PARENT_FILE = "mlflow_run.json"
REPORT_FILES = ("best.toml", "best.json", "trials.csv", "plots")


def start_study_run(config: ExperimentConfig, folder: Path) -> str | None:
    """The study's parent run id (created, or reopened when the study continues); ``None`` without MLflow."""
    if "mlflow" not in tracker_names(config.output.tracking):
        return None
    uri, saved = mlflow_uri(config), folder / PARENT_FILE
    if saved.is_file():
        run_id = str(json.loads(saved.read_text(encoding="utf-8"))["run_id"])
        client_for(uri).update_run(run_id, status="RUNNING")
        return run_id
    tune = config.tune
    assert tune is not None
    settings = {f"tune.{k}": v for k, v in tune.model_dump(mode="json", exclude={"space"}).items()}
    if tune.storage:
        settings["tune.storage"] = hide_password(tune.storage)
    params = {**config_params(config), **settings, "tune.space": ", ".join(p.key for p in tune.params())}
    run_id = start_run(uri, config.output.mlflow_experiment, folder.name, params, tags={"deepzen.kind": "study"})
    folder.mkdir(parents=True, exist_ok=True)
    saved.write_text(json.dumps({"run_id": run_id, "tracking_uri": uri}) + "\n", encoding="utf-8")
    return run_id


def end_study_run(config: ExperimentConfig, folder: Path, run_id: str, study: optuna.Study, metric: str) -> None:
    """Log the best value (``best_<metric>``) and the report files, and close the parent run."""
    uri = mlflow_uri(config)
    completed = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if completed:
        log_metrics(uri, run_id, {f"best_{metric}": study.best_value, "trials_completed": len(completed)}, 0)
    client = client_for(uri)
    for name in REPORT_FILES:
        path = folder / name
        if path.is_dir():
            client.log_artifacts(run_id, str(path), artifact_path=name)
        elif path.is_file():
            client.log_artifact(run_id, str(path))
    end_run(uri, run_id)
