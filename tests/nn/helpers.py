"""Shared fixtures for the model tests: data descriptions and random tree batches built directly
(independently of deepzen.data)."""

from __future__ import annotations

import random

import torch

from deepzen.info import DataInfo
from deepzen.structures import Trees

DIGITS = DataInfo("digits", "classification", "image", (1, 8, 8), num_classes=10)
TABULAR = DataInfo("tab", "regression", "tabular", (5,), num_outputs=2)
SIGNAL = DataInfo("sig", "classification", "signal", (2, 20), num_classes=3)
FIXED_SEQ = DataInfo("fseq", "regression", "sequence", (6, 3), num_outputs=1)
TOKENS = DataInfo("tok", "classification", "tokens", vocab_size=12, num_classes=3, max_length=10)
VAR_SEQ = DataInfo("vseq", "sequence_labeling", "sequence", (None, 3), num_classes=4, max_length=10)
TAGS = DataInfo("tags", "sequence_labeling", "tokens", vocab_size=12, num_classes=4, max_length=10)
LM = DataInfo("lm", "language_model", "tokens", vocab_size=12, num_classes=12, max_length=10)
TREE_ROOT = DataInfo("trees", "classification", "tree", vocab_size=7, num_classes=3)
TREE_NODES = DataInfo("trees", "sequence_labeling", "tree", vocab_size=7, num_classes=3, per_node=True)


def random_trees(batch: int, vocab: int = 7, max_depth: int = 4, max_arity: int = 3, seed: int = 0) -> tuple[Trees, list]:
    """A ``Trees`` batch and the same trees as nested ``(token, [children])`` tuples."""
    rng = random.Random(seed)

    def grow(depth: int):
        arity = 0 if depth >= max_depth else rng.randint(0, max_arity)
        return (rng.randrange(1, vocab), [grow(depth + 1) for _ in range(arity)])

    nested = [grow(0) for _ in range(batch)]
    tokens, kids, height, tree_of, roots = [], [], [], [], []

    def add(node, b) -> int:
        child_ids = [add(c, b) for c in node[1]]
        tokens.append(node[0])
        kids.append(child_ids)
        height.append(1 + max((height[c] for c in child_ids), default=-1))
        tree_of.append(b)
        return len(tokens) - 1

    for b, t in enumerate(nested):
        roots.append(add(t, b))
    K = max(1, max(len(k) for k in kids))
    children = torch.full((len(tokens), K), -1, dtype=torch.long)
    for i, k in enumerate(kids):
        children[i, : len(k)] = torch.tensor(k, dtype=torch.long)
    levels = [torch.tensor([i for i, h in enumerate(height) if h == lv], dtype=torch.long)
              for lv in range(max(height) + 1)]
    trees = Trees(torch.tensor(tokens), children, levels, torch.tensor(roots), torch.tensor(tree_of))
    return trees, nested


def padded_tokens(lengths: list[int], vocab: int = 12, seed: int = 0, pad: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(1, vocab, (len(lengths), max(lengths)), generator=g)
    for i, n in enumerate(lengths):
        x[i, n:] = pad
    return x
