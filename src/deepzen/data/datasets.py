"""In-memory datasets: dense arrays, variable-length sequences, and trees.

Each keeps its samples as tensors (fast indexing), knows how to take a subset of itself (so splits stay
in memory) and exposes ``collate`` for :func:`deepzen.data.collate_for`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.utils.data import Dataset

from deepzen.data.collate import collate_sequences, collate_trees, stack_pairs


class ArrayDataset(Dataset):
    """Samples ``(x[i], y[i])`` from two tensors with the same first dimension."""

    def __init__(self, x: Tensor, y: Tensor) -> None:
        if len(x) != len(y):
            raise ValueError(f"ArrayDataset: {len(x)} inputs but {len(y)} targets")
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        return self.x[i], self.y[i]

    def subset(self, indices: Tensor) -> ArrayDataset:
        return ArrayDataset(self.x[indices], self.y[indices])

    collate = staticmethod(stack_pairs)


class SequenceDataset(Dataset):
    """Variable-length sequences: ``x`` is ``(T,)`` token ids or ``(T, F)`` steps.

    ``y`` is either one tensor with a target per sequence (``(N,)`` labels or ``(N, D)`` values) or a list
    of per-step label tensors ``(T_i,)``. Batches collate into :class:`deepzen.structures.Sequences`.
    """

    def __init__(self, x: Sequence[Tensor], y: Tensor | Sequence[Tensor], padding_index: int = 0) -> None:
        if len(x) != len(y):
            raise ValueError(f"SequenceDataset: {len(x)} inputs but {len(y)} targets")
        self.x, self.y, self.padding_index = list(x), y, padding_index
        self.per_step = not isinstance(y, Tensor)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        return self.x[i], self.y[i]

    def subset(self, indices: Tensor) -> SequenceDataset:
        idx = indices.tolist()
        y = [self.y[i] for i in idx] if self.per_step else self.y[indices]
        return SequenceDataset([self.x[i] for i in idx], y, self.padding_index)

    def collate(self, batch: list[tuple[Tensor, Tensor]]):
        return collate_sequences(batch, self.padding_index, self.per_step)


@dataclass(frozen=True)
class Tree:
    """One tree, nodes in post-order (every child before its parent; the root is the last node).

    Attributes:
        tokens: ``(n,)`` int64 token of each node.
        children: ``(n, K)`` int64 local child indices, ``-1`` where a node has fewer than K children.
        heights: ``(n,)`` int64 height of each node (leaves 0, parent = 1 + highest child).
    """

    tokens: Tensor
    children: Tensor
    heights: Tensor

    @staticmethod
    def from_lists(tokens: list[int], children: list[list[int]], arity: int) -> Tree:
        """Build from python lists (children as local indices, each list at most ``arity`` long)."""
        heights: list[int] = []
        for i, kids in enumerate(children):
            if any(k >= i or k < 0 for k in kids):
                raise ValueError(f"node {i}: children {kids} must come before their parent (post-order)")
            heights.append(1 + max(heights[k] for k in kids) if kids else 0)
        table = torch.full((len(tokens), arity), -1, dtype=torch.long)
        for i, kids in enumerate(children):
            table[i, : len(kids)] = torch.tensor(kids, dtype=torch.long)
        return Tree(torch.tensor(tokens, dtype=torch.long), table, torch.tensor(heights, dtype=torch.long))

    def __len__(self) -> int:
        return int(self.tokens.shape[0])


class TreeDataset(Dataset):
    """Trees with a label per root (``y`` a ``(N,)`` tensor) or per node (``y`` a list of ``(n_i,)``)."""

    def __init__(self, trees: Sequence[Tree], y: Tensor | Sequence[Tensor]) -> None:
        if len(trees) != len(y):
            raise ValueError(f"TreeDataset: {len(trees)} trees but {len(y)} targets")
        self.trees, self.y = list(trees), y
        self.per_node = not isinstance(y, Tensor)

    def __len__(self) -> int:
        return len(self.trees)

    def __getitem__(self, i: int) -> tuple[Tree, Tensor]:
        return self.trees[i], self.y[i]

    def subset(self, indices: Tensor) -> TreeDataset:
        idx = indices.tolist()
        y = [self.y[i] for i in idx] if self.per_node else self.y[indices]
        return TreeDataset([self.trees[i] for i in idx], y)

    collate = staticmethod(collate_trees)
