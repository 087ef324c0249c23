"""``fused=True`` for the algorithms torch has no kernel for: one kernel compiled by torch.compile.

The compiled kernels are proved the same way as the multi-tensor code: every reference case of each
algorithm is run again with ``fused=True`` against the independent float64 re-derivation of its paper
(the contract table runs them too, in ``test_contract.py``). The rest checks what the flat packs add:
parameters moved into the pack stay the same objects, a replaced parameter or state is picked up,
autograd still sees the in-place change, big tensors run in place, and a new lr or step count never
recompiles.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

import deepzen.optim as dzo
import deepzen.optim._flat_pack as flat_pack
from tests.optim import (test_adabound, test_adadelta, test_adamax, test_adan, test_ademamix, test_adopt, test_eve,
                         test_lamb, test_lars, test_lion, test_lookahead, test_madgrad, test_nadam, test_qhadam,
                         test_radam, test_ranger, test_rmsprop, test_schedulefree, test_sophia, test_yogi)
from tests.optim.contract_cases import COMPILED_FUSED_NAMES, SPECS, grad_stream, set_grads, step
from tests.optim.harness import Case, cases_params, run_case

MODULES = (test_adabound, test_adadelta, test_adamax, test_adan, test_ademamix, test_adopt, test_eve, test_lamb,
           test_lars, test_lion, test_lookahead, test_madgrad, test_nadam, test_qhadam, test_radam, test_ranger,
           test_rmsprop, test_schedulefree, test_sophia, test_yogi)
FUSED_CASES = [dataclasses.replace(c, kwargs={**c.kwargs, "fused": True}, id=f"{c.id}-fused")
               for m in MODULES for c in m.CASES if c.name in COMPILED_FUSED_NAMES]


def test_every_compiled_algorithm_has_reference_cases() -> None:
    assert {c.name for c in FUSED_CASES} == set(COMPILED_FUSED_NAMES)


@cases_params(FUSED_CASES)
def test_matches_reference(case: Case) -> None:
    run_case(case, ref_factory=lambda **hp: case.ref(**{k: v for k, v in hp.items() if k != "fused"}))


# ----------------------------------------------------------------------------- runs to compare
def _model(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3)).double()


def _train(model: torch.nn.Module, opt: torch.optim.Optimizer, steps: int, seed: int = 1,
           between=None) -> torch.Tensor:  # type: ignore[no-untyped-def]
    gen = torch.Generator().manual_seed(seed)
    for t in range(steps):
        x = torch.randn(32, 6, generator=gen, dtype=torch.float64)
        y = torch.randn(32, 3, generator=gen, dtype=torch.float64)
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
        if between is not None:
            between(t)
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


@pytest.mark.parametrize("name", ["yogi", "lamb"])
def test_parameters_move_into_the_pack_as_the_same_objects(name: str) -> None:
    model, twin = _model(), _model()
    before = list(model.parameters())
    opt = dzo.create(name, model.parameters(), lr=1e-2, fused=True)
    fused = _train(model, opt, 6)
    eager = _train(twin, dzo.create(name, twin.parameters(), lr=1e-2), 6)
    torch.testing.assert_close(fused, eager, rtol=1e-12, atol=1e-14)
    after = list(model.parameters())
    assert all(a is b for a, b in zip(before, after)), "parameters must stay the same objects"
    storages = {p.untyped_storage().data_ptr() for p in after}
    assert len(storages) == 1, "the small parameters should now share the pack's buffer"
    state = opt.state[after[0]]["exp_avg"]
    assert state.untyped_storage().data_ptr() != after[0].untyped_storage().data_ptr()


def test_replaced_parameter_data_and_loaded_state_are_picked_up() -> None:
    model, twin = _model(), _model()
    opt = dzo.create("adopt", model.parameters(), lr=1e-2, fused=True)
    ref = dzo.create("adopt", twin.parameters(), lr=1e-2)

    def replace_data(t: int) -> None:
        if t == 2:                                   # like module.to(...): new memory for one parameter
            weight = model[0].weight
            weight.data = weight.data.clone()
        if t == 4:                                   # a state_dict round trip replaces every state tensor
            opt.load_state_dict(opt.state_dict())

    fused = _train(model, opt, 8, between=replace_data)
    eager = _train(twin, ref, 8)
    torch.testing.assert_close(fused, eager, rtol=1e-12, atol=1e-14)


def _fused_against_eager(name: str, params: list[torch.Tensor], steps: int, **hparams: float) -> None:
    """Step ``name`` with ``fused=True`` over ``params`` and without it over copies, on the same
    gradients; the parameters must agree at the end."""
    twin = [p.detach().clone().requires_grad_() for p in params]
    fused, eager = dzo.create(name, params, fused=True, **hparams), dzo.create(name, twin, **hparams)
    for grads in grad_stream(0, [tuple(p.shape) for p in params], steps):
        set_grads(params, grads)
        set_grads(twin, grads)
        fused.step()
        eager.step()
    for p, q in zip(params, twin):
        torch.testing.assert_close(p.detach(), q.detach(), rtol=1e-12, atol=1e-14)


def test_a_parameter_that_shares_memory_stays_while_the_others_move() -> None:
    base = torch.randn(30, dtype=torch.float64)
    shared = torch.nn.Parameter(base[:12].view(3, 4))                    # a view of someone else's tensor
    alone = torch.nn.Parameter(torch.randn(5, dtype=torch.float64))
    _fused_against_eager("qhadam", [shared, alone], steps=4, lr=0.1)
    assert shared.untyped_storage().data_ptr() == base.untyped_storage().data_ptr(), "the view must stay"
    torch.testing.assert_close(base[:12].view(3, 4), shared.detach(), rtol=0, atol=0)
    assert alone.untyped_storage().nbytes() == 17 * 8, "the other parameter moves into the pack (12 + 5)"


@pytest.mark.parametrize("name", ["yogi", "lars"])
def test_big_tensor_is_updated_in_place(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dzo._base.T, "BIG_TENSOR_NUMEL", 64)       # the aliased path, on small data
    gen = torch.Generator().manual_seed(3)
    big = torch.randn(10, 20, generator=gen, dtype=torch.float64).requires_grad_()
    small = torch.randn(7, generator=gen, dtype=torch.float64).requires_grad_()
    memory = big.data_ptr()
    _fused_against_eager(name, [big, small], steps=5)
    assert big.data_ptr() == memory, "a big contiguous parameter is updated where it is"


def test_autograd_sees_the_in_place_update() -> None:
    p = torch.nn.Parameter(torch.randn(4, dtype=torch.float64))
    opt = dzo.create("yogi", [p], fused=True)
    loss = (p * p).sum()                    # saves p for its backward
    p.grad = torch.ones(4, dtype=torch.float64)
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_new_lr_and_step_count_do_not_recompile() -> None:
    model = _model()
    opt = dzo.create("adabound", model.parameters(), lr=1e-2, fused=True)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    _train(model, opt, 2)                                              # compiles
    with torch._dynamo.config.patch(error_on_recompile=True):
        _train(model, opt, 8, between=lambda t: sched.step())


def test_compilation_failure_names_the_way_out(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError("no C++ compiler found")

    def no_compiler(fn, **kwargs):  # type: ignore[no-untyped-def]
        return broken

    monkeypatch.setattr(torch, "compile", no_compiler)
    monkeypatch.setattr(flat_pack, "_COMPILED", {})
    p = torch.nn.Parameter(torch.randn(3))
    opt = dzo.create("yogi", [p], fused=True)
    p.grad = torch.ones(3)
    with pytest.raises(RuntimeError, match="fused=False") as err:
        opt.step()
    assert "yogi_math" in str(err.value) and "no C++ compiler found" in str(err.value)


# ----------------------------------------------------------------------------- many layer shapes
def _layer_sets(count: int) -> list[tuple[torch.dtype, float, list[tuple[int, ...]]]]:
    """``count`` models' worth of (dtype, momentum, layer shapes), no two alike: scalars, one-row and
    many-row runs, rows of 1, of a few and of more than 4096 elements, with and without a momentum
    buffer."""
    sets = []
    for k in range(count):
        dtype = (torch.float64, torch.float32)[k % 2]
        momentum = (0.9, 0.0)[(k // 2) % 2]
        shapes = [(k + 2, 3 + k), (k + 2,), (), (1, 4100 + k), (3, 4100 + k), (2 + k % 3, 1)]
        sets.append((dtype, momentum, shapes))
    return sets


def test_many_layer_shapes_in_one_process_never_fail_a_step() -> None:
    name = "lars"                # its kernel needs the most graphs (LAMB's reaches the limit later)
    for dtype, momentum, shapes in _layer_sets(10):
        gen = torch.Generator().manual_seed(len(shapes))
        params = [torch.randn(s, generator=gen, dtype=dtype).requires_grad_() for s in shapes]
        twin = [p.detach().clone().requires_grad_() for p in params]
        hp = {"momentum": momentum} if name == "lars" else {"betas": (momentum, 0.999)}
        fused, eager = dzo.create(name, params, fused=True, **hp), dzo.create(name, twin, **hp)
        for grads in grad_stream(0, shapes, 2, dtype=dtype):
            set_grads(params, grads)
            set_grads(twin, grads)
            fused.step()
            eager.step()
        for p, q in zip(params, twin):
            torch.testing.assert_close(p.detach(), q.detach(), msg=lambda m: f"{dtype}, {shapes}: {m}")


def _halve_kernel(x: torch.Tensor, buf: torch.Tensor | None) -> None:
    """x ← x / 2 (+ buf); a kernel of this test's own, so no other test has compiled it."""
    x.copy_(x / 2 if buf is None else x / 2 + buf)


def test_past_the_recompile_limit_a_kernel_runs_eagerly_with_one_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flat_pack, "KERNEL_RECOMPILE_LIMIT", 2)
    inputs = [(dtype, with_buf) for dtype in (torch.float64, torch.float32, torch.bfloat16) for with_buf in (0, 1)]
    with pytest.warns(UserWarning, match="_halve_kernel.*recompile") as caught:
        for dtype, with_buf in inputs:                        # 6 graphs needed, 2 allowed
            x = torch.arange(1.0, 9.0, dtype=dtype)
            flat_pack.run_kernel(_halve_kernel, x, torch.ones_like(x) if with_buf else None)
            want = torch.arange(1.0, 9.0, dtype=dtype) / 2 + with_buf
            torch.testing.assert_close(x, want, msg=lambda m: f"{dtype}, buffer {with_buf}: {m}")
    assert len([w for w in caught if "_halve_kernel" in str(w.message)]) == 1, "warn once per kernel"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", COMPILED_FUSED_NAMES)
def test_fused_on_cuda_matches_the_multi_tensor_path_on_cpu(name: str) -> None:
    spec = SPECS[name]
    gen = torch.Generator().manual_seed(0)
    shapes = [(64, 32), (32,), (), (400, 400)]                # packed small ones, one big aliased one
    cpu = [torch.randn(s, generator=gen, dtype=torch.float64).requires_grad_() for s in shapes]
    gpu = [p.detach().cuda().requires_grad_() for p in cpu]
    eager, fused = spec.make(cpu, lr=spec.lr), spec.make(gpu, lr=spec.lr, fused=True)
    for t, grads in enumerate(grad_stream(0, shapes, 8)):
        set_grads(cpu, grads)
        set_grads(gpu, [g.cuda() for g in grads])
        step(eager, spec, t)
        step(fused, spec, t)
    for p, q in zip(cpu, gpu):
        torch.testing.assert_close(q.detach().cpu(), p.detach(), rtol=1e-10, atol=1e-12)
