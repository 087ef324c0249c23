"""The LR finder steps through the training loop: gradient clipping and accumulation apply there as in
``fit``, while schedules and per-batch callbacks (checkpoints, logging) stay out of the sweep."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from deepzen.train import Callback, GradientClipping, Trainer, find_lr
from tests.train.conftest import classification_data, mlp


class Seen(Callback):
    """Records the largest gradient element at every optimizer step, and which hooks ran."""

    def __init__(self):
        self.max_abs, self.batch_ends, self.steps_after = [], 0, 0

    def on_before_optimizer_step(self, trainer):
        self.max_abs.append(max(float(p.grad.abs().max()) for p in trainer.model.parameters()))

    def on_batch_end(self, trainer, batch, loss):
        self.batch_ends += 1

    def on_optimizer_step(self, trainer):
        self.steps_after += 1


def test_the_sweep_clips_accumulates_and_runs_no_schedule_or_batch_hooks():
    x, y = classification_data(n=96)
    model = mlp(dropout=0.0)
    seen = Seen()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    trainer = Trainer(model, optimizer, F.cross_entropy, callbacks=[GradientClipping(max_value=2**-10), seen],
                      scheduler="cosine", accumulate_steps=3, seed=0, progress="none")
    result = find_lr(trainer, (x, y), start_lr=1e-4, end_lr=1.0, num_steps=10, batch_size=16, diverge_factor=1e9)

    assert len(result.lrs) == len(seen.max_abs) == 10  # one point per optimizer step
    assert max(seen.max_abs) == 2**-10  # clipped before every step (exact in float32)
    assert seen.batch_ends == seen.steps_after == 0
    assert trainer.global_step == 0 and optimizer.param_groups[0]["lr"] == 0.1
    torch.testing.assert_close(result.lrs[-1], 1.0)
