"""``predict`` / ``evaluate`` with a run trained on a user's CSV holding a text column and missing cells
(``missing="impute"``): new raw rows must get the training encoding. The reference inputs are built here
from the training rows alone (one-hot of the training categories, training mean for missing cells,
standardization with the training mean / std) and fed to the run's own model."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from deepzen.config import load_config
from deepzen.data import split_indices
from deepzen.train.experiment import run
from deepzen.train.inference import evaluate_run, predict_run, restore
from tests.cli.conftest import call

HEADER = ["size", "color", "weight", "label"]
COLORS = ["red", "blue", "green"]
MISSING = ("", "NA")
N, VAL, TEST, SEED = 80, 0.2, 0.2, 3


def _rows(n: int, seed: int) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        size, color, weight = rng.uniform(1, 10), COLORS[int(rng.integers(3))], rng.normal()
        label = "dear" if size / 3 + 2 * (color == "red") + weight > 2.5 else "cheap"
        rows.append([f"{size:.2f}", color, f"{weight:.3f}", label])
    return rows


def _write(path, header, rows):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def shop_run(tmp_path_factory):
    """A few epochs of an MLP on shop.csv (size has missing cells, color is text, label is text)."""
    root = tmp_path_factory.mktemp("shop")
    rows = _rows(N, seed=0)
    for i, cell in zip((2, 17, 40, 63, 71), ("", "NA", "", "NA", "")):
        rows[i][0] = cell
    data = _write(root / "shop.csv", HEADER, rows)
    config = root / "shop.toml"
    config.write_text(f'seed = {SEED}\n[data]\nname = "{data.as_posix()}"\nval = {VAL}\ntest = {TEST}\n'
                      'missing = "impute"\n[model]\nkind = "mlp"\nhidden = [16]\n[optimizer]\nlr = 0.01\n'
                      '[training]\nepochs = 4\nbatch_size = 16\nthreads = 1\n'
                      f'[output]\nprogress = "none"\nname = "shop"\ndir = "{root.as_posix()}"\n')
    result = run(load_config(config))
    assert not result.history.failed
    train_rows = [rows[i] for i in split_indices(N, VAL, TEST, seed=SEED)[0].tolist()]
    return result.run_dir, train_rows


def _reference_inputs(train_rows: list[list[str]], new_rows: list[list[str]]) -> torch.Tensor:
    """``[size, one-hot color (sorted training categories), weight]``, missing size = training mean,
    standardized with the training rows' mean and (population) std."""
    fill = np.mean([float(r[0]) for r in train_rows if r[0] not in MISSING])
    categories = sorted({r[1] for r in train_rows})

    def encode(row):
        size = fill if row[0] in MISSING else float(row[0])
        return [size, *(float(row[1] == c) for c in categories), float(row[2])]

    train = np.array([encode(r) for r in train_rows])
    mean, std = train.mean(0), train.std(0)
    std[std < 1e-12] = 1.0
    return torch.tensor((np.array([encode(r) for r in new_rows]) - mean) / std, dtype=torch.float32)


def _new_rows() -> list[list[str]]:
    rows = _rows(12, seed=1)
    rows[0][0], rows[5][0] = "", "NA"  # missing sizes: imputed with the training mean
    return rows


def test_predict_new_csv_rows_matches_independent_encoding(shop_run, tmp_path):
    run_dir, train_rows = shop_run
    new = _new_rows()
    # other column order, no label column, one extra column: features are picked by name
    source = _write(tmp_path / "new.csv", ["weight", "color", "note", "size"],
                    [[r[2], r[1], "x", r[0]] for r in new])
    out = predict_run(run_dir, source)
    _, info, trainer = restore(run_dir)
    probs = torch.softmax(trainer.predict(_reference_inputs(train_rows, new)).float(), -1)  # (N, 2)
    assert info.class_names == ("cheap", "dear")
    written = list(csv.DictReader(out.open()))
    assert [r["prediction"] for r in written] == [info.class_names[int(k)] for k in probs.argmax(-1)]
    got = np.array([[float(r["p_cheap"]), float(r["p_dear"])] for r in written])
    np.testing.assert_allclose(got, probs.numpy(), rtol=1e-4, atol=1e-6)


def test_evaluate_labelled_csv_matches_independent_loss(shop_run, tmp_path):
    run_dir, train_rows = shop_run
    new = _new_rows()
    labelled = _write(tmp_path / "labelled.csv", HEADER, new)
    metrics = evaluate_run(run_dir, labelled)
    _, _, trainer = restore(run_dir)
    log_probs = torch.log_softmax(trainer.predict(_reference_inputs(train_rows, new)).double(), -1)
    labels = torch.tensor([["cheap", "dear"].index(r[3]) for r in new])
    assert metrics["loss"] == pytest.approx(float(-log_probs[torch.arange(len(new)), labels].mean()), rel=1e-4)
    assert metrics["accuracy"] == pytest.approx(float((log_probs.argmax(-1) == labels).double().mean()))


def test_unknown_category_is_a_clear_user_error(shop_run, tmp_path, capsys):
    run_dir, _ = shop_run
    rows = _new_rows()[:3]
    rows[1][1] = "purple"
    source = _write(tmp_path / "odd.csv", HEADER[:3], [r[:3] for r in rows])
    code, _, err = call(capsys, "predict", str(run_dir), str(source))
    assert code == 2 and "Traceback" not in err, err
    assert "line 3: column 'color' has category 'purple', which the training rows never had" in err
    assert "Known: blue, green, red" in err


def test_unknown_class_name_in_labelled_csv_is_refused(shop_run, tmp_path, capsys):
    run_dir, _ = shop_run
    rows = _new_rows()[:4]
    rows[2][3] = "pricey"
    source = _write(tmp_path / "bad_labels.csv", HEADER, rows)
    code, out, err = call(capsys, "evaluate", str(run_dir), "--data", str(source), "--json")
    assert code == 2 and "unknown class names ['pricey']" in err, err
    assert out == ""
