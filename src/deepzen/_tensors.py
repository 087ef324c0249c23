"""The one module that touches private PyTorch APIs (``torch._foreach_*``, ``torch._fused_*``).

Optimizer math in deepzen is written once per algorithm, as a rule over flat tensors
(``deepzen.optim._rule``); what remains here is the plumbing around it: a few multi-tensor list ops
(step counts, packing, Lookahead's wrapper), layout helpers for flat packs, and torch's fused kernels.
If PyTorch changes or drops a private API, this is the one file to fix.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Union

import torch
from torch import Tensor

Tensors = list[Tensor]
Scalar = Union[float, int]

#: Contiguous tensors with at least this many elements get a flat pack of their own, aliasing their
#: memory (nothing copied); smaller ones are packed together into one flat buffer per state key.
BIG_TENSOR_NUMEL = 1 << 17
#: A rule runs eagerly over flat slices of this many elements per thread (a slice is
#: CHUNK_NUMEL x torch.get_num_threads()): its scratch buffers stay in cache from one op to the next,
#: and the per-op call overhead is paid once per slice. Measured with the in-place rules (1 thread,
#: interleaved, machine partly loaded; RAdam / Yogi / Adan, ms per step): 16.8M params in 4 tensors:
#: 2**14 122 / 207 / 259, 2**16 63 / 101 / 124, 2**17 53 / 72 / 106, 2**18 50 / 70 / 91,
#: 2**20 86 / 100 / 166; 3M params in 296 tensors: 2**16 21.5 / 22.1 / 35.4, 2**18 18.0 / 20.8 / 30.9.
CHUNK_NUMEL = 1 << 18


# ----------------------------------------------------------------------------- list ops
def add_(xs: Tensors, value: Scalar) -> None:
    """xs += value (one multi-tensor call)."""
    torch._foreach_add_(xs, value)


def lerp_(xs: Tensors, ends: Tensors, weight: Scalar) -> None:
    """xs += weight * (ends - xs)."""
    torch._foreach_lerp_(xs, ends, weight)


def add_scaled_(xs: Tensors, ys: Tensors, alpha: Scalar) -> None:
    """xs += alpha * ys (one multi-tensor call)."""
    torch._foreach_add_(xs, ys, alpha=alpha)


def copy_(xs: Tensors, src: Tensors) -> None:
    """xs = src (values copied)."""
    torch._foreach_copy_(xs, src)


def neg(xs: Tensors) -> Tensors:
    """New tensors -xs."""
    return list(torch._foreach_neg(xs))


# ----------------------------------------------------------------------------- grouping and layout
def group_by_device_dtype(indices: Sequence[int], tensors: Sequence[Tensor]) -> dict[tuple, list[int]]:
    """Positions of ``tensors`` grouped by (device, dtype): a multi-tensor call needs one of each."""
    groups: dict[tuple, list[int]] = {}
    for i in indices:
        t = tensors[i]
        # ``t.device`` builds a new object on every read; CPU tensors skip it (3x faster per tensor).
        groups.setdefault((_CPU if t.is_cpu else t.device, t.dtype), []).append(i)
    return groups


_CPU = torch.device("cpu")


def chunk_bounds(numel: int, chunk: int | None = None) -> Iterator[tuple[int, int]]:
    """(start, stop) offsets that cover ``numel`` flat elements in pieces of at most ``chunk``
    (default: ``CHUNK_NUMEL`` per thread, read at call time)."""
    chunk = chunk or CHUNK_NUMEL * torch.get_num_threads()
    for start in range(0, numel, chunk):
        yield start, min(start + chunk, numel)


def view_base(t: Tensor) -> Tensor | None:
    """The tensor ``t`` is a view of (``None`` if it owns its memory); private ``Tensor._base``."""
    return t._base


def is_dense(t: Tensor) -> bool:
    """Whether ``t``'s elements fill one block of memory with neither gaps nor overlaps, in any order of
    its dimensions (contiguous, channels-last, transposed: yes; a strided slice: no)."""
    if t.is_contiguous():
        return True
    expected = 1
    for stride, size in sorted((st, n) for n, st in zip(t.shape, t.stride()) if n != 1):   # innermost first
        if stride != expected:
            return False
        expected *= size
    return True


def flat_alias(t: Tensor, offset: int = 0, shape: tuple[int, ...] | None = None) -> Tensor:
    """A contiguous tensor over contiguous ``t``'s memory, from element ``offset`` on, shaped ``shape``
    (default: all of ``t``, 1-D), that is not an autograd view of it.

    ``torch.compile`` treats it as a plain input (a view input, or one of another rank, would get a
    graph of its own and an extra copy for its mutation). Writes through it are not counted in ``t``'s
    version counter: call :func:`bump_version` on ``t`` after writing.
    """
    shape = (t.numel(),) if shape is None else shape
    strides = [1] * len(shape)
    for i in range(len(shape) - 2, -1, -1):
        strides[i] = strides[i + 1] * shape[i + 1]
    return t.new_empty(0).set_(t.untyped_storage(), t.storage_offset() + offset, shape, tuple(strides))


def bump_version(t: Tensor | Tensors) -> None:
    """Count an in-place change of ``t`` (a tensor or a list) made through a :func:`flat_alias` or a
    buffer it shares memory with (autograd checks version counters)."""
    torch.autograd.graph.increment_version(t)


def cat_flat_(out: Tensor, xs: Tensors) -> None:
    """``out`` = the elements of ``xs`` one after another (each in its logical, row-major order)."""
    torch.cat([x.reshape(-1) for x in xs], out=out)


def is_recompile_limit_error(exc: BaseException) -> bool:
    """Whether ``exc`` is torch.compile refusing one more graph of a function (its recompile limit;
    private ``torch._dynamo.exc``) rather than failing to compile it."""
    return type(exc).__name__ in ("FailOnRecompileLimitHit", "RecompileLimitExceeded", "CacheLimitExceeded")


# ----------------------------------------------------------------------------- fused kernels
_FUSED_DTYPES = frozenset({torch.float64, torch.float32, torch.float16, torch.bfloat16})


def fused_supported_for(device: torch.device, dtype: torch.dtype) -> bool:
    """Whether torch's fused optimizer kernels accept dense tensors of this device and dtype."""
    return device.type in ("cpu", "cuda") and dtype in _FUSED_DTYPES


def fused_adam_(
    params: Tensors,
    grads: Tensors,
    exp_avgs: Tensors,
    exp_avg_sqs: Tensors,
    max_exp_avg_sqs: Tensors,
    steps: Tensors,
    *,
    lr: float,
    beta1: float,
    beta2: float,
    weight_decay: float,
    eps: float,
    amsgrad: bool,
    maximize: bool,
    decoupled: bool,
) -> None:
    """torch's fused Adam / AdamW kernel; ``steps`` must already be incremented."""
    kernel = torch._fused_adamw_ if decoupled else torch._fused_adam_
    kernel(
        params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps,
        lr=lr, beta1=beta1, beta2=beta2, weight_decay=weight_decay, eps=eps,
        amsgrad=amsgrad, maximize=maximize, grad_scale=None, found_inf=None,
    )


def fused_sgd_(
    params: Tensors,
    grads: Tensors,
    momentum_buffers: Tensors,
    *,
    lr: float,
    weight_decay: float,
    momentum: float,
    dampening: float,
    nesterov: bool,
    maximize: bool,
    is_first_step: bool,
) -> None:
    """torch's fused SGD kernel (plain, momentum, Nesterov)."""
    torch._fused_sgd_(
        params, grads, momentum_buffers if momentum else [],
        weight_decay=weight_decay, momentum=momentum, lr=lr, dampening=dampening,
        nesterov=nesterov, maximize=maximize, is_first_step=is_first_step,
        grad_scale=None, found_inf=None,
    )


def fused_adagrad_(
    params: Tensors,
    grads: Tensors,
    state_sums: Tensors,
    steps: Tensors,
    *,
    lr: float,
    lr_decay: float,
    weight_decay: float,
    eps: float,
    maximize: bool,
) -> None:
    """torch's fused Adagrad kernel; ``steps`` must already be incremented."""
    torch._fused_adagrad_(
        params, grads, state_sums, steps,
        lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps, maximize=maximize,
        grad_scale=None, found_inf=None,
    )
