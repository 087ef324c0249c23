"""The one module that touches private PyTorch APIs (``torch._foreach_*``, ``torch._fused_*``).

Optimizer math in deepzen is written once per algorithm as in-place operations over *lists* of
tensors. The functions here run such a list operation either as one multi-tensor ``torch._foreach_*``
call or, for a single tensor, as the plain tensor method (no list overhead). If PyTorch changes or drops
a private API, this is the one file to fix.

A scalar argument may be a Python number (same for every tensor) or a list with one value per tensor
(for example a bias correction that depends on each parameter's own step count).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Union

import torch
from torch import Tensor

Tensors = list[Tensor]
Scalar = Union[float, int]
Scalars = Union[Scalar, Sequence[Scalar]]
TensorsOrScalars = Union[Scalar, Sequence[Scalar], Tensors]

#: Tensors with at least this many elements are updated one at a time (each op on the same tensor while
#: it is in cache); smaller ones go through one multi-tensor call per op (less Python overhead).
#: 2**17 rather than 2**16: with 2**16, the 70k-element convolution weights of a small CNN went through
#: the chunked path in 3 pieces each, ~10% slower per step than multi-tensor blocks.
BIG_TENSOR_NUMEL = 1 << 17
#: Elementwise algorithms update big tensors in flat chunks of this many elements per thread (a chunk
#: is CHUNK_NUMEL x torch.get_num_threads()): each thread's share of every buffer stays in its L2 cache
#: from one op to the next, and temporaries stay small instead of fresh pages from the OS every step.
#: Measured on 4 x 4M params, 2 threads: 2**15 per chunk 58 ms (Yogi), 2**16 31 ms, 2**17 28 ms;
#: 1 thread: 2**16 per chunk best.
CHUNK_NUMEL = 1 << 16
#: Small tensors go through multi-tensor calls in blocks of about this many elements (all of an
#: algorithm's ops run on one block while it is in cache; ~6% faster than one call over 300 tensors).
SMALL_BLOCK_NUMEL = 1 << 16


def _first(value):  # type: ignore[no-untyped-def]
    """The value for a single tensor: the first entry of a per-tensor list, else the value itself."""
    return value[0] if isinstance(value, (list, tuple)) else value


def _as_list(value):  # type: ignore[no-untyped-def]
    return list(value) if isinstance(value, tuple) else value


# ----------------------------------------------------------------------------- in-place list ops
def add_(xs: Tensors, other: TensorsOrScalars, alpha: Scalar = 1) -> None:
    """xs += alpha * other."""
    if len(xs) == 1:
        xs[0].add_(_first(other), alpha=alpha)
    elif isinstance(other, (list, tuple)) and other and isinstance(other[0], Tensor):
        torch._foreach_add_(xs, _as_list(other), alpha=alpha)
    else:
        torch._foreach_add_(xs, _as_list(other) if alpha == 1 else _scale(other, alpha))


def sub_(xs: Tensors, other: TensorsOrScalars, alpha: Scalar = 1) -> None:
    """xs -= alpha * other."""
    if len(xs) == 1:
        xs[0].sub_(_first(other), alpha=alpha)
    elif isinstance(other, (list, tuple)) and other and isinstance(other[0], Tensor):
        torch._foreach_sub_(xs, _as_list(other), alpha=alpha)
    else:
        torch._foreach_sub_(xs, _as_list(other) if alpha == 1 else _scale(other, alpha))


def _scale(values: Scalars, alpha: Scalar) -> Scalars:
    if isinstance(values, (list, tuple)):
        return [v * alpha for v in values]
    return values * alpha


def mul_(xs: Tensors, other: TensorsOrScalars) -> None:
    """xs *= other (scalar, per-tensor scalars, or tensors)."""
    if len(xs) == 1:
        xs[0].mul_(_first(other))
    else:
        torch._foreach_mul_(xs, _as_list(other))


def div_(xs: Tensors, other: TensorsOrScalars) -> None:
    """xs /= other."""
    if len(xs) == 1:
        xs[0].div_(_first(other))
    else:
        torch._foreach_div_(xs, _as_list(other))


def addcmul_(xs: Tensors, a: Tensors, b: Tensors, value: Scalars = 1) -> None:
    """xs += value * a * b."""
    if len(xs) == 1:
        xs[0].addcmul_(a[0], b[0], value=_first(value))
    else:
        torch._foreach_addcmul_(xs, a, b, _as_list(value))


def addcdiv_(xs: Tensors, a: Tensors, b: Tensors, value: Scalars = 1) -> None:
    """xs += value * a / b."""
    if len(xs) == 1:
        xs[0].addcdiv_(a[0], b[0], value=_first(value))
    else:
        torch._foreach_addcdiv_(xs, a, b, _as_list(value))


def lerp_(xs: Tensors, ends: Tensors, weight: Scalar) -> None:
    """xs += weight * (ends - xs)."""
    if len(xs) == 1:
        xs[0].lerp_(ends[0], weight)
    else:
        torch._foreach_lerp_(xs, ends, weight)


def maximum_(xs: Tensors, other: Tensors) -> None:
    """xs = max(xs, other), elementwise."""
    if len(xs) == 1:
        torch.maximum(xs[0], other[0], out=xs[0])
    else:
        torch._foreach_maximum_(xs, other)


def clamp_min_(xs: Tensors, low: Scalars) -> None:
    """xs = max(xs, low)."""
    if len(xs) == 1:
        xs[0].clamp_min_(_first(low))
    else:
        torch._foreach_clamp_min_(xs, _as_list(low))


def clamp_max_(xs: Tensors, high: Scalars) -> None:
    """xs = min(xs, high)."""
    if len(xs) == 1:
        xs[0].clamp_max_(_first(high))
    else:
        torch._foreach_clamp_max_(xs, _as_list(high))


def sqrt_(xs: Tensors) -> None:
    """xs = sqrt(xs)."""
    if len(xs) == 1:
        xs[0].sqrt_()
    else:
        torch._foreach_sqrt_(xs)


def abs_(xs: Tensors) -> None:
    """xs = |xs|."""
    if len(xs) == 1:
        xs[0].abs_()
    else:
        torch._foreach_abs_(xs)


def sign_(xs: Tensors) -> None:
    """xs = sign(xs)."""
    if len(xs) == 1:
        xs[0].sign_()
    else:
        torch._foreach_sign_(xs)


def neg_(xs: Tensors) -> None:
    """xs = -xs."""
    if len(xs) == 1:
        xs[0].neg_()
    else:
        torch._foreach_neg_(xs)


def reciprocal_(xs: Tensors) -> None:
    """xs = 1 / xs."""
    if len(xs) == 1:
        xs[0].reciprocal_()
    else:
        torch._foreach_reciprocal_(xs)


def copy_(xs: Tensors, src: Tensors) -> None:
    """xs = src (values copied)."""
    if len(xs) == 1:
        xs[0].copy_(src[0])
    else:
        torch._foreach_copy_(xs, src)


def zero_(xs: Tensors) -> None:
    """xs = 0."""
    if len(xs) == 1:
        xs[0].zero_()
    else:
        torch._foreach_zero_(xs)


# ----------------------------------------------------------------------------- out-of-place list ops
def clone(xs: Tensors) -> Tensors:
    """New tensors holding copies of xs."""
    return [x.clone() for x in xs] if len(xs) == 1 else torch._foreach_mul(xs, 1)


def mul(xs: Tensors, other: TensorsOrScalars) -> Tensors:
    """New tensors xs * other."""
    if len(xs) == 1:
        return [torch.mul(xs[0], _first(other))]
    return list(torch._foreach_mul(xs, _as_list(other)))


def add(xs: Tensors, other: TensorsOrScalars, alpha: Scalar = 1) -> Tensors:
    """New tensors xs + alpha * other."""
    if len(xs) == 1:
        return [torch.add(xs[0], _first(other), alpha=alpha)]
    if isinstance(other, (list, tuple)) and other and isinstance(other[0], Tensor):
        return list(torch._foreach_add(xs, _as_list(other), alpha=alpha))
    return list(torch._foreach_add(xs, _as_list(other) if alpha == 1 else _scale(other, alpha)))


def sqrt(xs: Tensors) -> Tensors:
    """New tensors sqrt(xs)."""
    return [torch.sqrt(xs[0])] if len(xs) == 1 else list(torch._foreach_sqrt(xs))


def abs(xs: Tensors) -> Tensors:  # noqa: A001 - mirrors the torch name
    """New tensors |xs|."""
    return [torch.abs(xs[0])] if len(xs) == 1 else list(torch._foreach_abs(xs))


def neg(xs: Tensors) -> Tensors:
    """New tensors -xs."""
    return [torch.neg(xs[0])] if len(xs) == 1 else list(torch._foreach_neg(xs))


def norm(xs: Tensors) -> Tensors:
    """The Euclidean norm of each tensor, as 0-d tensors."""
    return [torch.linalg.vector_norm(xs[0])] if len(xs) == 1 else list(torch._foreach_norm(xs))


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


def flat_view(t: Tensor) -> Tensor:
    """A 1-D view sharing memory with ``t`` (``t`` must be contiguous)."""
    return t.view(-1)


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
