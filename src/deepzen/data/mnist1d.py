"""MNIST-1D style signals (after Greydanus 2020, "Scaling down deep learning").

Ten hand-made templates of 12 points (one per class) go through random transformations, each drawn per
sample from a generator seeded by ``data_seed``:

1. pad with ``p ~ U{36..60}`` zeros split around the template (so after resampling the pattern's width
   varies: a time scaling);
2. circular shift by ``s ~ U{-max_shift..max_shift}`` positions;
3. amplitude scaling by ``1 + scale * N(0, 1)``;
4. shear: add ``shear * U(-1, 1) * linspace(-1, 1)``;
5. correlated noise: white noise smoothed by a Gaussian kernel, times ``corr_noise``;
6. linear resampling to ``length`` (40) points, then i.i.d. noise ``iid_noise * N(0, 1)``.

The sizes follow the original: 4,000 training and 1,000 test signals, each ``(1, 40)``; labels are
the template index. Standardized with one mean/std over all training values.
"""

from __future__ import annotations

import numpy as np

from deepzen.data.arrays import array_splits
from deepzen.data.splits import Splits

#: Ten templates of 12 points each (our own shapes; each class is one pattern).
TEMPLATES = np.array([
    [0, 2, 4, 5, 5, 5, 5, 5, 5, 4, 2, 0],        # 0: plateau
    [0, 0, 0, 0, 6, 6, 6, 0, 0, 0, 0, 0],        # 1: narrow pulse
    [0, 1, 2, 3, 4, 5, 6, 5, 4, 3, 2, 1],        # 2: triangle
    [5, 4, 3, 2, 1, 0, 0, 1, 2, 3, 4, 5],        # 3: valley
    [0, 5, 0, 5, 0, 5, 0, 5, 0, 5, 0, 5],        # 4: comb
    [0, 1, 2, 3, 4, 5, 6, 6, 6, 0, 0, 0],        # 5: ramp up then drop
    [6, 6, 6, 5, 4, 3, 2, 1, 0, 0, 0, 0],        # 6: ramp down
    [0, 4, 4, 0, 0, 0, 0, 0, 0, 4, 4, 0],        # 7: two pulses
    [0, -4, -4, -4, 0, 0, 0, 4, 4, 4, 0, 0],     # 8: low then high
    [4, 4, 4, 0, 0, -4, -4, -4, 0, 0, 4, 4],     # 9: high, low, high
], dtype=np.float64) / 2.0  # peak amplitude 3 against noise of about 0.3


def _gaussian_kernel(width: float) -> np.ndarray:
    t = np.arange(-3 * int(np.ceil(width)), 3 * int(np.ceil(width)) + 1)
    k = np.exp(-0.5 * (t / width) ** 2)
    return k / k.sum()


def make_signal(template: np.ndarray, rng: np.random.Generator, length: int = 40, max_shift: int = 48,
                scale: float = 0.4, shear: float = 0.75, corr_noise: float = 0.25,
                iid_noise: float = 0.02) -> np.ndarray:
    """One transformed copy of ``template``, ``(length,)``."""
    pad = int(rng.integers(36, 61))
    left = int(rng.integers(0, pad + 1))
    x = np.concatenate([np.zeros(left), template, np.zeros(pad - left)])  # (12 + pad,)
    x = np.roll(x, int(rng.integers(-max_shift, max_shift + 1)))
    x = x * (1 + scale * rng.normal())
    x = x + shear * rng.uniform(-1, 1) * np.linspace(-1, 1, len(x))
    x = x + corr_noise * np.convolve(rng.normal(size=len(x)), _gaussian_kernel(2.0), mode="same") * 2.0
    x = np.interp(np.linspace(0, len(x) - 1, length), np.arange(len(x)), x)  # (length,)
    return x + iid_noise * rng.normal(size=length)


def generate(n: int, data_seed: int = 0, length: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """``n`` signals ``(n, 1, length)`` with balanced labels ``(n,)`` (class ``i % 10``, shuffled)."""
    rng = np.random.default_rng(data_seed)
    y = rng.permutation(np.arange(n) % len(TEMPLATES))
    x = np.stack([make_signal(TEMPLATES[c], rng, length) for c in y])[:, None, :]
    return x, y


def load_mnist1d(val: float, test: float | None, seed: int, n_train: int = 4000, n_test: int = 1000,
                 length: int = 40, data_seed: int = 0) -> Splits:
    """MNIST-1D: natural test split of ``n_test`` signals; validation drawn from the ``n_train`` ones."""
    x, y = generate(n_train + n_test, data_seed, length)
    return array_splits("mnist1d", x[:n_train], y[:n_train], task="classification", input_kind="signal",
                        val=val, test=test, seed=seed, scale="global", num_classes=len(TEMPLATES),
                        test_arrays=(x[n_train:], y[n_train:]),
                        extra={"generator": {"data_seed": data_seed, "length": length}})
