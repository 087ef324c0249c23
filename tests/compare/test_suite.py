"""A short version of the bundled ``classic`` suite (one epoch, one optimizer, no tuning, one seed):
every problem loads, trains and lands in the tables. The full suite is a benchmark (see README)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

import deepzen.compare


@pytest.mark.slow
def test_short_classic_suite_runs_every_problem(tmp_path: Path) -> None:
    result = deepzen.compare.run(suite="classic", overrides=["training.epochs=1", f"output.dir={tmp_path}"],
                                 optimizers="adam", budget=0, seeds=1, verbose=False, report=False)
    names = [p.name for p in result.problems]
    assert names == ["mlp-breast_cancer", "cnn-digits", "cnn-mnist1d", "lstm-adding", "transformer-sorting",
                     "treelstm-listops", "quadratic_deep", "noisy_rosenbrock", "noisy_beale"]
    assert result.root == tmp_path / "classic-compare-defaults"  # budget 0: a folder of its own
    with (result.root / "summary.csv").open(newline="") as handle:
        summary = list(csv.DictReader(handle))
    assert [s["problem"] for s in summary] == names
    assert all(s["status"] == "defaults" and math.isfinite(float(s["test_final_mean"])) for s in summary)
