"""Studies through the real storage and worker machinery, with the toy trial bodies of ``toy.py``:
errors before any trial, the learning-rate optimum found, exact trial counts with two workers,
and resume after ``kill -9``."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

import deepzen.tune
from deepzen.config import ConfigError, validate
from deepzen.tune.storage import CRASHED_ATTR, RETRY_ATTR, WORKER_ATTR, open_storage
from tests.tune.toy import CURVATURE, quadratic, slow_quadratic, toy_raw

ROOT = Path(__file__).resolve().parents[2]


def no_trial(*args, **kwargs):
    raise AssertionError("a trial ran although the study should have failed its checks")


def load(study_dir: Path) -> optuna.Study:
    return optuna.load_study(study_name=study_dir.name, storage=open_storage(None, study_dir))


def counted(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return [t for t in study.get_trials() if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]


@pytest.mark.parametrize("tune, fragment", [
    ({"metric": "val_accuracy_top"}, "did you mean 'val_accuracy'"),
    ({"metric": "val_r2"}, "not produced by this classification experiment"),
    ({"metric": "accuracy"}, "prefix val_"),
    ({"storage": "nosuchdb://user:secret@localhost/x"}, "cannot be opened"),
    ({"storage": "postgresql://user:secret@127.0.0.1:9/none"}, "cannot be opened"),
    ({"storage": "not a url"}, "expected a database URL"),
])
def test_errors_before_any_trial(tmp_path: Path, tune: dict, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        deepzen.tune.run(validate(toy_raw(**tune)), study_dir=tmp_path / "s", train=no_trial, verbose=False)
    assert fragment in str(info.value)
    assert "secret" not in str(info.value)


def test_no_validation_split_is_an_error(tmp_path: Path) -> None:
    raw = toy_raw()
    raw["data"]["val"] = 0.0
    with pytest.raises(ConfigError, match="validation split"):
        deepzen.tune.run(validate(raw), study_dir=tmp_path / "s", train=no_trial, verbose=False)


def test_finds_the_known_best_learning_rate(tmp_path: Path) -> None:
    """SGD on f(x) = (a/2) x²: x_k = (1 - lr·a)^k x_0, so the best lr is 1/a."""
    raw = toy_raw(n_trials=30, sampler="tpe", startup_trials=8)
    study = deepzen.tune.run(validate(raw), study_dir=tmp_path / "lr", train=quadratic, verbose=False, report=False)
    best_lr = study.best_params["optimizer.lr"]
    assert abs(math.log(best_lr * CURVATURE)) < math.log(1.5), best_lr  # within a factor 1.5 of 1/a
    # the trial's value is its best epoch: the last one, after 3 epochs x 5 steps, when |1 - lr·a| < 1
    expected = 0.5 * CURVATURE * (3 * (1 - CURVATURE * best_lr) ** 15) ** 2
    assert study.best_value == pytest.approx(expected, rel=1e-9)


def test_pruned_trials_stop_early(tmp_path: Path) -> None:
    raw = toy_raw(n_trials=14, pruner="median", startup_trials=3, warmup_epochs=1)
    raw["training"]["epochs"] = 6
    study = deepzen.tune.run(validate(raw), study_dir=tmp_path / "p", train=quadratic, verbose=False, report=False)
    pruned = [t for t in study.trials if t.state == TrialState.PRUNED]
    assert pruned and all(len(t.intermediate_values) < 6 for t in pruned)
    assert len(counted(study)) == 14


def test_outputs_and_same_command_continues(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    raw = toy_raw(n_trials=4, space={"optimizer.lr": {"log_uniform": [1e-3, 1.0]},
                                     "optimizer.momentum": {"choice": [0.0, 0.5]}})
    deepzen.tune.run(validate(raw), study_dir=folder, train=quadratic, verbose=False)
    lines = (folder / "trials.csv").read_text().splitlines()
    assert lines[0].split(",")[:5] == ["number", "state", "value", "optimizer.lr", "optimizer.momentum"]
    assert len(lines) == 5
    assert (folder / "plots" / "optimization_history.png").stat().st_size > 1000
    best = validate({**__import__("tomllib").loads((folder / "best.toml").read_text())})
    study = load(folder)
    assert best.tune is None and best.optimizer.lr == study.best_params["optimizer.lr"]
    assert best.training.monitor == "val_loss"
    # the same command again with a larger count continues: the 4 finished trials are kept
    deepzen.tune.run(validate(raw), 6, study_dir=folder, train=quadratic, verbose=False, report=False)
    assert [t.number for t in counted(load(folder))] == list(range(6))
    changed = toy_raw(n_trials=4, space={"optimizer.lr": {"log_uniform": [1e-2, 1.0]}})
    with pytest.raises(ConfigError, match="--resume"):
        deepzen.tune.run(validate(changed), study_dir=folder, train=no_trial, verbose=False)
    with pytest.raises(ConfigError, match="nothing to resume"):
        deepzen.tune.run(validate(raw), study_dir=tmp_path / "none", resume=True, train=no_trial, verbose=False)


@pytest.mark.slow
def test_two_workers_finish_exactly_n_trials(tmp_path: Path) -> None:
    folder = tmp_path / "two"
    raw = toy_raw(n_trials=10)
    raw["training"]["epochs"] = 2
    study = deepzen.tune.run(validate(raw), study_dir=folder, workers=2, train=slow_quadratic, verbose=False,
                             report=False)
    trials = study.get_trials()
    assert len(trials) == 10 and all(t.state == TrialState.COMPLETE for t in trials)
    assert len({t.system_attrs[WORKER_ATTR] for t in trials}) == 2  # both workers ran trials
    bodies = sorted((folder / "trials").glob("*/ran.txt"))
    assert len(bodies) == 10 and all(len(p.read_text().split()) == 1 for p in bodies)  # each body ran once
    assert len({t.params["optimizer.lr"] for t in trials}) == 10


@pytest.mark.slow
def test_kill_9_then_resume_keeps_finished_trials(tmp_path: Path) -> None:
    folder = tmp_path / "killed"
    n_trials = 6
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")])}
    child = subprocess.Popen([sys.executable, "-m", "tests.tune.toy", str(folder), str(n_trials)], cwd=ROOT, env=env)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            time.sleep(0.2)
            if not (folder / "study.journal").exists():
                continue
            trials = load(folder).get_trials()
            if len(counted(load(folder))) >= 2 and any(t.state == TrialState.RUNNING and t.intermediate_values
                                                        for t in trials):
                break
        else:
            pytest.fail("the study never reached 2 finished trials and one running")
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    before = load(folder).get_trials()
    finished = {t.number: t.value for t in before if t.state == TrialState.COMPLETE}
    (running,) = [t for t in before if t.state == TrialState.RUNNING]
    assert 2 <= len(finished) < n_trials

    deepzen.tune.run(validate(toy_raw()), n_trials, study_dir=folder, train=quadratic, verbose=False, report=False)
    after = {t.number: t for t in load(folder).get_trials()}
    assert {n: after[n].value for n in finished} == finished  # kept as they were
    assert after[running.number].state == TrialState.FAIL and after[running.number].system_attrs[CRASHED_ATTR]
    (retry,) = [t for t in after.values() if t.system_attrs.get(RETRY_ATTR) == running.number]
    assert retry.state == TrialState.COMPLETE and retry.params == running.params
    assert len(counted(load(folder))) == n_trials


def test_grid_runs_every_combination_once(tmp_path: Path) -> None:
    import itertools

    lrs, momenta = [0.01, 0.1, 0.25], [0.0, 0.25, 0.5]  # uniform [0, 0.5] with step 0.25
    raw = toy_raw(sampler="grid", n_trials=50, space={"optimizer.lr": {"choice": lrs},
                                                      "optimizer.momentum": {"uniform": [0.0, 0.5], "step": 0.25}})
    study = deepzen.tune.run(validate(raw), study_dir=tmp_path / "g", train=quadratic, verbose=False, report=False)
    seen = sorted((t.params["optimizer.lr"], t.params["optimizer.momentum"]) for t in study.trials)
    assert seen == sorted(itertools.product(lrs, momenta))
    with pytest.raises(ConfigError, match="conditional"):
        deepzen.tune.run(validate(toy_raw(sampler="grid", space={
            "optimizer.name": {"choice": ["sgd", "adabound"]},
            "optimizer.final_lr": {"choice": [0.1], "when": {"optimizer.name": "adabound"}}})),
            study_dir=tmp_path / "g2", train=no_trial, verbose=False)
