"""Two gloo processes under torchrun against one process: with global batch B the weights after 3
epochs (21 steps, a last batch of 3 split 1/2) agree up to float reduction order. Measured on CPU:
max |difference| 6e-8 (Adam) and 3e-8 (LAMB) on weights of size ~0.5; the bound is 1e-6.
LAMB's per-tensor trust ratio only agrees when it sees the all-reduced gradient."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.train.distributed import ddp_worker

ROOT = Path(__file__).resolve().parents[3]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")]), "OMP_NUM_THREADS": "1"}
TOLERANCE = 1e-6


def torchrun(nproc: int, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
                           *args], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_two_processes_match_one_for_adam_and_lamb(tmp_path: Path) -> None:
    ran = torchrun(2, "-m", "tests.train.distributed.ddp_worker", str(tmp_path), "adam", "lamb")
    assert ran.returncode == 0, ran.stderr[-3000:]
    for name in ("adam", "lamb"):
        two = torch.load(tmp_path / f"{name}.pt")
        one = ddp_worker.train(name, None)
        start = ddp_worker.model().state_dict()
        assert max(float((one[k] - start[k]).abs().max()) for k in one) > 0.05  # training moved the weights
        gap = max(float((two[k] - one[k]).abs().max()) for k in one)
        assert gap < TOLERANCE, f"{name}: two processes differ from one by {gap:.3g}"
