"""Every example config states its result and runs, shortened (1 epoch, fewer samples), through the CLI."""

from __future__ import annotations

import re

import pytest

from deepzen.config import load_config
from tests.cli.conftest import EXAMPLES, call, summary

CONFIGS = sorted(EXAMPLES.glob("*.toml"))
#: The training examples (configs with a [tune] section are studies, tested with deepzen tune).
TRAINING = [p for p in CONFIGS if load_config(p).tune is None]


def test_one_example_per_model_family():
    kinds = {load_config(path).model.kind for path in TRAINING}
    assert kinds == {"mlp", "cnn", "rnn", "tree", "transformer"}


@pytest.mark.parametrize("path", TRAINING, ids=[p.stem for p in TRAINING])
def test_example_states_its_result(path):
    header = " ".join(line.lstrip("# ") for line in path.read_text(encoding="utf-8").splitlines()
                      if line.startswith("#"))
    # a measured result and how long it took, e.g. "Result: test accuracy 0.994 in about 11 s"
    assert re.search(r"Result: .*\d\.\d+.* \d+ s\b", header), header


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_example_runs_shortened(path, tmp_path, capsys):
    config = load_config(path)
    shorter = ["--set", "training.epochs=1", "--set", f"output.dir={tmp_path}", "--set", "output.progress=none"]
    if "n" in config.data.options():
        shorter += ["--set", "data.n=300"]
    code, out, err = call(capsys, "train", str(path), *shorter)
    assert code == 0, err
    run_dir = tmp_path / config.run_name()
    result = summary(run_dir)
    assert result["epochs_completed"] == 1 and result["test"] is not None
    assert "test (best checkpoint)" in out
