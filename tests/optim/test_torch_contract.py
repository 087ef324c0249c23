"""What ``torch.optim`` promises beyond deepzen's own rules, checked for every optimizer of the table
(``contract_cases``): parameters in any memory layout, tensor learning rates, state dicts saved by older
versions or by torch's own optimizers, sparse gradients, meta-device parameters, and torch's wording
for the mistakes it already names.

Each test runs the registry's optimizer as built (torch's fused kernels where they apply), with
``fused=False`` where that selects another path, and the ``fused=True`` kernels compiled by
torch.compile.
"""

from __future__ import annotations

import pytest
import torch

from tests.optim.contract_cases import ALL, Spec, code_paths, each, grad_stream, require, step


def assert_close(got: torch.Tensor, want: torch.Tensor, what: str) -> None:
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-14, msg=lambda m: f"{what}: {m}")


# ----------------------------------------------------------------------------- memory layouts
def _layouts(gen: torch.Generator) -> list[torch.Tensor]:
    """Parameters laid out in memory the ways torch allows, each with values from ``gen``."""
    def randn(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=gen, dtype=torch.float64)

    return [
        randn(4, 3, 2)[..., 0],                                   # (4, 3), strides (6, 2): not dense
        randn(12)[::2],                                            # (6,), stride 2
        randn(5, 4).t(),                                           # (4, 5), dense, transposed
        randn(2, 3, 2, 2).contiguous(memory_format=torch.channels_last),   # (2, 3, 2, 2), dense
    ]


def _grad_like(p: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """``g`` laid out as autograd lays out ``p``'s gradient (``p``'s strides where ``p`` is dense,
    else contiguous)."""
    return torch.empty_like(p).copy_(g)


@each(ALL)
def test_any_memory_layout_follows_its_contiguous_copy(spec: Spec) -> None:
    require(spec)
    for hp in code_paths(spec):
        laid_out = [torch.nn.Parameter(t) for t in _layouts(torch.Generator().manual_seed(20))]
        dense = [torch.nn.Parameter(p.detach().clone(memory_format=torch.contiguous_format)) for p in laid_out]
        opt, twin = spec.make(laid_out, lr=spec.lr, **hp), spec.make(dense, lr=spec.lr, **hp)
        for t, grads in enumerate(grad_stream(20, [tuple(p.shape) for p in dense], 8)):
            for p, q, g in zip(laid_out, dense, grads):
                p.grad, q.grad = _grad_like(p, g), g.clone()
            step(opt, spec, t)
            step(twin, spec, t)
            for i, (p, q) in enumerate(zip(laid_out, dense)):
                assert_close(p.detach(), q.detach(), f"{hp}, step {t}, parameter {i} {tuple(p.stride())}")
        for i, (p, q) in enumerate(zip(laid_out, dense)):
            for key, value in twin.state[q].items():
                if isinstance(value, torch.Tensor) and value.dim():
                    assert_close(opt.state[p][key], value, f"{hp}, state {key!r} of parameter {i}")
