"""Checks beyond the reference tables: resume from a ``state_dict`` mid-run, and the chunked path for
big tensors (an algorithm with per-parameter scalar state must advance it once per step, not once per
chunk).
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable

import pytest
import torch

from deepzen import _tensors as T
from tests.optim.harness import LATE_START

MakeOptimizer = Callable[[list[torch.Tensor]], torch.optim.Optimizer]


def _grads(t: int, params: list[torch.Tensor]) -> list[torch.Tensor]:
    """Deterministic, varying gradients for step ``t``."""
    return [torch.sin(torch.arange(p.numel(), dtype=p.dtype) * 0.37 + 1.3 * t + i).reshape(p.shape)
            for i, p in enumerate(params)]


def _loss(t: int) -> float:
    return 2.0 + math.sin(0.7 * t) + 0.5 / t


def _step(opt: torch.optim.Optimizer, params: list[torch.Tensor], t: int) -> None:
    for i, (p, g) in enumerate(zip(params, _grads(t, params))):
        p.grad = None if (i == 2 and t < LATE_START) else g       # the 0-d parameter starts late
    opt.step(lambda: torch.tensor(_loss(t), dtype=torch.float64))


def _fresh(shapes: list[tuple[int, ...]]) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    return [torch.randn(s, generator=gen, dtype=torch.float64).requires_grad_() for s in shapes]


SHAPES = [(3, 4), (5,), ()]


def check_resume(make: MakeOptimizer, *, steps: int = 12, stop: int = 5) -> None:
    """A run interrupted after ``stop`` steps and resumed from a saved ``state_dict`` (through
    ``torch.save``/``torch.load(weights_only=True)``) ends exactly where an uninterrupted run ends.
    The 0-d parameter first gets a gradient at step ``LATE_START``."""
    straight = _fresh(SHAPES)
    opt = make(straight)
    for t in range(1, steps + 1):
        _step(opt, straight, t)

    first = _fresh(SHAPES)
    opt = make(first)
    for t in range(1, stop + 1):
        _step(opt, first, t)
    buffer = io.BytesIO()
    torch.save({"params": [p.detach() for p in first], "optimizer": opt.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    resumed = [p.clone().requires_grad_() for p in saved["params"]]
    opt = make(resumed)
    opt.load_state_dict(saved["optimizer"])
    for t in range(stop + 1, steps + 1):
        _step(opt, resumed, t)
    for a, b in zip(straight, resumed):
        assert torch.equal(a, b), (a, b)


def check_chunked_matches_whole(make: MakeOptimizer, monkeypatch: pytest.MonkeyPatch, *, steps: int = 4) -> None:
    """A big tensor updated in flat chunks ends exactly where the same tensor updated whole ends."""
    shapes = [(T.CHUNK_NUMEL * 2 + 17,), (7,)]
    chunked = _fresh(shapes)
    opt = make(chunked)
    assert chunked[0].numel() >= T.BIG_TENSOR_NUMEL
    for t in range(1, steps + 1):
        _step(opt, chunked, t)
    whole = _fresh(shapes)
    with monkeypatch.context() as m:
        m.setattr(T, "BIG_TENSOR_NUMEL", 1 << 40)          # everything takes the whole-tensor path
        opt = make(whole)
        for t in range(1, steps + 1):
            _step(opt, whole, t)
    for a, b in zip(chunked, whole):
        torch.testing.assert_close(a, b, rtol=1e-13, atol=1e-15)
