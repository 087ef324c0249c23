"""Stochastic test problems of the ``classic`` suite, run under the same protocol as the configs but
with their own small loop (a few parameters, no data loader): DeepOBS's noisy quadratic and two
classic test functions with gradient noise.

``quadratic_deep`` (Schneider et al. 2019, DeepOBS): θ ∈ R¹⁰⁰, Hessian ``Q = R diag(λ) Rᵀ`` with 90
eigenvalues from U(0, 1) and 10 from U(30, 60) and ``R`` a random rotation (fixed seed);
per-sample loss ``½ (θ − x)ᵀ Q (θ − x)`` with ``x ~ N(0, 0.6² I)`` over a fixed training set of
1000 samples, batches of 128, θ₀ = 1. Validation and test: the excess expected loss ``½ θᵀ Q θ``
(the expected loss minus its noise floor ``½ σ² tr Q``, which no optimizer can remove).

``noisy_rosenbrock``, ``noisy_beale``: loss ``f(θ) + ⟨ξ, θ⟩`` with ``ξ ~ N(0, σ² I)`` fresh every
step, an unbiased stochastic gradient ``∇f + ξ``; validation and test: ``f(θ)``.

Each seed fixes the noise (the "data order"): every optimizer sees the same samples at a given seed.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from torch import Tensor

from deepzen.compare.functions import DIVERGED, FUNCTIONS

METRIC = "val_loss"


@dataclass(frozen=True)
class NoisyProblem:
    """``sample(θ, generator) -> stochastic loss``, ``objective(θ) -> validation value``, θ₀, the loop size."""

    init: Callable[[], Tensor]
    sample: Callable[[Tensor, torch.Generator], Tensor]
    objective: Callable[[Tensor], Tensor]
    epochs: int
    steps_per_epoch: int


def _quadratic_deep() -> NoisyProblem:
    dim, sigma, n, batch = 100, 0.6, 1000, 128
    g = torch.Generator().manual_seed(42)
    eigen = torch.cat([torch.rand(90, generator=g, dtype=torch.float64),
                       30 + 30 * torch.rand(10, generator=g, dtype=torch.float64)])  # (100,)
    rotation, _ = torch.linalg.qr(torch.randn(dim, dim, generator=g, dtype=torch.float64))  # (100, 100)
    hessian = rotation @ torch.diag(eigen) @ rotation.T  # (100, 100)
    train = sigma * torch.randn(n, dim, generator=g, dtype=torch.float64)  # (1000, 100)

    def sample(theta: Tensor, gen: torch.Generator) -> Tensor:
        x = train[torch.randint(0, n, (batch,), generator=gen)]  # (B, 100)
        diff = theta - x  # (B, 100)
        return 0.5 * ((diff @ hessian) * diff).sum(dim=1).mean()

    return NoisyProblem(lambda: torch.ones(dim, dtype=torch.float64), sample,
                        lambda theta: 0.5 * theta @ hessian @ theta, epochs=20, steps_per_epoch=n // batch)


def _noisy_function(name: str, sigma: float) -> NoisyProblem:
    fn = FUNCTIONS[name]

    def value(theta: Tensor) -> Tensor:
        return fn.f(theta[0], theta[1])

    def sample(theta: Tensor, gen: torch.Generator) -> Tensor:
        noise = sigma * torch.randn(2, generator=gen, dtype=torch.float64)  # (2,)
        return value(theta) + (noise * theta).sum()  # gradient: ∇f + noise

    return NoisyProblem(lambda: torch.tensor(fn.start, dtype=torch.float64), sample, value, epochs=10,
                        steps_per_epoch=50)


PROBLEMS: dict[str, Callable[[], NoisyProblem]] = {
    "quadratic_deep": _quadratic_deep,
    "noisy_rosenbrock": lambda: _noisy_function("rosenbrock", sigma=2.0),
    "noisy_beale": lambda: _noisy_function("beale", sigma=0.5),
}


def train(name: str, optimizer: str, lr: float | None, seed: int) -> dict[str, Any]:
    """One run: per-epoch mean training loss, validation value and seconds; the final and best θ's value.
    Validation and the final value read θ at the optimizer's evaluation point (Schedule-Free: x)."""
    from deepzen import optim
    from deepzen.train.optimizer_modes import evaluation_point

    problem = PROBLEMS[name]()
    theta = problem.init().requires_grad_(True)
    opt = optim.create(optimizer, [theta], **({"lr": lr} if lr is not None else {}))
    gen = torch.Generator().manual_seed(seed)
    history: dict[str, list[float]] = {"epoch": [], "loss": [], "val_loss": [], "time": []}
    best, best_theta, diverged = math.inf, theta.detach().clone(), False
    for epoch in range(problem.epochs):
        started, total = time.perf_counter(), 0.0
        for _ in range(problem.steps_per_epoch):
            def closure() -> Tensor:
                opt.zero_grad()
                loss = problem.sample(theta, gen)
                loss.backward()
                return loss

            loss = closure()
            total += float(loss.detach())
            if not math.isfinite(total) or abs(total) > DIVERGED:
                diverged = True
                break
            opt.step(closure if getattr(opt, "needs_loss", False) else None)
        with evaluation_point(opt):
            at = theta.detach().clone()                                  # (d,), x for Schedule-Free
        val = float(problem.objective(at))
        if diverged or not math.isfinite(val) or val > DIVERGED:
            diverged = True
            break
        if val < best:
            best, best_theta = val, at
        for key, value in (("epoch", epoch + 1), ("loss", total / problem.steps_per_epoch), ("val_loss", val),
                           ("time", time.perf_counter() - started)):
            history[key].append(value)
    final = math.nan if diverged else float(problem.objective(at))
    return {"history": history, "diverged": diverged, "final": final,
            "best": math.nan if diverged else float(problem.objective(best_theta)),
            "steps": len(history["epoch"]) * problem.steps_per_epoch, "seconds": sum(history["time"])}


def write_run(folder: Path, result: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """``metrics.csv`` and ``compare.json`` in the layout of a training run folder."""
    folder.mkdir(parents=True, exist_ok=True)
    history = result["history"]
    lines = [",".join(history)] + [",".join(repr(history[k][i]) for k in history) for i in range(len(history["epoch"]))]
    (folder / "metrics.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ok = not result["diverged"]
    record.update({"status": "ok" if ok else "diverged", "epochs": len(history["epoch"]), "steps": result["steps"],
                   "fit_seconds": result["seconds"],
                   "test_final": {"loss": result["final"]} if ok else None,
                   "test_best": {"loss": result["best"]} if ok else None})
    (folder / "compare.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


__all__ = ["METRIC", "PROBLEMS", "train", "write_run"]
