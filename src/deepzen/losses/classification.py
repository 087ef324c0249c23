"""Classification losses. Scores have the classes on the LAST dim and any leading dims:
``(B, C)``, ``(B, T, C)`` (per step) or ``(N, C)`` (per tree node), with int64 targets ``(B,)``,
``(B, T)``, ``(N,)``. Targets equal to ``ignore_index`` (``IGNORE_INDEX`` = -100: padding, unlabelled
nodes) are skipped: ``mean`` averages over the counted targets only, and a batch with none counted
gives a loss of 0 (with a zero gradient), not NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from deepzen.losses._reduce import check_reduction, match_elementwise, reduce, weighted_mean
from deepzen.structures import IGNORE_INDEX

ClassWeights = Optional[Union[Tensor, Sequence[float]]]


def cross_entropy(
    logits: Tensor,
    target: Tensor,
    *,
    weight: ClassWeights = None,
    label_smoothing: float = 0.0,
    ignore_index: int = IGNORE_INDEX,
    reduction: str = "mean",
) -> Tensor:
    """Softmax cross-entropy between logits and class labels (or class probabilities).

    CE = −(1/N) Σ_i Σ_c y_ic · log softmax(z_i)_c, with y_i the one-hot target of example i.

    Options, all in one formula: with class weights w_c (default 1), label smoothing ε and the
    smoothed target q_i = (1 − ε)·onehot(y_i) + ε/C,
        ℓ_i = −Σ_c w_c · q_ic · log softmax(z_i)_c,
        mean = Σ_i ℓ_i / Σ_i w_{y_i}   (sums over counted i: targets ≠ ignore_index),
    so with w = 1 and ε = 0 the mean is the plain CE above. This is PyTorch's convention for class
    weights (a weighted mean); with probability targets the mean divides by N instead.

    Arguments:
        logits: ``(..., C)`` unnormalized scores z, classes on the last dim.
        target: ``(...)`` int64 class indices in [0, C) or ``ignore_index``; or ``(..., C)`` float
            class probabilities (soft labels; ``ignore_index`` does not apply).
        weight: ``(C,)`` class weights w_c ≥ 0 (tensor or list), e.g. for unbalanced classes.
        label_smoothing: ε in [0, 1] (Szegedy et al. 2016).
        ignore_index: target value to skip.
        reduction: ``"mean"`` (default), ``"sum"`` (Σ_i ℓ_i) or ``"none"`` (ℓ with the target's shape,
            0 at ignored positions).
    """
    check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing!r}")
    num_classes = logits.shape[-1] if logits.dim() else 0
    weight = _class_weights(weight, num_classes, logits, "cross_entropy")
    if target.is_floating_point():
        if target.shape != logits.shape:
            raise ValueError(
                f"cross_entropy: float (probability) targets must have the logits' shape {tuple(logits.shape)}, "
                f"got {tuple(target.shape)}; class-index targets must be an integer tensor"
            )
        per_item = F.cross_entropy(
            logits.reshape(-1, num_classes), target.reshape(-1, num_classes).to(logits.dtype),
            weight=weight, label_smoothing=label_smoothing, reduction="none",
        )  # (N,)
        return reduce(per_item.reshape(logits.shape[:-1]), reduction)
    flat_logits, flat_target, counted = _flatten_labels(logits, target, ignore_index, "cross_entropy")
    per_item = F.cross_entropy(
        flat_logits, flat_target, weight=weight, ignore_index=ignore_index,
        label_smoothing=label_smoothing, reduction="none",
    )  # (N,), 0 where ignored
    return _reduce_counted(per_item, flat_target, counted, weight, target.shape, reduction)


def nll(
    log_probs: Tensor,
    target: Tensor,
    *,
    weight: ClassWeights = None,
    ignore_index: int = IGNORE_INDEX,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of the target class, from log-probabilities (e.g. a log_softmax output).

    NLL = −(1/N) Σ_i log p_{i, y_i};  with class weights: −Σ_i w_{y_i} · log p_{i, y_i} / Σ_i w_{y_i}
    (sums over counted i: targets ≠ ignore_index). ``cross_entropy(z, y) = nll(log_softmax(z), y)``.

    Arguments:
        log_probs: ``(..., C)`` log-probabilities log p, classes on the last dim.
        target: ``(...)`` int64 class indices in [0, C) or ``ignore_index``.
        weight, ignore_index, reduction: as for :func:`cross_entropy`.
    """
    check_reduction(reduction)
    num_classes = log_probs.shape[-1] if log_probs.dim() else 0
    weight = _class_weights(weight, num_classes, log_probs, "nll")
    flat_scores, flat_target, counted = _flatten_labels(log_probs, target, ignore_index, "nll")
    per_item = F.nll_loss(flat_scores, flat_target, weight=weight, ignore_index=ignore_index, reduction="none")
    return _reduce_counted(per_item, flat_target, counted, weight, target.shape, reduction)


def binary_cross_entropy(
    pred: Tensor,
    target: Tensor,
    *,
    from_logits: bool = True,
    pos_weight: Tensor | Sequence[float] | float | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Binary cross-entropy for independent yes/no outputs (binary or multi-label classification).

    BCE = −(1/N) Σ_i [ y_i · log σ(z_i) + (1 − y_i) · log(1 − σ(z_i)) ],  σ(z) = 1 / (1 + e^(−z)),
    over all N entries; with ``pos_weight`` p the first term is multiplied by p (per output).

    Arguments:
        pred: logits z (default; computed stably as max(z, 0) − z·y + log(1 + e^(−|z|))), or
            probabilities σ(z) in [0, 1] when ``from_logits=False``. Any shape, e.g. ``(B,)``, ``(B, K)``.
        target: y in [0, 1] (0/1 labels or probabilities), same shape (``(B,)`` accepted for ``(B, 1)``);
            integer or bool labels are cast to float.
        from_logits: whether ``pred`` holds logits (True) or probabilities (False).
        pos_weight: weight of the positive term, a number or ``(K,)`` per output (logits only).
        reduction: ``"mean"`` (default), ``"sum"`` or ``"none"``.
    """
    check_reduction(reduction)
    pred, target = match_elementwise(pred, target, "binary_cross_entropy")
    if from_logits:
        if pos_weight is not None:
            pos_weight = torch.as_tensor(pos_weight, dtype=pred.dtype, device=pred.device)
        per_item = F.binary_cross_entropy_with_logits(pred, target, pos_weight=pos_weight, reduction="none")
    else:
        if pos_weight is not None:
            raise ValueError("binary_cross_entropy: pos_weight needs from_logits=True")
        per_item = F.binary_cross_entropy(pred, target, reduction="none")
    return reduce(per_item, reduction)


# ----------------------------------------------------------------------------- shared helpers
def _class_weights(weight: ClassWeights, num_classes: int, like: Tensor, loss: str) -> Tensor | None:
    if weight is None:
        return None
    weight = torch.as_tensor(weight, dtype=like.dtype, device=like.device)
    if weight.shape != (num_classes,):
        raise ValueError(f"{loss}: weight must have one entry per class, shape ({num_classes},); "
                         f"got {tuple(weight.shape)}")
    return weight


def _flatten_labels(scores: Tensor, target: Tensor, ignore_index: int, loss: str) -> tuple[Tensor, Tensor, Tensor]:
    """``(N, C)`` scores, ``(N,)`` int64 labels and the ``(N,)`` mask of counted labels."""
    if scores.dim() == 0 or target.shape != scores.shape[:-1]:
        raise ValueError(
            f"{loss}: scores {tuple(scores.shape)} and targets {tuple(target.shape)} do not fit; expected "
            "scores (..., C) with the classes on the LAST dim and targets (...), e.g. (B, C) and (B,), or "
            "(B, T, C) and (B, T)"
        )
    num_classes = scores.shape[-1]
    flat_target = target.reshape(-1).long()  # (N,)
    counted = flat_target != ignore_index  # (N,)
    if flat_target.device.type == "cpu":  # on an accelerator this check would stall every step
        bad = counted & ((flat_target < 0) | (flat_target >= num_classes))
        if bad.any():
            value = int(flat_target[bad][0])
            raise ValueError(f"{loss}: target {value} is out of range; class labels must be in "
                             f"[0, {num_classes}) or ignore_index={ignore_index}")
    return scores.reshape(-1, num_classes), flat_target, counted


def _reduce_counted(per_item: Tensor, flat_target: Tensor, counted: Tensor, weight: Tensor | None,
                    shape: torch.Size, reduction: str) -> Tensor:
    """Sum, unreduced, or the mean over counted targets weighted by w_{y_i}."""
    if reduction == "none":
        return per_item.reshape(shape)
    if reduction == "sum":
        return per_item.sum()
    accumulate = torch.promote_types(per_item.dtype, torch.float32)  # bf16 counts stop being exact at 256
    total = per_item.sum(dtype=accumulate)
    if weight is None:
        count = counted.sum().to(accumulate)
    else:
        safe_target = torch.where(counted, flat_target, torch.zeros_like(flat_target))
        count = (weight[safe_target] * counted).sum(dtype=accumulate)
    return weighted_mean(total, count)
