"""Each callback's behaviour on real (tiny) training runs."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from deepzen.train import (
    Callback, EarlyStopping, GradientClipping, NaNGuard, Trainer, load_checkpoint,
)
from tests.train.conftest import classification_data, mlp, same_weights, weights


class ScriptedVal(Callback):
    """Overwrites the logged val score with the scripted value of each epoch, before EarlyStopping."""

    def __init__(self, values):
        self.values = values

    def on_epoch_end(self, trainer, epoch, logs):
        logs["val_score"] = self.values[epoch]


class Snapshots(Callback):
    def __init__(self):
        self.per_epoch = []

    def on_epoch_end(self, trainer, epoch, logs):
        self.per_epoch.append(weights(trainer.model))


def test_early_stopping_stops_at_patience_and_restores_best():
    x, y = classification_data()
    model = mlp()
    values = [5.0, 4.0, 3.0, 3.5, 3.2, 1.0, 0.5]  # best at epoch index 2; patience 2 -> stop after index 4
    snaps = Snapshots()
    stopper = EarlyStopping(monitor="val_score", patience=2, mode="min")
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), F.cross_entropy, seed=0,
                      callbacks=[snaps, ScriptedVal(values), stopper], progress="none")
    history = trainer.fit((x, y), epochs=7, batch_size=16)
    assert history["epoch"] == [1, 2, 3, 4, 5]
    assert "early stopping" in history.stop_reason
    assert not same_weights(snaps.per_epoch[2], snaps.per_epoch[4])
    assert same_weights(weights(model), snaps.per_epoch[2])


def test_early_stopping_min_delta():
    x, y = classification_data()
    model = mlp()
    values = [5.0, 4.95, 4.95, 4.92, 4.91, 4.0]  # nothing beats best - min_delta = 4.9 until epoch 6
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), F.cross_entropy, seed=0,
                      callbacks=[ScriptedVal(values), EarlyStopping("val_score", patience=3, min_delta=0.1)],
                      progress="none")
    assert trainer.fit((x, y), epochs=6, batch_size=16)["epoch"] == [1, 2, 3, 4]


class NaNAt:
    """cross-entropy, but nan on call number ``bad_call`` (1-based)."""

    def __init__(self, bad_call):
        self.bad_call, self.calls = bad_call, 0

    def __call__(self, pred, target):
        self.calls += 1
        loss = F.cross_entropy(pred, target)
        return loss * float("nan") if self.calls == self.bad_call else loss


@pytest.mark.parametrize("check_every", [1, 5])
def test_nan_guard_names_the_step_and_keeps_last_good_checkpoint(tmp_path, check_every):
    x, y = classification_data(n=160)
    model = mlp(dropout=0.0)
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), NaNAt(bad_call=7), seed=0,
                      run_dir=tmp_path, checkpoint_every=2, callbacks=[NaNGuard(check_every=check_every)],
                      progress="none")
    history = trainer.fit((x, y), epochs=3, batch_size=16)
    assert history.failed
    assert "batch 7 (global step 7)" in history.stop_reason and "last.pt (step 6)" in history.stop_reason
    state = load_checkpoint(tmp_path / "checkpoints" / "last.pt")
    assert state["loop"]["global_step"] == 6
    assert all(torch.isfinite(v).all() for v in state["model"].values())
    assert not all(torch.isfinite(p).all() for p in model.parameters())  # the bad step did happen in memory
    assert not (tmp_path / "metrics.csv").exists()  # no epoch finished


class GradNorms(Callback):
    """Total grad norm as the optimizer will see it (runs after clipping)."""

    def __init__(self):
        self.norms, self.max_abs = [], []

    def on_before_optimizer_step(self, trainer):
        grads = [p.grad for p in trainer.model.parameters()]
        self.norms.append(float(torch.sqrt(sum((g.double() ** 2).sum() for g in grads))))
        self.max_abs.append(max(float(g.abs().max()) for g in grads))


def test_gradient_clipping_norm_and_value():
    x, y = classification_data()
    x = x * 50  # large gradients
    model = mlp(dropout=0.0)
    clip, seen = GradientClipping(max_norm=0.5), GradNorms()
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.01), F.cross_entropy, seed=0,
                      callbacks=[clip, seen], progress="none")
    trainer.fit((x, y), epochs=1, batch_size=16)
    assert float(clip.last_norm) > 0.5  # clipping had work to do
    assert max(seen.norms) <= 0.5 * (1 + 1e-5)

    model = mlp(dropout=0.0)
    clip, seen = GradientClipping(max_value=0.01), GradNorms()
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.01), F.cross_entropy, seed=0,
                      callbacks=[clip, seen], progress="none")
    trainer.fit((x, y), epochs=1, batch_size=16)
    assert max(seen.max_abs) <= 0.01


def test_accumulating_k_batches_equals_one_k_times_larger_batch():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(64, 5, generator=g), torch.randn(64, 2, generator=g)

    def run(batch_size, accumulate_steps=1):
        torch.manual_seed(0)
        model = nn.Linear(5, 2)
        trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), F.mse_loss, seed=0,
                          accumulate_steps=accumulate_steps, progress="none")
        trainer.fit((x, y), epochs=2, batch_size=batch_size, shuffle=False)
        return weights(model), trainer.global_step

    accumulated, steps_a = run(8, accumulate_steps=4)
    large, steps_b = run(32)
    single_small, _ = run(8)
    assert steps_a == steps_b == 4
    for key in large:
        torch.testing.assert_close(accumulated[key], large[key], rtol=1e-5, atol=1e-6)
    assert not torch.allclose(single_small["weight"], large["weight"], atol=1e-3)


def test_bad_callback_arguments():
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=0)
    with pytest.raises(ValueError, match="max_norm or max_value"):
        GradientClipping()
    model = nn.Linear(5, 2)
    with pytest.raises(ValueError, match="accumulate_steps must be an int >= 1, got 0"):
        Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), F.mse_loss, accumulate_steps=0)
