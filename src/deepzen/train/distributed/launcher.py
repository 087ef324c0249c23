"""``deepzen train CONFIG --nproc N``: start torchrun's elastic launcher (``torch.distributed.run``,
``--standalone``: one machine, a free rendezvous port) on ``deepzen train CONFIG ...`` with N processes,
as Lightning's subprocess launcher does. On several machines, call ``torchrun --nnodes ... --rdzv-*
-m deepzen train CONFIG`` directly: the ranks read the same environment.

When a rank dies, the launcher stops the others and exits non-zero, naming the failed rank.
"""

from __future__ import annotations

import os
import subprocess
import sys

#: Most processes ``--nproc`` starts on one machine.
MAX_NPROC = 1024


def check_nproc(nproc: int) -> int:
    if not 1 <= nproc <= MAX_NPROC:
        raise ValueError(f"--nproc {nproc}: give a number of processes from 1 to {MAX_NPROC}")
    return nproc


def under_launcher() -> bool:
    """True inside a process that a launcher started (``WORLD_SIZE`` set)."""
    return "WORLD_SIZE" in os.environ


def launch(train_args: list[str], nproc: int) -> int:
    """Run ``deepzen train *train_args`` in ``nproc`` processes under torchrun; returns its exit code."""
    check_nproc(nproc)
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
               "-m", "deepzen", "train", *train_args]
    return subprocess.run(command, env=env).returncode


__all__ = ["MAX_NPROC", "check_nproc", "launch", "under_launcher"]
