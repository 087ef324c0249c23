"""``read_samples`` / ``prepare_file``: new samples from a file, standardized with the training statistics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepzen.data as dd


@pytest.fixture()
def iris_info():
    return dd.load("iris", val=0.0, test=0.2, seed=0).info


def _standardized(x, info):
    """``(x - mean) / std`` written out with the stored training statistics."""
    return torch.tensor((x - np.array(info.stats["mean"])) / np.array(info.stats["std"]), dtype=torch.float32)


def test_headerless_csv_keeps_every_row_and_splits_off_a_target(tmp_path, iris_info):
    x = np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]])
    np.savetxt(tmp_path / "x.csv", x, delimiter=",")
    assert torch.allclose(dd.prepare_file(tmp_path / "x.csv", iris_info), _standardized(x, iris_info), atol=1e-6)
    np.savetxt(tmp_path / "xy.csv", np.column_stack([x, [0, 2, 1]]), delimiter=",")
    inputs, y = dd.read_samples(tmp_path / "xy.csv", iris_info)
    assert torch.allclose(inputs, _standardized(x, iris_info), atol=1e-6) and y.tolist() == [0, 2, 1]


def test_header_with_feature_names_picks_columns_by_name(tmp_path, iris_info):
    names = iris_info.extra["feature_names"]
    x = np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]])
    order = [3, "species", 0, 2, 1]
    header = [names[c] if isinstance(c, int) else c for c in order]
    rows = [[str(row[c]) if isinstance(c, int) else "setosa" for c in order] for row in x]
    (tmp_path / "named.csv").write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n")
    inputs, y = dd.read_samples(tmp_path / "named.csv", iris_info)
    assert torch.allclose(inputs, _standardized(x, iris_info), atol=1e-6) and y.tolist() == ["setosa"] * 2


def test_npz_and_bad_files(tmp_path, iris_info):
    x = np.array([[5.1, 3.5, 1.4, 0.2]])
    np.savez(tmp_path / "a.npz", features=x, labels=np.array([0]))
    inputs, y = dd.read_samples(tmp_path / "a.npz", iris_info)
    assert torch.allclose(inputs, _standardized(x, iris_info), atol=1e-6) and y.tolist() == [0]
    np.savez(tmp_path / "b.npz", x=x, y=np.array([0, 1]))
    with pytest.raises(dd.DataError, match="1 inputs but 2 targets"):
        dd.read_samples(tmp_path / "b.npz", iris_info)
    np.savetxt(tmp_path / "wide.csv", np.zeros((2, 6)), delimiter=",")
    with pytest.raises(dd.DataError, match="6 columns, but the run was trained on 4 features"):
        dd.read_samples(tmp_path / "wide.csv", iris_info)
    with pytest.raises(dd.DataError, match="no file at"):
        dd.read_samples(tmp_path / "missing.csv", iris_info)
