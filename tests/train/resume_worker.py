"""Training run used by the kill-and-resume test: ``python resume_worker.py RUN_DIR [--resume] [NAME]``
(NAME: a deepzen optimizer registry name instead of torch's Adam).

Prints ``step N`` after every batch (flushed) and sleeps a little so the parent can kill it mid-epoch;
saves the final weights to ``RUN_DIR/final.pt``.
"""

from __future__ import annotations

import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

import deepzen.optim as dzo
from deepzen.train import Callback, EarlyStopping, Trainer

#: hyperparameters of the registry optimizers the test runs (Sophia refreshes its Hessian every 3 steps)
OPTIONS = {"schedulefree_adamw": {"lr": 3e-3, "warmup_steps": 5, "weight_decay": 1e-3},
           "sophia": {"lr": 3e-3, "hessian_interval": 3}}


class Announce(Callback):
    def on_batch_end(self, trainer, batch, loss):
        print(f"step {trainer.global_step}", flush=True)
        time.sleep(0.01)


def main() -> None:
    run_dir, resume = sys.argv[1], "--resume" in sys.argv
    name = next((a for a in sys.argv[2:] if a != "--resume"), None)
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(320, 8, generator=g)
    y = (x @ torch.randn(8, 4, generator=g)).argmax(1)
    torch.manual_seed(1 if not resume else 99)  # the resumed process must get everything from the checkpoint
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 4))
    optimizer = (dzo.create(name, model.parameters(), **OPTIONS[name]) if name
                 else torch.optim.Adam(model.parameters(), lr=3e-3))
    trainer = Trainer(model, optimizer, F.cross_entropy, metrics=["accuracy"], scheduler="one_cycle",
                      callbacks=[Announce(), EarlyStopping(patience=50)], seed=5, run_dir=run_dir,
                      checkpoint_every=5, progress="none")
    trainer.fit((x[:256], y[:256]), val=(x[256:], y[256:]), epochs=4, batch_size=16, resume=resume)
    torch.save(model.state_dict(), f"{run_dir}/final.pt")


if __name__ == "__main__":
    main()
