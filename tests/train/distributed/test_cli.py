"""``deepzen train CONFIG --nproc N``: a bad N, a taken MASTER_PORT, CUDA on a machine without it and a
resume with another number of processes are usage errors (exit 2, no traceback); two processes write
one run folder (rank 0) whose validation and test numbers equal a one-process run's (no dropout: each
rank draws its own masks, so dropout runs differ)."""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

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


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port that a listening socket holds."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def usage_error(argv: list[str], capsys: pytest.CaptureFixture) -> str:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "Traceback" not in err, err
    return err


def test_a_taken_master_port_is_refused_before_starting_the_processes(
        taken_port: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("MASTER_PORT", str(taken_port))
    err = usage_error(["train", str(ROOT / "examples" / "mlp_iris.toml"), "--nproc", "2"], capsys)
    assert f"MASTER_PORT {taken_port}: the port is already in use" in err


@pytest.mark.slow
def test_a_rank_whose_master_port_is_taken_stops_with_a_usage_error(tmp_path: Path, taken_port: int) -> None:
    """Rank 0 of a launcher that does not hold the rendezvous itself (env://) hosts it on MASTER_PORT."""
    ran = subprocess.run([sys.executable, "-m", "deepzen", "train", str(ROOT / "examples" / "mlp_iris.toml")],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         env={**ENV, "RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1",
                              "MASTER_PORT": str(taken_port)})
    assert ran.returncode == 2, ran.stderr[-2000:]
    assert f"MASTER_PORT '{taken_port}': the address 127.0.0.1:{taken_port} is already in use" in ran.stderr
    assert "Traceback" not in ran.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_with_nproc_on_a_machine_without_cuda_is_a_usage_error(capsys: pytest.CaptureFixture) -> None:
    err = usage_error(["train", str(ROOT / "examples" / "mlp_iris.toml"), "--nproc", "2", "--device", "cuda"], capsys)
    assert "device 'cuda': CUDA is not available on this machine (NCCL needs GPUs)" in err


def test_resuming_with_another_number_of_processes_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as done:
        main(["train", str(ROOT / "examples" / "mlp_iris.toml"), "--set", "training.epochs=1",
              "--set", "output.progress=none", "--set", "output.name=r"])
    assert done.value.code == 0
    last = tmp_path / "runs" / "r" / "checkpoints" / "last.pt"
    saved = torch.load(last, weights_only=True)
    assert saved["processes"] == 1
    torch.save({**saved, "processes": 2}, last)  # as a two-process run writes it
    capsys.readouterr()
    err = usage_error(["train", "--resume", "runs/r", "--nproc", "3"], capsys)
    assert "the run was saved by 2 processes and this resume asks for 3: resume with --nproc 2" in err
    err = usage_error(["train", "--resume", "runs/r"], capsys)
    assert "the run was saved by 2 processes and this resume asks for 1: resume with --nproc 2" in err
