"""``deepzen train CONFIG --nproc N``: a bad N is a usage error (exit 2); two processes write one run
folder (rank 0) whose validation and test numbers equal a one-process run's (no dropout: each rank
draws its own masks, so dropout runs differ)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from deepzen.cli import main
from tests.train.distributed.test_equivalence import ENV

ROOT = Path(__file__).resolve().parents[3]
SETTINGS = ["--set", "training.epochs=3", "--set", "model.dropout=0.0", "--set", "output.progress=none"]


@pytest.mark.parametrize("nproc", ["0", "-1", "5000"])
def test_bad_nproc_is_a_usage_error(nproc: str, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["train", str(ROOT / "examples" / "mlp_iris.toml"), "--nproc", nproc])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert f"--nproc {nproc}: give a number of processes from 1 to" in err and "Traceback" not in err


def train(tmp_path: Path, name: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "deepzen", "train", str(ROOT / "examples" / "mlp_iris.toml"),
                           *SETTINGS, "--set", f"output.name={name}", *extra], cwd=tmp_path,
                          env={**ENV, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")])},
                          capture_output=True, text=True, timeout=300)


def rows(run: Path) -> list[dict[str, float]]:
    with (run / "metrics.csv").open() as handle:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(handle)]


@pytest.mark.slow
def test_two_processes_write_one_run_with_single_process_validation(tmp_path: Path) -> None:
    two = train(tmp_path, "two", "--nproc", "2")
    assert two.returncode == 0, two.stderr[-3000:]
    one = train(tmp_path, "one")
    assert one.returncode == 0, one.stderr[-3000:]
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["one", "two"]  # rank 1 made no folder
    assert two.stdout.count("run saved in") == 1  # rank 0 prints
    for a, b in zip(rows(tmp_path / "runs" / "one"), rows(tmp_path / "runs" / "two"), strict=True):
        for key in ("val_loss", "val_accuracy"):
            assert a[key] == pytest.approx(b[key], abs=1e-6), key
    test_one = json.loads((tmp_path / "runs" / "one" / "summary.json").read_text())["test"]
    test_two = json.loads((tmp_path / "runs" / "two" / "summary.json").read_text())["test"]
    assert test_two == pytest.approx(test_one, abs=1e-6)
