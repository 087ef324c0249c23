"""Train / validation / test splits: deterministic for a seed, never empty, never overlapping."""

from __future__ import annotations

from typing import Any, NamedTuple

import torch

from deepzen.data.errors import DataError
from deepzen.info import DataInfo

#: Test fraction used when a set has no natural test split and ``test`` is left ``None``.
DEFAULT_TEST = 0.2


class Splits(NamedTuple):
    """What :func:`deepzen.data.load` returns. ``val`` / ``test`` are ``None`` when their fraction is 0."""

    train: Any
    val: Any
    test: Any
    info: DataInfo


def check_fractions(val: float, test: float) -> None:
    """Both in ``[0, 1)`` and leaving something to train on."""
    for name, frac in (("val", val), ("test", test)):
        if not isinstance(frac, (int, float)) or not 0 <= frac < 1:
            raise DataError(f"{name}={frac!r}: a split fraction must be a number in [0, 1)")
    if val + test >= 1:
        raise DataError(f"val={val} + test={test} = {val + test:g} leaves nothing to train on; "
                        "the two fractions must add up to less than 1 (e.g. val=0.1, test=0.2)")


def split_counts(n: int, val: float, test: float, what: str = "dataset") -> tuple[int, int, int]:
    """Sizes ``(train, val, test)`` of ``n`` samples; a nonzero fraction that yields no sample is an error."""
    check_fractions(val, test)
    n_val, n_test = round(n * val), round(n * test)
    for name, frac, count in (("validation", val, n_val), ("test", test, n_test)):
        if frac > 0 and count == 0:
            raise DataError(f"the {name} split of {what} would be empty ({frac} of {n} samples); "
                            f"use a larger fraction or more data, or set it to 0 to have no {name} split")
    n_train = n - n_val - n_test
    if n_train <= 0:
        raise DataError(f"the training split of {what} would be empty ({n} samples, val={val}, test={test}); "
                        "use smaller val/test fractions or more data")
    return n_train, n_val, n_test


def split_indices(n: int, val: float, test: float, seed: int = 0,
                  what: str = "dataset") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Disjoint sorted index tensors ``(train, val, test)`` covering ``range(n)``, from a seeded permutation."""
    n_train, n_val, _ = split_counts(n, val, test, what)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(int(seed)))
    train, rest = perm[:n_train], perm[n_train:]
    return train.sort().values, rest[:n_val].sort().values, rest[n_val:].sort().values



def dataset_splits(name: str, dataset: Any, info: dict[str, Any], val: float, test: float | None,
                   seed: int) -> Splits:
    """Random splits of an in-memory dataset that has ``subset(indices)``; ``info`` holds the
    :class:`DataInfo` fields other than ``name`` (split sizes are added to ``extra``)."""
    tr, va, te = split_indices(len(dataset), val, DEFAULT_TEST if test is None else test, seed, name)
    fields = dict(info)
    fields["extra"] = {"sizes": {"train": len(tr), "val": len(va), "test": len(te)}, **fields.get("extra", {})}
    return Splits(dataset.subset(tr), dataset.subset(va) if len(va) else None,
                  dataset.subset(te) if len(te) else None, DataInfo(name=name, **fields))
