"""One rank of the distributed tests, started by torchrun (or run alone: one process, no launcher).

``python -m tests.train.distributed.ddp_worker OUT_DIR OPTIMIZER [OPTIMIZER ...]``: for each optimizer,
train the same seeded MLP on the same synthetic classification data (99 samples: the last global batch
of 16 has 3, split 1/2 over two ranks) and save the final weights to ``OUT_DIR/<optimizer>.pt`` (rank 0).
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch import nn

from deepzen import optim
from deepzen.train import Trainer
from deepzen.train import distributed

SAMPLES, FEATURES, CLASSES, BATCH, EPOCHS = 99, 8, 3, 16, 3
HPARAMS = {"adam": {"lr": 1e-2}, "lamb": {"lr": 1e-2, "weight_decay": 0.01}}


def data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(7)
    x = torch.randn(SAMPLES, FEATURES, generator=g)  # (S, F)
    y = torch.randint(0, CLASSES, (SAMPLES,), generator=g)  # (S,)
    return x, y


def model() -> nn.Module:
    torch.manual_seed(3)
    return nn.Sequential(nn.Linear(FEATURES, 32), nn.Tanh(), nn.Linear(32, CLASSES))


def train(name: str, env: distributed.DistEnv | None) -> dict[str, torch.Tensor]:
    net = model()
    opt = optim.create(name, net.parameters(), **HPARAMS[name])
    options = dict(seed=0, device="cpu", progress="none", threads=1, nan_guard=False)
    if env is None:
        trainer = Trainer(net, opt, "cross_entropy", **options)
    else:
        trainer = distributed.DistributedTrainer(net, opt, "cross_entropy", env=env, **options)
    trainer.fit(data(), epochs=EPOCHS, batch_size=BATCH)
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def main(out: Path, names: list[str]) -> None:
    torch.set_num_threads(1)
    env = distributed.from_environ()
    if env is not None:
        distributed.start(env, torch.device("cpu"))
    try:
        for name in names:
            weights = train(name, env)
            if env is None or env.is_main:
                out.mkdir(parents=True, exist_ok=True)
                torch.save(weights, out / f"{name}.pt")
    finally:
        distributed.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
