"""The built-in datasets by name, and :func:`load`, the one entry point for every dataset.

Every built-in set is shipped (scikit-learn's packaged files, the text in ``deepzen/data/text``) or
generated from a seed; nothing is downloaded.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, NamedTuple

from torch.utils.data import Dataset

from deepzen._suggest import did_you_mean
from deepzen.registry import Entry as RegistryEntry
from deepzen.registry import Registry
from deepzen.data.errors import DataError
from deepzen.data.splits import Splits


class Entry(NamedTuple):
    module: str
    function: str
    size: str
    task: str
    description: str


REGISTRY: dict[str, Entry] = {
    "digits": Entry("sklearn_sets", "load_digits", "1,797", "classification (10), image 1x8x8",
                    "handwritten digits, 8x8 grayscale (scikit-learn)"),
    "iris": Entry("sklearn_sets", "load_iris", "150", "classification (3), 4 features",
                  "iris flower measurements (Fisher 1936)"),
    "wine": Entry("sklearn_sets", "load_wine", "178", "classification (3), 13 features",
                  "chemical analysis of three wine cultivars"),
    "breast_cancer": Entry("sklearn_sets", "load_breast_cancer", "569", "classification (2), 30 features",
                           "Wisconsin diagnostic breast cancer, benign vs malignant"),
    "diabetes": Entry("sklearn_sets", "load_diabetes", "442", "regression (1), 10 features",
                      "disease progression one year after baseline (Efron et al. 2004)"),
    "mnist1d": Entry("mnist1d", "load_mnist1d", "4,000 + 1,000 test", "classification (10), signal 1x40",
                     "MNIST-1D style signals: 10 templates shifted, scaled, sheared, noised (Greydanus 2020)"),
    "adding": Entry("sequences", "load_adding", "5,000", "regression (1), sequence 50x2",
                    "adding problem: sum of the two marked numbers (Hochreiter & Schmidhuber 1997)"),
    "copy": Entry("sequences", "load_copy", "5,000", "sequence labeling (9), tokens 41",
                  "copy memory: repeat 10 symbols after a delay of 20 (Arjovsky et al. 2016)"),
    "parity": Entry("sequences", "load_parity", "5,000", "classification (2), tokens 1-16",
                    "parity of a variable-length bit string"),
    "sorting": Entry("sequences", "load_sorting", "5,000", "sequence labeling (10), tokens 5-10",
                     "output the input integers in sorted order, step by step"),
    "text": Entry("text", "load_text", "~6,000 chars", "language model, char or word tokens",
                  "next-token prediction on shipped prose (corpus=...) or your text (path=...)"),
    "listops": Entry("trees", "load_listops", "5,000", "classification (10), tree",
                     "nested MIN/MAX/MED/SM expressions over digits with parse trees (Nangia & Bowman 2018)"),
    "sentiment_trees": Entry("trees", "load_sentiment_trees", "3,000", "labels at every node (5), tree",
                             "binary-parsed sentences, compositional sentiment with negation and 'very'"),
    "sine": Entry("regression", "load_sine", "1,000", "regression (1), 1 feature", "noisy sine curve"),
    "polynomial": Entry("regression", "load_polynomial", "1,000", "regression (1), 1 feature",
                        "noisy polynomial, x^3 - x + 0.5 by default"),
    "rosenbrock": Entry("regression", "load_rosenbrock", "2,000", "regression (1), 2 features",
                        "Rosenbrock's banana function on [-2,2]x[-1,3]"),
    "himmelblau": Entry("regression", "load_himmelblau", "2,000", "regression (1), 2 features",
                        "Himmelblau's function on [-5,5]^2 (four minima)"),
    "friedman1": Entry("sklearn_sets", "load_friedman1", "2,000", "regression (1), 10 features",
                       "Friedman #1 generator, 5 informative features (scikit-learn)"),
    "moons": Entry("sklearn_sets", "load_moons", "1,000", "classification (2), 2 features",
                   "two interleaving half circles (scikit-learn)"),
    "circles": Entry("sklearn_sets", "load_circles", "1,000", "classification (2), 2 features",
                     "a circle inside a circle (scikit-learn)"),
    "blobs": Entry("sklearn_sets", "load_blobs", "1,000", "classification (4), 2 features",
                   "Gaussian clusters (scikit-learn)"),
}


DATASETS = Registry(
    "dataset", [RegistryEntry(name, f"deepzen.data.{e.module}:{e.function}", e.description,
                              extra={"task": e.task, "size": e.size}) for name, e in REGISTRY.items()],
    columns=(("name", "name"), ("task, input", "task"), ("samples", "size"), ("description", "summary")))


def available() -> dict[str, dict[str, str]]:
    """Built-in sets: ``{name: {"size", "task", "description"}}``."""
    return {name: {"size": e.size, "task": e.task, "description": e.description} for name, e in REGISTRY.items()}


def _call(function: Any, what: str, val: float, test: float | None, seed: int, options: dict[str, Any]) -> Splits:
    allowed = [p for p in inspect.signature(function).parameters if p not in ("val", "test", "seed", "path")]
    for key in options:
        if key not in allowed:
            raise DataError(f"unknown option {key!r} for {what}{did_you_mean(key, allowed)} "
                            f"Allowed: {', '.join(allowed) or 'none'}")
    return function(val=val, test=test, seed=seed, **options)


def load(name_or_path: str | Path | Dataset, val: float = 0.1, test: float | None = None, seed: int = 0,
         **options: Any) -> Splits:
    """Load a dataset as :class:`~deepzen.data.Splits` ``(train, val, test, info)``.

    Args:
        name_or_path: a built-in name (:func:`available`), a path (``.csv``, ``.npz``, ``.txt``, an image
            folder) or a ``torch.utils.data.Dataset``.
        val: fraction of samples for validation (0 for none).
        test: fraction for the test split; ``None`` means 0.2, or the set's natural test split
            (MNIST-1D, NPZ files with ``x_test``), or 0.1 of a text.
        seed: seed of the split (a generated set's content depends on ``data_seed`` instead, so the data
            stay the same while splits vary).
        options: per-dataset options (``n``, ``length``, ``target``, ``missing``, ...).
    """
    if isinstance(name_or_path, Dataset):
        from deepzen.data.files import load_torch_dataset

        return load_torch_dataset(name_or_path, val, test, seed, **options)
    if not isinstance(name_or_path, (str, Path)):
        raise DataError(f"load() takes a dataset name, a path or a torch Dataset, not {type(name_or_path).__name__}")
    key = str(name_or_path).lower()
    if isinstance(name_or_path, str) and key in DATASETS:
        return _call(DATASETS.load(key), repr(key), val, test, seed, options)
    path = Path(name_or_path)
    if not path.exists() and path.suffix == "" and len(path.parts) == 1:
        raise DataError(f"unknown dataset {str(name_or_path)!r}{did_you_mean(key, REGISTRY)} "
                        f"Built-in: {', '.join(REGISTRY)}; or give a path to a .csv, .npz, .txt file or image folder")
    from deepzen.data.files import load_path

    return load_path(path, val, test, seed, **options)
