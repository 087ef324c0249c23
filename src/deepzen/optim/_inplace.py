"""The operations a rule's math is written with: in place, no temporary tensors when run eagerly,
and the same function compiles for ``fused=True``.

A rule's scalars arrive as Python floats eagerly and as 0-d tensors compiled (see ``_rule``). torch's
in-place ops take a scalar factor only as a Python number (``add_(x, alpha=a)``), so each function here
uses that form for a number and the plain product (``y.add_(a * x)``, which inductor fuses into its one
loop) for a tensor. Eagerly that is the difference between one pass over memory and three plus a new
temporary tensor: fresh memory costs more than the arithmetic on it (on this project's 2-core machine a
16.8M-element temporary costs ~50 ms, an in-place op on the same tensor 6-12 ms).

The few temporaries a rule needs (a denominator) come from :func:`scratch`: eagerly, one buffer per
(slot name, device, dtype) kept and reused (a rule runs over cache-sized slices, so it stays small and
hot); compiled, a new tensor that inductor never materialises. Slot ``"grad"`` is the decayed gradient
(``_decay.coupled``); a rule's own temporaries use ``"tmp"`` and, for a second one alive at once, any
other name.
"""

from __future__ import annotations

import threading

import torch
from torch import Tensor

from deepzen import _tensors as T

Number = float | int
Scalar = Number | Tensor

_SCRATCH = threading.local()
#: Scratch buffers of up to this many elements, or one eager slice (``_tensors.CHUNK_NUMEL`` per thread)
#: where that is more, are kept for the next call; a bigger temporary (a per-layer rule's run of big
#: layers: LAMB, LARS) is allocated each time, so no large buffer outlives its step.
KEEP_NUMEL = 1 << 20


def is_number(a: Scalar) -> bool:
    """Whether ``a`` is a Python number (an eager rule's scalar), not a tensor (a compiled one's)."""
    return not isinstance(a, Tensor)


def is_zero(a: Scalar) -> bool:
    """Whether ``a`` is the Python number 0 (a term an eager rule may skip; compiled it is computed)."""
    return is_number(a) and a == 0


def axpy_(y: Tensor, a: Scalar, x: Tensor) -> Tensor:
    """``y ← y + a·x``."""
    return y.add_(x, alpha=a) if is_number(a) else y.add_(a * x)


def addcmul_(y: Tensor, a: Scalar, x1: Tensor, x2: Tensor) -> Tensor:
    """``y ← y + a·x1·x2``."""
    return y.addcmul_(x1, x2, value=a) if is_number(a) else y.add_(a * x1 * x2)


def addcdiv_(y: Tensor, a: Scalar, x1: Tensor, x2: Tensor | Number) -> Tensor:
    """``y ← y + a·x1/x2`` (``x2`` may be a number: RAdam's un-adapted steps divide by 1)."""
    if not isinstance(x2, Tensor):
        return axpy_(y, a / x2, x1)
    return y.addcdiv_(x1, x2, value=a) if is_number(a) else y.add_(a * x1 / x2)


def scratch(like: Tensor, slot: str = "tmp") -> Tensor:
    """An uninitialised tensor shaped like ``like``: eagerly the reused buffer of ``slot`` (two
    temporaries alive at once need two slots), compiled a new one. Eagerly it is valid until the next
    call with the same slot."""
    if torch.compiler.is_compiling() or like.numel() > max(KEEP_NUMEL, T.CHUNK_NUMEL * torch.get_num_threads()):
        return torch.empty_like(like, memory_format=torch.contiguous_format)
    key = (slot, like.device, like.dtype)
    buffers = _SCRATCH.__dict__.setdefault("buffers", {})
    buf = buffers.get(key)
    if buf is not None and buf.shape == like.shape:     # the common case: every slice of a pack but its last
        return buf
    if buf is None or buf.numel() < like.numel():
        buf = buffers[key] = torch.empty(like.shape, dtype=like.dtype, device=like.device)
        return buf
    return buf.view(-1)[: like.numel()].view(like.shape)


def fresh(x: Tensor, slot: str = "tmp") -> Tensor:
    """A copy of ``x`` to change in place (a scratch buffer eagerly)."""
    if torch.compiler.is_compiling():
        return x.clone()
    return scratch(x, slot).copy_(x)


def sqrt(x: Tensor, slot: str = "tmp") -> Tensor:
    """``√x`` as a new value (a scratch buffer eagerly)."""
    if torch.compiler.is_compiling():
        return x.sqrt()
    return torch.sqrt(x, out=scratch(x, slot))


def product(x: Tensor, a: Scalar, slot: str = "tmp") -> Tensor:
    """``a·x`` as a new value (a scratch buffer eagerly); ``a`` a number or a tensor that broadcasts
    to ``x`` (``product(g, g)`` is g²)."""
    if torch.compiler.is_compiling():
        return a * x
    return torch.mul(x, a, out=scratch(x, slot))


def lerp(x: Tensor, end: Tensor, w: Scalar, slot: str = "tmp") -> Tensor:
    """``x + w·(end − x)`` as a new value (a scratch buffer eagerly)."""
    if torch.compiler.is_compiling():
        return torch.lerp(x, end, w)
    return torch.lerp(x, end, w, out=scratch(x, slot))


def over_(x: Tensor, y: Tensor) -> Tensor:
    """``x / y`` written over ``y`` (a value of this module's, no longer needed): no new memory eagerly."""
    if torch.compiler.is_compiling():
        return x / y
    return torch.div(x, y, out=y)


def maximum_(y: Tensor, x: Tensor) -> Tensor:
    """``y ← max(y, x)`` elementwise (AMSGrad's running maximum)."""
    return y.copy_(torch.maximum(y, x)) if torch.compiler.is_compiling() else torch.maximum(y, x, out=y)


def sqrt_denominator(v: Tensor, scale: Scalar, shift: Scalar, slot: str = "tmp") -> Tensor:
    """``√v·scale + shift`` as a new value, the denominator of the Adam family (``scale`` =
    1/√(1 − β2ᵗ), ``shift`` = ε)."""
    d = sqrt(v, slot)
    if not (is_number(scale) and scale == 1):
        d.mul_(scale)
    return d.add_(shift)
