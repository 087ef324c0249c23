"""A comparison folder reuses its finished runs, so it must never reuse runs made under another
protocol: the three kinds of lr choice get their own default folders, and a folder run again under
another protocol (or another problem setting) is refused before any run starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import deepzen.compare
from deepzen.config import ConfigError

from tests.compare.toy import iris


def test_defaults_search_and_grid_default_to_their_own_folders(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    tuned = deepzen.compare.run(iris(runs), optimizers="sgd", budget=2, seeds=1, verbose=False, report=False)
    defaults = deepzen.compare.run(iris(runs), optimizers="sgd", budget=0, seeds=1, verbose=False, report=False)
    grid = deepzen.compare.run(iris(runs), optimizers="sgd", budget=2, grid=True, seeds=1, verbose=False,
                               report=False)
    assert [tuned.root.name, defaults.root.name, grid.root.name] == [
        "iris-compare", "iris-compare-defaults", "iris-compare-grid"]
    # the paper-default run used SGD's own default lr (0.01), not the lr the search chose
    record = json.loads((defaults.root / "iris" / "sgd" / "seed-0" / "compare.json").read_text())
    assert record["lr"] == pytest.approx(0.01)


@pytest.mark.parametrize("change, named", [
    ({"budget": 3}, "budget"),
    ({"schedule": "cosine"}, "schedule"),
])
def test_same_folder_under_another_protocol_is_refused(tmp_path: Path, change: dict, named: str) -> None:
    out = tmp_path / "cmp"
    deepzen.compare.run(iris(tmp_path / "runs"), optimizers="sgd", budget=2, seeds=1, out=out, verbose=False,
                        report=False)
    finished = sorted(p.stat().st_mtime_ns for p in out.rglob("metrics.csv"))
    settings = {"optimizers": "sgd", "budget": 2, "seeds": 1, **change}
    with pytest.raises(ConfigError, match=f"another protocol.*changed: {named}"):
        deepzen.compare.run(iris(tmp_path / "runs"), out=out, verbose=False, report=False, **settings)
    assert sorted(p.stat().st_mtime_ns for p in out.rglob("metrics.csv")) == finished  # nothing ran


def test_same_folder_with_another_problem_setting_is_refused_more_seeds_are_not(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    deepzen.compare.run(iris(tmp_path / "runs"), optimizers="sgd", budget=0, seeds=1, out=out, verbose=False,
                        report=False)
    more = deepzen.compare.run(iris(tmp_path / "runs"), optimizers="sgd,adam", budget=0, seeds=2, out=out,
                               verbose=False, report=False)
    assert len(more.rows) == 4 and all(r.status == "ok" for r in more.rows)
    wider = iris(tmp_path / "runs").model_copy(deep=True)
    wider.model.hidden = [16]
    with pytest.raises(ConfigError, match="changed: problem iris"):
        deepzen.compare.run(wider, optimizers="sgd", budget=0, seeds=1, out=out, verbose=False, report=False)
