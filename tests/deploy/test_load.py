"""``deepzen.load``: a run folder in one line, predicting from every kind of input ``deepzen predict`` takes."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from sklearn.datasets import load_iris

import deepzen as dz
from deepzen.config import ConfigError, load_config, write_config
from deepzen.structures import Sequences
from tests.cli.conftest import call

IRIS = load_iris()


class Table:
    """The part of a pandas DataFrame that predict uses: ``columns`` and ``table[name].to_list()``."""

    class Column(list):
        def to_list(self) -> list:
            return list(self)

    def __init__(self, columns: dict[str, list]) -> None:
        self._columns = columns
        self.columns = list(columns)

    def __getitem__(self, name: str) -> Column:
        return Table.Column(self._columns[name])


def test_load_gives_an_eval_mode_model_its_data_info_and_preprocessing(runs):
    run = dz.load(runs["mlp-iris"])
    assert not run.model.training and run.device == torch.device("cpu")
    assert run.info.name == "iris" and run.info.class_names == ("setosa", "versicolor", "virginica")
    assert len(run.preprocessing["mean"]) == 4 and len(run.preprocessing["std"]) == 4
    assert run.config.model.kind == "mlp"


def test_predict_from_a_file_matches_the_predict_command(runs, tmp_path, capsys):
    features = IRIS.data[::10]  # raw measurements, as a user has them
    path = tmp_path / "new.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(IRIS.feature_names)
        writer.writerows(features.tolist())
    code, _, err = call(capsys, "predict", str(runs["mlp-iris"]), str(path), "-o", str(tmp_path / "p.csv"))
    assert code == 0, err
    rows = list(csv.DictReader((tmp_path / "p.csv").open()))
    got = dz.load(runs["mlp-iris"]).predict(path)
    assert list(got.labels) == [r["prediction"] for r in rows]
    np.testing.assert_allclose(got.probabilities[:, 0], [float(r["p_setosa"]) for r in rows], rtol=1e-5)


def test_an_array_a_table_and_a_dict_of_columns_give_the_same_predictions(runs):
    run = dz.load(runs["mlp-iris"])
    features = IRIS.data[::7]
    columns = {name: features[:, i].tolist() for i, name in enumerate(IRIS.feature_names)}
    from_array = run.predict(features).probabilities
    reordered = Table(dict(reversed(list(columns.items()))))  # by name, not by position
    np.testing.assert_array_equal(run.predict(reordered).probabilities, from_array)
    np.testing.assert_array_equal(run.predict(columns).probabilities, from_array)
    # a raw array is standardized with the training statistics: the same as the model on standardized input
    stats = run.info.stats
    standardized = torch.tensor((features - stats["mean"]) / np.asarray(stats["std"]), dtype=torch.float32)
    expected = torch.softmax(run.model(standardized), -1).detach().numpy()
    np.testing.assert_allclose(from_array, expected, rtol=1e-5, atol=1e-6)


def test_token_lists_of_different_lengths_predict_as_each_sequence_alone(runs):
    run = dz.load(runs["rnn-parity"])
    sequences = [[1, 2, 2], [2], [1, 1, 2, 1, 2, 2, 2], [2, 2]]
    together = run.predict(sequences).probabilities  # padded into one batch
    for seq, probs in zip(sequences, together):
        alone = torch.softmax(run.model(torch.tensor([seq])), -1)[0].detach().numpy()  # (C,), no padding
        np.testing.assert_allclose(probs, alone, rtol=1e-5, atol=1e-6)
    assert set(run.predict(sequences).labels) <= {"even", "odd"}


def test_regression_values_come_back_in_the_targets_units(runs):
    run = dz.load(runs["mlp-diabetes"])
    from sklearn.datasets import load_diabetes

    values = run.predict(load_diabetes().data[:5]).values
    assert values.shape == (5, 1)
    assert 25 < values.mean() < 350  # the targets' own range (25..346), not standardized units near 0
    assert run.predict(load_diabetes().data[:5]).labels is None


def test_best_and_last_checkpoints_are_both_loadable_and_which_is_checked(runs):
    assert isinstance(dz.load(runs["mlp-iris"], which="last").model, torch.nn.Module)
    with pytest.raises(ConfigError, match="which='newest'.*'best', 'last'"):
        dz.load(runs["mlp-iris"], which="newest")


def test_a_checkpoint_from_another_deepzen_version_gets_a_clear_message(runs, tmp_path):
    import shutil

    copy = tmp_path / "old"
    shutil.copytree(runs["mlp-iris"], copy)
    for name in ("best.pt", "last.pt"):
        payload = torch.load(copy / "checkpoints" / name, weights_only=True)
        payload["format"] = "deepzen.checkpoint/0"
        torch.save(payload, copy / "checkpoints" / name)
    with pytest.raises(ConfigError, match=r"format 'deepzen.checkpoint/0'.*this deepzen .* reads 'deepzen.checkpoint/1'"):
        dz.load(copy)


def test_weights_that_do_not_fit_the_config_name_the_problem(runs, tmp_path):
    import shutil

    copy = tmp_path / "changed"
    shutil.copytree(runs["mlp-iris"], copy)
    write_config(load_config(copy / "config.toml", ["model.hidden=[8]"]), copy / "config.toml")
    with pytest.raises(ConfigError, match="do not fit the 'mlp' model"):
        dz.load(copy)


def test_bad_inputs_name_what_is_allowed(runs):
    run = dz.load(runs["rnn-parity"])
    with pytest.raises(ValueError, match=r"token ids must be in 0..2"):
        run.predict([[1, 7]])
    with pytest.raises(ValueError, match="cannot predict from object"):
        dz.load(runs["mlp-iris"]).predict(object())
    assert isinstance(run.inputs([[1], [1, 2]]), Sequences)
