"""Toy trial bodies for the tuning tests: the real study, storage and worker machinery around a
one-parameter problem whose optimum is known, in milliseconds instead of a training run.

``quadratic``: gradient descent on f(x) = (a/2) x² from x0 = 3 with the config's optimizer. With plain
SGD, x_k = (1 - lr·a)^k · x0, so the best constant learning rate is exactly lr* = 1/a (x_1 = 0).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch

CURVATURE = 4.0  # a: the best lr is 1 / a = 0.25
STEPS_PER_EPOCH = 5


class StopFlag:
    """Stands in for the Trainer in the callbacks' ``on_epoch_end``: only ``stop`` is used."""

    def __init__(self) -> None:
        self.stopped = False

    def stop(self, reason: str, failed: bool = False) -> None:
        self.stopped = True


def quadratic(config: Any, run_dir: Path, callbacks: list, sleep: float = 0.0) -> Any:
    from deepzen import optim
    from deepzen.config import optimizer_hparams

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    with (run_dir / "ran.txt").open("a") as handle:  # one line per time this trial's body ran
        handle.write(f"{os.getpid()}\n")
    x = torch.tensor([3.0], dtype=torch.float64, requires_grad=True)
    opt = optim.create(config.optimizer.name, [x], **optimizer_hparams(config))
    flag = StopFlag()
    for epoch in range(config.training.epochs):
        for _ in range(STEPS_PER_EPOCH):
            opt.zero_grad()
            (0.5 * CURVATURE * x.pow(2)).sum().backward()
            opt.step()
        value = float(0.5 * CURVATURE * x.detach().pow(2).sum())
        for cb in callbacks:
            cb.on_epoch_end(flag, epoch, {"epoch": epoch + 1, "loss": value, "val_loss": value})
        if flag.stopped:
            break
        time.sleep(sleep)
    return SimpleNamespace(history=SimpleNamespace(failed=False, stop_reason=None))


def slow_quadratic(config: Any, run_dir: Path, callbacks: list) -> Any:
    """``quadratic`` taking ~0.3 s per epoch: long enough to be killed mid-trial."""
    return quadratic(config, run_dir, callbacks, sleep=0.3)


RACERS = 4
_started = False


def racing_quadratic(config: Any, run_dir: Path, callbacks: list) -> Any:
    """``quadratic``, but each worker process's first trial waits (up to 60 s) until :data:`RACERS`
    processes have started one: from then on the workers claim trials back to back, in milliseconds."""
    global _started
    if not _started:
        _started = True
        gate = Path(run_dir).parent.parent / "gate"
        gate.mkdir(exist_ok=True)
        (gate / str(os.getpid())).touch()
        deadline = time.time() + 60
        while len(list(gate.iterdir())) < RACERS and time.time() < deadline:
            time.sleep(0.05)
    return quadratic(config, run_dir, callbacks)


def toy_raw(**tune: Any) -> dict[str, Any]:
    """A small valid experiment (the toy bodies only read optimizer and epochs) with a [tune] section."""
    settings = {"metric": "val_loss", "n_trials": 6, "sampler": "random", "pruner": "none",
                "space": {"optimizer.lr": {"log_uniform": [1e-3, 1.0]}}}
    settings.update(tune)
    return {"seed": 0, "data": {"name": "iris", "val": 0.2, "test": 0.2},
            "model": {"kind": "mlp", "hidden": [4]}, "optimizer": {"name": "sgd", "lr": 0.1},
            "training": {"epochs": 3, "batch_size": 16}, "output": {"progress": "none"}, "tune": settings}


def waiting_quadratic(config: Any, run_dir: Path, callbacks: list, wait_for: str, sleep: float = 0.0) -> Any:
    """``quadratic`` that first waits (up to 120 s) until the path ``wait_for`` exists: another host's
    first trial, say."""
    deadline = time.time() + 120
    while not Path(wait_for).exists() and time.time() < deadline:
        time.sleep(0.1)
    return quadratic(config, run_dir, callbacks, sleep=sleep)


if __name__ == "__main__":  # python -m tests.tune.toy STUDY_DIR N_TRIALS [STORAGE_URL [SECONDS_PER_EPOCH [WAIT_FOR]]]
    import functools

    import deepzen.tune
    from deepzen.config import validate

    url = sys.argv[3] if len(sys.argv) > 3 else None
    body: Any = slow_quadratic
    if len(sys.argv) > 5:
        body = functools.partial(waiting_quadratic, wait_for=sys.argv[5], sleep=float(sys.argv[4]))
    elif len(sys.argv) > 4:
        body = functools.partial(quadratic, sleep=float(sys.argv[4]))
    deepzen.tune.run(validate(toy_raw()), int(sys.argv[2]), study_dir=sys.argv[1], storage=url, train=body,
                     report=False, verbose=False)
