"""mse, mae, huber against their formulas recomputed in plain Python (float64)."""

from __future__ import annotations

import pytest
import torch

from deepzen.losses import huber, mae, mse
from tests.losses import reference as ref

torch.manual_seed(0)
PRED = torch.randn(6, 3, dtype=torch.float64) * 2
TARGET = torch.randn(6, 3, dtype=torch.float64)

CASES = [
    (mse, ref.squared_errors, {}),
    (mae, ref.absolute_errors, {}),
    (huber, lambda p, t: ref.huber_terms(p, t, 1.0), {}),
    (huber, lambda p, t: ref.huber_terms(p, t, 0.3), {"delta": 0.3}),
    (huber, lambda p, t: ref.huber_terms(p, t, 5.0), {"delta": 5.0}),
]
IDS = ["mse", "mae", "huber", "huber-0.3", "huber-5"]


@pytest.mark.parametrize(("fn", "terms", "opts"), CASES, ids=IDS)
def test_reductions_match_formula(fn, terms, opts) -> None:  # type: ignore[no-untyped-def]
    expected = terms(PRED.reshape(-1).tolist(), TARGET.reshape(-1).tolist())
    n = len(expected)
    assert fn(PRED, TARGET, **opts).item() == pytest.approx(sum(expected) / n, rel=1e-12)
    assert fn(PRED, TARGET, reduction="sum", **opts).item() == pytest.approx(sum(expected), rel=1e-12)
    per = fn(PRED, TARGET, reduction="none", **opts)
    assert per.shape == PRED.shape
    assert per.reshape(-1).tolist() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("fn", "terms", "opts"), CASES, ids=IDS)
def test_column_prediction_against_flat_target_is_not_broadcast(fn, terms, opts) -> None:  # type: ignore[no-untyped-def]
    pred, target = PRED[:, :1], TARGET[:, 0]  # (B, 1) and (B,)
    expected = sum(terms(pred.reshape(-1).tolist(), target.tolist())) / len(target)
    assert fn(pred, target, **opts).item() == pytest.approx(expected, rel=1e-12)
    assert fn(target, pred, **opts).item() == pytest.approx(expected, rel=1e-12)  # either order
    assert fn(pred, target, reduction="none", **opts).shape == (6,)


def test_flat_shapes_and_integer_targets() -> None:
    pred = torch.tensor([0.5, 2.0, -1.0])
    assert mse(pred, torch.tensor([1, 2, 0])).item() == pytest.approx((0.25 + 0 + 1) / 3)


@pytest.mark.parametrize(("pred_shape", "target_shape"), [((4, 1), (4, 2)), ((4,), (4, 4)), ((4, 3), (3,)),
                                                          ((4, 1), (1, 4))])
def test_shape_mismatch_is_refused(pred_shape, target_shape) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="does not match target shape"):
        mse(torch.zeros(pred_shape), torch.zeros(target_shape))


def test_mse_gradient_is_two_residuals_over_n() -> None:
    pred = PRED.clone().requires_grad_()
    mse(pred, TARGET).backward()
    torch.testing.assert_close(pred.grad, 2 * (PRED - TARGET) / PRED.numel(), rtol=1e-12, atol=0)


def test_huber_is_continuous_at_delta_and_quadratic_inside() -> None:
    delta = 0.7
    at = huber(torch.tensor([delta], dtype=torch.float64), torch.zeros(1, dtype=torch.float64), delta=delta)
    assert at.item() == pytest.approx(0.5 * delta**2)
    small = torch.tensor([0.1, -0.2], dtype=torch.float64)
    assert huber(small, torch.zeros(2, dtype=torch.float64), delta=delta).item() == pytest.approx(
        0.5 * mse(small, torch.zeros(2, dtype=torch.float64)).item())


def test_bad_options() -> None:
    with pytest.raises(ValueError, match="did you mean 'mean'"):
        mse(PRED, TARGET, reduction="meen")
    with pytest.raises(ValueError, match="delta"):
        huber(PRED, TARGET, delta=0.0)
