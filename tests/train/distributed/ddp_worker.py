"""One rank of the distributed tests, started by torchrun (or run alone: one process, no launcher).

``python -m tests.train.distributed.ddp_worker OUT_DIR CASE [CASE ...]``: for each case, train the same
seeded model on the same synthetic classification data (99 samples: the last global batch of 16 has 3,
split 1/2 over two ranks) and save the final weights and buffers to ``OUT_DIR/<case>.pt`` (rank 0).

Cases: ``adam``, ``lamb`` (an MLP); ``cnn`` (deepzen's CNN without BatchNorm), ``cnn_bn`` (with plain
BatchNorm; ``sync_batch_norm`` needs CUDA), both with Adam. ``cnn_bn`` also evaluates the
trained model on a split of 51 samples (batches of 5: the ranks' shards of 25 and 26 samples take 5
and 6 batches) and on a split of one sample (one rank's shard is empty), saved in
``OUT_DIR/cnn_bn_eval.pt``. ``threads`` trains one step of a wide MLP with ``threads="auto"`` and saves
the thread count the rank chose and its cores in ``OUT_DIR/threads.pt``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import torch
from torch import nn

import deepzen.nn as dznn
from deepzen import optim
from deepzen.info import DataInfo
from deepzen.train import Trainer
from deepzen.train import distributed

SAMPLES, FEATURES, CLASSES, BATCH, EPOCHS = 99, 8, 3, 16, 3
IMAGE = (1, 8, 8)
HPARAMS = {"adam": {"lr": 1e-2}, "lamb": {"lr": 1e-2, "weight_decay": 0.01}}
CNN_CASES = {"cnn": {"batch_norm": False}, "cnn_bn": {"batch_norm": True}}
WIDE = 2048  # threads: one forward of a batch of 64 through 2048x2048 is ~0.5 GFLOP, auto wants 5 threads
OPTIONS: dict[str, Any] = dict(seed=0, device="cpu", progress="none", threads=1, nan_guard=False)


def data(case: str, samples: int = SAMPLES, seed: int = 7) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    shape = IMAGE if case.startswith("cnn") else (FEATURES,)
    x = torch.randn(samples, *shape, generator=g)  # (S, F) or (S, C, H, W)
    y = torch.randint(0, CLASSES, (samples,), generator=g)  # (S,)
    return x, y


def model(case: str) -> nn.Module:
    torch.manual_seed(3)
    if case in CNN_CASES:
        info = DataInfo(name="images", task="classification", input_kind="image", input_shape=IMAGE,
                        num_classes=CLASSES)
        return dznn.build("cnn", info, channels=(4, 8), hidden=(16,), dropout=0.0, **CNN_CASES[case])
    return nn.Sequential(nn.Linear(FEATURES, 32), nn.Tanh(), nn.Linear(32, CLASSES))


def trainer(case: str, net: nn.Module, env: distributed.DistEnv | None, **options: Any) -> Trainer:
    opt = optim.create("lamb" if case == "lamb" else "adam", net.parameters(), **HPARAMS.get(case, HPARAMS["adam"]))
    options = {**OPTIONS, "metrics": ["accuracy", "f1"], **options}
    if env is None:
        return Trainer(net, opt, "cross_entropy", **options)
    return distributed.DistributedTrainer(net, opt, "cross_entropy", env=env, **options)


def train(case: str, env: distributed.DistEnv | None) -> tuple[dict[str, torch.Tensor], Trainer]:
    """The case's model after ``EPOCHS`` epochs: its weights and buffers, and its trainer."""
    net = model(case)
    run = trainer(case, net, env)
    run.fit(data(case), epochs=EPOCHS, batch_size=BATCH)
    return {k: v.detach().clone() for k, v in net.state_dict().items()}, run


def evaluations(run: Trainer) -> dict[str, dict[str, float]]:
    """The trained model on a split of 51 samples (batches of 5) and on a split of one sample."""
    return {"odd": run.evaluate(data("cnn", 51, seed=11), batch_size=5),
            "single": run.evaluate(data("cnn", 1, seed=12), batch_size=5)}


def wide_threads(env: distributed.DistEnv) -> dict[str, int]:
    """One step of a wide MLP with ``threads="auto"``: the count this rank chose, and its cores."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(WIDE, WIDE), nn.Linear(WIDE, 2))
    run = trainer("adam", net, env, threads="auto", metrics=[])
    run.fit((torch.randn(64, WIDE), torch.randint(0, 2, (64,))), epochs=1, batch_size=64)
    return {"threads": int(run.threads), "cores": len(os.sched_getaffinity(0)), "local": env.local_world_size}


def main(out: Path, cases: list[str]) -> None:
    torch.set_num_threads(1)
    env = distributed.from_environ()
    if env is not None:
        distributed.start(env, torch.device("cpu"))
    main_rank = env is None or env.is_main
    if main_rank:
        out.mkdir(parents=True, exist_ok=True)
    try:
        for case in cases:
            if case == "threads":
                found = wide_threads(env) if env is not None else {}
                if main_rank:
                    torch.save(found, out / "threads.pt")
                continue
            weights, run = train(case, env)
            evaluated = evaluations(run) if case == "cnn_bn" else None
            if main_rank:
                torch.save(weights, out / f"{case}.pt")
                if evaluated is not None:
                    torch.save(evaluated, out / f"{case}_eval.pt")
    finally:
        distributed.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
