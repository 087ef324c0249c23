"""The eager path allocates no temporary tensors: every rule's math is written with in-place
operations and reused scratch buffers (``deepzen.optim._inplace``), because fresh memory costs more
than the arithmetic on it (a temporary of a 16.8M-element step costs ~50 ms here, the op itself 6-12).

Counted with torch's profiler (allocations, not time): after two warm-up steps, a step on a
300,000-element parameter (more than one eager slice) and a small matrix allocates nothing of
64 KiB or more.
"""

from __future__ import annotations

import pytest
import torch
from torch.profiler import ProfilerActivity, profile

import deepzen.optim as dzo
from deepzen.optim._registry import create

#: Optimizers whose step is matrix work or factored statistics, not an elementwise rule: their
#: temporaries are the algorithm's own (Adafactor's row/column factors, SOAP's rotations).
NOT_ELEMENTWISE = {"adafactor": "factored second moment", "soap": "eigenbasis rotations"}
SLICE_BYTES = 1 << 16


def _build(name: str, params: list[torch.Tensor]) -> torch.optim.Optimizer:
    try:
        return create(name, params, fused=False)
    except TypeError:                      # one path, no fused argument
        return create(name, params)


@pytest.mark.parametrize("name", [n for n in dzo.available() if n not in NOT_ELEMENTWISE])
def test_eager_step_allocates_no_temporary_tensors(name: str) -> None:
    torch.manual_seed(0)
    p, q = torch.nn.Parameter(torch.randn(300_000)), torch.nn.Parameter(torch.randn(64, 64))
    opt = _build(name, [p, q])
    closure = (lambda: (p.sum() + q.sum()).square().detach() + 1.0) if getattr(opt, "needs_loss", False) else None

    def step() -> None:
        p.grad, q.grad = torch.randn_like(p), torch.randn_like(q)
        opt.step(closure) if closure else opt.step()

    step(), step()
    p.grad, q.grad = torch.randn_like(p), torch.randn_like(q)
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        opt.step(closure) if closure else opt.step()
    big = [(e.name, e.cpu_memory_usage) for e in prof.events() if e.cpu_memory_usage >= SLICE_BYTES]
    assert big == [], f"{name}: temporaries allocated during an eager step: {big}"
