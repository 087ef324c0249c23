"""Proof that the comparison machinery can fail: plant known bugs and watch the checks catch them.

Part 1 plants bugs where ``harness.run_case`` must see them (the step-by-step float64 comparison with
an independent reference). Part 2 plants the pitfalls of OPTIMIZERS.md in subclasses of Adam and runs
the contract tests of ``test_contract.py`` against them: each must fail.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import torch

from deepzen.optim._base import Batch
from deepzen import _tensors as T
from deepzen.optim.adam import ADAM, Adam, adam_math, adam_scalars
from tests.optim import test_contract as contract
from tests.optim.contract_cases import Spec
from tests.optim.harness import LATE_START, VECTOR_GAP, Case, run_case
from tests.optim.references.adam import RefAdam


# ----------------------------------------------------------------------------- planted optimizers
class LateBiasCorrectionAdam(Adam):
    """Adam whose bias correction runs one step late (1 − βᵗ⁺¹ instead of 1 − βᵗ)."""

    rule = dataclasses.replace(ADAM, scalars=lambda group, t: adam_scalars(group, t + 1))


class PerGroupStepAdam(Adam):
    """Adam with the classic peer bug: one step counter per param group, not per parameter."""

    def _gather(self, group: dict[str, Any]) -> Batch | None:
        batch = super()._gather(group)
        if batch is not None:
            group["_count"] = group.get("_count", 0) + 1
            for s in batch.step_tensors:
                s.fill_(group["_count"])
            batch.steps = [float(group["_count"])] * len(batch)
        return batch


class NoneGradAsZeroAdam(Adam):
    """Adam that treats a missing gradient as a zero gradient (its state and value keep moving)."""

    def step(self, closure: Any = None) -> Any:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None and self.state.get(p):
                    p.grad = torch.zeros_like(p)
        return super().step(closure)


class GradMutatingAdam(Adam):
    """Adam that adds its L2 decay to ``p.grad`` in place."""

    def step(self, closure: Any = None) -> Any:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.grad.add_(p.detach(), alpha=group["weight_decay"] or 0.01)
        return super().step(closure)


class InitLrAdam(Adam):
    """Adam that reads the learning rate captured in ``__init__`` (schedulers and new groups ignored)."""

    def __init__(self, params: Any, lr: float = 1e-3, **kw: Any) -> None:
        super().__init__(params, lr, **kw)
        self.rule = dataclasses.replace(ADAM, scalars=lambda group, t: adam_scalars({**group, "lr": lr}, t))


class UncheckedAdam(Adam):
    """Adam without hyperparameter validation."""

    def _check_group(self, group: dict[str, Any]) -> None:
        pass


class LostClosureAdam(Adam):
    """Adam that evaluates the closure but returns ``None``."""

    def step(self, closure: Any = None) -> Any:
        super().step(closure)
        return None


class LossyCheckpointAdam(Adam):
    """Adam whose ``state_dict`` rounds the moments to float32."""

    def state_dict(self) -> dict[str, Any]:
        sd = super().state_dict()
        sd["state"] = {i: {**s, "exp_avg": s["exp_avg"].float().double()} for i, s in sd["state"].items()}
        return sd


class IgnoresMaximizeAdam(Adam):
    """Adam that descends even with ``maximize=True``."""

    def _gather(self, group: dict[str, Any]) -> Batch | None:
        return super()._gather({**group, "maximize": False})


class RealPartAdam(Adam):
    """Adam that silently drops the imaginary part of complex gradients."""

    def step(self, closure: Any = None) -> Any:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None and p.is_complex():
                    p.grad = torch.complex(p.grad.real, torch.zeros_like(p.grad.real))
        return super().step(closure)


def _math_without_eps_on_the_ragged_slice(p: torch.Tensor, g: torch.Tensor, *rest: Any) -> None:
    *buffers, s = rest
    if p.numel() % T.CHUNK_NUMEL:                  # the last, shorter slice of a pack forgets ε
        s = (*s[:-1], 0.0)
    adam_math(p, g, *buffers, s)


class SingleTensorBugAdam(Adam):
    """Adam whose eager runner forgets the ε term in the last, shorter slice of each flat pack."""

    rule = dataclasses.replace(ADAM, math=_math_without_eps_on_the_ragged_slice)


# ----------------------------------------------------------------------------- part 1: harness
def test_harness_accepts_correct_adam() -> None:
    run_case(Case("adam", RefAdam, {"fused": False}))          # the control: no bug, no error


def test_harness_catches_late_bias_correction() -> None:
    case = Case("adam", RefAdam, {"fused": False}, make=LateBiasCorrectionAdam)
    with pytest.raises(AssertionError, match="step 1, param 0"):
        run_case(case)


def test_harness_catches_a_planted_reference_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    yogi_ref = pytest.importorskip("tests.optim.references.yogi")
    if not hasattr(yogi_ref, "_sign") or not hasattr(yogi_ref, "RefYogi"):
        pytest.skip("the Yogi reference changed shape; plant the sign flip elsewhere")
    case = Case("yogi", yogi_ref.RefYogi, {"lr": 0.02, "initial_accumulator_value": 1.0})  # v stays > 0
    run_case(case)                                            # the control passes
    sign = yogi_ref._sign
    monkeypatch.setattr(yogi_ref, "_sign", lambda x: -sign(x))  # Yogi's sign(v − g²) flipped
    with pytest.raises(AssertionError, match="yogi"):
        run_case(case)


@pytest.mark.parametrize("fused", [False, None], ids=["foreach", "fused"])
def test_harness_late_parameter_catches_a_per_group_step_count(fused: bool | None) -> None:
    case = Case("adam", RefAdam, {"fused": fused}, make=PerGroupStepAdam)
    with pytest.raises(AssertionError, match=f"step {LATE_START}, param 2 "):
        run_case(case)


def test_harness_gap_catches_state_moving_without_a_gradient() -> None:
    case = Case("adam", RefAdam, {"fused": False}, make=NoneGradAsZeroAdam)
    with pytest.raises(AssertionError, match=f"step {VECTOR_GAP}, param 1 "):
        run_case(case)


# ----------------------------------------------------------------------------- part 2: contract
def _spec(cls: type, **kwargs: Any) -> Spec:
    return Spec(f"planted-{cls.__name__}", kwargs={"fused": False, **kwargs}, lr=0.05, build=cls)


PLANTS = [
    (NoneGradAsZeroAdam, contract.test_none_grad_leaves_state_and_param_untouched),
    (PerGroupStepAdam, contract.test_late_parameter_starts_its_own_step_count),
    (InitLrAdam, contract.test_add_param_group_mid_run),
    (LossyCheckpointAdam, contract.test_state_dict_round_trip_mid_run_is_bitwise),
    (LostClosureAdam, contract.test_closure_loss_is_returned),
    (GradMutatingAdam, contract.test_grads_are_never_modified),
    (UncheckedAdam, contract.test_bad_hyperparameters_raise_naming_the_argument),
    (IgnoresMaximizeAdam, contract.test_maximize_ascends),
    (RealPartAdam, contract.test_complex_parameters_behave_as_real_pairs),
]


@pytest.mark.parametrize(("plant", "check"), PLANTS, ids=[p.__name__ for p, _ in PLANTS])
def test_contract_catches_planted_bug(plant: type, check: Any) -> None:
    check(_spec(Adam))                                       # the control: plain Adam passes
    with pytest.raises((AssertionError, pytest.fail.Exception)):
        check(_spec(plant))


@pytest.mark.parametrize("kind", ["step", "onecycle"])
def test_scheduler_check_catches_an_lr_captured_in_init(kind: str) -> None:
    contract.test_lr_schedulers_drive_the_step(_spec(Adam), kind)
    with pytest.raises(AssertionError):
        contract.test_lr_schedulers_drive_the_step(_spec(InitLrAdam), kind)


def test_dispatch_check_catches_a_single_tensor_path_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    contract.test_big_tensor_path_equals_many_small_tensors(_spec(Adam), monkeypatch)
    with pytest.raises(AssertionError):
        contract.test_big_tensor_path_equals_many_small_tensors(_spec(SingleTensorBugAdam), monkeypatch)
