"""MLflow tracking (``pip install 'deepzen[mlflow]'``: the ``mlflow-skinny`` client with SQLAlchemy and
Alembic for the local SQLite store).

Store: ``tracking_uri``, else ``$MLFLOW_TRACKING_URI``, else ``sqlite:///<output.dir>/mlflow.db`` (recent
MLflow refuses the old ``mlruns`` folder store); a SQLite store keeps new experiments' artifacts in
``mlartifacts/`` beside its file, not in the working directory. One MLflow run per deepzen run: the parameters (the resolved config, flattened), every epoch's
quantities at step = epoch, and at the end the test metrics and the run directory as artifacts (config,
data info, metrics, curves, summary, ``checkpoints/best.pt`` and ``last.pt``: the model, which
``deepzen.load`` reads from a downloaded copy). A study (``deepzen tune``) is a parent run, its trials
nested child runs. The MLflow run id is kept in the checkpoints, so ``--resume`` continues the same run.

The client API (``MlflowClient``) is used rather than ``mlflow.start_run``: no process-global active
run, so trials and tests cannot leak runs into each other.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from deepzen.train.callbacks import Callback

if TYPE_CHECKING:
    from deepzen.train.callbacks.base import TrainerView

INSTALL_HINT = "pip install 'deepzen[mlflow]'"
PARENT_TAG = "mlflow.parentRunId"
MAX_PARAM = 6000  # MLflow's limit on a parameter value's length


def default_uri(output_dir: str | Path) -> str:
    """``$MLFLOW_TRACKING_URI`` or a SQLite file in the runs folder."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path(output_dir).resolve() / 'mlflow.db'}"


def mlflow_installed() -> bool:
    """True when the MLflow client can be imported."""
    try:
        from mlflow.tracking import MlflowClient  # noqa: F401
    except ImportError:
        return False
    return True


def client_for(uri: str) -> Any:
    if not mlflow_installed():
        raise ImportError(f"MLflow tracking needs the mlflow client: {INSTALL_HINT}")
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri)


def start_run(uri: str, experiment: str, name: str, params: Mapping[str, Any], parent: str | None = None,
              tags: Mapping[str, str] | None = None) -> str:
    """Create an MLflow run (nested under ``parent`` if given), log ``params``; returns its id."""
    client = client_for(uri)
    found = client.get_experiment_by_name(experiment)
    if found is not None:
        experiment_id = found.experiment_id
    else:
        location = None  # a server decides; a SQLite file keeps artifacts beside it, not in ./mlruns
        if uri.startswith("sqlite:///"):
            location = (Path(uri.removeprefix("sqlite:///")).parent / "mlartifacts").resolve().as_uri()
        experiment_id = client.create_experiment(experiment, artifact_location=location)
    all_tags = {**(tags or {}), **({PARENT_TAG: parent} if parent else {})}
    run = client.create_run(experiment_id, run_name=name, tags=all_tags)
    log_params(client, run.info.run_id, params)
    return str(run.info.run_id)


def log_params(client: Any, run_id: str, params: Mapping[str, Any]) -> None:
    from mlflow.entities import Param

    items = [Param(k, str(v)[:MAX_PARAM]) for k, v in params.items()]
    for i in range(0, len(items), 100):  # MLflow takes at most 100 params per batch
        client.log_batch(run_id, params=items[i : i + 100])


def log_metrics(uri: str, run_id: str, values: Mapping[str, float], step: int) -> None:
    from mlflow.entities import Metric

    stamp = int(time.time() * 1000)
    metrics = [Metric(k, float(v), stamp, step) for k, v in values.items()]
    if metrics:
        client_for(uri).log_batch(run_id, metrics=metrics)


def end_run(uri: str, run_id: str, artifacts: str | Path | None = None, failed: bool = False) -> None:
    """Upload ``artifacts`` (a folder, if given) and mark the run FINISHED (or FAILED)."""
    client = client_for(uri)
    if artifacts is not None and Path(artifacts).is_dir():
        client.log_artifacts(run_id, str(artifacts))
    client.set_terminated(run_id, status="FAILED" if failed else "FINISHED")


class MLflowLogger(Callback):
    """Log one training run to MLflow (module docstring).

    Arguments:
        tracking_uri: the store (see :func:`default_uri`).
        experiment: MLflow experiment name.
        run_name: shown in the MLflow UI; default the run folder's name.
        params: flat ``{name: value}`` logged once.
        parent: run id of a parent run (a study) to nest under.
        end_on_train_end: upload the run folder and close the MLflow run when training ends; ``False``
            leaves that to the caller (:meth:`finish`), which can add test metrics first.
    """

    def __init__(self, tracking_uri: str | None = None, experiment: str = "deepzen", run_name: str | None = None,
                 params: Mapping[str, Any] | None = None, parent: str | None = None,
                 end_on_train_end: bool = True) -> None:
        if not mlflow_installed():  # fail now, not after the first epoch
            raise ImportError(f"MLflow tracking needs the mlflow client: {INSTALL_HINT}")
        self.uri = tracking_uri or default_uri("runs")
        self.experiment, self.run_name, self.params, self.parent = experiment, run_name, dict(params or {}), parent
        self.end_on_train_end = end_on_train_end
        self.run_id: str | None = None

    def on_train_begin(self, trainer: TrainerView) -> None:
        if self.run_id is not None:  # resumed from a checkpoint: continue the same MLflow run
            client_for(self.uri).update_run(self.run_id, status="RUNNING")
            return
        name = self.run_name or (trainer.run_dir.path.name if trainer.run_dir is not None else "deepzen")
        self.run_id = start_run(self.uri, self.experiment, name, self.params, self.parent)

    def on_epoch_end(self, trainer: TrainerView, epoch: int, logs: dict[str, float]) -> None:
        assert self.run_id is not None
        log_metrics(self.uri, self.run_id, {k: v for k, v in logs.items() if k != "epoch"}, epoch + 1)

    def on_train_end(self, trainer: TrainerView) -> None:
        if self.end_on_train_end:
            self.finish(trainer.run_dir.path if trainer.run_dir is not None else None, failed=trainer.failed)

    def finish(self, run_dir: str | Path | None, test: Mapping[str, float] | None = None,
               failed: bool = False) -> None:
        """Log ``test`` metrics (as ``test_<name>``), upload ``run_dir`` and close the MLflow run."""
        if self.run_id is None:
            return
        if test:
            log_metrics(self.uri, self.run_id, {f"test_{k}": v for k, v in test.items()}, 0)
        end_run(self.uri, self.run_id, run_dir, failed)

    def state_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id} if self.run_id is not None else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.run_id = state.get("run_id")
