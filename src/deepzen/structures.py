"""Batch containers for inputs that are not one dense tensor: padded variable-length sequences and
batches of trees. Produced by ``deepzen.data``'s collate functions, read by ``deepzen.nn`` models;
they live below both so that neither imports the other.

Conventions (targets): classification ``(B,)`` int64; regression ``(B, num_outputs)`` float;
per-step labels / language-model targets ``(B, T)`` int64 padded with ``IGNORE_INDEX``; per-node tree
labels ``(N,)`` int64 with ``IGNORE_INDEX`` for unlabelled nodes.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import torch
from torch import Tensor

#: Target value that losses and metrics skip (padding positions, unlabelled nodes).
IGNORE_INDEX = -100


@dataclass
class Sequences:
    """A padded batch of variable-length sequences.

    Attributes:
        values: ``(B, T)`` int64 token ids or ``(B, T, F)`` float steps, padded after each sequence's end.
        lengths: ``(B,)`` int64 true length of each sequence (kept on the CPU for packing).
    """

    values: Tensor
    lengths: Tensor

    def __post_init__(self) -> None:
        if self.values.dim() < 2 or self.lengths.shape != self.values.shape[:1]:
            raise ValueError(
                f"Sequences needs values (B, T[, F]) and lengths (B,); got {tuple(self.values.shape)} "
                f"and {tuple(self.lengths.shape)}"
            )

    def to(self, device: torch.device | str) -> Sequences:
        """Values moved to ``device`` (lengths stay on the CPU)."""
        return replace(self, values=self.values.to(device))

    def mask(self) -> Tensor:
        """``(B, T)`` bool, True at real (non-padding) positions."""
        steps = torch.arange(self.values.shape[1], device=self.values.device)
        return steps[None, :] < self.lengths.to(self.values.device)[:, None]

    def __len__(self) -> int:
        return self.values.shape[0]


@dataclass
class Trees:
    """A batch of trees flattened into one node list, for bottom-up level-by-level evaluation.

    Attributes:
        tokens: ``(N,)`` int64 token id of each node (leaf words/digits; operators or padding for
            internal nodes).
        children: ``(N, K)`` int64 child node indices, ``-1`` where a node has fewer than K children.
        levels: node indices grouped by height (leaves are height 0), each ``(n_h,)`` int64; every
            child's height is lower than its parent's, so evaluating levels in order is valid.
        roots: ``(B,)`` int64 index of each tree's root node.
        tree_index: ``(N,)`` int64 which tree (0..B-1) each node belongs to.
    """

    tokens: Tensor
    children: Tensor
    levels: list[Tensor]
    roots: Tensor
    tree_index: Tensor

    def to(self, device: torch.device | str) -> Trees:
        """All tensors moved to ``device``."""
        moved: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            moved[f.name] = [t.to(device) for t in v] if isinstance(v, list) else v.to(device)
        return Trees(**moved)

    @property
    def num_nodes(self) -> int:
        return int(self.tokens.shape[0])

    def __len__(self) -> int:
        return int(self.roots.shape[0])


def to_device(obj: Any, device: torch.device | str) -> Any:
    """Move a tensor, a batch container, or a tuple/list/dict of them to ``device``."""
    if isinstance(obj, (Tensor, Sequences, Trees)):
        return obj.to(device)
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_device(o, device) for o in obj)
    if isinstance(obj, dict):
        return {k: to_device(v, device) for k, v in obj.items()}
    return obj
