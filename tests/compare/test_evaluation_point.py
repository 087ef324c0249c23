"""`deepzen compare` reads Schedule-Free at its evaluation point x, not at the training point y: the
recorded path and values equal those of the plain-Python reference's x sequence (gradients at y),
computed here independently."""

from __future__ import annotations

import math
from typing import Callable

import pytest
import torch

from deepzen.compare import noisy
from deepzen.compare.functions import FUNCTIONS, final_value, measured_rate, trajectory
from tests.optim.references.schedulefree import RefScheduleFreeAdamW, RefScheduleFreeSGD

Point = list[float]


def booth(p: Point) -> float:
    return (p[0] + 2 * p[1] - 7) ** 2 + (2 * p[0] + p[1] - 5) ** 2


def booth_grad(p: Point) -> Point:
    a, b = p[0] + 2 * p[1] - 7, 2 * p[0] + p[1] - 5
    return [2 * a + 4 * b, 4 * a + 2 * b]


def reference_run(ref: object, start: Point, grad: Callable[[Point, int], Point], steps: int) -> tuple[list[Point], Point]:
    """The x after each step (start included) and the last y, gradients taken at y."""
    y, xs = list(start), [list(start)]
    for t in range(steps):
        y = ref.step(0, y, grad(y, t))                               # type: ignore[attr-defined]
        xs.append(ref.eval_point(0))                                 # type: ignore[attr-defined]
    return xs, y


@pytest.mark.parametrize("name, ref, lr", [("schedulefree_sgd", RefScheduleFreeSGD, 0.02),
                                           ("schedulefree_adamw", RefScheduleFreeAdamW, 0.5)])
def test_function_paths_and_values_are_read_at_x(name: str, ref: Callable[..., object], lr: float) -> None:
    fn = FUNCTIONS["booth"]
    xs, y = reference_run(ref(lr=lr), list(fn.start), lambda p, t: booth_grad(p), steps=60)
    path, diverged = trajectory(name, fn, lr, steps=60)
    assert not diverged
    for got, want in zip(path, xs):
        assert got == pytest.approx(want, rel=1e-10, abs=1e-12)
    assert final_value(name, fn, lr, steps=60) == pytest.approx(booth(xs[-1]), rel=1e-10, abs=1e-12)
    assert abs(booth(y) - booth(xs[-1])) > 1e-3 * booth(xs[-1])     # y would be a different answer


def test_quadratic_rate_is_measured_at_x() -> None:
    """½θᵀdiag(1, κ)θ from (1, 1): the contraction of max|x| over the second half of the run."""
    kappa, steps = 10.0, 400
    xs, _ = reference_run(RefScheduleFreeSGD(lr=0.05), [1.0, 1.0], lambda p, t: [p[0], kappa * p[1]], steps)
    norms = [max(abs(v) for v in x) for x in xs]
    n = steps // 2
    want = (norms[2 * n] / norms[n]) ** (1.0 / n)
    assert measured_rate("schedulefree_sgd", kappa, max_steps=steps, lr=0.05) == pytest.approx(want, rel=1e-9)


def test_noisy_problem_value_is_read_at_x() -> None:
    """noisy_beale: gradients ∇f(y) + σ·ξ with the run's own noise stream (seed 3)."""
    fn, sigma, seed, lr = FUNCTIONS["beale"], 0.5, 3, 0.01
    problem = noisy.PROBLEMS["noisy_beale"]()
    gen = torch.Generator().manual_seed(seed)

    def grad(p: Point, t: int) -> Point:
        point = torch.tensor(p, dtype=torch.float64, requires_grad=True)
        fn.f(point[0], point[1]).backward()
        noise = sigma * torch.randn(2, generator=gen, dtype=torch.float64)
        return (point.grad + noise).tolist()

    steps = problem.epochs * problem.steps_per_epoch
    xs, _ = reference_run(RefScheduleFreeSGD(lr=lr), list(fn.start), grad, steps)
    result = noisy.train("noisy_beale", "schedulefree_sgd", lr, seed)
    want = float(fn.f(*torch.tensor(xs[-1], dtype=torch.float64)))
    assert not result["diverged"] and math.isfinite(want)
    assert result["final"] == pytest.approx(want, rel=1e-9)
    assert result["history"]["val_loss"][0] == pytest.approx(
        float(fn.f(*torch.tensor(xs[problem.steps_per_epoch], dtype=torch.float64))), rel=1e-9)
