"""Run directory contents, atomic checkpoint writes and RNG state round trips."""

from __future__ import annotations

import csv
import json
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from deepzen.train import EarlyStopping, Trainer, atomic_save
from deepzen.train.checkpoint import capture_rng_state, restore_rng_state
from deepzen.train.run_dir import RunDir
from tests.train.conftest import classification_data, mlp


def test_run_dir_files_and_contents(tmp_path):
    x, y = classification_data(n=120)
    model = mlp()
    trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=1e-2), F.cross_entropy, metrics=["accuracy"],
                      seed=0, run_dir=tmp_path, progress="none")
    RunDir(tmp_path).write_config({"optimizer": {"name": "adam", "lr": 0.01}})
    history = trainer.fit((x[:96], y[:96]), val=(x[96:], y[96:]), epochs=4, batch_size=16)

    with open(tmp_path / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4
    assert list(rows[0]) == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "time"]
    assert [float(r["val_loss"]) for r in rows] == pytest.approx(history["val_loss"])
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["epochs_completed"] == 4 and summary["global_step"] == 24
    assert summary["final"]["val_accuracy"] == pytest.approx(trainer.evaluate((x[96:], y[96:]))["accuracy"])
    assert summary["best"]["value"] == pytest.approx(min(history["val_loss"]))
    assert summary["versions"]["torch"] == torch.__version__
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "config.toml").read_text().startswith("[optimizer]")
    best = torch.load(tmp_path / "checkpoints" / "best.pt", weights_only=True)
    assert best["loop"]["epoch"] == 1 + int(np.argmin(history["val_loss"]))


def test_atomic_save_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    atomic_save({"value": torch.tensor(1.0)}, path)

    def broken_save(obj, handle):
        handle.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        atomic_save({"value": torch.tensor(2.0)}, path)
    monkeypatch.undo()
    assert torch.load(path, weights_only=True)["value"] == 1.0
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]  # no temp file left behind


def test_rng_states_round_trip_through_a_weights_only_file(tmp_path):
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    random.random(), np.random.randn(), torch.rand(1)
    atomic_save({"rng": capture_rng_state()}, tmp_path / "rng.pt")
    expected = (random.random(), np.random.randn(), torch.rand(3))
    random.seed(9), np.random.seed(9), torch.manual_seed(9)
    restore_rng_state(torch.load(tmp_path / "rng.pt", weights_only=True)["rng"])
    got = (random.random(), np.random.randn(), torch.rand(3))
    assert got[0] == expected[0] and got[1] == expected[1] and torch.equal(got[2], expected[2])


def test_early_stopping_state_survives_a_checkpoint(tmp_path):
    x, y = classification_data()
    model = mlp()
    stopper = EarlyStopping(patience=3)
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), F.cross_entropy, seed=0,
                      callbacks=[stopper], run_dir=tmp_path, progress="none")
    trainer.fit((x, y), epochs=2, batch_size=16)
    state = torch.load(tmp_path / "checkpoints" / "last.pt", weights_only=True)
    saved = state["callbacks"]["EarlyStopping#0"]
    assert saved["best"] == stopper.best and saved["monitor"] == "loss"
    assert all(torch.equal(saved["best_weights"][k], v) for k, v in stopper.best_weights.items())
