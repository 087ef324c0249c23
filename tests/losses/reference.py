"""Plain-Python re-computations of each loss straight from its formula (no torch, no deepzen).

Inputs are nested lists (``tensor.tolist()``); every function returns the per-item losses, so a test
can form mean/sum itself. Rows are the last dim (classes or outputs).
"""

from __future__ import annotations

import math

IGNORE = -100


def log_softmax(row: list[float]) -> list[float]:
    top = max(row)
    log_sum = top + math.log(sum(math.exp(z - top) for z in row))
    return [z - log_sum for z in row]


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def squared_errors(pred: list[float], target: list[float]) -> list[float]:
    return [(p - t) ** 2 for p, t in zip(pred, target)]


def absolute_errors(pred: list[float], target: list[float]) -> list[float]:
    return [abs(p - t) for p, t in zip(pred, target)]


def huber_terms(pred: list[float], target: list[float], delta: float) -> list[float]:
    out = []
    for p, t in zip(pred, target):
        d = p - t
        out.append(0.5 * d * d if abs(d) <= delta else delta * (abs(d) - 0.5 * delta))
    return out


def cross_entropy_terms(rows: list[list[float]], labels: list[int], weight: list[float] | None = None,
                        smoothing: float = 0.0) -> tuple[list[float], list[float]]:
    """Per-row −Σ_c w_c q_c log softmax(z)_c and the per-row mean weights w_y (0 for ignored rows)."""
    losses, weights = [], []
    for row, y in zip(rows, labels):
        if y == IGNORE:
            losses.append(0.0)
            weights.append(0.0)
            continue
        n = len(row)
        w = weight or [1.0] * n
        logp = log_softmax(row)
        q = [(1 - smoothing) * (1.0 if c == y else 0.0) + smoothing / n for c in range(n)]
        losses.append(-sum(w[c] * q[c] * logp[c] for c in range(n)))
        weights.append(w[y])
    return losses, weights


def soft_cross_entropy_terms(rows: list[list[float]], probs: list[list[float]]) -> list[float]:
    return [-sum(q * lp for q, lp in zip(qs, log_softmax(row))) for row, qs in zip(rows, probs)]


def nll_terms(rows: list[list[float]], labels: list[int], weight: list[float] | None = None
              ) -> tuple[list[float], list[float]]:
    losses, weights = [], []
    for row, y in zip(rows, labels):
        if y == IGNORE:
            losses.append(0.0)
            weights.append(0.0)
        else:
            w = 1.0 if weight is None else weight[y]
            losses.append(-w * row[y])
            weights.append(w)
    return losses, weights


def bce_terms(logits: list[float], target: list[float], pos_weight: float = 1.0) -> list[float]:
    out = []
    for z, y in zip(logits, target):
        # log σ(z) and log(1 − σ(z)) = log σ(−z), each written to stay finite for large |z|.
        log_sig = -math.log1p(math.exp(-z)) if z >= 0 else z - math.log1p(math.exp(z))
        log_one_minus = log_sig - z
        out.append(-(pos_weight * y * log_sig + (1 - y) * log_one_minus))
    return out


def kl_terms(q_rows: list[list[float]], p_rows: list[list[float]]) -> list[float]:
    """KL(q ‖ p) per row, with 0 · log 0 = 0."""
    return [sum(q * (math.log(q) - math.log(p)) for q, p in zip(qs, ps) if q > 0) for qs, ps in zip(q_rows, p_rows)]

