"""Short training runs of each model family, trained once per test session, for load and export tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from deepzen.config import parse_toml, validate
from deepzen.train import experiment

#: name -> (data section, model section); one epoch each, small models: the tests need weights, not skill.
RUNS = {
    "mlp-iris": ('name = "iris"', 'kind = "mlp"\nhidden = [16]'),
    "mlp-diabetes": ('name = "diabetes"', 'kind = "mlp"\nhidden = [16]'),
    "cnn-digits": ('name = "digits"', 'kind = "cnn"\nchannels = [4]\nhidden = [16]'),
    "rnn-parity": ('name = "parity"\nn = 200', 'kind = "rnn"\ncell = "gru"\nhidden_size = 8\nembedding_dim = 4'),
    "birnn-parity": ('name = "parity"\nn = 200',
                     'kind = "rnn"\ncell = "lstm"\nhidden_size = 8\nembedding_dim = 4\nbidirectional = true'),
    "transformer-parity": ('name = "parity"\nn = 200', 'kind = "transformer"\nd_model = 8\nheads = 2\nlayers = 1'),
    "tree-listops": ('name = "listops"\nn = 100', 'kind = "tree"\nhidden_size = 8\nembedding_dim = 4'),
}


def train_run(root: Path, name: str, extra: str = "") -> Path:
    """Train ``RUNS[name]`` for one epoch into ``root/name``; returns the run folder."""
    data, model = RUNS[name]
    text = (f"seed = 0\n[data]\n{data}\n[model]\n{model}\n[training]\nepochs = 1\nbatch_size = 32\nthreads = 1\n"
            f"[output]\ndir = \"{root}\"\nname = \"{name}\"\nprogress = \"none\"\ntracking = \"none\"\n{extra}")
    return experiment.run(validate(parse_toml(text))).run_dir


@pytest.fixture(scope="session")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Every run of :data:`RUNS`, trained on first use."""
    root = tmp_path_factory.mktemp("deploy-runs")

    class Runs(dict):
        def __missing__(self, name: str) -> Path:
            self[name] = train_run(root, name)
            return self[name]

    return Runs()
