"""Tree tasks for recursive networks, generated from ``data_seed``; nodes in post-order (root last).

- ``listops`` (after Nangia & Bowman 2018): nested expressions such as ``[MAX 2 9 [MIN 4 7 ] 0 ]``
  over digits 0-9 with ``MIN``, ``MAX``, ``MED`` (lower median: the ``(k-1)//2``-th smallest of k) and
  ``SM`` (sum mod 10). Leaves are digits, internal nodes operators; the label is the value at the root
  (10 classes), or at every node with ``per_node=True``. Tokens: 0 padding, digit d -> d + 1,
  operators 11..14.
- ``sentiment_trees``: short sentences over a small lexicon with a random binary parse and a
  sentiment label at every node (5 classes, very negative .. very positive, as in the Stanford
  Sentiment Treebank's layout). Node score: a word's lexicon score; ``not X`` -> ``-score(X)``;
  ``very X`` -> ``2 score(X)``; otherwise the sum of both children. Label = ``clip(score, -2, 2) + 2``.
  Internal nodes carry token 0 (padding).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from deepzen.data.datasets import Tree, TreeDataset
from deepzen.data.errors import DataError
from deepzen.data.splits import Splits, dataset_splits

OPERATORS = ("MIN", "MAX", "MED", "SM")
OPERATOR_TOKEN = {op: 11 + i for i, op in enumerate(OPERATORS)}


def apply_operator(op: str, args: list[int]) -> int:
    """The value of ``[op args...]``."""
    if op == "MIN":
        return min(args)
    if op == "MAX":
        return max(args)
    if op == "MED":
        return sorted(args)[(len(args) - 1) // 2]
    return sum(args) % 10


def random_expression(rng: np.random.Generator, max_depth: int, max_args: int, leaf_prob: float,
                      depth: int = 0) -> Any:
    """A digit, or ``(operator, [arguments])`` nested at most ``max_depth`` operators deep."""
    if depth >= max_depth or (depth > 0 and rng.random() < leaf_prob):
        return int(rng.integers(0, 10))
    op = OPERATORS[int(rng.integers(0, len(OPERATORS)))]
    return op, [random_expression(rng, max_depth, max_args, leaf_prob, depth + 1)
                for _ in range(int(rng.integers(2, max_args + 1)))]


def flatten_expression(expr: Any, tokens: list[int], children: list[list[int]], values: list[int]) -> int:
    """Append ``expr``'s nodes in post-order; returns the index of its root."""
    if isinstance(expr, int):
        tokens.append(expr + 1)
        children.append([])
        values.append(expr)
        return len(tokens) - 1
    op, args = expr
    kids = [flatten_expression(a, tokens, children, values) for a in args]
    tokens.append(OPERATOR_TOKEN[op])
    children.append(kids)
    values.append(apply_operator(op, [values[k] for k in kids]))
    return len(tokens) - 1


def expression_string(expr: Any) -> str:
    """``[MAX 2 9 [MIN 4 7 ] 0 ]`` notation."""
    if isinstance(expr, int):
        return str(expr)
    op, args = expr
    return f"[{op} " + " ".join(expression_string(a) for a in args) + " ]"


def load_listops(val: float, test: float | None, seed: int, n: int = 5000, max_depth: int = 3,
                 max_args: int = 5, leaf_prob: float = 0.6, per_node: bool = False,
                 data_seed: int = 0) -> Splits:
    if n < 1 or max_depth < 1 or max_args < 2:
        raise DataError(f"listops needs n >= 1, max_depth >= 1, max_args >= 2; got n={n}, "
                        f"max_depth={max_depth}, max_args={max_args}")
    rng = np.random.default_rng(data_seed)
    trees, labels = [], []
    for _ in range(n):
        tokens: list[int] = []
        children: list[list[int]] = []
        values: list[int] = []
        flatten_expression(random_expression(rng, max_depth, max_args, leaf_prob), tokens, children, values)
        trees.append(Tree.from_lists(tokens, children, max_args))
        labels.append(torch.tensor(values) if per_node else values[-1])
    y = labels if per_node else torch.tensor(labels)
    info = dict(task="sequence_labeling" if per_node else "classification", input_kind="tree",
                vocab_size=11 + len(OPERATORS), num_classes=10, per_node=per_node,
                class_names=tuple(str(d) for d in range(10)),
                extra={"arity": max_args, "operators": list(OPERATORS)})
    return dataset_splits("listops", TreeDataset(trees, y), info, val, test, seed)


#: word -> sentiment score (modifiers "not" and "very" score 0 on their own).
LEXICON = {
    "good": 1, "fun": 1, "warm": 1, "clever": 1, "charming": 1, "great": 2, "brilliant": 2, "superb": 2,
    "bad": -1, "dull": -1, "slow": -1, "weak": -1, "messy": -1, "awful": -2, "terrible": -2, "dreadful": -2,
    "the": 0, "film": 0, "plot": 0, "actors": 0, "story": 0, "music": 0, "was": 0, "and": 0, "ending": 0,
    "this": 0, "seemed": 0, "quite": 0, "not": 0, "very": 0,
}
WORDS = tuple(LEXICON)
SENTIMENT_CLASSES = ("very negative", "negative", "neutral", "positive", "very positive")


def node_score(word: str | None, left: tuple[str | None, int] | None, right_score: int | None) -> int:
    """Score of a leaf ``word`` or of an internal node with ``left = (leaf word or None, score)``."""
    if left is None:
        return LEXICON[str(word)]
    left_word, left_score = left
    if left_word == "not":
        return -int(right_score)  # negation flips the phrase it modifies
    if left_word == "very":
        return 2 * int(right_score)  # intensifier doubles it
    return left_score + int(right_score)


def random_sentence_tree(rng: np.random.Generator, words: list[str], tokens: list[int],
                         children: list[list[int]], scores: list[int], leaf_word: list[str | None]) -> int:
    """Random binary bracketing of ``words`` appended in post-order; returns the root index."""
    if len(words) == 1:
        tokens.append(WORDS.index(words[0]) + 1)
        children.append([])
        scores.append(node_score(words[0], None, None))
        leaf_word.append(words[0])
        return len(tokens) - 1
    cut = int(rng.integers(1, len(words)))
    left = random_sentence_tree(rng, words[:cut], tokens, children, scores, leaf_word)
    right = random_sentence_tree(rng, words[cut:], tokens, children, scores, leaf_word)
    tokens.append(0)
    children.append([left, right])
    scores.append(node_score(None, (leaf_word[left], scores[left]), scores[right]))
    leaf_word.append(None)
    return len(tokens) - 1


def load_sentiment_trees(val: float, test: float | None, seed: int, n: int = 3000, min_words: int = 3,
                         max_words: int = 12, per_node: bool = True, data_seed: int = 0) -> Splits:
    if n < 1 or not 1 <= min_words <= max_words:
        raise DataError(f"sentiment_trees needs n >= 1 and 1 <= min_words <= max_words; got n={n}, "
                        f"min_words={min_words}, max_words={max_words}")
    rng = np.random.default_rng(data_seed)
    weights = np.array([3.0 if LEXICON[w] else 1.0 for w in WORDS])  # enough sentiment words per sentence
    weights /= weights.sum()
    trees, labels = [], []
    for _ in range(n):
        words = [str(w) for w in rng.choice(WORDS, size=int(rng.integers(min_words, max_words + 1)), p=weights)]
        tokens: list[int] = []
        children: list[list[int]] = []
        scores: list[int] = []
        random_sentence_tree(rng, words, tokens, children, scores, [])
        trees.append(Tree.from_lists(tokens, children, 2))
        node_labels = torch.tensor(np.clip(scores, -2, 2) + 2)
        labels.append(node_labels if per_node else node_labels[-1])
    y = labels if per_node else torch.stack(labels)
    info = dict(task="sequence_labeling" if per_node else "classification", input_kind="tree",
                vocab_size=len(WORDS) + 1, num_classes=5, per_node=per_node, class_names=SENTIMENT_CLASSES,
                extra={"arity": 2, "vocab": ["<pad>", *WORDS]})
    return dataset_splits("sentiment_trees", TreeDataset(trees, y), info, val, test, seed)
