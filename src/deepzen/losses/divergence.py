"""Kullback-Leibler divergence between distributions over the LAST dim (distillation, VAEs, ...)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from deepzen.losses._reduce import check_reduction, reduce


def kl_div(
    pred: Tensor,
    target: Tensor,
    *,
    from_logits: bool = True,
    log_target: bool = False,
    reduction: str = "mean",
) -> Tensor:
    """KL divergence KL(target ‖ pred) of the predicted distribution p from the target distribution q.

    KL(q ‖ p) = (1/N) Σ_i Σ_c q_ic · (log q_ic − log p_ic),  with 0 · log 0 = 0,

    one divergence per distribution i (the last dim holds the C outcomes), averaged over the N
    distributions. Note the direction: the target q weighs the log-ratio, as in distillation
    (q = teacher, p = student). Unlike ``torch.nn.functional.kl_div``, ``pred`` is NOT expected as
    log-probabilities by default, and ``"mean"`` divides by the number of distributions (torch's
    "batchmean"), not by the number of entries.

    Arguments:
        pred: ``(..., C)`` logits of p (default: p = softmax(pred)), or probabilities p when
            ``from_logits=False``.
        target: ``(..., C)`` probabilities q (each row sums to 1), or log q when ``log_target=True``.
        from_logits: whether ``pred`` holds logits (True) or probabilities (False).
        log_target: whether ``target`` holds log-probabilities.
        reduction: ``"mean"`` (default, over distributions), ``"sum"`` or ``"none"`` (``(...)``, one
            KL per distribution).
    """
    check_reduction(reduction)
    if pred.shape != target.shape or pred.dim() == 0:
        raise ValueError(f"kl_div: pred {tuple(pred.shape)} and target {tuple(target.shape)} must have the same "
                         "shape (..., C), with the C outcomes of each distribution on the last dim")
    if not target.is_floating_point():
        raise ValueError(f"kl_div: target must hold (log-)probabilities as floats, got dtype {target.dtype}")
    log_p = F.log_softmax(pred, dim=-1) if from_logits else pred.log()  # (..., C)
    if log_target:
        per_entry = target.exp() * (target - log_p)
    else:
        per_entry = torch.xlogy(target, target) - target * log_p  # xlogy: 0 · log 0 = 0
    return reduce(per_entry.sum(-1), reduction)  # (...)
