"""What ``torch.optim`` promises beyond deepzen's own rules, checked for every optimizer of the table
(``contract_cases``): parameters in any memory layout, tensor learning rates, state dicts saved by older
versions or by torch's own optimizers, sparse gradients, meta-device parameters, and torch's wording
for the mistakes it already names.

Each test runs the registry's optimizer as built (torch's fused kernels where they apply), with
``fused=False`` where that selects another path, and the ``fused=True`` kernels compiled by
torch.compile.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from tests.optim.contract_cases import (
    ALL, SPECS, Spec, closure_for, code_paths, each, grad_stream, lockstep, make_params, saved_state_dict,
    set_grads, step,
)
from tests.optim.table import TORCH_TWINS


def assert_close(got: torch.Tensor, want: torch.Tensor, what: str) -> None:
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-14, msg=lambda m: f"{what}: {m}")


# ----------------------------------------------------------------------------- memory layouts
def _layouts(gen: torch.Generator) -> list[torch.Tensor]:
    """Parameters laid out in memory the ways torch allows, each with values from ``gen``."""
    def randn(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=gen, dtype=torch.float64)

    return [
        randn(4, 3, 2)[..., 0],                                   # (4, 3), strides (6, 2): not dense
        randn(12)[::2],                                            # (6,), stride 2
        randn(5, 4).t(),                                           # (4, 5), dense, transposed
        randn(2, 3, 2, 2).contiguous(memory_format=torch.channels_last),   # (2, 3, 2, 2), dense
    ]


def _grad_like(p: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """``g`` laid out as autograd lays out ``p``'s gradient (``p``'s strides where ``p`` is dense,
    else contiguous)."""
    return torch.empty_like(p).copy_(g)


@each(ALL)
def test_any_memory_layout_follows_its_contiguous_copy(spec: Spec) -> None:
    for hp in code_paths(spec):
        laid_out = [torch.nn.Parameter(t) for t in _layouts(torch.Generator().manual_seed(20))]
        dense = [torch.nn.Parameter(p.detach().clone(memory_format=torch.contiguous_format)) for p in laid_out]
        opt, twin = spec.make(laid_out, lr=spec.lr, **hp), spec.make(dense, lr=spec.lr, **hp)
        for t, grads in enumerate(grad_stream(20, [tuple(p.shape) for p in dense], 8)):
            for p, q, g in zip(laid_out, dense, grads):
                p.grad, q.grad = _grad_like(p, g), g.clone()
            step(opt, spec, t)
            step(twin, spec, t)
            for i, (p, q) in enumerate(zip(laid_out, dense)):
                assert_close(p.detach(), q.detach(), f"{hp}, step {t}, parameter {i} {tuple(p.stride())}")
        for i, (p, q) in enumerate(zip(laid_out, dense)):
            for key, value in twin.state[q].items():
                if isinstance(value, torch.Tensor) and value.dim():
                    assert_close(opt.state[p][key], value, f"{hp}, state {key!r} of parameter {i}")


# ----------------------------------------------------------------------------- tensor learning rates
def _run(spec: Spec, steps: int = 6, sched: bool = False, compiled: bool = False, **hp: object) -> list[torch.Tensor]:
    """``steps`` seeded steps of ``spec`` (with a StepLR schedule, or through ``torch.compile`` of the
    step); returns the parameters."""
    params = make_params(seed=21)
    opt = spec.make(params, **hp)
    scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5) if sched else None
    stepper = torch.compile(opt.step, backend="eager") if compiled else opt.step
    for t, grads in enumerate(grad_stream(21, [tuple(p.shape) for p in params], steps)):
        set_grads(params, grads)
        stepper(closure_for(spec, t))
        if scheduler is not None:
            scheduler.step()
    return params


@each(ALL)
def test_tensor_lr_steps_as_the_same_float_lr(spec: Spec) -> None:
    for hp in code_paths(spec):
        for sched in (False, True):
            want = _run(spec, sched=sched, lr=spec.lr, **hp)
            for shape in ((), (1,)):
                lr = torch.full(shape, spec.lr, dtype=torch.float64)
                got = _run(spec, sched=sched, lr=lr, **hp)
                assert float(lr.sum()) != spec.lr or not sched, "the scheduler must change the tensor in place"
                for i, (p, q) in enumerate(zip(got, want)):
                    assert_close(p.detach(), q.detach(), f"{hp}, lr of shape {shape}, scheduled {sched}, param {i}")


@each(ALL)
def test_tensor_lr_under_a_compiled_step(spec: Spec) -> None:
    got = _run(spec, compiled=True, lr=torch.tensor(spec.lr, dtype=torch.float64))
    for i, (p, q) in enumerate(zip(got, _run(spec, lr=spec.lr))):
        assert_close(p.detach(), q.detach(), f"compiled step, param {i}")


@each(ALL)
def test_tensor_lr_of_several_elements_is_refused_in_torchs_words(spec: Spec) -> None:
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        spec.make(make_params(), lr=torch.tensor([spec.lr, spec.lr]))


# ----------------------------------------------------------------------------- state dicts of the past
def _resumed_matches(spec: Spec, first: Callable, then: Callable, edit: Callable[[dict], None],
                     hp: dict) -> None:
    """Run ``first`` (an optimizer factory) 4 steps, save, ``edit`` the state dict, load it into
    ``then``'s optimizer over contiguous copies of the parameters; 4 more steps of each must agree.
    One parameter is a transposed view, so torch's optimizers save its buffers transposed too."""
    params = [*make_params(seed=22), make_params(seed=23, shapes=[(5, 4)])[0].detach().t().requires_grad_()]
    stream = grad_stream(22, [tuple(p.shape) for p in params], 8)
    opt = first(params)
    for t, grads in enumerate(stream[:4]):
        set_grads(params, grads)
        step(opt, spec, t)
    saved = saved_state_dict(opt)
    edit(saved)
    copies = [p.detach().clone(memory_format=torch.contiguous_format).requires_grad_() for p in params]
    resumed = then(copies)
    resumed.load_state_dict(saved)
    for _ in lockstep(spec, [opt, resumed], [params, copies], stream[4:], start=4):
        pass
    for i, (p, q) in enumerate(zip(params, copies)):
        assert_close(q.detach(), p.detach(), f"{hp}, param {i} after resuming")


@each(ALL)
def test_older_state_dict_missing_options_and_with_number_steps_loads(spec: Spec) -> None:
    for hp in code_paths(spec):
        def older(saved: dict) -> None:
            for group in saved["param_groups"]:          # options a later version added: all but lr
                for key in [k for k in spec.make(make_params(), **hp).defaults if k != "lr"]:
                    group.pop(key, None)
            for state in saved["state"].values():         # older torch and many peers save a number
                state["step"] = float(state["step"])

        make = lambda ps: spec.make(ps, lr=spec.lr, **hp)  # noqa: E731
        _resumed_matches(spec, make, make, older, hp)


#: deepzen optimizers and the torch.optim one whose checkpoints they resume (same math, same state
#: names): name -> (torch's class, its hyperparameters, ours).


@pytest.mark.parametrize("name", list(TORCH_TWINS))
def test_torch_checkpoint_resumes_in_deepzen(name: str) -> None:
    spec = SPECS[name]
    torch_cls, theirs, ours = TORCH_TWINS[name]
    for hp in code_paths(spec):
        _resumed_matches(spec, lambda ps: torch_cls(ps, **theirs), lambda ps: spec.make(ps, **ours, **hp),
                         lambda saved: None, hp)


# ----------------------------------------------------------------------------- sparse, meta, wording
#: The algorithms that take sparse gradients, as torch's SGD and Adagrad do (written out here).
SPARSE_NAMES = ("sgd", "momentum", "nag", "adagrad")


def _embedding_run(spec: Spec, sparse: bool, hp: dict) -> torch.Tensor:
    torch.manual_seed(23)
    table = torch.nn.Embedding(12, 3, sparse=sparse).double()
    opt = spec.make(table.parameters(), lr=spec.lr, **hp)
    for t in range(6):
        opt.zero_grad()
        rows = torch.tensor([1, 4, 4, (7 * t) % 12])                # a repeated row, one that moves
        table(rows).pow(2).sum().backward()
        assert table.weight.grad.is_sparse == sparse
        step(opt, spec, t)
    return table.weight.detach()


@each(ALL)
def test_sparse_gradients_are_taken_or_refused_clearly(spec: Spec) -> None:
    for hp in code_paths(spec):
        for extra in ({}, {"weight_decay": 0.1}, {"maximize": True}) if spec.name in SPARSE_NAMES else ({},):
            hp = {**hp, **extra}
            if spec.name not in SPARSE_NAMES or spec.kwargs:
                with pytest.raises(RuntimeError, match="sparse") as err:
                    _embedding_run(spec, True, hp)
                cls = type(spec.make(make_params(), **hp)).__name__
                assert cls in str(err.value) and "sparse=False" in str(err.value), str(err.value)
                break
            assert_close(_embedding_run(spec, True, hp), _embedding_run(spec, False, hp), f"{hp}: sparse vs dense")


@each(ALL)
def test_meta_parameters_get_a_clear_message(spec: Spec) -> None:
    layer = torch.nn.Linear(3, 2, device="meta")
    opt = spec.make(layer.parameters(), lr=spec.lr)
    for p in layer.parameters():
        p.grad = torch.zeros_like(p)
    with pytest.raises(RuntimeError, match="meta device") as err:
        step(opt, spec, 0)
    assert "to_empty" in str(err.value)


@each(ALL)
def test_mistakes_torch_names_get_torchs_words(spec: Spec) -> None:
    a, b = make_params(shapes=[(2,), (3,)])
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        spec.make([{"params": [a]}, {"params": [a, b]}], lr=spec.lr)
    with pytest.raises(TypeError, match="params argument given to the optimizer should be an iterable"):
        spec.make(a, lr=spec.lr)
    with pytest.raises(ValueError, match="all optimizer params should be with/without names"):
        spec.make([("w", a), b], lr=spec.lr)
