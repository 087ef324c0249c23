"""Generated regression sets: 1-D curves and 2-D test functions, from ``data_seed``.

- ``sine``: ``y = sin(x) + noise * N(0, 1)``, ``x ~ U[-pi, pi]``.
- ``polynomial``: ``y = sum_k c_k x^k + noise * N(0, 1)``, ``x ~ U[-2, 2]``, default ``x^3 - x + 0.5``.
- ``rosenbrock``: ``f(a, b) = (1 - a)^2 + 100 (b - a^2)^2`` on ``[-2, 2] x [-1, 3]`` (Rosenbrock 1960).
- ``himmelblau``: ``f(a, b) = (a^2 + b - 11)^2 + (a + b^2 - 7)^2`` on ``[-5, 5]^2`` (Himmelblau 1972).

Inputs are standardized per feature and targets per output, with training statistics
(``info.stats``; :func:`deepzen.data.unscale_targets` maps predictions back).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from deepzen.data.arrays import array_splits
from deepzen.data.errors import DataError
from deepzen.data.splits import Splits


def _regression(name: str, x: np.ndarray, y: np.ndarray, val: float, test: float | None, seed: int,
                **extra: object) -> Splits:
    return array_splits(name, x, y, task="regression", input_kind="tabular", val=val, test=test, seed=seed,
                        scale_target=True, extra={"generator": extra})


def _check_n(n: int) -> None:
    if n < 1:
        raise DataError(f"n={n}: the number of samples must be a positive integer")


def load_sine(val: float, test: float | None, seed: int, n: int = 1000, noise: float = 0.1,
              data_seed: int = 0) -> Splits:
    _check_n(n)
    rng = np.random.default_rng(data_seed)
    x = rng.uniform(-np.pi, np.pi, size=(n, 1))
    y = np.sin(x) + noise * rng.normal(size=(n, 1))
    return _regression("sine", x, y, val, test, seed, noise=noise, data_seed=data_seed)


def load_polynomial(val: float, test: float | None, seed: int, n: int = 1000, noise: float = 0.1,
                    coefficients: Sequence[float] = (0.5, -1.0, 0.0, 1.0), data_seed: int = 0) -> Splits:
    """``coefficients[k]`` multiplies ``x^k``."""
    _check_n(n)
    rng = np.random.default_rng(data_seed)
    x = rng.uniform(-2, 2, size=(n, 1))
    y = sum(c * x**k for k, c in enumerate(coefficients)) + noise * rng.normal(size=(n, 1))
    return _regression("polynomial", x, y, val, test, seed, noise=noise, coefficients=list(coefficients),
                       data_seed=data_seed)


def rosenbrock(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (1 - a) ** 2 + 100 * (b - a**2) ** 2


def himmelblau(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a**2 + b - 11) ** 2 + (a + b**2 - 7) ** 2


FUNCTIONS_2D = {"rosenbrock": (rosenbrock, (-2.0, 2.0), (-1.0, 3.0)),
                "himmelblau": (himmelblau, (-5.0, 5.0), (-5.0, 5.0))}


def _load_2d(name: str):
    fn, (a_lo, a_hi), (b_lo, b_hi) = FUNCTIONS_2D[name]

    def load(val: float, test: float | None, seed: int, n: int = 2000, noise: float = 0.0,
             data_seed: int = 0) -> Splits:
        _check_n(n)
        rng = np.random.default_rng(data_seed)
        x = np.stack([rng.uniform(a_lo, a_hi, n), rng.uniform(b_lo, b_hi, n)], axis=1)  # (n, 2)
        y = fn(x[:, 0], x[:, 1])[:, None] + noise * rng.normal(size=(n, 1))
        return _regression(name, x, y, val, test, seed, noise=noise, data_seed=data_seed)

    load.__name__ = f"load_{name}"
    return load


load_rosenbrock = _load_2d("rosenbrock")
load_himmelblau = _load_2d("himmelblau")
