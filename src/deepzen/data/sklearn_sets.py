"""scikit-learn's packaged sets (shipped inside scikit-learn, no download) and its generators.

- ``digits``: 1,797 8x8 images of handwritten digits, pixels 0..16 -> ``(1, 8, 8)`` floats
  ``(x / 16 - mean) / std`` with one mean and std over all training pixels.
- ``iris``, ``wine``, ``breast_cancer``: tabular classification, features standardized per column.
- ``diabetes``: tabular regression (10 features, disease progression), features and target standardized.
- ``moons``, ``circles``, ``blobs``: 2-D classification generators; ``friedman1``: regression generator.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn import datasets as skd

from deepzen.data.arrays import array_splits
from deepzen.data.splits import Splits


def _split(name: str, x: np.ndarray, y: np.ndarray, task: str, val: float, test: float | None, seed: int,
           class_names: Any = None, **kw: Any) -> Splits:
    return array_splits(name, x, y, task=task, input_kind="tabular", val=val, test=test, seed=seed,
                        class_names=tuple(str(c) for c in class_names) if class_names is not None else None,
                        **kw)


def load_digits(val: float, test: float | None, seed: int) -> Splits:
    d = skd.load_digits()
    x = d.data.reshape(-1, 1, 8, 8)  # (N, 1, 8, 8), values 0..16
    return array_splits("digits", x, d.target, task="classification", input_kind="image", val=val, test=test,
                        seed=seed, scale="global", prescale=1 / 16,
                        class_names=tuple(str(c) for c in d.target_names))


def _packaged(loader: Any, name: str, task: str) -> Any:
    def load(val: float, test: float | None, seed: int) -> Splits:
        d = loader()
        names = d.target_names if task == "classification" else None
        return _split(name, d.data, d.target, task, val, test, seed, names, scale_target=True,
                      extra={"feature_names": [str(f) for f in d.feature_names]})

    load.__name__ = f"load_{name}"
    return load


load_iris = _packaged(skd.load_iris, "iris", "classification")
load_wine = _packaged(skd.load_wine, "wine", "classification")
load_breast_cancer = _packaged(skd.load_breast_cancer, "breast_cancer", "classification")
load_diabetes = _packaged(skd.load_diabetes, "diabetes", "regression")


def load_moons(val: float, test: float | None, seed: int, n: int = 1000, noise: float = 0.2,
               data_seed: int = 0) -> Splits:
    """Two interleaving half circles (``sklearn.datasets.make_moons``)."""
    x, y = skd.make_moons(n_samples=n, noise=noise, random_state=data_seed)
    return _split("moons", x, y, "classification", val, test, seed)


def load_circles(val: float, test: float | None, seed: int, n: int = 1000, noise: float = 0.1,
                 factor: float = 0.5, data_seed: int = 0) -> Splits:
    """A small circle inside a large one (``sklearn.datasets.make_circles``)."""
    x, y = skd.make_circles(n_samples=n, noise=noise, factor=factor, random_state=data_seed)
    return _split("circles", x, y, "classification", val, test, seed)


def load_blobs(val: float, test: float | None, seed: int, n: int = 1000, centers: int = 4,
               features: int = 2, data_seed: int = 0) -> Splits:
    """Isotropic Gaussian clusters, one class each (``sklearn.datasets.make_blobs``)."""
    x, y = skd.make_blobs(n_samples=n, centers=centers, n_features=features, random_state=data_seed)
    return _split("blobs", x, y, "classification", val, test, seed)


def load_friedman1(val: float, test: float | None, seed: int, n: int = 2000, noise: float = 1.0,
                   features: int = 10, data_seed: int = 0) -> Splits:
    """Friedman #1: ``y = 10 sin(pi x0 x1) + 20 (x2 - 0.5)^2 + 10 x3 + 5 x4 + noise`` (Friedman 1991)."""
    x, y = skd.make_friedman1(n_samples=n, n_features=features, noise=noise, random_state=data_seed)
    return _split("friedman1", x, y, "regression", val, test, seed, scale_target=True)
