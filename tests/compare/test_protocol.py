"""The protocol on real (tiny) runs: shared seeds, the test split only after tuning, divergence
recorded, the output files, and a second run that redoes nothing."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import torch

import deepzen.compare
from deepzen.compare.plan import resolve_problem, resolve_protocol, run_config
from deepzen.train import experiment

from tests.compare.toy import iris


def first_epoch(problem, protocol, optimizer: str, seed: int, folder: Path):
    """Initial weights, the training inputs in batch order over one epoch, and the test split."""
    config = run_config(problem, protocol, optimizer, seed, 0.01)
    splits = experiment.load_data(config)
    trainer = experiment.make_trainer(config, splits.info, folder / f"{optimizer}-{seed}")
    initial = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    batches: list[torch.Tensor] = []
    step = trainer.train_step

    def recording(x, y):
        batches.append(x.clone())
        return step(x, y)

    trainer.train_step = recording  # type: ignore[method-assign]
    trainer.fit(experiment.tensors_of(splits.train), val=experiment.tensors_of(splits.val), epochs=1, batch_size=16)
    return initial, batches, splits.test.x


def test_a_seed_gives_every_optimizer_the_same_weights_batches_and_split(tmp_path: Path) -> None:
    problem = resolve_problem(iris(tmp_path))
    protocol = resolve_protocol(problem.config, optimizers="adam,sgd", seeds=2)
    init_adam, order_adam, test_adam = first_epoch(problem, protocol, "adam", protocol.seeds[0], tmp_path)
    init_sgd, order_sgd, _ = first_epoch(problem, protocol, "sgd", protocol.seeds[0], tmp_path)
    init_other, order_other, test_other = first_epoch(problem, protocol, "adam", protocol.seeds[1], tmp_path)
    assert all(torch.equal(init_adam[k], init_sgd[k]) for k in init_adam)
    assert len(order_adam) == len(order_sgd) and all(torch.equal(a, b) for a, b in zip(order_adam, order_sgd))
    # another seed: other weights and another order, but the same split (the test set never moves)
    assert not all(torch.equal(init_adam[k], init_other[k]) for k in init_adam)
    assert not all(torch.equal(a, b) for a, b in zip(order_adam, order_other))
    assert torch.equal(test_adam, test_other)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def stamps(root: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in root.rglob("*") if p.name in ("metrics.csv", "compare.json")}


def test_tuned_comparison_writes_its_tables_and_a_second_run_redoes_nothing(tmp_path: Path) -> None:
    config = iris(tmp_path / "runs")
    result = deepzen.compare.run(config, optimizers="sgd,adam", budget=2, seeds=2, verbose=False)
    root = result.root
    assert root == tmp_path / "runs" / "iris-compare"
    rows = read_csv(root / "results.csv")
    assert [(r["optimizer"], r["seed"], r["status"]) for r in rows] == [
        ("sgd", "0", "ok"), ("sgd", "1", "ok"), ("adam", "0", "ok"), ("adam", "1", "ok")]
    assert all(0.0 <= float(r["test_final"]) <= 1.0 for r in rows)
    summary = read_csv(root / "summary.csv")
    assert [s["optimizer"] for s in summary] == ["sgd", "adam"] and all(s["trials"] == "2" for s in summary)
    for name in ("report.md", "plots/curves.png", "plots/sensitivity.png", "plots/time_to_target.png",
                 "plots/profile.png"):
        assert (root / name).is_file(), name
    # the test split: never in the lr search, once per seed run (final and best weights)
    trial_summaries = list(root.glob("iris/*/tune/trials/*/summary.json"))
    assert len(trial_summaries) == 4
    assert all(json.loads(p.read_text())["test"] is None for p in trial_summaries)
    records = [json.loads(p.read_text()) for p in root.glob("iris/*/seed-*/compare.json")]
    assert len(records) == 4 and all(set(r["test_final"]) == {"loss", "accuracy"} for r in records)
    # the chosen lr is the best validation trial of each search
    for optimizer in ("sgd", "adam"):
        choice = json.loads((root / "iris" / optimizer / "choice.json").read_text())
        best = max(choice["trials"], key=lambda t: t["value"])
        assert choice["lr"] == best["lr"] and all(r["lr"] == best["lr"] for r in records
                                                    if r["optimizer"] == optimizer)

    before = stamps(root)
    again = deepzen.compare.run(config, optimizers="sgd,adam", budget=2, seeds=2, verbose=False)
    assert stamps(root) == before
    assert len(list(root.glob("iris/*/tune/trials/*"))) == 4
    assert [r.test_final for r in again.rows] == [r.test_final for r in result.rows]


def test_divergence_is_recorded_never_dropped(tmp_path: Path) -> None:
    # budget 0: sgd at its paper lr 0.01 with an L2 penalty of curvature 1e5 (lr * curvature = 1000 > 2)
    config = iris(tmp_path, budget=0, seeds=2)
    config.regularization.l2 = 1e5
    result = deepzen.compare.run(config, optimizers="sgd,adam", verbose=False, report=False)
    status = {(r.optimizer, r.seed): r.status for r in result.rows}
    assert status == {("sgd", 0): "diverged", ("sgd", 1): "diverged", ("adam", 0): "ok", ("adam", 1): "ok"}
    by_name = {s["optimizer"]: s for s in result.summary}
    assert by_name["sgd"]["diverged_seeds"] == 2 and math.isnan(by_name["sgd"]["test_final_mean"])
    assert by_name["adam"]["diverged_seeds"] == 0 and by_name["adam"]["status"] == "defaults"


def test_a_search_where_every_lr_diverges_says_so(tmp_path: Path) -> None:
    config = iris(tmp_path, lr_range=[1e4, 1e6])
    result = deepzen.compare.run(config, optimizers="sgd", budget=2, seeds=1, verbose=False, report=False)
    (entry,) = result.summary
    assert entry["status"] == "no_converging_lr" and entry["diverged_lrs"] == 2 and entry["trials"] == 2
    assert [r.status for r in result.rows] == ["no_converging_lr"]
    assert not list(result.root.glob("iris/sgd/seed-*"))  # no rerun of a setting that does not exist
