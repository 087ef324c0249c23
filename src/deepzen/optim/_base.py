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
  (``sparse_gradients = True``); the others refuse them (``_sparse``);
- ``load_state_dict`` also loads state dicts of older versions and of torch's own optimizers
  (see ``_compat``).

Each step, a group's parameters with gradients are gathered (``_gather``: state created or completed,
step counts advanced), split by (device, dtype), and go either to torch's fused kernel (Adam family, SGD family, Adagrad:
where the group uses it) or to the algorithm's rule, run by ``_rule.run_rule`` over flat packs of the
parameters that share a step count (see docs/OPTIMIZERS-DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from deepzen import _tensors as T
from deepzen.optim import _sparse
from deepzen.optim._compat import settle_loaded_state, upgrade_state_dict
from deepzen.optim._gather import Batch, gather
from deepzen.optim._rule import Rule, run_rule


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
    @staticmethod
    def _run_closure(closure: Callable[[], Any] | None) -> Any:
        """The closure's loss, computed with gradients enabled (``None`` without a closure)."""
        if closure is None:
            return None
        with torch.enable_grad():
            return closure()

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        """Perform one optimization step; returns the closure's loss (``None`` without a closure)."""
        loss = self._run_closure(closure)
        if closure is None and self.needs_loss:
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
                sparse, dense = _sparse.split(batch)
                self._update_sparse(group, sparse, loss_value)
                if dense is None:
                    continue
                batch = dense
            self._dispatch(group, batch, loss_value)
        return loss

    def _before_step(self, loss: float | None) -> None:
        """Hook run once per step before any group is updated (Eve's global loss ratio)."""

    def _gather(self, group: dict[str, Any]) -> Batch | None:
        """The group's parameters that have a gradient, with their state and step counts (see ``_gather``)."""
        return gather(self, group)

    def _check_sparse(self, p: Tensor) -> None:
        """Refuse a sparse gradient of ``p`` where this algorithm takes none (see ``_sparse``)."""
        _sparse.check(self, p)

    def _update_sparse(self, group: dict[str, Any], batch: Batch, loss: float | None) -> None:
        """The update of parameters whose gradients are sparse: the rule on the gradients made dense
        (the same result; algorithms with a lazy sparse form, as Adagrad, override this)."""
        run_rule(self, self._rule(), group, _sparse.densified(batch), compiled=False)

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
