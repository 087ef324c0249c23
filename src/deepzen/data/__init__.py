"""Data: bundled, generated and users' own datasets with train / validation / test splits.

    splits = deepzen.data.load("digits", val=0.1, test=0.2, seed=0)   # Splits(train, val, test, info)
    loader = deepzen.data.make_loader(splits.train, batch_size=64, seed=0, epoch=0)

Nothing is downloaded: every built-in set is shipped or generated (:func:`available` lists them).
Statistics (standardization, categories, imputation) are fitted on the training split only and stored in
``info.stats``; :func:`prepare` / :func:`prepare_file` / :func:`read_samples` apply them to new inputs.
"""

from __future__ import annotations

from deepzen.data.collate import collate_for, collate_sequences, collate_trees, stack_pairs
from deepzen.data.datasets import ArrayDataset, SequenceDataset, Tree, TreeDataset
from deepzen.data.errors import DataError
from deepzen.data.loader import EpochSampler, epoch_permutation, make_loader
from deepzen.data.new_samples import prepare_file, prepare_table, read_samples
from deepzen.data.registry import available, load
from deepzen.data.scaling import prepare, unscale_targets
from deepzen.data.splits import Splits, split_indices
from deepzen.data.text import decode, encode

__all__ = [
    "ArrayDataset", "DataError", "EpochSampler", "SequenceDataset", "Splits", "Tree", "TreeDataset",
    "available", "collate_for", "collate_sequences", "collate_trees", "decode", "encode", "epoch_permutation",
    "load", "make_loader", "prepare", "prepare_file", "prepare_table", "read_samples", "split_indices", "stack_pairs",
    "unscale_targets",
]
