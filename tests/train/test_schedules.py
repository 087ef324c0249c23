"""Schedules change the lr as the published formulas say (formulas written out here)."""

from __future__ import annotations

import math

import pytest
import torch

from deepzen.train.schedules import make_scheduler


def optimizer(lr=0.1):
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=lr)


def lrs(scheduler, opt, steps, values=None):
    out = []
    for t in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step(*([values[t]] if values else []))
    return out


def test_step_decay():
    opt = optimizer(0.1)
    got = lrs(make_scheduler("step", opt, step_size=3, gamma=0.5), opt, 10)
    assert got == pytest.approx([0.1 * 0.5 ** (t // 3) for t in range(10)])


def test_cosine_with_warmup():
    opt = optimizer(0.2)
    warmup, total, min_lr = 4, 20, 0.01
    got = lrs(make_scheduler("cosine", opt, warmup_steps=warmup, total_steps=total, min_lr=min_lr), opt, 24)

    def expected(t):
        if t < warmup:
            return 0.2 * t / warmup
        frac = min(1.0, (t - warmup) / (total - warmup))
        return min_lr + (0.2 - min_lr) * 0.5 * (1 + math.cos(math.pi * frac))

    assert got == pytest.approx([expected(t) for t in range(24)])


def test_one_cycle_cosine_phases():
    opt = optimizer(0.1)
    total, max_lr, pct, div, final_div = 20, 1.0, 0.25, 25.0, 1e4
    got = lrs(make_scheduler("one_cycle", opt, epochs=4, steps_per_epoch=5, max_lr=max_lr, pct_start=pct), opt, total)
    initial, final = max_lr / div, max_lr / div / final_div
    up_end, down_end = pct * total - 1, total - 1

    def cos_anneal(start, end, frac):
        return end + (start - end) / 2 * (1 + math.cos(math.pi * frac))

    expected = [cos_anneal(initial, max_lr, t / up_end) if t <= up_end
                else cos_anneal(max_lr, final, (t - up_end) / (down_end - up_end)) for t in range(total)]
    assert got == pytest.approx(expected)


def test_plateau_cuts_after_patience():
    opt = optimizer(1.0)
    values = [5, 4, 4, 4, 4, 4, 3, 3, 3]
    got = lrs(make_scheduler("plateau", opt, patience=2, factor=0.5), opt, len(values), values)
    # bad epochs after the best (4 at t=1): t=2,3 -> patience 2 exceeded at t=4 -> lr halves from t=5
    assert got == pytest.approx([1, 1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5])


@pytest.mark.parametrize(
    "name, opts, message",
    [
        ("cosin", {}, "did you mean 'cosine'"),
        ("step", {"step_sise": 2}, "did you mean 'step_size'"),
        ("step", {}, "step_size"),
        ("cosine", {"total_steps": 10, "warmup_steps": 10}, "warmup_steps"),
        ("cosine", {}, "total_steps"),
        ("plateau", {"factor": 2.0}, "factor"),
    ],
)
def test_bad_schedules_are_named(name, opts, message):
    with pytest.raises(ValueError, match=message):
        make_scheduler(name, optimizer(), **opts)
