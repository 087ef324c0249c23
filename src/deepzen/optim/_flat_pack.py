"""Flat packs of a group's parameters, the memory a rule runs over (eagerly or compiled), and
``run_kernel``, which compiles a rule's math with ``torch.compile`` for ``fused=True``.

Compiled, the math becomes one loop over the elements (C++ with OpenMP on CPU, which needs a C++
compiler; Triton on GPU) that reads and writes each buffer once. The step's scalars (lr, bias
corrections, clip bounds, ...) arrive as a tensor, so a scheduled lr or a new t never recompiles it.

A rule runs over a :class:`FlatPack` of a group's parameters that share their step count t:

- small tensors are *packed*: their state buffers live in one flat tensor per key (``state[p][key]``
  become views into it, so ``state_dict`` and the multi-tensor path see ordinary tensors), and so do
  the parameters themselves: each stays the same ``Parameter`` object, but its data becomes a view
  into the pack's flat tensor (as in FSDP's flat parameters). Each step only the gradients are copied
  in. A parameter that cannot move without breaking something (a complex one, a channels-last one,
  one sharing memory with another tensor) keeps its memory and is copied in and out each step;
- a big contiguous tensor is *aliased*: the kernel reads and writes the parameter, its gradient and
  its state through flat aliases of their memory, and nothing is copied.

Parameters whose counts differ (one started late) form separate packs. A pack is rebuilt when its
parameters' state was replaced (``load_state_dict``) or a parameter's data was (``p.data = ...``,
``module.to(...)``).
"""

from __future__ import annotations

import collections
import contextlib
import warnings
import weakref
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from typing import Any

import torch
from torch import Tensor

from deepzen import _tensors as T

Kernel = Callable[..., None]
_COMPILED: dict[Kernel, Kernel] = {}
_RAN_EAGERLY: set[Kernel] = set()

#: Graphs torch.compile may build for one kernel. Shapes are dynamic, but a graph is still specialized
#: on dtype, device, which buffers are None, and size classes of the runs (one row or several, rows of
#: 1, of up to 4096 elements or more): a few dozen at most, where dynamo's default limit of 8 (meant
#: for a user's function) is reached by a handful of models in one process.
KERNEL_RECOMPILE_LIMIT = 64


def run_kernel(kernel: Kernel, *args: Tensor | None) -> None:
    """Call ``kernel`` compiled (once per kernel; shapes are dynamic, so one graph per dtype and
    device, mostly). Past ``KERNEL_RECOMPILE_LIMIT`` graphs it runs eagerly (the same function, one
    memory pass per operation) with a one-time warning; a failure of the compilation (no C++
    compiler, ...) becomes an error that says so."""
    fn = _COMPILED.get(kernel)
    if fn is None:
        fn = _COMPILED[kernel] = torch.compile(kernel, fullgraph=True, dynamic=True)
    try:
        with _recompile_limit(KERNEL_RECOMPILE_LIMIT):
            fn(*args)
    except Exception as exc:      # inductor's errors differ by backend; all of them mean the same here
        if not T.is_recompile_limit_error(exc):
            raise RuntimeError(
                f"fused=True could not run {kernel.__name__} through torch.compile ({type(exc).__name__}: "
                f"{str(exc).strip().splitlines()[0] if str(exc).strip() else 'no message'}). On CPU, "
                "torch.compile needs a working C++ compiler; fused=False runs the same algorithm without it."
            ) from exc
        if kernel not in _RAN_EAGERLY:
            _RAN_EAGERLY.add(kernel)
            warnings.warn(
                f"fused=True: {kernel.__name__} reached its limit of {KERNEL_RECOMPILE_LIMIT} compiled graphs "
                "(torch.compile recompiles for each new dtype, device and size class of the parameters); "
                "tensors it has no graph for are now updated without compilation (same results, slower).",
                stacklevel=2,
            )
        kernel(*args)             # the compilation failed before running: nothing was written yet


def _recompile_limit(limit: int) -> contextlib.AbstractContextManager[Any]:
    """Allow ``limit`` graphs per function while compiling (torch >= 2.6; older torch keeps its own)."""
    config = getattr(torch.compiler, "config", None)
    if config is None or not hasattr(config, "recompile_limit"):
        return contextlib.nullcontext()
    return config.patch(recompile_limit=limit)


def scalars(values: Sequence[float], like: Tensor) -> Tensor:
    """The step's scalars as a 1-D tensor on ``like``'s device (float64 for float64 parameters, else
    float32: the precision the multi-tensor ops compute in)."""
    dtype = torch.float64 if like.dtype == torch.float64 else torch.float32
    return torch.tensor(values, dtype=dtype, device=like.device)


class FlatPack:
    """Parameters (sharing one step count) updated by kernel calls over flat tensors.

    Packed parameters are laid out by size, so parameters with the same number of elements and
    dimensions lie next to each other: each such *run* can be seen as a 2-D tensor with one row per
    parameter (:meth:`rows`), for kernels that need per-parameter norms (LAMB, LARS).

    Attributes:
        params: this step's parameters (as the batch has them), set by :meth:`load`.
        p: the flat parameters: the memory they live in (packed parameters that moved in, or an alias
            of a big one), else, for those that could not move, a copy made each step.
        state: flat buffers by state key.
        runs: (offset, rows, row length, position in ``params`` of the run's first parameter).
    """

    def __init__(self, params: list[Tensor], states: list[dict[str, Any]], keys: Sequence[str],
                 buffers: MutableMapping[int, Tensor]) -> None:
        """Pack ``params`` with their ``states``' buffers ``keys``; ``buffers``: the flat parameter
        buffers of the optimizer's packs (weak, by data pointer), which this one joins."""
        self.keys = tuple(keys)
        self.aliased = len(params) == 1 and params[0].is_contiguous() and all(
            states[0][k].is_contiguous() for k in self.keys)
        self._order = sorted(range(len(params)), key=lambda i: (params[i].numel(), params[i].dim()))
        self.runs: list[tuple[int, int, int, int]] = []
        offset = 0
        for i in self._order:
            n, last = params[i].numel(), self.runs[-1] if self.runs else None
            if last is not None and last[2] == n and params[last[3]].dim() == params[i].dim():
                self.runs[-1] = (last[0], last[1] + 1, n, last[3])
            else:
                self.runs.append((offset, 1, n, i))
            offset += n
        self._rows: dict[int, list[Tensor]] = {}
        self._copied: list[int] = []             # positions (in layout order) of parameters copied in and out
        if self.aliased:
            self.p = T.flat_alias(params[0])
            self.state = {k: T.flat_alias(states[0][k]) for k in self.keys}
        else:
            ordered = [params[i] for i in self._order]
            self.p = ordered[0].new_empty(offset)
            self._grad = torch.empty_like(self.p)
            self.state = {}
            for k in self.keys:
                flat = torch.empty_like(self.p)
                T.cat_flat_(flat, [states[i][k] for i in self._order])
                for i, view in zip(self._order, self._split(flat, ordered)):
                    states[i][k] = view
                self.state[k] = flat
            self._p_views = self._split(self.p, ordered)
            self._g_views = self._split(self._grad, ordered)
            T.copy_(self._p_views, ordered)
            buffers[self.p.untyped_storage().data_ptr()] = self.p
            for j, (q, view, movable) in enumerate(zip(ordered, self._p_views, _movable(ordered, buffers))):
                if movable:
                    q.data = view                                # the same Parameter, now in the pack
                else:
                    self._copied.append(j)
        self._tracked = [s[self.keys[0]] for s in states] if self.keys else []
        self._data_ptrs = [q.data_ptr() for q in params]

    def _split(self, flat: Tensor, ordered: list[Tensor]) -> list[Tensor]:
        return [v.view(p.shape) for v, p in zip(flat.split([p.numel() for p in ordered]), ordered)]

    def valid(self, params: list[Tensor], states: list[dict[str, Any]]) -> bool:
        """Whether the pack still holds these parameters' state (not replaced by ``load_state_dict``)
        and their data (not replaced by ``p.data = ...`` or ``module.to(...)``)."""
        if any(q.data_ptr() != ptr for q, ptr in zip(params, self._data_ptrs)):
            return False
        return not self.keys or all(s.get(self.keys[0]) is t for s, t in zip(states, self._tracked))

    def load(self, params: list[Tensor], grads: list[Tensor]) -> Tensor:
        """Bring this step's gradients in (and the parameters that could not move); returns the flat
        gradient."""
        self.params = params
        if self.aliased:
            return T.flat_alias(grads[0].contiguous())
        T.copy_(self._g_views, [grads[i] for i in self._order])
        if self._copied:
            T.copy_([self._p_views[j] for j in self._copied], [params[self._order[j]] for j in self._copied])
        return self._grad

    def store(self, params: list[Tensor]) -> None:
        """Count the kernel's in-place change in the parameters' version counters (autograd checks
        them); copy the result back to the parameters that could not move."""
        T.bump_version(params)
        if self._copied:
            T.copy_([params[self._order[j]] for j in self._copied], [self._p_views[j] for j in self._copied])

    def rows(self, flat: Tensor) -> list[Tensor]:
        """One 2-D tensor per run over ``flat`` (``p``, a state buffer or the flat gradient): row r of
        run j is the run's r-th parameter, flattened."""
        owned = flat is self.p or any(flat is b for b in self.state.values()) or flat is getattr(self, "_grad", None)
        rows = self._rows.get(id(flat)) if owned else None
        if rows is None:
            rows = [T.flat_alias(flat, offset, (count, n)) for offset, count, n, _ in self.runs]
            if owned:
                self._rows[id(flat)] = rows
        return rows


StepFn = Callable[[FlatPack, Tensor, float], None]


def fused_update(optimizer: torch.optim.Optimizer, batch: Any, step: StepFn) -> None:
    """Run ``step(pack, flat_grad, t)`` over ``batch`` (one device and dtype) in flat packs: one per big
    contiguous tensor (aliased), one for the rest, each split by step count t."""
    packs: dict[tuple[int, ...], FlatPack] = optimizer.__dict__.setdefault("_flat_packs", {})
    buffers = optimizer.__dict__.setdefault("_flat_buffers", weakref.WeakValueDictionary())
    keys = tuple(batch.state)
    parts: dict[tuple[float, bool], list[int]] = {}
    for i, (p, t) in enumerate(zip(batch.params, batch.steps)):
        alone = p.numel() >= T.BIG_TENSOR_NUMEL and p.is_contiguous()
        parts.setdefault((t, alone), []).append(i)
    for (t, alone), positions in parts.items():
        for part in ([[i] for i in positions] if alone else [positions]):
            params = [batch.params[i] for i in part]
            states = [batch.states[i] for i in part]
            key = tuple(id(s) for s in states)
            pack = packs.get(key)
            if pack is None or pack.keys != keys or not pack.valid(params, states):
                for other in [k for k in packs if not set(k).isdisjoint(key)]:
                    del packs[other]
                pack = packs[key] = FlatPack(params, states, keys, buffers)
            grad = pack.load(params, [batch.grads[i] for i in part])
            step(pack, grad, t)
            pack.store(params)


def _movable(params: list[Tensor], buffers: Mapping[int, Tensor]) -> list[bool]:
    """Which of these parameters can become views into a new pack: contiguous real tensors, each in an
    earlier pack's buffer (``buffers``, by data pointer) or alone in memory of its own (not a view,
    not sharing its storage with any other tensor we can see)."""
    storages = [q.untyped_storage() for q in params]
    ptrs = collections.Counter(st.data_ptr() for st in storages)
    return [
        T.view_base(q) is None and q.is_contiguous() and (
            st.data_ptr() in buffers
            or (ptrs[st.data_ptr()] == 1 and q.storage_offset() == 0 and st.nbytes() == q.numel() * q.element_size()))
        for q, st in zip(params, storages)
    ]
