"""Regression losses: predictions ``(B, K)`` (or ``(B,)``) against float targets of the same shape.

``(B, 1)`` against ``(B,)`` is accepted (the trailing 1 is dropped); other shape mismatches are errors,
never broadcast. ``mean`` averages over all N = B·K entries.
"""

from __future__ import annotations

from torch import Tensor

from deepzen.losses._reduce import match_elementwise, reduce


def mse(pred: Tensor, target: Tensor, *, reduction: str = "mean") -> Tensor:
    """Mean squared error.

    MSE = (1/N) Σ_i (ŷ_i − y_i)², over all N entries of ``pred`` (ŷ) and ``target`` (y).

    Arguments:
        pred: ``(B, K)`` or ``(B,)`` predictions.
        target: same shape (``(B,)`` also accepted for a ``(B, 1)`` prediction).
        reduction: ``"mean"`` (default), ``"sum"`` (Σ without 1/N) or ``"none"`` (the squared errors).
    """
    pred, target = match_elementwise(pred, target, "mse")
    return reduce((pred - target).square(), reduction)


def mae(pred: Tensor, target: Tensor, *, reduction: str = "mean") -> Tensor:
    """Mean absolute error (L1 loss).

    MAE = (1/N) Σ_i |ŷ_i − y_i|.

    Arguments:
        pred, target, reduction: as for :func:`mse`.
    """
    pred, target = match_elementwise(pred, target, "mae")
    return reduce((pred - target).abs(), reduction)


def huber(pred: Tensor, target: Tensor, *, delta: float = 1.0, reduction: str = "mean") -> Tensor:
    """Huber loss (Huber 1964): quadratic near zero, linear beyond ``delta``.

    Huber = (1/N) Σ_i h(ŷ_i − y_i),  h(d) = ½·d² if |d| ≤ δ, else δ·(|d| − ½·δ).

    (PyTorch's ``smooth_l1_loss`` is this divided by δ; at δ = 1 they agree.)

    Arguments:
        pred, target, reduction: as for :func:`mse`.
        delta: δ > 0, where the loss turns from quadratic to linear.
    """
    if not delta > 0:
        raise ValueError(f"huber: delta must be > 0, got {delta!r}")
    pred, target = match_elementwise(pred, target, "huber")
    abs_err = (pred - target).abs()
    quadratic = abs_err.clamp(max=delta)  # min(|d|, δ)
    linear = abs_err - quadratic  # max(|d| − δ, 0)
    # ½·q² + δ·l equals ½d² inside the band and δ(|d| − ½δ) outside it, with no branch.
    return reduce(0.5 * quadratic.square() + delta * linear, reduction)
