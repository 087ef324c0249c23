"""Statistics are fitted on the training split only, stored, and reused for new inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import deepzen.data as dd


def _write_npz(path, rng):
    x = rng.normal(3.0, 2.0, size=(200, 3))
    y = (x[:, 0] > 3).astype(np.int64)
    x_test = np.full((50, 3), 1000.0)  # would drag any leaked mean far away
    np.savez(path, x=x, y=y, x_test=x_test, y_test=np.zeros(50, dtype=np.int64))
    return x, x_test


def test_scaler_ignores_test_data(tmp_path):
    x, x_test = _write_npz(tmp_path / "d.npz", np.random.default_rng(0))
    s = dd.load(tmp_path / "d.npz", val=0.0)
    assert len(s.test) == 50
    train = s.train.x.double()
    assert torch.allclose(train.mean(0), torch.zeros(3, dtype=torch.float64), atol=1e-5)
    assert torch.allclose(train.std(0, unbiased=False), torch.ones(3, dtype=torch.float64), atol=1e-5)
    expected = (1000.0 - x.mean(0)) / x.std(0)  # independent: raw training arrays
    assert np.allclose(s.test.x.numpy(), expected[None, :], rtol=1e-5)
    json.dumps(s.info.to_dict())  # stats are JSON-serializable


def test_validation_rows_do_not_leak_into_stats(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 2))
    np.savez(tmp_path / "d.npz", x=x, y=rng.normal(size=300))
    s = dd.load(tmp_path / "d.npz", val=0.3, test=0.2, seed=4)
    tr = dd.split_indices(300, 0.3, 0.2, seed=4)[0].numpy()
    assert np.allclose(s.info.stats["mean"], x[tr].mean(0)) and np.allclose(s.info.stats["std"], x[tr].std(0))
    assert not np.allclose(s.info.stats["mean"], x.mean(0))


def test_prepare_reproduces_model_inputs_and_targets(tmp_path):
    rng = np.random.default_rng(2)
    x, y = rng.normal(5, 3, size=(120, 4)), rng.normal(10, 4, size=(120, 1))
    np.savez(tmp_path / "r.npz", x=x, y=y)
    s = dd.load(tmp_path / "r.npz", seed=1)
    assert s.info.task == "regression"
    _, _, te = dd.split_indices(120, 0.1, 0.2, seed=1)
    assert torch.allclose(dd.prepare(x[te.numpy()], s.info), s.test.x, atol=1e-5)
    assert torch.allclose(dd.unscale_targets(s.test.y, s.info).double(), torch.tensor(y[te.numpy()]), atol=1e-4)
    with pytest.raises(ValueError, match="do not fit samples of shape"):
        dd.prepare(np.zeros((2, 5)), s.info)


def test_digits_pixels_scaled_by_16_then_standardized_with_train_stats():
    from sklearn.datasets import load_digits

    raw = load_digits().data
    s = dd.load("digits", seed=0)
    tr = dd.split_indices(len(raw), 0.1, 0.2, seed=0)[0].numpy()
    pixels = raw[tr] / 16
    expected = (raw[:5] / 16 - pixels.mean()) / pixels.std()
    assert torch.allclose(dd.prepare(raw[:5], s.info), torch.tensor(expected, dtype=torch.float32).view(5, 1, 8, 8),
                          atol=1e-5)
