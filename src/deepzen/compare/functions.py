"""Optimizer trajectories on 2-D test functions (the textbook picture) and the rates on a quadratic.

Each optimizer starts from the function's start point with its own lr, tuned for the lowest final
value after ``steps`` steps (Optuna TPE, the same sampler seed and budget for every optimizer); its
path is drawn on the contour plot, one PNG per function plus a small-multiples grid.

Quadratic ``f(θ) = ½ θᵀ diag(μ, L) θ`` with condition number ``κ = L/μ``: at its best constant lr
``2/(L+μ)`` gradient descent contracts the error by ``(κ−1)/(κ+1)`` per step; heavy-ball momentum
(Polyak 1964) with ``lr = 4/(√L+√μ)²`` and ``momentum = ((√κ−1)/(√κ+1))²`` by ``(√κ−1)/(√κ+1)``.
:func:`measured_rate` runs a deepzen optimizer and measures the contraction.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
from torch import Tensor

from deepzen._suggest import did_you_mean
from deepzen.config import ConfigError
from deepzen.config.compare import check_budget, check_optimizers


@dataclass(frozen=True)
class TestFunction:
    """A 2-D test function: ``f(x, y)``, the start point, its global minima and the plotted box."""

    f: Callable[[Tensor, Tensor], Tensor]
    start: tuple[float, float]
    minima: tuple[tuple[float, float], ...]
    box: tuple[float, float, float, float]  # x_min, x_max, y_min, y_max


FUNCTIONS: dict[str, TestFunction] = {
    # (1 − x)² + 100 (y − x²)²; the curved valley (Rosenbrock 1960)
    "rosenbrock": TestFunction(lambda x, y: (1 - x) ** 2 + 100 * (y - x ** 2) ** 2, (-1.5, 2.0), ((1.0, 1.0),),
                               (-2.0, 2.0, -1.0, 3.0)),
    # (x² + y − 11)² + (x + y² − 7)²; four minima (Himmelblau 1972)
    "himmelblau": TestFunction(lambda x, y: (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2, (0.0, -4.0),
                               ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)),
                               (-5.0, 5.0, -5.0, 5.0)),
    # (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²; flat plateau, steep walls (Beale 1958)
    "beale": TestFunction(lambda x, y: (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2
                          + (2.625 - x + x * y ** 3) ** 2, (1.0, 1.5), ((3.0, 0.5),), (-1.0, 4.0, -1.5, 2.0)),
    # (x + 2y − 7)² + (2x + y − 5)²; a plain ill-conditioned bowl
    "booth": TestFunction(lambda x, y: (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2, (-8.0, 8.0), ((1.0, 3.0),),
                          (-10.0, 10.0, -10.0, 10.0)),
}
DEFAULT_OPTIMIZERS = ("sgd", "momentum", "nag", "adagrad", "rmsprop", "adam")
LR_RANGE = (1e-5, 1.0)
STEPS = 300
DIVERGED = 1e12  # a final value above this (or non-finite) is a divergence


def check_functions(names: str | Sequence[str]) -> list[str]:
    if isinstance(names, str):
        names = list(FUNCTIONS) if names.strip().lower() == "all" else [n.strip() for n in names.split(",") if n.strip()]
    for name in names:
        if name not in FUNCTIONS:
            raise ConfigError(f"--functions: unknown function {name!r}{did_you_mean(name, FUNCTIONS, cutoff=0.6)} "
                              f"Available: {', '.join(FUNCTIONS)}, or all")
    if not names:
        raise ConfigError(f"--functions: give names such as rosenbrock,beale (available: {', '.join(FUNCTIONS)})")
    return list(names)


def trajectory(optimizer: str, function: TestFunction, lr: float, steps: int = STEPS) -> tuple[list[tuple[float, float]], bool]:
    """The points ``(x, y)`` visited by ``optimizer`` (start included) and whether it diverged.

    Each point is read at the optimizer's evaluation point: for Schedule-Free the average x (gradients
    are taken at y; ``optimizer.eval()`` / ``train()`` switch around the reading, as the Trainer does).
    """
    from deepzen import optim
    from deepzen.train.optimizer_modes import evaluation_point

    point = torch.tensor(function.start, dtype=torch.float64, requires_grad=True)  # (2,)
    opt = optim.create(optimizer, [point], lr=lr)
    path = [function.start]
    for _ in range(steps):
        def closure() -> Tensor:
            opt.zero_grad()
            value = function.f(point[0], point[1])
            value.backward()
            return value

        loss = float(closure().detach())
        if not math.isfinite(loss) or loss > DIVERGED:
            return path, True
        opt.step(closure if getattr(opt, "needs_loss", False) else None)
        with evaluation_point(opt):
            x, y = point.detach().tolist()
        path.append((x, y))
    final = float(function.f(*torch.tensor(path[-1], dtype=torch.float64)))
    return path, not math.isfinite(final) or final > DIVERGED


def final_value(optimizer: str, function: TestFunction, lr: float, steps: int = STEPS) -> float:
    path, diverged = trajectory(optimizer, function, lr, steps)
    if diverged:
        return math.inf
    x, y = path[-1]
    return float(function.f(torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)))


def tune_lr(optimizer: str, function: TestFunction, budget: int, seed: int = 0, steps: int = STEPS) -> float:
    """The lr with the lowest final value among ``budget`` Optuna TPE trials (log-uniform over LR_RANGE)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(5, budget)))

    def objective(trial: optuna.Trial) -> float:
        value = final_value(optimizer, function, trial.suggest_float("lr", *LR_RANGE, log=True), steps)
        return min(value, DIVERGED)

    study.optimize(objective, n_trials=budget)
    return float(study.best_params["lr"])


def run_functions(names: str, optimizers: str | None, budget: int | None, out: Path) -> Path:
    """``deepzen compare --functions``: tuned trajectories, PNGs and ``trajectories.csv`` in ``out``."""
    functions = check_functions(names)
    chosen = check_optimizers(optimizers) if optimizers else list(DEFAULT_OPTIMIZERS)
    budget = check_budget(budget if budget is not None else 30)
    if budget == 0:
        raise ConfigError("--functions needs budget >= 1: each optimizer's lr is tuned on the function")
    out.mkdir(parents=True, exist_ok=True)
    rows, paths = [], {}
    for name in functions:
        fn = FUNCTIONS[name]
        for optimizer in chosen:
            lr = tune_lr(optimizer, fn, budget)
            path, diverged = trajectory(optimizer, fn, lr)
            paths[name, optimizer] = path
            rows.append({"function": name, "optimizer": optimizer, "lr": lr, "diverged": diverged,
                         "final_value": final_value(optimizer, fn, lr)})
            print(f"{name}/{optimizer} lr={lr:.3g}  final f {rows[-1]['final_value']:.4g}", flush=True)
    with (out / "trajectories.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    from deepzen.compare.function_plots import plot_grid, plot_function

    for name in functions:
        plot_function(out / f"{name}.png", name, FUNCTIONS[name], {o: paths[name, o] for o in chosen})
    plot_grid(out / "grid.png", {name: FUNCTIONS[name] for name in functions}, chosen, paths)
    return out


# ---------------------------------------------------------------------------------------------- quadratic
def gd_theory(kappa: float) -> float:
    """Per-step contraction of gradient descent at lr = 2/(L+μ): (κ−1)/(κ+1)."""
    return (kappa - 1) / (kappa + 1)


def heavy_ball_theory(kappa: float) -> float:
    """Per-step contraction of Polyak's heavy ball at its best (lr, momentum): (√κ−1)/(√κ+1)."""
    return (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)


def measured_rate(optimizer: str, kappa: float, max_steps: int = 4000, **hparams: Any) -> float:
    """Run ``optimizer`` on ½ θᵀ diag(1, κ) θ from θ₀ = (1, 1) in float64 until max|θᵢ| < 1e-200 (or
    ``max_steps``) and return the contraction per step over the second half of the run,
    ``(‖θ_{2n}‖ / ‖θ_n‖)^{1/n}``, θ read at the optimizer's evaluation point (Schedule-Free: x).

    At heavy ball's best parameters both eigen-directions give a double root of the characteristic
    polynomial, so ‖θ_k‖ ∝ (a + bk)·ρᵏ and this estimate is ρ·(1 + O(1/n)), at most ρ·2^{1/n}.
    """
    from deepzen import optim
    from deepzen.train.optimizer_modes import evaluation_point

    eigen = torch.tensor([1.0, kappa], dtype=torch.float64)  # diag(μ, L), μ = 1
    theta = torch.ones(2, dtype=torch.float64, requires_grad=True)  # (2,)
    opt = optim.create(optimizer, [theta], **hparams)
    norms = [1.0]
    while len(norms) <= max_steps and norms[-1] > 1e-200:
        opt.zero_grad()
        (0.5 * (eigen * theta * theta).sum()).backward()
        opt.step()
        with evaluation_point(opt):
            norms.append(float(theta.detach().abs().max()))  # max-norm: a 2-norm would underflow (squares)
    n = (len(norms) - 1) // 2
    return (norms[2 * n] / norms[n]) ** (1.0 / n)


__all__ = ["FUNCTIONS", "TestFunction", "final_value", "gd_theory", "heavy_ball_theory", "measured_rate",
           "run_functions", "trajectory", "tune_lr"]
