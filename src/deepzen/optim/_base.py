"""The base class every deepzen optimizer derives from.

It keeps the rules every deepzen optimizer follows (the torch.optim contract, listed below) in one
place so each algorithm file holds only its :class:`~deepzen.optim._rule.Rule` and its checks:

- hyperparameters live in ``param_groups``; every group (also one added later with
  ``add_param_group``) is validated by the subclass's :meth:`Optimizer._check_group`;
- all per-parameter state, the step count included, lives in ``self.state[p]``; the step count is per
  parameter (a parameter that first gets a gradient at step 50 starts at t = 1);
- ``p.grad`` is never modified (``maximize`` negates a copy);
- ``step(closure)`` evaluates the closure under ``torch.enable_grad()`` and returns its loss;
- complex parameters are updated as ``torch.view_as_real`` pairs;
- ``lr`` may be a 1-element tensor (read once per step, as torch's loops do);
- sparse gradients go to ``_update_sparse`` of the algorithms that take them
  (``sparse_gradients = True``); the others refuse them;
- ``load_state_dict`` also loads state dicts of older versions and of torch's own optimizers
  (see ``_compat``).

Each step, a group's parameters with gradients are gathered (state created, step counts advanced),
split by (device, dtype), and go either to torch's fused kernel (Adam family, SGD family, Adagrad:
where the group uses it) or to the algorithm's rule, run by ``_rule.run_rule`` over flat packs of the
parameters that share a step count (see docs/OPTIMIZERS-DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from deepzen import _tensors as T
from deepzen.optim._compat import settle_loaded_state, upgrade_state_dict
from deepzen.optim._rule import Rule, run_rule


@dataclass
class Batch:
    """The parameters of one group that have a gradient this step, with their state.

    Attributes:
        params: the parameters (complex ones as real views), updated in place.
        grads: their gradients (never modified in place; ``maximize`` already applied).
        state: per-parameter buffers shaped like the parameters, by state key (``exp_avg`` ...).
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


class Optimizer(torch.optim.Optimizer):
    """Base of deepzen's optimizers: a ``torch.optim.Optimizer`` with validated groups, per-parameter
    step counts, closure handling, and each algorithm's rule run over flat packs (or torch's fused kernels).

    Subclasses define:

    - ``rule``: the algorithm's :class:`~deepzen.optim._rule.Rule` (its buffers, scalars and math);
    - ``_check_group(group)``: raise ``ValueError`` for bad hyperparameters (see ``_checks``);
    - optionally ``_fused_update(group, batch)``: torch's fused kernel, where it computes the rule's math.

    Class attributes: ``needs_loss`` (the closure is required, as in Eve) and ``sparse_gradients``
    (sparse gradients are taken, through ``_update_sparse``).
    """

    rule: Rule | None = None
    needs_loss: bool = False
    sparse_gradients: bool = False

    def __init__(self, params: Any, defaults: dict[str, Any]) -> None:
        defaults.setdefault("maximize", False)
        super().__init__(params, defaults)

    # ------------------------------------------------------------------ hyperparameters
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group (filled from the defaults), validating its hyperparameters."""
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        try:
            self._check_group(group)
        except ValueError:
            self.param_groups.pop()
            raise

    def _check_group(self, group: dict[str, Any]) -> None:
        """Raise ``ValueError`` naming a bad hyperparameter in ``group``."""

    # ------------------------------------------------------------------ state
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state dict as torch does; one saved by an older version or by torch's own optimizer
        also loads: a group's missing options take this optimizer's values for the group, torch's
        names become ours, and step counts saved as numbers (or not at all) become tensors."""
        super().load_state_dict(upgrade_state_dict(state_dict, self.param_groups))
        settle_loaded_state(self.state)
        for group in self.param_groups:
            self._check_group(group)

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        """The state a parameter starts with (buffers shaped like ``p``): the rule's buffers."""
        return {} if self.rule is None else self.rule.init_state(p, group)

    # ------------------------------------------------------------------ the step
    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        """Perform one optimization step; returns the closure's loss (``None`` without a closure)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        elif self.needs_loss:
            raise ValueError(
                f"{type(self).__name__} needs the loss every step: call step(closure) with a closure "
                "that computes the loss and its gradients"
            )
        loss_value = None if loss is None else float(loss)
        self._before_step(loss_value)
        for group in self.param_groups:
            batch = self._gather(group)
            if batch is None:
                continue
            if isinstance(group["lr"], Tensor):          # the algorithms take lr as a number
                group = {**group, "lr": group["lr"].item()}
            if batch.sparse:
                self._update_sparse(group, batch.select(batch.sparse), loss_value)
                if len(batch.sparse) == len(batch):
                    continue
                batch = batch.select(i for i in range(len(batch)) if i not in set(batch.sparse))
            self._dispatch(group, batch, loss_value)
        return loss

    def _before_step(self, loss: float | None) -> None:
        """Hook run once per step before any group is updated (Eve's global loss ratio)."""

    def _gather(self, group: dict[str, Any]) -> Batch | None:
        """Collect the group's parameters that have a gradient, initializing new state, counting steps."""
        params, grads, states, sparse = [], [], [], []
        all_state = self.state
        for p in group["params"]:
            grad = p.grad                                # read once: each read is a C++ call
            if grad is None:
                continue
            if grad.is_sparse:
                self._check_sparse(p)
                sparse.append(len(params))
            state = all_state[p]
            value = p
            if p.is_complex():
                value, grad = torch.view_as_real(p), torch.view_as_real(grad)
            if not state:
                if p.is_meta:
                    raise RuntimeError(
                        f"{type(self).__name__} cannot step parameters on the meta device (they have shapes "
                        f"but no values): materialize the model first, e.g. model.to_empty(device='cpu') "
                        f"and initialize it, then step (a parameter of shape {tuple(p.shape)} is on meta)")
                state["step"] = torch.zeros((), dtype=torch.float32, device=p.device)
                state.update(self._init_state(value, group))
            params.append(value)
            grads.append(grad)
            states.append(state)
        if not params:
            return None
        step_tensors, steps = _count_steps(states)
        if group["maximize"]:
            grads = T.neg(grads)
        # Buffers shaped like their parameter travel with it (and are chunked with it); other state
        # (scalars, flags) stays reachable through ``Batch.states``.
        keys = [k for k, v in states[0].items()
                if k != "step" and isinstance(v, Tensor) and v.shape == params[0].shape]
        try:
            buffers = {k: [s[k] for s in states] for k in keys}
        except KeyError:            # an option that adds a buffer was switched on mid-run: common ones only
            buffers = {k: [s[k] for s in states] for k in keys if all(k in s for s in states)}
        return Batch(
            params=params,
            grads=grads,
            state=buffers,
            steps=steps,
            step_tensors=step_tensors,
            states=states,
            sparse=sparse,
        )

    def _check_sparse(self, p: Tensor) -> None:
        """Refuse a sparse gradient where the algorithm takes none (or the parameter is complex)."""
        name = type(self).__name__
        if not self.sparse_gradients:
            raise RuntimeError(
                f"{name} does not support sparse gradients (a parameter of shape {tuple(p.shape)} has one): "
                "use dense gradients (e.g. nn.Embedding(..., sparse=False)), or SGD or Adagrad, which take them")
        if p.is_complex():
            raise RuntimeError(f"{name} does not support sparse gradients of complex parameters")

    def _update_sparse(self, group: dict[str, Any], batch: Batch, loss: float | None) -> None:
        """The update of parameters whose gradients are sparse: the rule on the gradients made dense
        (the same result; algorithms with a lazy sparse form, as Adagrad, override this)."""
        batch.grads = [g.to_dense() for g in batch.grads]
        run_rule(self, self._rule(), group, batch, compiled=False)

    def _dispatch(self, group: dict[str, Any], batch: Batch, loss: float | None) -> None:
        """Split by (device, dtype); each part goes to torch's fused kernel where the algorithm has one
        and the group uses it (:meth:`_fused_update`), else to the algorithm's rule (eager, or compiled
        with ``fused=True``)."""
        groups = T.group_by_device_dtype(range(len(batch)), batch.params)
        torch_kernel = type(self)._fused_update is not Optimizer._fused_update
        for (device, dtype), positions in groups.items():
            part = batch if len(groups) == 1 else batch.select(positions)
            if not (torch_kernel and self._use_fused(group, device, dtype)):
                run_rule(self, self._rule(), group, part, compiled=bool(group.get("fused")))
                continue
            if not _all_contiguous_lists(part):
                # torch's kernels walk each tensor's memory in order, pairing the i-th element of the
                # parameter with the i-th of its gradient and buffers: other layouts take the rule.
                walkable = [i for i in range(len(part)) if _one_dense_layout(part, i)]
                if len(walkable) < len(part):
                    kept = set(walkable)
                    rest = part.select(i for i in range(len(part)) if i not in kept)
                    run_rule(self, self._rule(), group, rest, compiled=False)
                    if not walkable:
                        continue
                    part = part.select(walkable)
            self._fused_update(group, part)

    def _rule(self) -> Rule:
        if self.rule is None:
            raise NotImplementedError(f"{type(self).__name__} defines no rule (see deepzen.optim._rule)")
        return self.rule

    def _use_fused(self, group: dict[str, Any], device: torch.device, dtype: torch.dtype) -> bool:
        """Whether ``_fused_update`` takes this group's tensors: the group's ``fused`` option, where it
        has one (``None`` = wherever torch's fused kernels support the device and dtype)."""
        choice = group.get("fused")
        if choice is None:
            return type(self)._fused_update is not Optimizer._fused_update and T.fused_supported_for(device, dtype)
        return bool(choice)

    def _fused_update(self, group: dict[str, Any], batch: Batch) -> None:
        """The update through torch's fused kernel, for algorithms whose math matches one exactly
        (subclasses override this; each such kernel is tested against the algorithm's rule)."""
        raise NotImplementedError(f"{type(self).__name__} has no torch kernel")


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


def _all_contiguous_lists(batch: Batch) -> bool:
    """Whether every parameter and gradient of ``batch`` is contiguous (the common case, checked in
    bulk: ~0.1 us per tensor, where :func:`_one_dense_layout` costs ~2 us per parameter). Buffers are
    contiguous by construction (``zeros_like``) and after ``load_state_dict`` (``_compat``)."""
    contiguous = Tensor.is_contiguous
    return all(map(contiguous, batch.params)) and all(map(contiguous, batch.grads))


def _one_dense_layout(batch: Batch, i: int) -> bool:
    """Whether parameter ``i`` of ``batch``, its gradient and its buffers fill their memory without
    gaps and share one layout (strides), so element k of each memory block is the same coordinate."""
    p = batch.params[i]
    strides = p.stride()
    return T.is_dense(p) and batch.grads[i].stride() == strides and all(
        v[i].stride() == strides for v in batch.state.values())


def zeros_like(p: Tensor) -> Tensor:
    """A zero buffer shaped like ``p``, contiguous (so big ones can be chunked)."""
    return torch.zeros_like(p, memory_format=torch.contiguous_format)
