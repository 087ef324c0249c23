"""Trainer: repeatability, fit/evaluate/predict, progress output, precision options, LR finder."""

from __future__ import annotations

import io
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset

from deepzen.structures import IGNORE_INDEX, Sequences
from deepzen.train import Trainer, find_lr, suggest_lr
from tests.train.conftest import classification_data, mlp, same_weights, weights


def train_once(seed, epochs=2):
    x, y = classification_data()
    model = mlp(seed=123)  # same init: only the Trainer's seed varies
    trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=1e-2), F.cross_entropy, seed=seed,
                      progress="none")
    history = trainer.fit((x, y), epochs=epochs, batch_size=16)
    return weights(model), history


def test_same_seed_same_run_different_seed_differs():
    a, history_a = train_once(seed=7)
    b, history_b = train_once(seed=7)
    c, _ = train_once(seed=8)
    assert same_weights(a, b)
    assert history_a["loss"] == history_b["loss"]
    assert not same_weights(a, c)


def test_fit_evaluate_predict_agree_with_direct_computation():
    x, y = classification_data(n=90)
    model = mlp(dropout=0.5)
    trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=1e-2), F.cross_entropy,
                      metrics=["accuracy"], seed=0, progress="none")
    trainer.fit((x, y), epochs=3, batch_size=32)
    logs = trainer.evaluate((x, y), batch_size=7)
    model.eval()
    with torch.no_grad():
        logits = model(x)
    assert logs["loss"] == pytest.approx(F.cross_entropy(logits, y).item(), rel=1e-5)
    assert logs["accuracy"] == pytest.approx((logits.argmax(1) == y).float().mean().item())
    assert torch.allclose(trainer.predict(x, batch_size=8), logits, atol=1e-6)
    assert model.training is False  # left as it was before evaluate


def test_non_tty_progress_prints_one_line_per_epoch():
    x, y = classification_data()
    model = mlp()
    stream = io.StringIO()  # not a TTY
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), F.cross_entropy, metrics=["accuracy"],
                      seed=0, progress_stream=stream)
    trainer.fit((x, y), val=(x[:20], y[:20]), epochs=3, batch_size=8)
    text = stream.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert [line.split()[:2] for line in lines] == [["epoch", "1/3"], ["epoch", "2/3"], ["epoch", "3/3"]]
    assert all("loss" in line and "val_accuracy" in line for line in lines)


class TokenTagging(Dataset):
    """Variable-length token sequences; label 1 where the token is even."""

    def __init__(self, n=40):
        g = torch.Generator().manual_seed(0)
        self.items = [torch.randint(1, 10, (int(torch.randint(2, 7, (), generator=g)),), generator=g) for _ in range(n)]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i], (self.items[i] % 2 == 0).long()


def collate(items):
    tokens = nn.utils.rnn.pad_sequence([t for t, _ in items], batch_first=True, padding_value=0)
    labels = nn.utils.rnn.pad_sequence([y for _, y in items], batch_first=True, padding_value=IGNORE_INDEX)
    return Sequences(tokens, torch.tensor([len(t) for t, _ in items])), labels


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed, self.out = nn.Embedding(10, 8), nn.Linear(8, 2)

    def forward(self, seq: Sequences):
        return self.out(torch.tanh(self.embed(seq.values)))  # (B, T, 2)


def tag_loss(pred, target):
    return F.cross_entropy(pred.reshape(-1, 2), target.reshape(-1), ignore_index=IGNORE_INDEX)


def test_sequences_batches_and_ignore_index_metrics():
    torch.manual_seed(0)
    data, model = TokenTagging(), Tagger()
    trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=0.05), tag_loss, metrics=["accuracy"],
                      seed=0, collate_fn=collate, progress="none")
    trainer.fit(data, epochs=3, batch_size=8)
    logs = trainer.evaluate(data, batch_size=8)
    correct = total = 0
    with torch.no_grad():
        for i in range(len(data)):
            tokens, labels = data[i]
            guess = model(Sequences(tokens[None], torch.tensor([len(tokens)]))).argmax(-1)[0]
            correct += int((guess == labels).sum())
            total += len(labels)
    assert logs["accuracy"] == pytest.approx(correct / total)
    assert logs["accuracy"] > 0.9


def test_bf16_autocast_on_cpu_and_precision_errors():
    x, y = classification_data()
    model = mlp()
    trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=1e-2), F.cross_entropy, precision="bf16",
                      device="cpu", seed=0, progress="none")
    history = trainer.fit((x, y), epochs=2, batch_size=16)
    assert math.isfinite(history["loss"][-1]) and history["loss"][-1] < history["loss"][0]
    with pytest.raises(ValueError, match="fp16.*CUDA"):
        Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), F.cross_entropy, precision="fp16", device="cpu")
    with pytest.raises(ValueError, match="did you mean 'bf16'"):
        Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), F.cross_entropy, precision="bf61", device="cpu")


def test_compile_option_runs():
    x, y = classification_data()
    model = mlp()
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), F.cross_entropy,
                      compile={"backend": "eager"}, seed=0, progress="none")
    assert len(trainer.fit((x, y), epochs=1, batch_size=32)["loss"]) == 1


def test_scheduler_by_name_steps_per_optimizer_step():
    x, y = classification_data(n=64)
    model = mlp()
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.4), F.cross_entropy, scheduler="cosine",
                      scheduler_options={"warmup_steps": 2}, seed=0, progress="none")
    history = trainer.fit((x, y), epochs=3, batch_size=16)  # 4 steps/epoch, 12 in all
    # lr logged at an epoch's end = lr used by its last step, t = 4 e + 3
    expected = [0.4 * 0.5 * (1 + math.cos(math.pi * (4 * e + 3 - 2) / (12 - 2))) for e in range(3)]
    assert history["lr"] == pytest.approx(expected)


def test_lr_finder_suggests_a_sensible_lr_and_restores_state():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 4, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]])
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    trainer = Trainer(model, opt, F.mse_loss, seed=0, progress="none")
    before, lr_before, rng_before = weights(model), opt.param_groups[0]["lr"], torch.get_rng_state()
    result = find_lr(trainer, (x, y), start_lr=1e-5, end_lr=10.0, num_steps=60, batch_size=32)
    assert same_weights(weights(model), before)
    assert opt.param_groups[0]["lr"] == lr_before and torch.equal(torch.get_rng_state(), rng_before)
    assert 1e-3 <= result.suggestion <= 1.0  # SGD on this quadratic diverges above lr ~ 1
    assert result.lrs[-1] < 10.0  # the sweep stopped when the loss blew up


def test_suggest_lr_picks_steepest_descent_before_the_minimum():
    lrs = [10 ** (-6 + 0.1 * i) for i in range(61)]  # 1e-6 .. 1
    # log loss = -tanh(2 (log10 lr + 3)): falls fastest at lr = 1e-3; blows up above 0.1
    losses = [math.exp(-math.tanh(2 * (math.log10(lr) + 3)) + 5 * max(0.0, math.log10(lr) + 1) ** 2) for lr in lrs]
    lr, method = suggest_lr(lrs, losses)
    assert method == "steepest" and lr == pytest.approx(1e-3, rel=0.05)
    lr, method = suggest_lr(lrs[:3], [1.0, 0.5, 2.0])
    assert method == "min/10" and lr == pytest.approx(lrs[1] / 10)


def test_fit_argument_errors():
    model = mlp()
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), F.cross_entropy, progress="none")
    x, y = classification_data()
    with pytest.raises(ValueError, match="epochs"):
        trainer.fit((x, y), epochs=0)
    with pytest.raises(ValueError, match="resume=True\\) needs a Trainer with run_dir"):
        trainer.fit((x, y), resume=True)
    with pytest.raises(ValueError, match="dim 0"):
        trainer.fit((x, y[:5]))
