"""Exact resume: a run interrupted mid-epoch and resumed ends bitwise-identical to an uninterrupted one."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import deepzen.optim as dzo
from deepzen.train import Callback, EarlyStopping, Trainer, load_checkpoint
from tests.train.conftest import classification_data, mlp, same_weights, weights

ROOT = Path(__file__).resolve().parents[2]


class Crash(Exception):
    pass


class CrashAt(Callback):
    def __init__(self, step):
        self.step = step

    def on_batch_end(self, trainer, batch, loss):
        if trainer.global_step == self.step:
            raise Crash


def make_trainer(run_dir, init_seed, crash_at=None, optimizer=None):
    model = mlp(dropout=0.3, seed=init_seed)
    callbacks = [EarlyStopping(patience=50)] + ([CrashAt(crash_at)] if crash_at else [])
    opt = (optimizer or (lambda ps: torch.optim.Adam(ps, lr=1e-2)))(model.parameters())
    return Trainer(model, opt, F.cross_entropy, metrics=["accuracy", "f1"],
                   scheduler="one_cycle", callbacks=callbacks, seed=3, run_dir=run_dir, checkpoint_every=4,
                   progress="none")


def fit(trainer, resume=False):
    x, y = classification_data(n=200)
    return trainer.fit((x[:160], y[:160]), val=(x[160:], y[160:]), epochs=3, batch_size=16, resume=resume)


def csv_rows(path):
    with open(path, newline="") as handle:
        return [{k: v for k, v in row.items() if k != "time"} for row in csv.DictReader(handle)]


@pytest.mark.parametrize("crash_at", [17, 20])  # mid-epoch 2; last batch of epoch 2 (before its end)
def test_resume_after_crash_is_bitwise_identical(tmp_path, crash_at):
    reference = make_trainer(tmp_path / "ref", init_seed=0)
    ref_history = fit(reference)

    crashed = make_trainer(tmp_path / "run", init_seed=0, crash_at=crash_at)
    with pytest.raises(Crash):
        fit(crashed)
    resumed = make_trainer(tmp_path / "run", init_seed=42)  # different init: state must come from last.pt
    resumed_history = fit(resumed, resume=True)

    assert same_weights(weights(resumed.model), weights(reference.model))
    assert resumed.global_step == reference.global_step == 30
    for key in ref_history:
        if key != "time":
            assert resumed_history[key] == ref_history[key], key
    assert csv_rows(tmp_path / "run" / "metrics.csv") == csv_rows(tmp_path / "ref" / "metrics.csv")
    a, b = resumed.optimizer.state_dict()["state"], reference.optimizer.state_dict()["state"]
    assert all(torch.equal(a[i]["exp_avg_sq"], b[i]["exp_avg_sq"]) for i in a)


def test_resume_with_a_fused_compiled_optimizer_is_bitwise_identical(tmp_path):
    # fused=True moves the parameters into the optimizer's flat pack; the resumed run rebuilds it
    # from the checkpoint's state (and a best-weights restore writes into the moved parameters).
    def yogi(ps):
        return dzo.create("yogi", ps, lr=1e-2, weight_decay=1e-3, fused=True)

    reference = make_trainer(tmp_path / "ref", init_seed=0, optimizer=yogi)
    fit(reference)
    crashed = make_trainer(tmp_path / "run", init_seed=0, crash_at=17, optimizer=yogi)
    with pytest.raises(Crash):
        fit(crashed)
    resumed = make_trainer(tmp_path / "run", init_seed=42, optimizer=yogi)
    fit(resumed, resume=True)
    assert same_weights(weights(resumed.model), weights(reference.model))


def test_checkpoint_loads_with_weights_only(tmp_path):
    trainer = make_trainer(tmp_path, init_seed=0)
    fit(trainer)
    for name in ("last.pt", "best.pt"):
        state = torch.load(tmp_path / "checkpoints" / name, weights_only=True)
        assert set(state) >= {"model", "optimizer", "callbacks", "loop", "rng"}
    state = load_checkpoint(tmp_path / "checkpoints" / "last.pt")
    assert state["loop"]["epoch"] == 3 and state["loop"]["batch_in_epoch"] == 0


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", [[], ["schedulefree_adamw"], ["sophia"]], ids=["adam", "schedulefree", "sophia"])
def test_kill_9_mid_epoch_then_resume_matches_uninterrupted_run(tmp_path, optimizer):
    # Schedule-Free: checkpoints hold the average x and resume switches back to y; Sophia: the Trainer
    # refreshes the Hessian estimate every 3 steps with labels sampled by a step-seeded generator
    worker = [sys.executable, str(Path(__file__).with_name("resume_worker.py"))]
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    killed_dir, ref_dir = tmp_path / "killed", tmp_path / "ref"
    proc = subprocess.Popen([*worker, str(killed_dir), *optimizer], stdout=subprocess.PIPE, text=True, env=env)
    last = killed_dir / "checkpoints" / "last.pt"
    killed_at = None
    for line in proc.stdout:  # checkpoints every 5 steps; 16 steps per epoch
        step = int(line.split()[1])
        if step >= 23 and step % 5 != 0 and last.exists():
            proc.send_signal(signal.SIGKILL)
            killed_at = step
            break
    proc.wait(timeout=60)
    proc.stdout.close()
    assert killed_at is not None and proc.returncode == -signal.SIGKILL
    saved_step = load_checkpoint(last)["loop"]["global_step"]
    assert 0 < saved_step < killed_at and load_checkpoint(last)["loop"]["batch_in_epoch"] > 0

    subprocess.run([*worker, str(killed_dir), "--resume", *optimizer], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run([*worker, str(ref_dir), *optimizer], check=True, env=env, stdout=subprocess.DEVNULL)
    resumed = torch.load(killed_dir / "final.pt", weights_only=True)
    reference = torch.load(ref_dir / "final.pt", weights_only=True)
    assert same_weights(resumed, reference)
    assert csv_rows(killed_dir / "metrics.csv") == csv_rows(ref_dir / "metrics.csv")
