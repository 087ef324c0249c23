"""deepzen optimizers inside ``torch.distributed.optim.ZeroRedundancyOptimizer`` (optimizer state
sharded over two gloo ranks, under DDP) against the plain optimizer in one process on the same global
batches: weights within 1e-6 after 12 steps.

``fused=True`` inside it: ZeroRedundancyOptimizer builds one local optimizer per rank over that rank's
shard of the parameters, with the keyword arguments it was given, so ``fused=True`` fuses the step of
the shard: torch's fused kernel for ``adam`` (tested here: within 5e-8 of the plain optimizer in one
process), one ``torch.compile``-d kernel over the shard's flat pack for the rule optimizers (``lamb``:
within 6e-8, measured once by hand, not in the suite: each rank compiles its kernel, 50 s on this
2-core machine)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.train.distributed import zero_worker
from tests.train.distributed.test_equivalence import TOLERANCE, torchrun

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.distributed.optim's own jit use
NAMES = ("adam", "lamb", "yogi", "adabound", "ranger", "adam+fused")


@pytest.mark.slow
def test_deepzen_optimizers_in_zero_redundancy_optimizer(tmp_path: Path) -> None:
    ran = torchrun(2, "-m", "tests.train.distributed.zero_worker", str(tmp_path), *NAMES)
    assert ran.returncode == 0, ran.stderr[-3000:]
    for name in NAMES:
        two = torch.load(tmp_path / f"{name}.pt")
        one = zero_worker.train(name, None)
        gap = max(float((two[k] - one[k]).abs().max()) for k in one)
        assert gap < TOLERANCE, f"{name}: sharded state differs from one process by {gap:.3g}"
