"""Epoch metrics accumulated on the device (no host sync per batch) and read once per epoch.

Conventions (``deepzen.structures``): class scores on the last dim of ``pred``; targets with
``IGNORE_INDEX`` (padding, unlabelled nodes) are skipped. Binary classification may use one logit per
sample (``pred`` ``(B,)`` or ``(B, 1)``, predicted class ``pred > 0``).

Names, formulas and aliases: :data:`METRICS` (``deepzen list metrics``).
"""

from __future__ import annotations

import math
import re
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from deepzen.registry import Entry, Registry
from deepzen.structures import IGNORE_INDEX


class Metric:
    """Base class: sums kept as device tensors; ``update`` per batch, ``compute`` per epoch."""

    name: str = "metric"
    higher_is_better: bool = True

    def __init__(self) -> None:
        self._state: dict[str, Tensor] = {}

    def reset(self) -> None:
        self._state = {}

    def _add(self, key: str, value: Tensor) -> None:
        current = self._state.get(key)
        self._state[key] = value.detach().clone() if current is None else current + value.detach()

    def _get(self, key: str) -> Tensor | None:
        return self._state.get(key)

    def update(self, pred: Tensor, target: Tensor) -> None:
        raise NotImplementedError

    def compute(self) -> float:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Tensor]:
        return {k: v.detach().cpu() for k, v in self._state.items()}

    def load_state_dict(self, state: dict[str, Tensor], device: torch.device | None = None) -> None:
        self._state = {k: (v.to(device) if device is not None else v) for k, v in state.items()}


def _class_view(pred: Tensor, target: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """``(N, C)`` scores, ``(N,)`` targets, ``(N,)`` mask of labelled entries; one-logit binary -> 2 columns."""
    if pred.dim() == target.dim() or (pred.shape[-1] == 1 and pred.dim() == target.dim() + 1):
        logit = pred.reshape(-1).float()  # (N,)
        scores = torch.stack([-logit, logit], dim=-1)  # (N, 2): argmax = (logit > 0)
    else:
        scores = pred.reshape(-1, pred.shape[-1])  # (N, C)
    flat = target.reshape(-1).long()  # (N,)
    if scores.shape[0] != flat.shape[0]:
        raise ValueError(
            f"prediction {tuple(pred.shape)} and target {tuple(target.shape)} do not match "
            "(expected scores (..., C) for targets (...))"
        )
    return scores, flat, flat != IGNORE_INDEX


class Accuracy(Metric):
    name = "accuracy"

    def update(self, pred: Tensor, target: Tensor) -> None:
        scores, flat, mask = _class_view(pred, target)
        self._add("correct", ((scores.argmax(-1) == flat) & mask).sum())
        self._add("total", mask.sum())

    def compute(self) -> float:
        total = self._get("total")
        return float(self._get("correct") / total) if total is not None and total > 0 else float("nan")


class TopKAccuracy(Metric):
    def __init__(self, k: int = 5) -> None:
        super().__init__()
        if not isinstance(k, int) or k < 1:
            raise ValueError(f"top-k accuracy needs an int k >= 1, got {k!r}")
        self.k = k
        self.name = f"top{k}"

    def update(self, pred: Tensor, target: Tensor) -> None:
        scores, flat, mask = _class_view(pred, target)
        k = min(self.k, scores.shape[-1])
        hits = (scores.topk(k, dim=-1).indices == flat[:, None]).any(-1)  # (N,)
        self._add("correct", (hits & mask).sum())
        self._add("total", mask.sum())

    compute = Accuracy.compute


class F1Macro(Metric):
    name = "f1"

    def update(self, pred: Tensor, target: Tensor) -> None:
        scores, flat, mask = _class_view(pred, target)
        num_classes = scores.shape[-1]
        guess, truth = scores.argmax(-1)[mask], flat[mask]
        hit = guess == truth
        self._add("tp", torch.bincount(truth[hit], minlength=num_classes))
        self._add("pred_count", torch.bincount(guess, minlength=num_classes))
        self._add("true_count", torch.bincount(truth, minlength=num_classes))

    def compute(self) -> float:
        tp = self._get("tp")
        if tp is None:
            return float("nan")
        pred_count, true_count = self._get("pred_count"), self._get("true_count")
        # 2TP + FP + FN = predicted + true counts
        denom = (pred_count + true_count).double()
        present = denom > 0
        if not bool(present.any()):
            return float("nan")
        return float((2 * tp.double()[present] / denom[present]).mean())


def _regression_view(pred: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    """``(N, K)`` float64 predictions and targets."""
    if pred.numel() != target.numel():
        raise ValueError(f"prediction {tuple(pred.shape)} and target {tuple(target.shape)} sizes differ")
    k = pred.shape[-1] if pred.dim() > 1 else 1
    return pred.detach().double().reshape(-1, k), target.detach().double().reshape(-1, k)


class MeanSquaredError(Metric):
    name = "mse"
    higher_is_better = False

    def update(self, pred: Tensor, target: Tensor) -> None:
        p, y = _regression_view(pred, target)
        self._add("sum", ((p - y) ** 2).sum())
        self._add("count", torch.tensor(p.numel(), device=p.device))

    def compute(self) -> float:
        count = self._get("count")
        return float(self._get("sum") / count) if count is not None and count > 0 else float("nan")


class MeanAbsoluteError(MeanSquaredError):
    name = "mae"

    def update(self, pred: Tensor, target: Tensor) -> None:
        p, y = _regression_view(pred, target)
        self._add("sum", (p - y).abs().sum())
        self._add("count", torch.tensor(p.numel(), device=p.device))


class R2Score(Metric):
    name = "r2"

    def update(self, pred: Tensor, target: Tensor) -> None:
        p, y = _regression_view(pred, target)  # (N, K)
        self._add("n", torch.tensor(float(y.shape[0]), dtype=torch.float64, device=y.device))
        self._add("sum_y", y.sum(0))
        self._add("sum_y2", (y * y).sum(0))
        self._add("ss_res", ((y - p) ** 2).sum(0))

    def compute(self) -> float:
        n = self._get("n")
        if n is None or n < 2:
            return float("nan")
        sum_y, ss_res = self._get("sum_y"), self._get("ss_res")
        ss_tot = (self._get("sum_y2") - sum_y * sum_y / n).clamp_min(0)
        constant = ss_tot <= 1e-12 * self._get("sum_y2").clamp_min(1e-300)
        score = torch.where(constant, (ss_res == 0).double(), 1 - ss_res / torch.where(constant, 1.0, ss_tot))
        return float(score.mean())


class Perplexity(Metric):
    name = "perplexity"
    higher_is_better = False

    def update(self, pred: Tensor, target: Tensor) -> None:
        scores = pred.reshape(-1, pred.shape[-1]).float()  # (N, V)
        flat = target.reshape(-1).long()  # (N,)
        self._add("nll", F.cross_entropy(scores, flat, ignore_index=IGNORE_INDEX, reduction="sum"))
        self._add("count", (flat != IGNORE_INDEX).sum())

    def compute(self) -> float:
        count = self._get("count")
        if count is None or count == 0:
            return float("nan")
        return math.exp(float(self._get("nll") / count))


_HERE = "deepzen.train.metrics"

#: The metrics by name: class, formula (N samples, n output elements) and aliases.
METRICS = Registry("metric", [
    Entry("accuracy", f"{_HERE}:Accuracy", "fraction of samples whose top class is the target",
          formula="#(argmax pred == y) / N", aliases=("acc",)),
    Entry("top_k", f"{_HERE}:TopKAccuracy", "fraction of samples whose target is among the k highest scores "
          "(also topK, e.g. top5)", formula="#(y among the k highest scores) / N", options={"k": "default 5"},
          aliases=("top_k_accuracy",)),
    Entry("f1", f"{_HERE}:F1Macro", "macro F1 over the classes present in targets or predictions",
          formula="mean over classes of 2 TP / (2 TP + FP + FN)", aliases=("f1_macro", "macro_f1")),
    Entry("mse", f"{_HERE}:MeanSquaredError", "mean squared error over all output elements",
          formula="MSE = sum (p - y)^2 / n"),
    Entry("mae", f"{_HERE}:MeanAbsoluteError", "mean absolute error over all output elements",
          formula="MAE = sum |p - y| / n"),
    Entry("r2", f"{_HERE}:R2Score", "coefficient of determination, averaged over outputs (sklearn's uniform "
          "average; a constant target scores 1 if predicted exactly, else 0)",
          formula="R2 = mean over outputs of 1 - SS_res / SS_tot, SS_tot = sum (y - mean y)^2"),
    Entry("perplexity", f"{_HERE}:Perplexity", "exp of the mean token cross-entropy, for language models",
          formula="perplexity = exp(mean token cross-entropy)", aliases=("ppl",)),
], columns=(("name", "name"), ("formula", "formula")))


def get_metric(name: str | Metric, **options: Any) -> Metric:
    """A fresh metric by name (``"accuracy"``, ``"top5"`` / ``"top_k"`` with ``k=``, ``"f1"``, ``"mse"``,
    ``"mae"``, ``"r2"``, ``"perplexity"``); a :class:`Metric` instance is returned as is."""
    if isinstance(name, Metric):
        return name
    match = re.fullmatch(r"top(\d+)(_accuracy)?", str(name).lower())
    if match:
        return TopKAccuracy(k=int(match.group(1)))
    try:
        cls = METRICS.load(name)
    except ValueError as err:
        raise ValueError(f"{err}, or topK for any K (top5)") from None
    return cls(**options)
