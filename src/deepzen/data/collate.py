"""Collate functions: turn a list of ``(x, y)`` samples into one batch.

- dense samples: stacked, ``x`` ``(B, ...)``, ``y`` ``(B,)`` or ``(B, D)``;
- variable-length sequences: :class:`~deepzen.structures.Sequences` (padded with the padding index,
  plus lengths), per-step targets padded with ``IGNORE_INDEX`` to ``(B, T)``;
- trees: :class:`~deepzen.structures.Trees` (all nodes in one list), per-node targets ``(N,)`` or root
  targets ``(B,)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import Dataset, Subset, default_collate

from deepzen.structures import IGNORE_INDEX, Sequences, Trees

Batch = tuple[Any, Tensor]


def stack_pairs(batch: list[tuple[Tensor, Tensor]]) -> tuple[Tensor, Tensor]:
    """Stack inputs and targets: ``(B, ...)`` each."""
    xs, ys = zip(*batch)
    return torch.stack(xs), torch.stack(ys)


def collate_sequences(batch: list[tuple[Tensor, Tensor]], padding_index: int = 0,
                      per_step: bool = False) -> tuple[Sequences, Tensor]:
    """Pad sequences after their end; per-step targets (``per_step``) padded with ``IGNORE_INDEX``."""
    xs, ys = zip(*batch)
    lengths = torch.tensor([len(x) for x in xs], dtype=torch.long)  # (B,)
    values = pad_sequence(list(xs), batch_first=True, padding_value=padding_index)  # (B, T) or (B, T, F)
    if per_step:
        targets = pad_sequence(list(ys), batch_first=True, padding_value=IGNORE_INDEX)  # (B, T)
    else:
        targets = torch.stack(ys)  # (B,) labels or (B, D) values
    return Sequences(values, lengths), targets


def collate_trees(batch: list[tuple[Any, Tensor]]) -> tuple[Trees, Tensor]:
    """Join trees into one node list; child indices shift by each tree's offset."""
    trees, ys = zip(*batch)
    sizes = torch.tensor([len(t) for t in trees], dtype=torch.long)  # (B,)
    offsets = torch.cumsum(sizes, 0) - sizes  # (B,)
    tokens = torch.cat([t.tokens for t in trees])  # (N,)
    arity = max(t.children.shape[1] for t in trees)
    children = torch.full((len(tokens), arity), -1, dtype=torch.long)  # (N, K)
    for tree, start in zip(trees, offsets.tolist()):
        kids = tree.children
        children[start : start + len(tree), : kids.shape[1]] = torch.where(kids >= 0, kids + start, kids)
    heights = torch.cat([t.heights for t in trees])  # (N,)
    levels = [torch.nonzero(heights == h).flatten() for h in range(int(heights.max()) + 1)]
    roots = offsets + sizes - 1  # post-order: the root is each tree's last node
    tree_index = torch.repeat_interleave(torch.arange(len(trees)), sizes)  # (N,)
    per_node = ys[0].dim() == 1
    targets = torch.cat(ys) if per_node else torch.stack(ys)  # (N,) or (B,)
    return Trees(tokens, children, levels, roots, tree_index), targets


def collate_for(dataset: Dataset) -> Callable[[list], Any]:
    """The collate function for ``dataset``: its own ``collate`` if it has one (also through
    ``torch.utils.data.Subset``), else torch's ``default_collate`` (stacks tensors)."""
    while isinstance(dataset, Subset):
        dataset = dataset.dataset
    collate = getattr(dataset, "collate", None)
    return collate if callable(collate) else default_collate
