"""Failure and exact resume under ``deepzen train --nproc 2``: ``kill -9`` of rank 1 mid-run makes the
launcher stop rank 0 and exit non-zero within a bounded time (torchrun's summary names the failed
ranks; which one it observes first is a race, so the text is not asserted); ``--resume`` with two
processes then ends bitwise equal to an uninterrupted two-process run, with dropout: rank 0's
checkpoint holds every rank's RNG states, and each rank draws its own masks on from there."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from tests.train.distributed.test_equivalence import ENV

ROOT = Path(__file__).resolve().parents[3]
SETTINGS = ["--set", "training.epochs=40", "--set", "model.dropout=0.3", "--set", "output.progress=none",
            "--set", "training.checkpoint_every=7", "--unset", "training.early_stopping"]


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "deepzen", "train", *args, "--nproc", "2"]


def parent_of(pid: int) -> int:
    return int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])


def rank_pid(root: int, rank: int) -> int | None:
    """The pid of the process below ``root`` whose environment has ``RANK=<rank>``."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            pid = int(entry.name)
            while pid > 1 and pid != root:
                pid = parent_of(pid)
        except (OSError, ValueError):
            continue
        if pid == root and f"RANK={rank}".encode() in environ:
            return int(entry.name)
    return None


def last_checkpoint(run: Path) -> dict:
    return torch.load(run / "checkpoints" / "last.pt", weights_only=True)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds the ranks through /proc")
def test_kill_9_of_one_rank_stops_the_run_then_resume_is_bitwise(tmp_path: Path) -> None:
    config = str(ROOT / "examples" / "mlp_iris.toml")
    whole = subprocess.run(command(config, *SETTINGS, "--set", "output.name=whole"), cwd=tmp_path, env=ENV,
                           capture_output=True, text=True, timeout=300)
    assert whole.returncode == 0, whole.stderr[-3000:]

    run = tmp_path / "runs" / "cut"
    child = subprocess.Popen(command(config, *SETTINGS, "--set", "output.name=cut"), cwd=tmp_path, env=ENV,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.time() + 240
        while not (run / "metrics.csv").is_file() or len((run / "metrics.csv").read_text().splitlines()) < 4:
            assert time.time() < deadline and child.poll() is None, "the run never reached epoch 3"
            time.sleep(0.05)
        victim = rank_pid(child.pid, 1)
        assert victim is not None
        os.kill(victim, signal.SIGKILL)
        killed_at = time.time()
        out, _ = child.communicate(timeout=180)
        stopped_after = time.time() - killed_at
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    assert child.returncode != 0
    assert stopped_after < 60, stopped_after
    assert len((run / "metrics.csv").read_text().splitlines()) < 41  # cut short

    resumed = subprocess.run(command("--resume", str(run)), cwd=tmp_path, env=ENV, capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, [line for line in (resumed.stdout + resumed.stderr).splitlines() if "rror" in line][:8]
    a, b = last_checkpoint(tmp_path / "runs" / "whole"), last_checkpoint(run)
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"]), "resumed weights differ from the whole run"
    for saved in (a, b):
        assert saved["processes"] == 2 and len(saved["rank_rng"]) == 2
        assert not torch.equal(saved["rank_rng"][0]["torch"], saved["rank_rng"][1]["torch"])  # rank 1: other masks
