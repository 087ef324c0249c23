"""Training that goes wrong or stops early, through ``deepzen train``: the NaN guard and early stopping."""

from __future__ import annotations

import csv
import math

import torch

from tests.cli.conftest import EXAMPLES, call, summary

IRIS = [str(EXAMPLES / "mlp_iris.toml"), "--set", "output.progress=line"]


def test_nan_guard_stops_with_a_message_and_keeps_a_finite_checkpoint(tmp_path, capsys):
    # SGD with lr 1e4 on an MLP diverges to inf/nan within the first epochs
    code, out, err = call(capsys, "train", str(EXAMPLES / "mlp_iris.toml"), "--set", f"output.dir={tmp_path}",
                          "--set", "optimizer.name=sgd", "--set", "optimizer.lr=1e4", "--set", "training.epochs=30",
                          "--set", "training.early_stopping=false", "--set", "training.checkpoint_every=1",
                          "--set", "output.progress=line")
    assert code == 1, out + err
    assert "training failed:" in err and ("nan" in err or "inf" in err)
    assert "Traceback" not in err
    run_dir = tmp_path / "mlp-iris"
    assert summary(run_dir)["failed"] is True
    assert summary(run_dir)["test"] is None
    last = run_dir / "checkpoints" / "last.pt"
    if last.exists():  # whatever was kept is a good checkpoint
        weights = torch.load(last, weights_only=True)["model"]
        assert all(torch.isfinite(t).all() for t in weights.values() if t.is_floating_point())


def test_early_stopping_stops_after_patience_epochs(tmp_path, capsys):
    # min_delta larger than any possible improvement: epoch 1 is the best, then `patience` epochs without
    code, out, err = call(capsys, "train", *IRIS, "--set", f"output.dir={tmp_path}", "--set", "training.epochs=30",
                          "--set", "training.early_stopping.patience=3", "--set", "training.early_stopping.min_delta=100")
    assert code == 0, err
    run_dir = tmp_path / "mlp-iris"
    rows = list(csv.DictReader((run_dir / "metrics.csv").open()))
    assert len(rows) == 1 + 3
    assert "early stopping" in summary(run_dir)["stop_reason"]
    assert "early stopping: val_loss did not improve for 3 epochs" in out


def test_early_stopping_on_accuracy_uses_max_mode(tmp_path, capsys):
    code, out, err = call(capsys, "train", *IRIS, "--set", f"output.dir={tmp_path}", "--set", "training.epochs=40",
                          "--set", "training.monitor=val_accuracy", "--set", "training.early_stopping.patience=4")
    assert code == 0, err
    rows = list(csv.DictReader((tmp_path / "mlp-iris" / "metrics.csv").open()))
    acc = [float(r["val_accuracy"]) for r in rows]
    best = max(range(len(acc)), key=lambda i: (acc[i], -i))  # first epoch of the maximum
    assert len(rows) == 40 or len(rows) == best + 1 + 4
    s = summary(tmp_path / "mlp-iris")
    assert s["best"]["monitor"] == "val_accuracy" and math.isclose(s["best"]["value"], acc[best])
