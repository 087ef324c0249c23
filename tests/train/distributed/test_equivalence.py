"""Two gloo processes under torchrun against one process (one launch of
:mod:`tests.train.distributed.ddp_worker` for the whole module).

Weights: with global batch B, 3 epochs (21 steps, a last batch of 3 split 1/2) end within float
reduction order of one process. Measured on CPU (max |difference| on weights of size ~0.5): MLP 6e-8
(Adam) and 3e-8 (LAMB: its per-tensor trust ratio only agrees when it sees the all-reduced gradient);
deepzen's CNN with Adam 7e-8 without BatchNorm; the bound is 1e-6. With plain BatchNorm each rank
normalizes with its own share of the batch, so the runs differ by design (0.3 after 21 steps); torch's SyncBatchNorm,
which would restore the equivalence, runs on GPUs only (not tested here: no GPU).

Evaluation: each rank evaluates its shard and the sums are added, so the numbers equal one process's
evaluation of rank 0's weights and buffers, for a split of 51 samples and of one sample.

Threads: ``threads="auto"`` in each of 2 ranks on one machine uses at most half its cores.
"""

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
CASES = ("adam", "lamb", "cnn", "cnn_bn", "threads")


def torchrun(nproc: int, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
                           *args], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder where rank 0 of a two-process run of every case left its results."""
    out = tmp_path_factory.mktemp("ddp")
    ran = torchrun(2, "-m", "tests.train.distributed.ddp_worker", str(out), *CASES)
    assert ran.returncode == 0, ran.stderr[-3000:]
    return out


def gap(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a if a[k].is_floating_point())


@pytest.mark.slow
@pytest.mark.parametrize("case", ["adam", "lamb", "cnn"])
def test_two_processes_match_one(two_ranks: Path, case: str) -> None:
    two = torch.load(two_ranks / f"{case}.pt")
    one, _ = ddp_worker.train(case, None)
    start = ddp_worker.model(case).state_dict()
    assert gap(one, start) > 0.05  # training moved the weights
    assert gap(two, one) < TOLERANCE, f"{case}: two processes differ from one by {gap(two, one):.3g}"


@pytest.mark.slow
def test_plain_batch_norm_differs_by_design(two_ranks: Path) -> None:
    """Without SyncBatchNorm each rank's batch statistics are its share's: not the one-process run."""
    two = torch.load(two_ranks / "cnn_bn.pt")
    one, _ = ddp_worker.train("cnn_bn", None)
    assert gap(two, one) > 1e-4


@pytest.mark.slow
def test_sharded_evaluation_equals_one_process_evaluation(two_ranks: Path) -> None:
    """Rank 0's weights and running statistics evaluated in one process give the reduced numbers."""
    found = torch.load(two_ranks / "cnn_bn_eval.pt")
    net = ddp_worker.model("cnn_bn")
    net.load_state_dict(torch.load(two_ranks / "cnn_bn.pt"))
    expected = ddp_worker.evaluations(ddp_worker.trainer("cnn_bn", net, None))
    for split in ("odd", "single"):
        assert found[split].keys() == expected[split].keys()
        assert found[split]["loss"] == pytest.approx(expected[split]["loss"], rel=1e-6, abs=1e-7), split
        for metric in ("accuracy", "f1"):  # ratios of counts: exact
            assert found[split][metric] == expected[split][metric], (split, metric)


@pytest.mark.slow
def test_auto_threads_share_the_cores_between_ranks(two_ranks: Path) -> None:
    """A model whose forward wants 5 threads gets at most half the cores in each of 2 local ranks."""
    found = torch.load(two_ranks / "threads.pt")
    assert found["local"] == 2
    share = max(1, found["cores"] // 2)
    assert found["threads"] == min(share, 5), found
