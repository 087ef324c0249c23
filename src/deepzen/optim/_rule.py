"""An algorithm's step written once, as a :class:`Rule`, and the one runner that applies it.

A rule is the only place an algorithm's math lives. It names the state buffers the step keeps (each
shaped like its parameter, with its initial value), computes the step's scalars in Python once per pack
and step count (bias corrections, lr, clip bounds), and updates one flat slice in place::

    def adam_math(p, g, m, v, vmax, s):
        lam, keep, a1, b2, a2, step, bc2, eps = s       # the scalars, unpacked by name
        ...

``p``, ``g`` and the buffers are 1-D tensors over the same elements (2-D, one row per parameter, for a
rule with ``rows=True``: per-layer norms as in LAMB and LARS). ``g`` is read, never written. A buffer the
group does not keep (AMSGrad's maximum with ``amsgrad=False``) arrives as ``None``.

The runner (:func:`run_rule`) applies the rule over the flat packs of ``deepzen.optim._flat_pack``
(parameters that share a step count, packed into one flat buffer per state key):

- eagerly (the default): ``math`` over cache-sized slices of each pack, the scalars as Python floats
  (the math is written with the in-place operations of ``deepzen.optim._inplace``, so an eager step
  allocates no temporary tensors);
- compiled (``fused=True``): the same ``math`` through ``torch.compile(dynamic=True)`` over the whole
  pack, the scalars as one tensor (a new lr or step count does not recompile).

``before`` runs on each parameter's whole tensors before they are packed (gradient centralization, which
needs each parameter's shape); ``after`` runs once per pack and step after the math, over the whole pack
(Lookahead's synchronization), so a wrapper such as Lookahead is written once and combines with any rule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from deepzen import _tensors as T
from deepzen.optim._flat_pack import FlatPack, fused_update, run_kernel, scalars

Group = Mapping[str, Any]
#: ``before(group, params, grads) -> grads``: over each parameter's whole tensors, before packing;
#: returns the gradients to use (new tensors where changed: never write ``grads`` in place).
Before = Callable[[Group, list[Tensor], list[Tensor]], list[Tensor]]
#: ``after(group, pack, t)``: runs after the math, over the whole pack.
After = Callable[[Group, FlatPack, float], None]


#: An initial buffer value meaning "a copy of the parameter" (Lookahead's slow weights).
COPY_OF_PARAM = "copy of the parameter"


@dataclass(frozen=True)
class Rule:
    """One algorithm's step.

    Attributes:
        buffers: the state keys ``math`` takes after ``p`` and ``g``, in its argument order.
        math: ``math(p, g, *buffers, s)``: the in-place step of one flat slice; ``s`` holds the values
            of ``scalars`` (Python floats eagerly, a 1-D tensor compiled: unpack them by name).
        scalars: ``scalars(group, t)``: the step's scalars for parameters whose step count is ``t``.
        initial: ``initial(group)``: the buffers a new parameter gets, with their initial values
            (a number, or ``COPY_OF_PARAM``; default: every buffer in ``buffers``, zero); a buffer
            left out arrives as ``None``; buffers a hook keeps (not in ``buffers``) are listed here too.
        before: optional step before the math (see ``Before``).
        after: optional step after the math (see ``After``).
        rows: ``math`` takes 2-D tensors, one row per parameter (per-layer norms), not 1-D slices.
        per_layer: (with ``rows``) ``scalars(group, t, layer)`` is called per run of same-sized
            parameters, ``layer`` one of them (LARS leaves 1-D layers unadapted).
    """

    buffers: tuple[str, ...]
    math: Callable[..., None]
    scalars: Callable[[Group, float], Sequence[float]]
    initial: Callable[[Group], Mapping[str, float]] | None = None
    before: Before | None = None
    after: After | None = None
    rows: bool = False
    per_layer: bool = False

    def init_state(self, p: Tensor, group: Group) -> dict[str, Tensor]:
        """The buffers of a new parameter ``p``: contiguous, shaped like ``p``, at their initial values."""
        return {k: p.detach().clone(memory_format=torch.contiguous_format) if v is COPY_OF_PARAM
                else torch.full_like(p, v, memory_format=torch.contiguous_format)
                for k, v in self.initial_values(group).items()}

    def initial_values(self, group: Group) -> dict[str, Any]:
        """The buffers a new parameter of ``group`` gets, by state key, with their initial values."""
        return {k: 0.0 for k in self.buffers} if self.initial is None else dict(self.initial(group))

    def with_hooks(self, before: Before | None = None, after: After | None = None,
                   extra: Mapping[str, Any] | None = None) -> Rule:
        """This rule with ``before`` / ``after`` steps added (run after this rule's own ones) and
        ``extra`` buffers (by key, with initial values) that the hooks keep."""
        added = dict(extra or {})
        return Rule(self.buffers, self.math, self.scalars, lambda group: {**self.initial_values(group), **added},
                    _chain_before(self.before, before), _chain_after(self.after, after), self.rows, self.per_layer)


def run_rule(optimizer: torch.optim.Optimizer, rule: Rule, group: Group, batch: Any, compiled: bool) -> None:
    """Apply ``rule`` to ``batch`` (one device and dtype) over flat packs, eagerly or compiled."""

    if rule.before is not None:
        batch.grads = rule.before(group, batch.params, batch.grads)

    def step(pack: FlatPack, grad: Tensor, t: float) -> None:
        bufs = [pack.state.get(k) for k in rule.buffers]
        s = None if rule.per_layer else tuple(rule.scalars(group, t))
        if rule.rows:
            rows = zip(pack.runs, pack.rows(pack.p), pack.rows(grad), *_rows_or_none(pack, bufs))
            for (_, _, _, first), *tensors in rows:
                layer_s = s if s is not None else tuple(rule.scalars(group, t, pack.params[first]))  # type: ignore[call-arg]
                if compiled:
                    run_kernel(rule.math, *tensors, scalars(layer_s, pack.p))
                else:
                    rule.math(*tensors, layer_s)
        elif compiled:
            run_kernel(rule.math, pack.p, grad, *bufs, scalars(s, pack.p))
        else:
            for start, stop in T.chunk_bounds(pack.p.numel()):
                rule.math(pack.p[start:stop], grad[start:stop],
                          *(None if b is None else b[start:stop] for b in bufs), s)
        if rule.after is not None:
            rule.after(group, pack, t)

    fused_update(optimizer, batch, step)


def _rows_or_none(pack: FlatPack, bufs: list[Tensor | None]) -> list[list[Tensor | None]]:
    n = len(pack.runs)
    return [[None] * n if b is None else pack.rows(b) for b in bufs]


def _chain_before(first: Before | None, second: Before | None) -> Before | None:
    if first is None or second is None:
        return first or second
    return lambda group, params, grads: second(group, params, first(group, params, grads))


def _chain_after(first: After | None, second: After | None) -> After | None:
    if first is None or second is None:
        return first or second

    def both(group: Group, pack: FlatPack, t: float) -> None:
        first(group, pack, t)
        second(group, pack, t)
    return both
