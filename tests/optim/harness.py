"""Step-by-step comparison of a deepzen optimizer with an independent float64 reference.

The references (``tests/optim/references/``) are plain Python over lists of floats: they import
neither torch nor deepzen. A reference object is built with the same hyperparameters as the optimizer
and exposes::

    ref.begin_step(loss)                         # once per global step (loss may be None)
    ref.step(key, theta, grad) -> new_theta      # per parameter that has a gradient this step

The parameters are a 3x4 matrix, a 5-vector and a 0-d scalar. The scalar first gets a gradient at
step 4 (its own step count must start at 1 then) and the vector has no gradient at step 10 (its state
must not move). With ``group2`` the scalar sits in a second parameter group with other hyperparameters.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch

import deepzen.optim as dzo

SHAPES: list[tuple[int, ...]] = [(3, 4), (5,), ()]
LATE_START = 4          # the 0-d parameter's first gradient arrives at this step
VECTOR_GAP = 10         # the vector has no gradient at this step


@dataclass
class Case:
    """One row of a comparison table.

    ``make`` builds the optimizer (defaults to the registry entry ``name``); ``ref`` builds the
    reference from hyperparameters.
    """

    name: str
    ref: Callable[..., Any]
    kwargs: dict[str, Any] = field(default_factory=dict)
    group2: dict[str, Any] | None = None
    id: str = ""
    steps: int = 25
    needs_loss: bool = False
    rtol: float = 1e-9
    atol: float = 1e-12
    make: Callable[..., torch.optim.Optimizer] | None = None
    grad_scale: float = 1.0

    def __str__(self) -> str:
        return self.id or f"{self.name}-{self.kwargs}"


def cases_params(cases: list[Case]) -> Any:
    """``pytest.mark.parametrize`` over ``cases`` with readable ids."""
    return pytest.mark.parametrize("case", cases, ids=[str(c) for c in cases])


def _grad(rng: random.Random, n: int, scale: float) -> list[float]:
    return [scale * rng.gauss(0.0, 1.0) for _ in range(n)]


def _loss(t: int) -> float:
    """A positive, varying loss sequence (for optimizers that read the loss)."""
    return 2.0 + math.sin(0.7 * t) + 0.5 / t


def run_case(case: Case, *, seed: int = 0, dtype: torch.dtype = torch.float64,
             ref_factory: Callable[..., Any] | None = None) -> None:
    """Run ``case`` for ``case.steps`` steps; raise AssertionError at the first mismatch."""
    rng = random.Random(seed)
    init = [[rng.uniform(-1.0, 1.0) for _ in range(math.prod(s))] for s in SHAPES]
    params = [torch.tensor(v, dtype=dtype).reshape(s) for v, s in zip(init, SHAPES)]
    for p in params:
        p.requires_grad_(True)
    if case.group2 is None:
        groups: Any = params
        hparams = [case.kwargs] * len(params)
    else:
        groups = [{"params": params[:2]}, {"params": params[2:], **case.group2}]
        hparams = [case.kwargs, case.kwargs, {**case.kwargs, **case.group2}]
    make = case.make or (lambda ps, **kw: dzo.create(case.name, ps, **kw))
    opt = make(groups, **case.kwargs)
    factory = ref_factory or case.ref
    refs: dict[int, Any] = {}
    ref_for_hp: dict[str, Any] = {}
    for i, hp in enumerate(hparams):     # one reference object per distinct set of hyperparameters
        key = repr(sorted(hp.items()))
        refs[i] = ref_for_hp.setdefault(key, factory(**hp))
    theta = [list(v) for v in init]

    for t in range(1, case.steps + 1):
        active = [i for i in range(len(params))
                  if not (i == 2 and t < LATE_START) and not (i == 1 and t == VECTOR_GAP)]
        grads = {i: _grad(rng, len(theta[i]), case.grad_scale) for i in active}
        for i, p in enumerate(params):
            p.grad = torch.tensor(grads[i], dtype=dtype).reshape(p.shape) if i in active else None
        loss = _loss(t) if case.needs_loss else None
        if case.needs_loss:
            opt.step(lambda: torch.tensor(loss, dtype=dtype))
        else:
            opt.step()
        for r in set(map(id, refs.values())):
            next(v for v in refs.values() if id(v) == r).begin_step(loss)
        for i in active:
            theta[i] = refs[i].step(i, theta[i], grads[i])
        for i, p in enumerate(params):
            got = p.detach().reshape(-1).tolist()
            want = theta[i]
            bad = [(j, g, w) for j, (g, w) in enumerate(zip(got, want))
                   if not abs(g - w) <= case.atol + case.rtol * abs(w)]
            if bad:
                j, g, w = bad[0]
                raise AssertionError(
                    f"{case}: step {t}, param {i} {tuple(p.shape)}, element {j}: got {g!r}, reference {w!r}"
                )


def run_against_implementation(case: Case, implementation: dict[str, Any], *, seed: int = 0,
                               rtol: float = 1e-12, atol: float = 1e-14) -> None:
    """Run ``case`` twice on identical float64 parameters and gradients (the late start and the gap
    included): with ``implementation``'s hyperparameters and with the eager rule (``fused=False``);
    raise AssertionError at the first step where the parameters differ."""
    rng = random.Random(seed)
    init = [[rng.uniform(-1.0, 1.0) for _ in range(math.prod(s))] for s in SHAPES]
    runs = []
    for extra in (implementation, {"fused": False}):
        params = [torch.tensor(v, dtype=torch.float64).reshape(s).requires_grad_() for v, s in zip(init, SHAPES)]
        groups: Any = params if case.group2 is None else [
            {"params": params[:2]}, {"params": params[2:], **case.group2}]
        runs.append((params, dzo.create(case.name, groups, **{**case.kwargs, **extra})))
    for t in range(1, case.steps + 1):
        active = [i for i in range(len(SHAPES))
                  if not (i == 2 and t < LATE_START) and not (i == 1 and t == VECTOR_GAP)]
        grads = {i: _grad(rng, math.prod(SHAPES[i]), case.grad_scale) for i in active}
        loss = _loss(t)
        for params, opt in runs:
            for i, p in enumerate(params):
                p.grad = torch.tensor(grads[i], dtype=torch.float64).reshape(p.shape) if i in active else None
            opt.step((lambda: torch.tensor(loss, dtype=torch.float64)) if case.needs_loss else None)
        (got, _), (want, _) = runs
        for i, (x, y) in enumerate(zip(got, want)):
            torch.testing.assert_close(x.detach(), y.detach(), rtol=rtol, atol=atol,
                                       msg=lambda m: f"{case} {implementation}: step {t}, param {i}: {m}")


def run_against_torch(ours: Callable[[list[torch.Tensor]], torch.optim.Optimizer],
                      theirs: Callable[[list[torch.Tensor]], torch.optim.Optimizer],
                      *, steps: int = 25, seed: int = 0, rtol: float = 1e-9, atol: float = 1e-12) -> None:
    """Run a deepzen optimizer and a torch.optim one on identical float64 parameters and gradients."""
    rng = random.Random(seed)
    init = [[rng.uniform(-1.0, 1.0) for _ in range(math.prod(s))] for s in SHAPES]
    a = [torch.tensor(v, dtype=torch.float64).reshape(s).requires_grad_() for v, s in zip(init, SHAPES)]
    b = [x.detach().clone().requires_grad_() for x in a]
    opt_a, opt_b = ours(a), theirs(b)
    for t in range(1, steps + 1):
        for x, y in zip(a, b):
            g = torch.tensor(_grad(rng, x.numel(), 1.0), dtype=torch.float64).reshape(x.shape)
            x.grad, y.grad = g.clone(), g.clone()
        opt_a.step()
        opt_b.step()
        for i, (x, y) in enumerate(zip(a, b)):
            torch.testing.assert_close(x, y, rtol=rtol, atol=atol, msg=lambda m: f"step {t}, param {i}: {m}")
