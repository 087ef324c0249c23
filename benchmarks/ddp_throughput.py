"""Data-parallel throughput on one machine: steps/s of one process against N gloo processes (1 thread
each) on the same global batch, and the scaling efficiency ``(steps/s with N) / (N · steps/s with 1)``.

The model is compute-bound: an MLP of width 1024 (three 1024 x 1024 layers) on a global batch of 256,
~3 GFLOP per step, against an all-reduce of 8 MB of gradients. Each measurement trains ``--warmup``
steps, then times ``--steps`` steps of :class:`deepzen.train.Trainer` (one process) or
:class:`deepzen.train.distributed.DistributedTrainer` (each rank, started by torchrun; rank 0 reports).

    python benchmarks/ddp_throughput.py --nproc 2 --steps 40 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch
from torch import nn

from deepzen import optim
from deepzen.train import Trainer, distributed

WIDTH, FEATURES, CLASSES, BATCH = 1024, 1024, 10, 256


def steps_per_second(env: distributed.DistEnv | None, steps: int, warmup: int) -> float:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(FEATURES, WIDTH), nn.ReLU(), nn.Linear(WIDTH, WIDTH), nn.ReLU(),
                        nn.Linear(WIDTH, WIDTH), nn.ReLU(), nn.Linear(WIDTH, CLASSES))
    opt = optim.create("adam", net.parameters(), lr=1e-3)
    options = dict(seed=0, device="cpu", progress="none", threads=1, nan_guard=False, checkpoint_every=None)
    trainer = (Trainer(net, opt, "cross_entropy", **options) if env is None
               else distributed.DistributedTrainer(net, opt, "cross_entropy", env=env, **options))
    g = torch.Generator().manual_seed(1)
    data = (torch.randn((warmup + steps) * BATCH, FEATURES, generator=g),
            torch.randint(0, CLASSES, ((warmup + steps) * BATCH,), generator=g))
    trainer.fit((data[0][:warmup * BATCH], data[1][:warmup * BATCH]), epochs=1, batch_size=BATCH, shuffle=False)
    distributed.barrier()
    started = time.perf_counter()
    trainer.fit((data[0][warmup * BATCH:], data[1][warmup * BATCH:]), epochs=2, batch_size=BATCH, shuffle=False)
    distributed.barrier()
    return steps / (time.perf_counter() - started)


def rank_main(steps: int, warmup: int, out: Path) -> None:
    """One rank under torchrun: measure, rank 0 writes steps/s to ``out``."""
    env = distributed.join("cpu")
    assert env is not None
    try:
        rate = steps_per_second(env, steps, warmup)
        if env.is_main:
            out.write_text(json.dumps({"steps_per_s": rate}))
    finally:
        distributed.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nproc", type=int, default=2)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rank-out", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.rank_out is not None:
        rank_main(args.steps, args.warmup, args.rank_out)
        return
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(root / "src"), os.environ.get("PYTHONPATH", "")])}
    one, many = [], []
    for _ in range(args.repeats):
        one.append(steps_per_second(None, args.steps, args.warmup))
        out = Path(f"/tmp/ddp_throughput_{os.getpid()}.json")
        subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={args.nproc}",
                        __file__, "--steps", str(args.steps), "--warmup", str(args.warmup), "--rank-out", str(out)],
                       env=env, check=True)
        many.append(json.loads(out.read_text())["steps_per_s"])
        out.unlink()
    best_one, best_many = max(one), max(many)
    print(f"1 process: {best_one:.2f} steps/s (runs: {', '.join(f'{r:.2f}' for r in one)})")
    print(f"{args.nproc} processes: {best_many:.2f} steps/s (runs: {', '.join(f'{r:.2f}' for r in many)})")
    print(f"speed-up {best_many / best_one:.2f}x, scaling efficiency {best_many / (args.nproc * best_one):.2f}; "
          f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
