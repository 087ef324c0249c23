"""State-dict round trip through a ``weights_only`` checkpoint: resuming must continue exactly."""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable

import torch

from tests.optim.harness import LATE_START, SHAPES


def check_resume(make: Callable[[list[torch.Tensor]], torch.optim.Optimizer], *, before: int = 6,
                 after: int = 7, seed: int = 0) -> None:
    """Run ``before`` steps, save, load into a fresh optimizer on copied parameters, run ``after`` more
    steps on both; the two runs must agree bit for bit. The 0-d parameter starts late."""
    rng = random.Random(seed)
    init = [[rng.uniform(-1.0, 1.0) for _ in range(math.prod(s))] for s in SHAPES]
    a = [torch.tensor(v, dtype=torch.float64).reshape(s).requires_grad_() for v, s in zip(init, SHAPES)]
    opt_a = make(a)

    def grads(t: int) -> list[torch.Tensor | None]:
        return [None if (i == 2 and t < LATE_START) else
                torch.tensor([rng.gauss(0, 1) for _ in range(x.numel())], dtype=torch.float64).reshape(x.shape)
                for i, x in enumerate(a)]

    for t in range(1, before + 1):
        for x, g in zip(a, grads(t)):
            x.grad = g
        opt_a.step()
    buffer = io.BytesIO()
    torch.save(opt_a.state_dict(), buffer)
    buffer.seek(0)
    b = [x.detach().clone().requires_grad_() for x in a]
    opt_b = make(b)
    opt_b.load_state_dict(torch.load(buffer, weights_only=True))
    for t in range(before + 1, before + after + 1):
        for x, y, g in zip(a, b, grads(t)):
            x.grad, y.grad = g, None if g is None else g.clone()
        opt_a.step()
        opt_b.step()
        for i, (x, y) in enumerate(zip(a, b)):
            assert torch.equal(x, y), f"step {t}, param {i}: resumed run differs: {x} vs {y}"
