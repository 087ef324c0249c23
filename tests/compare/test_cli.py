"""``deepzen compare`` on the command line: bad input stops before any run with exit code 2 and a
message naming the value; kill -9 then the same command continues; workers run each run once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import tomli_w

from tests.cli.conftest import call
from tests.compare.toy import iris_raw

ROOT = Path(__file__).resolve().parents[2]


def write_config(tmp_path: Path, **changes: object) -> Path:
    raw = iris_raw(tmp_path / "runs")
    for key, value in changes.items():
        section, name = key.split("__")
        raw.setdefault(section, {})[name] = value
    path = tmp_path / "iris.toml"
    path.write_text(tomli_w.dumps(raw))
    return path


@pytest.mark.parametrize("args, expected", [
    (["--optimizers", "adam,yogii"], ["unknown optimizer 'yogii'", "did you mean 'yogi'"]),
    (["--budget", "-1"], ["budget = -1", "0 (the paper defaults"]),
    (["--budget", "5000"], ["budget = 5000", "to 200"]),
    (["--seeds", "0"], ["seeds = 0", "from 1 to 20"]),
    (["--schedule", "linear"], ["schedule", "constant", "cosine"]),
    (["--set", "data.val=0"], ["validation split", "data.val = 0"]),
    (["--set", "training.precision=fp16", "--optimizers", "adam,eve"], ["'eve' needs the loss every step", "fp16"]),
])
def test_bad_input_exits_2_before_any_run(tmp_path: Path, capsys: pytest.CaptureFixture, args: list[str],
                                          expected: list[str]) -> None:
    code, _, err = call(capsys, "compare", str(write_config(tmp_path)), *args)
    assert code == 2, err
    assert all(text in err for text in expected), err
    assert "Traceback" not in err
    assert not (tmp_path / "runs").exists()  # nothing ran


def test_unknown_suite_and_function_names(capsys: pytest.CaptureFixture) -> None:
    code, _, err = call(capsys, "compare", "--suite", "clasic")
    assert code == 2 and "suite 'clasic'" in err and "did you mean 'classic'" in err
    code, _, err = call(capsys, "compare", "--functions", "rosenbrok")
    assert code == 2 and "unknown function 'rosenbrok'" in err and "did you mean 'rosenbrock'" in err


def test_functions_draw_each_optimizer_with_its_tuned_lr(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code, _, err = call(capsys, "compare", "--functions", "booth,beale", "--optimizers", "sgd,adam", "--budget", "3",
                        "--out", str(tmp_path / "fn"))
    assert code == 0, err
    for name in ("booth.png", "beale.png", "grid.png", "trajectories.csv"):
        assert (tmp_path / "fn" / name).is_file(), name
    assert len((tmp_path / "fn" / "trajectories.csv").read_text().splitlines()) == 1 + 4


def compare_command(config: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "deepzen", "compare", str(config), "--optimizers", "sgd,adam", "--budget", "2",
            "--seeds", "2", *extra]


@pytest.mark.slow
def test_kill_9_then_the_same_command_continues_without_redoing_finished_runs(tmp_path: Path) -> None:
    config = write_config(tmp_path, training__epochs=4)
    root = tmp_path / "runs" / "iris-compare" / "iris"
    child = subprocess.Popen(compare_command(config), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    first = root / "sgd" / "seed-0" / "compare.json"
    try:
        deadline = time.time() + 240
        while not first.is_file() and time.time() < deadline and child.poll() is None:
            time.sleep(0.05)
        assert first.is_file(), "the first seed run never finished"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    # the runs that finished before the kill (a run the kill cut short resumes and rightly grows its metrics.csv)
    finished = {p: p.read_bytes() for folder in root.glob("*/seed-*") if (folder / "compare.json").is_file()
                for p in (folder / "metrics.csv", folder / "compare.json")}
    assert first in finished
    done = subprocess.run(compare_command(config), cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "sgd seed 0" not in done.stdout  # not run again
    assert all(p.read_bytes() == content for p, content in finished.items())
    for folder in root.glob("*/seed-*"):
        assert (folder / "compare.json").is_file()
        assert len((folder / "metrics.csv").read_text().splitlines()) == 1 + 4  # header + one row per epoch


@pytest.mark.slow
def test_two_workers_run_each_run_exactly_once(tmp_path: Path) -> None:
    config = write_config(tmp_path, training__epochs=1)
    done = subprocess.run(compare_command(config, "--workers", "2", "--budget", "1"), cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    runs = [line.split(" lr=")[0] for line in done.stdout.splitlines() if " lr=" in line]
    assert sorted(runs) == sorted(f"iris/{o} {what}" for o in ("sgd", "adam") for what in ("tune", "seed 0", "seed 1"))
    for folder in (tmp_path / "runs" / "iris-compare" / "iris").glob("*/seed-*"):
        assert len((folder / "metrics.csv").read_text().splitlines()) == 1 + 1  # header + the one epoch
