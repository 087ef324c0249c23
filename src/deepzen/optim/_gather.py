"""The first part of every step: a group's parameters that have a gradient, gathered as a :class:`Batch`.

For each parameter with a gradient: its state is created on its first step (the rule's buffers; a
parameter on the meta device is refused), completed when an option that adds a buffer was switched
on mid-run (SGD's momentum, RMSProp's ``centered``: the new buffer starts at the rule's initial
value), and its step count t is advanced. ``maximize`` negates a copy of the gradients; complex
parameters become ``torch.view_as_real`` pairs. Sparse gradients are checked and marked (see ``_sparse``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from deepzen import _tensors as T

#: deepzen's ``Optimizer`` (``_base``, which imports this module): its ``state``, ``rule``,
#: ``_init_state`` and ``_check_sparse`` are used here.
Optimizer = torch.optim.Optimizer


@dataclass
class Batch:
    """The parameters of one group that have a gradient this step, with their state.

    Attributes:
        params: the parameters (complex ones as real views), updated in place.
        grads: their gradients (never modified in place; ``maximize`` already applied).
        state: the rule's buffers (shaped like the parameters), by state key (``exp_avg`` ...).
        steps: each parameter's step count t, already counting this step (1 on its first step).
        step_tensors: the 0-d ``state["step"]`` tensors behind ``steps`` (for torch's fused kernels).
        states: the full ``self.state[p]`` dicts, for non-tensor state an algorithm keeps.
        sparse: positions whose gradient is sparse (not carried over by :meth:`select`).
    """

    params: list[Tensor]
    grads: list[Tensor]
    state: dict[str, list[Tensor]]
    steps: list[float]
    step_tensors: list[Tensor] = field(default_factory=list)
    states: list[dict[str, Any]] = field(default_factory=list)
    sparse: list[int] = field(default_factory=list)

    def __getitem__(self, key: str) -> list[Tensor]:
        return self.state[key]

    def __len__(self) -> int:
        return len(self.params)

    def with_buffers(self, keys: Iterable[str]) -> Batch:
        """This batch with ``state`` holding the buffers ``keys`` of its states (for an algorithm
        whose buffers are not its rule's: Muon's AdamW part, Schedule-Free)."""
        self.state = {k: [s[k] for s in self.states] for k in keys}
        return self

    def select(self, positions: Iterable[int]) -> Batch:
        """A batch of the entries at ``positions``."""
        pos = list(positions)
        return Batch(
            params=[self.params[i] for i in pos],
            grads=[self.grads[i] for i in pos],
            state={k: [v[i] for i in pos] for k, v in self.state.items()},
            steps=[self.steps[i] for i in pos],
            step_tensors=[self.step_tensors[i] for i in pos] if self.step_tensors else [],
            states=[self.states[i] for i in pos] if self.states else [],
        )


def gather(optimizer: Optimizer, group: dict[str, Any]) -> Batch | None:
    """Collect ``group``'s parameters that have a gradient, creating or completing their state and
    counting their steps (``None`` when no parameter has a gradient)."""
    params, grads, states, sparse = [], [], [], []
    all_state = optimizer.state
    for p in group["params"]:
        grad = p.grad                                # read once: each read is a C++ call
        if grad is None:
            continue
        if grad.is_sparse:
            optimizer._check_sparse(p)
            sparse.append(len(params))
        state = all_state[p]
        value = p
        if p.is_complex():
            value, grad = torch.view_as_real(p), torch.view_as_real(grad)
        if not state:
            _refuse_meta(optimizer, p)
            state["step"] = torch.zeros((), dtype=torch.float32, device=p.device)
            state.update(optimizer._init_state(value, group))
        params.append(value)
        grads.append(grad)
        states.append(state)
    if not params:
        return None
    step_tensors, steps = _count_steps(states)
    if group["maximize"]:
        grads = T.neg(grads)
    rule = getattr(optimizer, "rule", None)
    keys = list(rule.initial_values(group)) if rule is not None else []
    try:
        buffers = {k: [s[k] for s in states] for k in keys}
    except KeyError:            # an option that adds a buffer was switched on mid-run
        _add_missing_buffers(optimizer, group, params, states, keys)
        buffers = {k: [s[k] for s in states] for k in keys}
    return Batch(params=params, grads=grads, state=buffers, steps=steps, step_tensors=step_tensors,
                 states=states, sparse=sparse)


def _add_missing_buffers(optimizer: Optimizer, group: dict[str, Any], params: list[Tensor],
                         states: list[dict[str, Any]], keys: list[str]) -> None:
    """Give each state the rule's buffers it lacks, at their initial values (a momentum buffer
    switched on at step 50 starts at 0, so its first step is b = (1 − τ)g, as in torch)."""
    for p, state in zip(params, states):
        if any(k not in state for k in keys):
            fresh = optimizer._init_state(p, group)
            state.update({k: v for k, v in fresh.items() if k not in state})


def _refuse_meta(optimizer: Optimizer, p: Tensor) -> None:
    """Refuse a parameter on the meta device (shapes without values) with the way out."""
    if p.is_meta:
        raise RuntimeError(
            f"{type(optimizer).__name__} cannot step parameters on the meta device (they have shapes "
            f"but no values): materialize the model first, e.g. model.to_empty(device='cpu') "
            f"and initialize it, then step (a parameter of shape {tuple(p.shape)} is on meta)")


def _count_steps(states: list[dict[str, Any]]) -> tuple[list[Tensor], list[float]]:
    """Add 1 to each state's ``step`` (a 0-d tensor); return the step tensors and their new values.

    The step tensors of parameters updated together are kept as views into one 1-D tensor, so counting
    is one ``add_`` and reading the counts one ``tolist``, instead of one call per parameter (~1 us
    each on CPU, a third of the base's per-step overhead with 300 parameters). Steps that are not such
    views (new state, a loaded checkpoint, another set of parameters with gradients) are packed anew,
    keeping their values; steps on several devices are counted one by one.
    """
    steps = [s["step"] for s in states]
    pack = T.view_base(steps[0])
    if pack is None or pack.numel() != len(steps) or any(T.view_base(t) is not pack for t in steps):
        if len({t.device for t in steps}) > 1:
            T.add_(steps, 1)
            return steps, [float(t) for t in steps]
        pack = torch.stack([t.to(torch.float32) for t in steps])       # (n,)
        steps = list(pack.unbind(0))
        for state, view in zip(states, steps):
            state["step"] = view
    pack.add_(1)
    values = pack.tolist()
    return steps, [values[t.storage_offset()] for t in steps]
