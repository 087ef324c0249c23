"""A new callback plugs in without any change to the Trainer: one that writes the learning rate of every
optimizer step to a CSV file. It reads the trainer only through the public view (global_step, last_lr,
run_dir), and resumes like any other callback."""

from __future__ import annotations

import csv

import torch
import torch.nn.functional as F

from deepzen.train import Callback, Trainer
from tests.train.conftest import classification_data, mlp


class LRCsv(Callback):
    """Appends ``step,lr`` after each optimizer step to ``<run_dir>/lr.csv``."""

    def on_train_begin(self, trainer):
        self.path = trainer.run_dir.path / "lr.csv"
        if trainer.global_step == 0:
            self.path.write_text("step,lr\n")

    def on_optimizer_step(self, trainer):
        with self.path.open("a") as handle:
            handle.write(f"{trainer.global_step},{trainer.last_lr!r}\n")


def test_a_new_callback_logs_the_lr_of_every_step(tmp_path):
    x, y = classification_data(n=64)
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.8)
    halving = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.5**step)
    trainer = Trainer(model, optimizer, F.cross_entropy, scheduler=halving, scheduler_interval="step",
                      callbacks=[LRCsv()], accumulate_steps=2, seed=0, run_dir=tmp_path, progress="none")
    trainer.fit((x, y), epochs=2, batch_size=16)  # 4 batches per epoch -> 2 steps per epoch

    with open(tmp_path / "lr.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4]
    # step s uses lr 0.8 * 0.5 ** (s - 1): the scheduler halves it after every step
    assert [float(r["lr"]) for r in rows] == [0.8, 0.4, 0.2, 0.1]
