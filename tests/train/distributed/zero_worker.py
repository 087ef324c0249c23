"""One rank of the ZeroRedundancyOptimizer test, started by torchrun (or run alone: one process, the
plain optimizer). ``python -m tests.train.distributed.zero_worker OUT_DIR NAME [NAME ...]``: 12 steps of
an MLP under DDP with the optimizer's state sharded across ranks; rank 0 saves the weights.
``NAME+fused`` builds the optimizer with ``fused=True`` inside ZeroRedundancyOptimizer (each rank's
local optimizer then runs the fused step over its shard); alone, the plain (unfused) optimizer."""

from __future__ import annotations

import sys
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.optim import ZeroRedundancyOptimizer
from torch.nn.parallel import DistributedDataParallel

from deepzen import optim
from deepzen.train import distributed

STEPS, BATCH = 12, 16
HPARAMS = {"adam": {"lr": 1e-2}, "lamb": {"lr": 1e-2, "weight_decay": 0.01}, "yogi": {"lr": 1e-2},
           "adabound": {"lr": 1e-2, "final_lr": 0.1}, "ranger": {"lr": 1e-2}}


def train(name: str, env: distributed.DistEnv | None) -> dict[str, torch.Tensor]:
    torch.manual_seed(3)
    net = nn.Sequential(nn.Linear(8, 32), nn.Tanh(), nn.Linear(32, 16), nn.Tanh(), nn.Linear(16, 3))
    g = torch.Generator().manual_seed(7)
    x, y = torch.randn(STEPS * BATCH, 8, generator=g), torch.randint(0, 3, (STEPS * BATCH,), generator=g)
    name, fused = name.removesuffix("+fused"), name.endswith("+fused")
    if env is None:
        forward, opt, lo, hi = net, optim.create(name, net.parameters(), **HPARAMS[name]), 0, BATCH
    else:
        forward = DistributedDataParallel(net)
        opt = ZeroRedundancyOptimizer(net.parameters(), optimizer_class=optim.get_class(name), **HPARAMS[name],
                                      **({"fused": True} if fused else {}))
        assert not fused or all(group["fused"] is True for group in opt.optim.param_groups)  # the local optimizer's
        lo, hi = distributed.rank_slice(BATCH, env.rank, env.world_size)
    for step in range(STEPS):
        xb, yb = x[step * BATCH:(step + 1) * BATCH], y[step * BATCH:(step + 1) * BATCH]  # (B, 8), (B,)
        opt.zero_grad()
        nn.functional.cross_entropy(forward(xb[lo:hi]), yb[lo:hi]).backward()
        opt.step()
    if env is not None:
        assert len(opt.optim.state) < len(list(net.parameters()))  # each rank holds a shard of the state
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def main(out: Path, names: list[str]) -> None:
    torch.set_num_threads(1)
    env = distributed.from_environ()
    assert env is not None
    distributed.start(env, torch.device("cpu"))
    try:
        for name in names:
            weights = train(name, env)
            if env.is_main:
                out.mkdir(parents=True, exist_ok=True)
                torch.save(weights, out / f"{name}.pt")
            dist.barrier()
    finally:
        distributed.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
