"""Exact resume through the command line: ``kill -9`` a training process at some moment (mid-epoch
checkpoints every 3 steps), ``deepzen train --resume RUN_DIR``, and compare the final weights bitwise
with an uninterrupted run of the same config."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from tests.cli.conftest import deepzen

CONFIG = ["--set", "training.epochs=6", "--set", "training.checkpoint_every=3", "--set", "output.progress=line",
          "--set", "training.early_stopping.patience=50", "--set", "model.dropout=0.3"]


def final_weights(run_dir):
    return torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)


@pytest.mark.slow
def test_kill_9_then_resume_is_bitwise_identical(tmp_path):
    full = deepzen("train", *CONFIG, "--set", f"output.dir={tmp_path}", "--set", "output.name=full")
    assert full.returncode == 0, full.stderr

    run_dir = tmp_path / "killed"
    args = [sys.executable, "-m", "deepzen", "train", *CONFIG, "--set", f"output.dir={tmp_path}",
            "--set", "output.name=killed"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    last = run_dir / "checkpoints" / "last.pt"
    deadline = time.monotonic() + 240
    killed_at = None
    while time.monotonic() < deadline and proc.poll() is None:
        if last.is_file():
            try:
                loop = torch.load(last, weights_only=True)["loop"]
            except Exception:  # noqa: BLE001 - the file is replaced atomically; a race only means "look again"
                continue
            if loop["epoch"] >= 1 and loop["batch_in_epoch"] > 0:  # somewhere in the middle of epoch 2+
                os.kill(proc.pid, signal.SIGKILL)
                killed_at = loop
                break
        time.sleep(0.005)
    proc.wait(timeout=60)
    assert killed_at is not None, "the run finished before it could be killed mid-epoch: " + proc.stderr.read().decode()
    assert proc.returncode == -signal.SIGKILL
    assert not (run_dir / "summary.json").exists()

    resumed = deepzen("train", "--resume", str(run_dir))
    assert resumed.returncode == 0, resumed.stderr
    # it continued (a fresh start would reach the same weights too): finished epochs are not run again
    done = killed_at["epoch"]
    assert f"epoch {done}/6" not in resumed.stdout and f"epoch {done + 1}/6" in resumed.stdout, resumed.stdout

    a, b = final_weights(tmp_path / "full"), final_weights(run_dir)
    assert a["loop"]["global_step"] == b["loop"]["global_step"]
    assert a["model"].keys() == b["model"].keys()
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key
    for sa, sb in zip(a["optimizer"]["state"].values(), b["optimizer"]["state"].values()):
        for key in sa:
            assert torch.equal(torch.as_tensor(sa[key]), torch.as_tensor(sb[key])), key
    assert (run_dir / "metrics.csv").read_text().count("\n") == 7  # header + 6 epochs, none repeated
    assert a["loop"]["history"]["val_loss"] == b["loop"]["history"]["val_loss"]


def test_resume_refuses_a_config_argument(tmp_path, capsys):
    from tests.cli.conftest import EXAMPLES, call

    code, _, err = call(capsys, "train", str(EXAMPLES / "default.toml"), "--resume", str(tmp_path))
    assert code == 2 and "either a CONFIG or --resume" in err


@pytest.mark.slow
def test_ctrl_c_says_what_was_saved_and_the_printed_command_continues(tmp_path):
    run_dir = tmp_path / "stopped"
    args = [sys.executable, "-m", "deepzen", "train", "--set", "training.epochs=500", "--set", "training.batch_size=256",
            "--set", "training.checkpoint_every=2", "--set", "output.progress=none", "--set", f"output.dir={tmp_path}",
            "--set", "output.name=stopped"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    last = run_dir / "checkpoints" / "last.pt"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None and not last.is_file():
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    loop = torch.load(last, weights_only=True)["loop"]  # what the message must describe
    assert f"saved {last}: {loop['epoch']} of 500 epochs done" in err and f"(step {loop['global_step']})" in err
    command = err.split("continue with: ")[1].strip()
    assert command == f"deepzen train --resume {run_dir}"

    # the printed command, with fewer epochs so the test stays short
    epochs = loop["epoch"] + 1
    resumed = deepzen(*command.split()[1:], "--set", f"training.epochs={epochs}")
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming {run_dir} from checkpoints/last.pt: {loop['epoch']} of {epochs} epochs done" in resumed.stdout
    assert torch.load(last, weights_only=True)["loop"]["epoch"] == epochs
