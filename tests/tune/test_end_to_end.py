"""Real training runs: a tiny study on digits through ``deepzen tune``, then ``best.toml`` trained
with ``deepzen train`` reaches the value the study reported."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from deepzen.cli import main
from deepzen.config import load_config
from deepzen.train import experiment

ROOT = Path(__file__).resolve().parents[2]


def tune_cli(*args: str) -> int:
    with pytest.raises(SystemExit) as stop:
        main(["tune", *args])
    return int(stop.value.code or 0)


def test_cli_reports_a_bad_space_without_traceback(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[tune.space]\n"optimizer.lr" = {log_uniform = [0, 0.1]}\n')
    assert tune_cli(str(config)) == 2
    err = capsys.readouterr().err
    assert "optimizer.lr" in err and "bounds > 0" in err and "Traceback" not in err


@pytest.mark.slow
def test_example_study_then_best_toml_trains_to_the_reported_value(tmp_path: Path) -> None:
    config = tmp_path / "tune_digits.toml"
    shutil.copyfile(ROOT / "examples" / "tune_digits.toml", config)
    folder = tmp_path / "study"
    code = tune_cli(str(config), "--n-trials", "3", "--study-dir", str(folder), "--set", "training.epochs=2",
                    "--set", "tune.sampler=random", "--set", "model.hidden=[16]")
    assert code == 0
    best = json.loads((folder / "best.json").read_text())
    assert set(best["test"]) == {"loss", "accuracy"}
    for name in ("trials.csv", "best.toml", "plots/optimization_history.png", "plots/best_curves.png"):
        assert (folder / name).is_file(), name
    trial_summary = json.loads((folder / best["run_dir"] / "summary.json").read_text())
    assert trial_summary["test"] is None  # trials never touch the test split

    rerun = load_config(folder / "best.toml", [f"output.dir={tmp_path / 'runs'}"])
    result = experiment.run(rerun)
    assert max(result.history["val_accuracy"]) == pytest.approx(best["value"], abs=1e-6)
    assert result.test is not None and result.test["accuracy"] == pytest.approx(best["test"]["accuracy"], abs=1e-6)
