"""TensorBoard and MLflow tracking of real runs, read back from the event files and from a real local
MLflow store (skipped only where the optional package is missing)."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
import pytest

import deepzen as dz
from deepzen.config import ConfigError, parse_toml, validate
from deepzen.train import experiment

IRIS = """seed = 0
[data]
name = "iris"
[model]
kind = "mlp"
hidden = [8]
[optimizer]
name = "sgd"
lr = 0.1
[training]
epochs = 3
batch_size = 32
threads = 1
[training.schedule]
name = "cosine"
[output]
dir = "{root}"
progress = "none"
tracking = {tracking}
log_every_steps = 1
"""


def train(root: Path, tracking: str, *extra: str) -> experiment.ExperimentResult:
    text = IRIS.format(root=root, tracking=tracking) + "".join(f"{line}\n" for line in extra)
    return experiment.run(validate(parse_toml(text)))


def metrics_rows(run_dir: Path) -> list[dict[str, float]]:
    return [{k: float(v) for k, v in row.items()} for row in csv.DictReader((run_dir / "metrics.csv").open())]


# ------------------------------------------------------------------------------------------- TensorBoard
def test_tensorboard_events_hold_steps_epochs_hparams_and_the_model(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import plugin_data_pb2

    result = train(tmp_path, '"tensorboard"')
    events = EventAccumulator(str(result.run_dir / "tensorboard"), size_guidance={"scalars": 0, "tensors": 0})
    events.Reload()
    rows = metrics_rows(result.run_dir)
    # per epoch: the metrics.csv rows, at x = epoch
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr"):
        logged = events.Scalars(key)
        assert [e.step for e in logged] == [1, 2, 3]
        np.testing.assert_allclose([e.value for e in logged], [r[key] for r in rows], rtol=1e-6)
    # per step: every optimizer step's loss; their sample-weighted mean over an epoch is that epoch's loss
    steps = events.Scalars("step/loss")
    n_train = len(experiment.load_data(result.config).train)
    sizes = [32] * (n_train // 32) + ([n_train % 32] if n_train % 32 else [])
    assert [e.step for e in steps] == list(range(1, 3 * len(sizes) + 1))
    for epoch, row in enumerate(rows):
        losses = [e.value for e in steps[epoch * len(sizes) : (epoch + 1) * len(sizes)]]
        assert np.dot(losses, sizes) / n_train == pytest.approx(row["loss"], rel=1e-5)
    # the learning rate follows the cosine schedule step by step: the last step of each epoch is the csv's lr
    lrs = [e.value for e in events.Scalars("step/lr")]
    assert lrs[0] == pytest.approx(0.1) and lrs[-1] < lrs[len(lrs) // 2] < lrs[0]
    assert [lrs[(e + 1) * len(sizes) - 1] for e in range(3)] == pytest.approx([r["lr"] for r in rows])
    # hyperparameters (HParams tab) with the final epoch's metrics, and the model as text
    content = events.PluginTagToContent("hparams")
    start = next(plugin_data_pb2.HParamsPluginData.FromString(c) for c in content.values()
                 if plugin_data_pb2.HParamsPluginData.FromString(c).HasField("session_start_info"))
    hparams = start.session_start_info.hparams
    assert hparams["optimizer.name"].string_value == "sgd"
    assert hparams["optimizer.lr"].number_value == pytest.approx(0.1)
    assert events.Scalars("hparam/val_accuracy")[-1].value == pytest.approx(rows[-1]["val_accuracy"])
    assert "model/text_summary" in events.Tags()["tensors"]


def test_tracking_none_writes_no_events_and_a_missing_package_is_a_config_error(tmp_path, monkeypatch):
    result = train(tmp_path, '"none"')
    assert not (result.run_dir / "tensorboard").exists()
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # as if tensorboard were not installed
    with pytest.raises(ConfigError, match=r"'tensorboard' needs its package: pip install 'deepzen\[tensorboard\]'"):
        train(tmp_path, '"tensorboard"')
    assert not (train(tmp_path, '"auto"').run_dir / "tensorboard").exists()


def test_an_unknown_tracker_names_the_allowed_ones(tmp_path):
    with pytest.raises(ConfigError) as err:
        train(tmp_path, '"wandb"')
    assert "output.tracking" in str(err.value) and "'mlflow'" in str(err.value)


# ------------------------------------------------------------------------------------------- MLflow
@pytest.fixture(scope="module")
def mlflow_run(tmp_path_factory):
    """One run tracked in the default store, ``sqlite:///<output.dir>/mlflow.db``."""
    pytest.importorskip("mlflow")
    root = tmp_path_factory.mktemp("mlflow")
    return root, train(root, '"mlflow"')


def test_mlflow_gets_params_epoch_metrics_test_metrics_and_the_run_folder(mlflow_run, tmp_path, monkeypatch):
    from mlflow.tracking import MlflowClient

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    root, result = mlflow_run
    client = MlflowClient(f"sqlite:///{root / 'mlflow.db'}")
    (run,) = client.search_runs([client.get_experiment_by_name("deepzen").experiment_id])
    assert run.info.status == "FINISHED" and run.info.run_name == result.run_dir.name
    assert run.data.params["optimizer.name"] == "sgd" and run.data.params["model.hidden"] == "[8]"
    rows = metrics_rows(result.run_dir)
    history = client.get_metric_history(run.info.run_id, "val_accuracy")
    assert [m.step for m in history] == [1, 2, 3]
    assert [m.value for m in history] == pytest.approx([r["val_accuracy"] for r in rows])
    assert run.data.metrics["test_accuracy"] == pytest.approx(result.test["accuracy"])
    # the artifacts are the run folder: a downloaded copy loads with deepzen.load and predicts the same
    copy = Path(client.download_artifacts(run.info.run_id, "", str(tmp_path)))
    assert (copy / "checkpoints" / "best.pt").is_file() and (copy / "summary.json").is_file()
    x = np.random.default_rng(0).uniform(1, 7, size=(6, 4))
    np.testing.assert_array_equal(dz.load(copy).predict(x).probabilities, dz.load(result.run_dir).predict(x).probabilities)


def test_mlflow_tracking_uri_from_the_environment(mlflow_run, tmp_path, monkeypatch):
    from mlflow.tracking import MlflowClient

    root, _ = mlflow_run
    uri = f"sqlite:///{root / 'mlflow.db'}"  # the same store, reached through the variable from another dir
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    train(tmp_path, '"mlflow"', 'mlflow_experiment = "from-env"')
    client = MlflowClient(uri)
    assert len(client.search_runs([client.get_experiment_by_name("from-env").experiment_id])) == 1
    assert not (tmp_path / "mlflow.db").exists()
    assert not Path("mlruns").exists()  # artifacts beside the SQLite file, not in the working directory


def test_a_study_is_a_parent_mlflow_run_with_its_trials_nested(mlflow_run, tmp_path):
    from mlflow.tracking import MlflowClient

    from deepzen import tune

    uri = f"sqlite:///{mlflow_run[0] / 'mlflow.db'}"  # the store already made (creating one takes seconds)
    text = IRIS.format(root=tmp_path, tracking='"mlflow"').replace("epochs = 3", "epochs = 1")
    text += f'mlflow_uri = "{uri}"\nmlflow_experiment = "study"\n'
    text += '[tune]\nmetric = "val_accuracy"\nn_trials = 2\nsampler = "random"\n'
    text += '[tune.space]\n"optimizer.lr" = {log_uniform = [1e-3, 1e-1]}\n'
    study = tune.run(validate(parse_toml(text)), study_dir=tmp_path / "study", verbose=False)
    client = MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name("study").experiment_id])
    (parent,) = [r for r in runs if r.data.tags.get("deepzen.kind") == "study"]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert len(children) == 2 and len(runs) == 3
    assert sorted(float(c.data.params["optimizer.lr"]) for c in children) == pytest.approx(
        sorted(t.params["optimizer.lr"] for t in study.trials))
    assert parent.data.metrics["best_val_accuracy"] == pytest.approx(study.best_value)
    assert parent.info.status == "FINISHED"
    assert "best.toml" in [a.path for a in client.list_artifacts(parent.info.run_id)]


def test_a_resumed_run_continues_its_mlflow_run(mlflow_run, tmp_path):
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{mlflow_run[0] / 'mlflow.db'}"
    extra = (f'mlflow_uri = "{uri}"', 'mlflow_experiment = "resume"')
    first = train(tmp_path, '"mlflow"', *extra)
    text = IRIS.format(root=tmp_path, tracking='"mlflow"') + "".join(f"{line}\n" for line in extra)
    config = validate(parse_toml(text.replace("epochs = 3", "epochs = 5")))
    experiment.run(config, run_dir=first.run_dir, resume=True)
    client = MlflowClient(uri)
    (run,) = client.search_runs([client.get_experiment_by_name("resume").experiment_id])
    assert [m.step for m in client.get_metric_history(run.info.run_id, "loss")] == [1, 2, 3, 4, 5]
    assert run.info.status == "FINISHED"
