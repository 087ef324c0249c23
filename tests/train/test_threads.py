"""The thread rule: one thread per 100 MFLOP of forward work per batch, at least 1, at most the cores."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from deepzen.train import Trainer
from deepzen.train.threads import auto_threads, forward_flops
from tests.train.conftest import classification_data, mlp


@pytest.fixture(autouse=True)
def keep_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_one_thread_per_100_mflop_up_to_the_cores():
    assert [auto_threads(f, cores=4) for f in (0, 99e6, 100e6, 250e6, 399e6, 1e12)] == [1, 1, 1, 2, 3, 4]


def test_forward_flops_counts_a_convolution_and_leaves_rng_and_mode_alone():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.Dropout(0.5)).train()
    x = torch.randn(2, 1, 8, 8)
    before = torch.get_rng_state()
    # 2 FLOPs per multiply-add; 2 * 4 * 8 * 8 outputs, 1 * 3 * 3 products each
    assert forward_flops(model, x, batch_size=2) == 2 * (2 * 4 * 8 * 8) * (1 * 3 * 3)
    assert torch.equal(torch.get_rng_state(), before) and model.training
    # layers the counter does not see: at least 2 * parameters * batch
    lstm = nn.LSTM(5, 7, batch_first=True)
    params = sum(p.numel() for p in lstm.parameters())
    assert forward_flops(lstm, torch.randn(3, 4, 5), batch_size=3) >= 2 * params * 3


def test_the_trainer_applies_the_rule_at_fit_and_takes_an_explicit_count():
    x, y = classification_data()
    torch.set_num_threads(2)
    model = mlp()
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), F.cross_entropy, progress="none")
    trainer.fit((x, y), epochs=1, batch_size=16)  # ~7 kFLOP per batch
    assert trainer.threads == 1 and torch.get_num_threads() == 1
    Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), F.cross_entropy, threads=2,
            progress="none").fit((x, y), epochs=1, batch_size=16)
    assert torch.get_num_threads() == 2
    with pytest.raises(ValueError, match="threads must be 'auto', an int >= 1 or None .*got 0"):
        Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), F.cross_entropy, threads=0)


def test_data_parallel_processes_share_the_cores():
    """cores // local processes, at least 1: N processes with "auto" never ask for more than the cores."""
    from deepzen.train.threads import cores_per_process

    assert [cores_per_process(c, n) for c, n in ((16, 1), (16, 4), (2, 2), (3, 2), (1, 4), (8, 3))] == \
        [16, 4, 1, 1, 1, 2]
    assert auto_threads(1e12, cores=cores_per_process(2, 2)) == 1
