"""Tuning workers on a real PostgreSQL server (the ``postgres`` fixture of ``conftest.py``): exact trial
counts under four racing workers with no surplus trial, ``kill -9`` of a worker mid-trial, a second
``deepzen tune`` with its own study folder joining by URL, and the password kept out of every log and
file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

import deepzen.tune
from deepzen.config import to_toml, validate
from deepzen.tune.server_leases import ServerLeases
from deepzen.tune.storage import (
    CRASHED_ATTR, RETRY_ATTR, SURPLUS_ATTR, WORKER_ATTR, open_storage, recover_dead_trials,
)
from tests.tune.toy import RACERS, racing_quadratic, slow_quadratic, toy_raw

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")])}


def load(url: str, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=open_storage(url, Path(".")))


def finished(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return [t for t in study.get_trials() if t.state == TrialState.COMPLETE]


def wait_for(condition, what: str, seconds: float = 180) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def test_hosts_opening_a_fresh_database_at_once(pg_url: str) -> None:
    """Optuna creates its tables on first open; four openers at once must not race in CREATE TABLE."""
    gate = threading.Barrier(4)
    errors: list[BaseException] = []

    def open_it() -> None:
        gate.wait()
        try:
            open_storage(pg_url, Path("."))
        except BaseException as err:  # noqa: BLE001 - collected and shown below
            errors.append(err)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_four_workers_claim_exactly_n_trials(tmp_path: Path, pg_url: str) -> None:
    """Four processes race for 60 millisecond trials (each waits at a gate in its first trial until all
    four are in): 60 trials in the database, no surplus one, each body run once."""
    folder, n_trials = tmp_path / "four", 60
    raw = toy_raw(n_trials=n_trials)
    raw["training"]["epochs"] = 1
    deepzen.tune.run(validate(raw), study_dir=folder, storage=pg_url, workers=RACERS, train=racing_quadratic,
                     verbose=False, report=False)
    trials = load(pg_url, "four").get_trials()
    assert [t.number for t in trials] == list(range(n_trials))
    assert all(t.state == TrialState.COMPLETE and not t.system_attrs.get(SURPLUS_ATTR) for t in trials)
    assert len({t.system_attrs[WORKER_ATTR] for t in trials}) == RACERS
    bodies = sorted((folder / "trials").glob("*/ran.txt"))
    assert len(bodies) == n_trials and all(len(p.read_text().split()) == 1 for p in bodies)  # each ran once
    assert len({t.params["optimizer.lr"] for t in trials}) == n_trials  # no duplicated proposal


def test_kill_9_mid_trial_then_another_folder_repeats_it(tmp_path: Path, pg_url: str) -> None:
    """Host A is killed mid-trial; while it ran, host B (its own folder) did not take its trial for dead;
    afterwards B finds A's lease gone, marks the trial crashed and repeats its parameters."""
    n_trials, name = 5, "shared"
    host_a = subprocess.Popen([sys.executable, "-m", "tests.tune.toy", str(tmp_path / "a" / name), str(n_trials),
                               pg_url, "0.4"], cwd=ROOT, env=ENV)
    try:
        def mid_trial() -> bool:
            try:
                study = load(pg_url, name)
            except KeyError:  # the study does not exist yet
                return False
            return len(finished(study)) >= 1 and any(
                t.state == TrialState.RUNNING and t.intermediate_values for t in study.get_trials())
        wait_for(mid_trial, "host A to finish a trial and be mid-way through the next")
        study = load(pg_url, name)
        with ServerLeases(pg_url, name) as leases, leases.claim():
            assert recover_dead_trials(study, leases) == []  # A is alive: its trial is left alone
        os.kill(host_a.pid, signal.SIGKILL)
    finally:
        host_a.wait(timeout=30)
    before = load(pg_url, name).get_trials()
    done = {t.number: t.value for t in before if t.state == TrialState.COMPLETE}
    (running,) = [t for t in before if t.state == TrialState.RUNNING]

    deepzen.tune.run(validate(toy_raw()), n_trials, study_dir=tmp_path / "b" / name, storage=pg_url,
                     train=slow_quadratic, verbose=False, report=False)
    after = {t.number: t for t in load(pg_url, name).get_trials()}
    assert {n: after[n].value for n in done} == done
    assert after[running.number].state == TrialState.FAIL and after[running.number].system_attrs[CRASHED_ATTR]
    (retry,) = [t for t in after.values() if t.system_attrs.get(RETRY_ATTR) == running.number]
    assert retry.state == TrialState.COMPLETE and retry.params == running.params
    assert (tmp_path / "b" / name / "trials" / f"{retry.number:04d}").is_dir()
    counted = [t for t in after.values() if not t.system_attrs.get(CRASHED_ATTR)]
    assert len(counted) == n_trials and all(t.state == TrialState.COMPLETE for t in counted)


def test_second_deepzen_tune_joins_by_url_and_no_password_leaks(tmp_path: Path, pg_url: str,
                                                                postgres) -> None:
    """Host A (toy trials) runs; ``deepzen tune`` on host B (real training, its own folder, the URL
    with its password in the config file, written ``postgresql://`` without a driver) joins the same
    study. Together: exactly n_trials, each in one folder. The password is in no output and no file."""
    n_trials, name = 6, "joined"
    url_b = pg_url.replace("postgresql+psycopg://", "postgresql://")
    config = tmp_path / "study.toml"
    config.write_text(to_toml(validate(toy_raw(n_trials=n_trials, storage=url_b))), encoding="utf-8")
    # A's trials wait until B has started one: both hosts run trials however slowly B starts up
    host_a = subprocess.Popen([sys.executable, "-m", "tests.tune.toy", str(tmp_path / "a" / name), str(n_trials),
                               pg_url, "0.5", str(tmp_path / "b" / name / "trials")], cwd=ROOT, env=ENV,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: (tmp_path / "a" / name / "trials").is_dir(), "host A's first trial")
        host_b = subprocess.run([sys.executable, "-m", "deepzen", "tune", str(config), "--study-dir",
                                 str(tmp_path / "b" / name)], cwd=ROOT, env=ENV, capture_output=True, text=True,
                                timeout=300)
        out_a, _ = host_a.communicate(timeout=120)
    finally:
        host_a.kill()
        host_a.wait()
    assert host_b.returncode == 0, host_b.stderr
    trials = load(pg_url, name).get_trials()
    assert [t.number for t in trials] == list(range(n_trials))
    assert all(t.state == TrialState.COMPLETE for t in trials)
    in_a = {p.name for p in (tmp_path / "a" / name / "trials").iterdir()}
    in_b = {p.name for p in (tmp_path / "b" / name / "trials").iterdir()}
    assert in_a and in_b and not in_a & in_b and len(in_a | in_b) == n_trials
    assert (tmp_path / "b" / name / "best.json").is_file()

    password = postgres.password
    assert password in pg_url
    assert password not in host_b.stdout + host_b.stderr + out_a.decode(errors="replace")
    saved = [p for p in tmp_path.rglob("*") if p.is_file() and p != config]
    assert len(saved) > 10
    assert [p for p in saved if password.encode() in p.read_bytes()] == []
    assert f"deepzen:***@127.0.0.1:{postgres.port}" in (tmp_path / "b" / name / "config.toml").read_text()
