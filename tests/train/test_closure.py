"""An optimizer that needs the loss every step (Eve) trains under the Trainer: it gets a closure
returning the batch's loss at the current weights."""

from __future__ import annotations

import pytest
import torch.nn.functional as F

from deepzen.optim import Eve
from deepzen.train import Trainer
from tests.train.conftest import classification_data, mlp


def test_eve_gets_the_loss_of_each_step():
    x, y = classification_data(n=48)
    model = mlp(seed=0)
    optimizer = Eve(model.parameters(), lr=1e-2)
    trainer = Trainer(model, optimizer, F.cross_entropy, seed=0, progress="none")
    history = trainer.fit((x, y), epochs=3, batch_size=48)  # one batch per epoch: its loss is the epoch's
    assert not history.failed
    # Eve keeps the loss its closure returned at the last step: the last epoch's logged loss
    assert optimizer.param_groups[0]["prev_loss"] == pytest.approx(history["loss"][-1], rel=1e-6)
    assert history["loss"][-1] < history["loss"][0]
