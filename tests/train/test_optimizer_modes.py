"""The Trainer with the modern optimizers that need it: Schedule-Free's evaluation point (x) for
validation, checkpoints, prediction and the weights left after ``fit``; Sophia's Hessian refresh."""

from __future__ import annotations

import torch
import torch.nn.functional as F

import deepzen.optim as dzo
from deepzen.train import Callback, Trainer, load_checkpoint
from tests.train.conftest import classification_data, mlp


def averaged(opt: torch.optim.Optimizer, model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The optimizer's x for each named parameter of ``model``."""
    return {name: opt.state[p]["x"] for name, p in model.named_parameters()}


class RecordValidationWeights(Callback):
    """What the model holds while the Trainer validates (on_epoch_end runs after validation: record
    evaluate()'s view by calling it on the same data and comparing with x by hand)."""

    def __init__(self, data):
        self.data, self.seen = data, []

    def on_epoch_end(self, trainer, epoch, logs):
        model, opt = trainer.model, trainer.optimizer
        assert all(g["train_mode"] for g in opt.param_groups), "the optimizer must be back in train mode"
        y_weights = {k: v.clone() for k, v in model.state_dict().items()}
        manual = mlp(dropout=0.0)
        manual.load_state_dict({**y_weights, **{k: v.clone() for k, v in averaged(opt, model).items()}})
        manual.eval()
        x, y = self.data
        with torch.no_grad():
            expected = float(F.cross_entropy(manual(x), y))
        self.seen.append((logs["val_loss"], expected))
        assert all(torch.equal(v, model.state_dict()[k]) for k, v in y_weights.items())


def test_schedule_free_validates_saves_and_ends_at_x(tmp_path):
    x, y = classification_data(n=120)
    model = mlp(dropout=0.0)
    opt = dzo.create("schedulefree_adamw", model.parameters(), lr=1e-2, warmup_steps=3)
    record = RecordValidationWeights((x[96:], y[96:]))
    trainer = Trainer(model, opt, F.cross_entropy, callbacks=[record], seed=0, run_dir=tmp_path, progress="none")
    trainer.fit((x[:96], y[:96]), val=(x[96:], y[96:]), epochs=3, batch_size=16)
    for got, expected in record.seen:
        assert abs(got - expected) < 1e-6
    assert not any(g["train_mode"] for g in opt.param_groups)                 # fit leaves x in place
    for name, p in model.named_parameters():
        assert torch.equal(p.detach(), opt.state[p]["x"]), name
    saved = load_checkpoint(tmp_path / "checkpoints" / "last.pt")
    for name, p in model.named_parameters():
        assert torch.equal(saved["model"][name], opt.state[p]["x"]), f"last.pt holds y for {name}"
    before = trainer.predict(x[96:])
    assert torch.equal(before, model.eval()(x[96:]).detach())


def test_a_checkpoint_written_mid_epoch_holds_x_and_training_continues_at_y(tmp_path):
    x, y = classification_data(n=96)
    model = mlp(dropout=0.0)
    opt = dzo.create("schedulefree_sgd", model.parameters(), lr=0.5)
    trainer = Trainer(model, opt, F.cross_entropy, seed=0, run_dir=tmp_path, checkpoint_every=2, progress="none")

    class Check(Callback):
        def on_batch_end(self, trainer, batch, loss):
            if trainer.global_step == 4:
                saved = load_checkpoint(tmp_path / "checkpoints" / "last.pt")
                for name, p in trainer.model.named_parameters():
                    assert torch.equal(saved["model"][name], trainer.optimizer.state[p]["x"])
                    assert not torch.equal(p.detach(), trainer.optimizer.state[p]["x"])   # training at y

    trainer.callbacks.append(Check())
    trainer.fit((x, y), epochs=1, batch_size=16)


def test_sophia_hessian_is_refreshed_every_interval(monkeypatch):
    x, y = classification_data(n=96)
    model = mlp(dropout=0.0)
    opt = dzo.create("sophia", model.parameters(), lr=1e-3, hessian_interval=2)
    calls = []
    real = opt.update_hessian
    monkeypatch.setattr(opt, "update_hessian", lambda batch_size: (calls.append(batch_size), real(batch_size)))
    Trainer(model, opt, F.cross_entropy, seed=0, progress="none").fit((x, y), epochs=1, batch_size=16)
    assert calls == [16, 16, 16]                                   # steps 1, 3, 5 of 6
    assert all(float(opt.state[p]["hessian"].abs().sum()) > 0 for p in model.parameters())
    assert all(p.grad is None for p in model.parameters())          # the sampled-label gradients are gone


def test_config_builds_muon_from_the_model_and_every_new_name_validates():
    from deepzen.config.loader import load_config
    from deepzen.train.experiment import build_optimizer

    model = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    opt = build_optimizer(load_config(None, ["optimizer.name=muon", "optimizer.lr=0.01"]), model)
    routed = {id(p): g["use_muon"] for g in opt.param_groups for p in g["params"]}
    assert routed[id(model[0].weight)] is True and routed[id(model[2].weight)] is False   # the head: AdamW
    for name in ("lion", "adafactor", "schedulefree_adamw", "schedulefree_sgd", "prodigy", "adan", "madgrad",
                 "ademamix", "soap", "sophia"):
        assert type(build_optimizer(load_config(None, [f"optimizer.name={name}"]), model)) is dzo.get_class(name)
