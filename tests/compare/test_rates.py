"""The textbook rates on a quadratic with condition number κ, checked against the formulas (not
against our own output): gradient descent at lr = 2/(L+μ) contracts by (κ−1)/(κ+1) per step, heavy
ball at its best (lr, momentum) by (√κ−1)/(√κ+1); and a problem whose answer is known: SGD with a
fixed lr above 2/L diverges while a tuned lr converges."""

from __future__ import annotations

import math

import pytest

from deepzen.compare.functions import FUNCTIONS, final_value, measured_rate, tune_lr


@pytest.mark.parametrize("kappa", [10.0, 100.0, 1000.0])
def test_gradient_descent_rate(kappa: float) -> None:
    rate = measured_rate("sgd", kappa, lr=2.0 / (kappa + 1.0))  # μ = 1, L = κ
    assert rate == pytest.approx((kappa - 1) / (kappa + 1), rel=1e-6)


@pytest.mark.parametrize("kappa", [10.0, 100.0, 1000.0])
def test_heavy_ball_rate(kappa: float) -> None:
    root = math.sqrt(kappa)
    lr, momentum = 4.0 / (root + 1.0) ** 2, ((root - 1.0) / (root + 1.0)) ** 2
    rate = measured_rate("momentum", kappa, lr=lr, momentum=momentum)
    # a double root makes ‖θ_k‖ ∝ k·ρ^k: the estimate over [n, 2n] sits within 2^(1/n) above ρ (n >= 350 here)
    assert rate == pytest.approx((root - 1) / (root + 1), rel=2.5e-3)
    assert rate < (kappa - 1) / (kappa + 1)  # faster than the best plain gradient descent


def test_sgd_diverges_above_two_over_L_and_converges_when_tuned() -> None:
    booth = FUNCTIONS["booth"]  # Hessian [[10, 8], [8, 10]]: L = 18, so lr > 2/18 diverges
    assert final_value("sgd", booth, lr=0.12) == math.inf
    lr = tune_lr("sgd", booth, budget=12)
    assert lr < 2 / 18
    assert final_value("sgd", booth, lr=lr) < 1e-6
